"""Bad input at the command line: one `error:` line on stderr, exit code 2, no traceback.

The CLI runs in-process (:mod:`tests.cli_run`: a ``timbrespace`` subprocess pays seconds of
imports per call); an unknown command, a logged warning and the internal bug run as real processes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

from tests.cli_run import exit_code


def _subprocess_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "timbrespace", *args], capture_output=True, text=True, timeout=300)


@pytest.fixture
def _cli(capsys: pytest.CaptureFixture[str]):  # noqa: ANN202
    """``_cli(*ARGS)`` → ``timbrespace ARGS`` run in-process, as a CompletedProcess."""

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        code = exit_code(list(args))
        captured = capsys.readouterr()
        return subprocess.CompletedProcess(["timbrespace", *args], code, captured.out, captured.err)

    return run


def _one_clear_error(proc: subprocess.CompletedProcess[str], *needles: str) -> None:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


def test_usage_errors_exit_2(_cli):
    _one_clear_error(_subprocess_cli("no-such-command"), "No such command")
    _one_clear_error(_cli("ingest"), "Missing argument")


def test_invalid_yaml(_cli, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: [unclosed\n")
    _one_clear_error(_cli("run", str(bad), "--out", str(tmp_path / "r")), "invalid YAML", "line")
    assert not (tmp_path / "r").exists()


def test_out_of_range_value_names_field_and_range(_cli, tmp_path):
    proc = _cli("run", "--set", "dataset.parameters.f0_hz.max=9000", "--out", str(tmp_path / "r"))
    _one_clear_error(proc, "f0_hz", "20..5000 Hz")


def test_unknown_config_key(_cli, tmp_path):
    proc = _cli("run", "--set", "training.epoks=3", "--out", str(tmp_path / "r"))
    _one_clear_error(proc, "epoks")


def test_missing_and_empty_folders(_cli, tmp_path):
    _one_clear_error(_cli("ingest", str(tmp_path / "nope"), "--out", str(tmp_path / "ds")), "does not exist")
    (tmp_path / "empty").mkdir()
    _one_clear_error(_cli("ingest", str(tmp_path / "empty"), "--out", str(tmp_path / "ds")), "is empty")
    _one_clear_error(_cli("run", "--dataset", str(tmp_path / "nope"), "--out", str(tmp_path / "r")), "does not exist")


def test_unreadable_audio_only(_cli, tmp_path):
    folder = tmp_path / "junk"
    folder.mkdir()
    (folder / "a_1.wav").write_bytes(b"not audio at all")
    proc = _cli("ingest", str(folder), "--out", str(tmp_path / "ds"), "--pattern", r"a_(?P<n>\d+)")
    _one_clear_error(proc, "could be read")


def test_pattern_mismatch_lists_files(tmp_path):
    """A real process: the skipped files' warning reaches stderr through the CLI's own log handler."""
    folder = tmp_path / "f"
    folder.mkdir()
    sf.write(folder / "take-01.wav", np.zeros(100, np.float32) + 0.1, 8000)
    proc = _subprocess_cli("ingest", str(folder), "--out", str(tmp_path / "ds"), "--pattern", r"note_(?P<pitch>\d+)")
    _one_clear_error(proc, "no audio file matches")
    assert "take-01.wav" in proc.stderr


def test_silent_files_give_no_nan(_cli, tmp_path):
    folder = tmp_path / "notes"
    (folder / "audio").mkdir(parents=True)
    examples = {}
    rng = np.random.default_rng(0)
    for i in range(12):
        stem = f"x-{i:03d}"
        y = np.zeros(2000, np.float32) if i % 4 == 0 else (0.3 * rng.standard_normal(2000)).astype(np.float32)
        sf.write(folder / "audio" / f"{stem}.wav", y, 8000)
        examples[stem] = {"pitch": 60 + i % 3, "velocity": 100}
    (folder / "examples.json").write_text(json.dumps(examples))
    proc = _cli("ingest", str(folder), "--out", str(tmp_path / "ds"))
    assert proc.returncode == 0, proc.stderr
    assert "3 silent" in proc.stdout.replace("\n", " ")
    from timbrespace.datasets import Dataset
    from timbrespace.features import FeatureConfig, compute_dataset_features

    ds = Dataset(tmp_path / "ds")
    for normalization in ("minmax_item", "standardize"):
        name = compute_dataset_features(
            ds, FeatureConfig(kind="stft", n_fft=256, hop_length=128, normalization=normalization), name=normalization
        )
        assert np.isfinite(ds.load_features(name)).all()


@pytest.mark.parametrize("args", [["--help"], ["run", "--help"], ["ingest", "--help"]])
def test_help_works(_cli, args):
    proc = _cli(*args)
    assert proc.returncode == 0 and "Usage" in proc.stdout


def test_an_internal_bug_is_one_line_exit_1_and_verbose_shows_the_traceback():
    script = (
        "import sys, timbrespace.synths as s\n"
        "def boom(*a, **k):\n    raise KeyError('boom')\n"
        "s.list_sound_models = boom\n"
        "from timbrespace.cli import main\n"
        "main(sys.argv[1:])\n"
    )
    for args, shows_traceback in ((["synths"], False), (["--verbose", "synths"], True)):
        proc = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 1, proc.stderr
        lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
        assert len(lines) == 1 and "internal error (KeyError" in lines[0] and "bug" in lines[0], proc.stderr
        assert ("Traceback" in proc.stderr) is shows_traceback
