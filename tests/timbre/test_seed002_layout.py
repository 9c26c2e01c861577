"""Seed 002's output layout for generated and interpolated notes (``--layout seed002``).

The seed's ``generate_single_sample.py`` writes ``singlesample/generated/0.wav`` and
``singlesample/original/0.wav``; ``generate_timbre_interpolation.py`` writes
``interpolated_samples/generated/0.wav .. N-1.wav`` (linear steps) and
``interpolated_samples/original/0.wav`` (start), ``1.wav`` (end); all 24-bit PCM at
22050 Hz. Nothing existing is replaced without ``overwrite``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.cli_run import run_cli
from timbrespace.errors import ParameterError
from timbrespace.experiments.timbre_notes import (
    GeneratedNote,
    Interpolation,
    write_generated,
    write_interpolation,
)

SR = 22050


def _tone(f0: float, n: int = 2048) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * f0 * np.arange(n) / SR)).astype(np.float32)


def _note() -> GeneratedNote:
    return GeneratedNote("Bright", 75.0, 76, _tone(330), _tone(440), np.zeros((4, 4), np.float32), SR)


def _interp(steps: int) -> Interpolation:
    t = np.linspace(0, 1, steps)
    linear = np.stack([_tone(200 + 100 * k) for k in range(steps)])
    return Interpolation(t, linear, -linear, np.stack([_tone(110), _tone(990)]), ("Bright", 0.0, 64),
                         ("Dark", 100.0, 76), SR)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_generate_writes_the_seeds_folders(tmp_path):
    gen, orig = write_generated(_note(), tmp_path, layout="seed002")
    assert _files(tmp_path) == ["singlesample/generated/0.wav", "singlesample/original/0.wav"]
    assert (gen, orig) == (tmp_path / "singlesample/generated/0.wav", tmp_path / "singlesample/original/0.wav")
    info = sf.info(gen)
    assert info.samplerate == SR and info.subtype == "PCM_24" and info.channels == 1
    y, _ = sf.read(gen, dtype="float32")
    np.testing.assert_allclose(y, _tone(330), atol=1e-6)  # 24-bit: about -144 dB of rounding
    np.testing.assert_allclose(sf.read(orig, dtype="float32")[0], _tone(440), atol=1e-6)


def test_interpolate_writes_steps_beside_both_originals(tmp_path):
    interp = _interp(4)
    write_interpolation(interp, tmp_path, layout="seed002")
    assert _files(tmp_path) == [
        *(f"interpolated_samples/generated/{k}.wav" for k in range(4)),
        "interpolated_samples/original/0.wav",
        "interpolated_samples/original/1.wav",
    ]
    for k in range(4):
        y, sr = sf.read(tmp_path / f"interpolated_samples/generated/{k}.wav", dtype="float32")
        assert sr == SR and sf.info(tmp_path / f"interpolated_samples/generated/{k}.wav").subtype == "PCM_24"
        np.testing.assert_allclose(y, interp.linear[k], atol=1e-6)  # the linear path, as the seed
    np.testing.assert_allclose(sf.read(tmp_path / "interpolated_samples/original/0.wav")[0], _tone(110), atol=1e-6)
    np.testing.assert_allclose(sf.read(tmp_path / "interpolated_samples/original/1.wav")[0], _tone(990), atol=1e-6)


def test_labelled_layout_unchanged(tmp_path):
    write_generated(_note(), tmp_path)
    write_interpolation(_interp(2), tmp_path / "i")
    assert _files(tmp_path) == [
        "generated_Bright-75-E5.wav", "i/linear/step_00.wav", "i/linear/step_01.wav",
        "i/original_end_Dark-100-E5.wav", "i/original_start_Bright-0-E4.wav",
        "i/spherical/step_00.wav", "i/spherical/step_01.wav", "original_Bright-75-E5.wav",
    ]
    assert sf.info(tmp_path / "generated_Bright-75-E5.wav").subtype == "FLOAT"


@pytest.mark.parametrize("layout", ["seed002", "labelled"])
def test_nothing_replaced_without_overwrite(tmp_path, layout):
    write_generated(_note(), tmp_path, layout=layout)
    write_interpolation(_interp(5), tmp_path, layout=layout)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*.wav")}
    louder = GeneratedNote("Bright", 75.0, 76, 2 * _tone(330), _tone(440), np.zeros((4, 4)), SR)
    with pytest.raises(ParameterError, match="exists; choose another --out or pass --overwrite"):
        write_generated(louder, tmp_path, layout=layout)
    with pytest.raises(ParameterError, match="exists; choose another --out or pass --overwrite"):
        write_interpolation(_interp(3), tmp_path, layout=layout)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*.wav")} == before
    # with overwrite: replaced, and the two extra steps of the 5-step run are gone
    write_generated(louder, tmp_path, layout=layout, overwrite=True)
    write_interpolation(_interp(3), tmp_path, layout=layout, overwrite=True)
    step_folder = tmp_path / ("interpolated_samples/generated" if layout == "seed002" else "linear")
    assert len(list(step_folder.glob("*.wav"))) == 3
    changed = [p for p in before if p.exists() and p.read_bytes() != before[p]]
    assert changed


def test_a_folder_where_a_note_goes_is_refused(tmp_path):
    (tmp_path / "singlesample" / "generated" / "0.wav").mkdir(parents=True)
    with pytest.raises(ParameterError, match="is a folder"):
        write_generated(_note(), tmp_path, layout="seed002", overwrite=True)
    assert _files(tmp_path) == []


@pytest.mark.xdist_group("timbre-tiny-run")
def test_cli_seed002_layout_end_to_end(tiny_timbre_run, tmp_path, capsys):
    run = tiny_timbre_run  # the timbre run of tests/timbre/test_cli.py (build, ingest, train)
    out = tmp_path / "seed"
    argv = ["timbre", "generate", str(run), "Dark", "100", "E5", "--out", str(out), "--layout", "seed002"]
    code, text = run_cli(argv, capsys)
    assert code == 0, text
    code, text = run_cli(["timbre", "interpolate", str(run), "Bright", "0", "E4", "Dark", "100", "E5",
                          "--steps", "3", "--out", str(out), "--layout", "seed002"], capsys)
    assert code == 0, text
    assert _files(out) == [
        *(f"interpolated_samples/generated/{k}.wav" for k in range(3)),
        "interpolated_samples/original/0.wav",
        "interpolated_samples/original/1.wav",
        "singlesample/generated/0.wav",
        "singlesample/original/0.wav",
    ]
    info = sf.info(out / "singlesample/generated/0.wav")
    assert info.samplerate == 22050 and info.subtype == "PCM_24" and info.frames == 16317
    before = (out / "singlesample/generated/0.wav").read_bytes()
    code, text = run_cli(argv, capsys)
    assert code == 2 and "--overwrite" in text
    assert (out / "singlesample/generated/0.wav").read_bytes() == before
    assert run_cli([*argv, "--overwrite", "--seed", "3"], capsys)[0] == 0
