"""Ingest of labelled folders: the three layouts, on real and on made-up files, and bad input."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from timbrespace.datasets import Dataset
from timbrespace.datasets.ingest import detect_layout, ingest_folder
from timbrespace.errors import DatasetError, ParameterError

SR = 8000


def _tone(f0_hz: float, n: int = 800) -> np.ndarray:
    return (0.5 * np.sin(2 * np.pi * f0_hz * np.arange(n) / SR)).astype(np.float32)


def _nsynth_folder(root: Path, *, corrupt: bool = False, silent: bool = False) -> Path:
    (root / "audio").mkdir(parents=True)
    examples = {}
    for inst in ("flute", "violin"):
        for pitch in (60, 62, 64):
            stem = f"{inst}-{pitch:03d}-100"
            sf.write(root / "audio" / f"{stem}.wav", _tone(440 * 2 ** ((pitch - 69) / 12)), SR)
            examples[stem] = {
                "instrument_str": inst,
                "pitch": pitch,
                "velocity": 100,
                "sample_rate": SR,
            }
    if corrupt:
        (root / "audio" / "broken-060-100.wav").write_bytes(b"RIFF not really a wav")
        examples["broken-060-100"] = {"instrument_str": "broken", "pitch": 60, "velocity": 100}
    if silent:
        sf.write(root / "audio" / "silent-060-100.wav", np.zeros(800, np.float32), SR)
        examples["silent-060-100"] = {"instrument_str": "silent", "pitch": 60, "velocity": 100}
    (root / "examples.json").write_text(json.dumps(examples))
    return root


def test_nsynth_layout_labels_and_codes(tmp_path):
    folder = _nsynth_folder(tmp_path / "notes")
    assert detect_layout(folder) == "nsynth"
    ds = ingest_folder(folder, tmp_path / "ds")
    assert len(ds) == 6
    assert ds.factor_names == ["instrument_str", "pitch", "velocity"]
    row = ds.metadata.set_index("item_id").loc["violin-062-100"]
    assert row["instrument_str"] == "violin" and row["pitch"] == 62
    assert row["instrument_str_code"] == 1 and row["pitch_code"] == 1 and row["velocity_code"] == 0
    audio = ds.load_audio([0])
    assert audio.shape == (1, 800) and audio.dtype == np.float32
    assert sum(ds.card.splits.values()) == 6


def test_nsynth_chosen_factors(tmp_path):
    folder = _nsynth_folder(tmp_path / "notes")
    ds = ingest_folder(folder, tmp_path / "ds", factors=["pitch"])
    assert ds.factor_names == ["pitch"]
    with pytest.raises(ParameterError, match="not a key of examples.json"):
        ingest_folder(folder, tmp_path / "ds2", factors=["timbre"])


def test_seed002_layout(tmp_path):
    root = tmp_path / "sem"
    for desc, group in (("Bright", "FilterFX"), ("Crunch", "DistortionFX")):
        for mag in ("0", "50"):
            for n in (0, 5):
                path = root / "audio" / group / desc / mag / f"1-{n}.wav"
                path.parent.mkdir(parents=True, exist_ok=True)
                sf.write(path, _tone(330.0), SR)
    bad = root / "audio" / "FilterFX" / "Bright" / "50" / "notes.wav"
    sf.write(bad, _tone(330.0), SR)
    assert detect_layout(root) == "seed002"
    ds = ingest_folder(root, tmp_path / "ds")
    assert len(ds) == 8
    assert ds.factor_names == ["descriptor", "magnitude", "pitch"]
    assert sorted(ds.metadata["pitch"].unique().tolist()) == [64, 69]
    assert set(ds.metadata["group"]) == {"FilterFX", "DistortionFX"}
    assert ds.card.extra["unmatched"] == ["FilterFX/Bright/50/notes.wav"]


def test_pattern_layout_and_unmatched(tmp_path, caplog):
    root = tmp_path / "any"
    root.mkdir()
    for pitch in (60, 61):
        for vel in (50, 100):
            sf.write(root / f"piano_{pitch}_{vel}.wav", _tone(200.0 + pitch), SR)
    sf.write(root / "readme-take.wav", _tone(100.0), SR)
    with caplog.at_level(logging.WARNING):
        ds = ingest_folder(root, tmp_path / "ds", pattern=r"piano_(?P<pitch>\d+)_(?P<velocity>\d+)")
    assert len(ds) == 4 and ds.factor_names == ["pitch", "velocity"]
    assert "readme-take.wav" in caplog.text
    with pytest.raises(DatasetError, match="no audio file matches"):
        ingest_folder(root, tmp_path / "ds3", pattern=r"guitar_(?P<pitch>\d+)")
    with pytest.raises(ParameterError, match="no named groups"):
        ingest_folder(root, tmp_path / "ds4", pattern=r"piano_\d+_\d+")


def test_corrupt_files_skipped_and_counted(tmp_path):
    folder = _nsynth_folder(tmp_path / "notes", corrupt=True)
    ds = ingest_folder(folder, tmp_path / "ds")
    assert len(ds) == 6
    assert (
        len(ds.card.extra["unreadable"]) == 1
        and "broken-060-100.wav" in ds.card.extra["unreadable"][0]
    )


def test_silent_file_flagged_no_nan(tmp_path):
    folder = _nsynth_folder(tmp_path / "notes", silent=True)
    ds = ingest_folder(folder, tmp_path / "ds")
    assert ds.metadata["silent"].sum() == 1
    audio = ds.load_audio()
    assert np.isfinite(audio).all()


def test_missing_empty_and_unreadable_folders(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        ingest_folder(tmp_path / "nope", tmp_path / "ds")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="is empty"):
        ingest_folder(tmp_path / "empty", tmp_path / "ds")
    junk = tmp_path / "junk"
    (junk / "audio").mkdir(parents=True)
    (junk / "audio" / "a-1.wav").write_bytes(b"nope")
    (junk / "examples.json").write_text(json.dumps({"a-1": {"pitch": 1}}))
    with pytest.raises(DatasetError, match="could be read"):
        ingest_folder(junk, tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_existing_dataset_is_never_overwritten_silently(tmp_path):
    folder = _nsynth_folder(tmp_path / "notes")
    ingest_folder(folder, tmp_path / "ds")
    before = (tmp_path / "ds" / "metadata.parquet").read_bytes()
    with pytest.raises(DatasetError, match="already exists"):
        ingest_folder(folder, tmp_path / "ds", factors=["pitch"])
    assert (tmp_path / "ds" / "metadata.parquet").read_bytes() == before
    Dataset(tmp_path / "ds")


@pytest.mark.needs_data
def test_real_notes(notes_dir, tmp_path):
    ds = ingest_folder(notes_dir, tmp_path / "notes")
    assert len(ds) == 276
    assert [f.n_levels for f in ds.factors] == [6, 23, 2]
    assert ds.sample_rate == 22050
    counts = ds.metadata.groupby("instrument_str").size()
    assert (counts == 46).all()


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("out", [".", "..", "audio"])
def test_overwrite_never_touches_the_input(tmp_path, out):
    folder = _nsynth_folder(tmp_path / "notes")
    before = _tree_bytes(tmp_path)
    with pytest.raises(DatasetError):
        ingest_folder(folder, folder / out, overwrite=True)
    assert _tree_bytes(tmp_path) == before


def test_overwrite_refuses_a_folder_that_is_not_a_dataset(tmp_path):
    folder = _nsynth_folder(tmp_path / "notes")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "thesis.txt").write_text("years of work")
    with pytest.raises(DatasetError, match="not a timbrespace dataset"):
        ingest_folder(folder, tmp_path / "mine", overwrite=True)
    assert (tmp_path / "mine" / "thesis.txt").read_text() == "years of work"


def test_overwrite_replaces_a_dataset_and_cleans_staging_of_a_killed_ingest(tmp_path):
    folder = _nsynth_folder(tmp_path / "notes")
    ingest_folder(folder, tmp_path / "ds")
    stale = tmp_path / ".ds.ingest-abc123"  # what a kill -9 during staging leaves
    (stale / "audio").mkdir(parents=True)
    ds = ingest_folder(folder, tmp_path / "ds", factors=["pitch"], overwrite=True)
    assert ds.factor_names == ["pitch"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ds", "notes"]
    assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == ["audio", "dataset.json", "metadata.parquet"]


def test_long_files_are_cut_never_padding_every_item(tmp_path, caplog):
    folder = _nsynth_folder(tmp_path / "notes")
    sf.write(folder / "audio" / "flute-060-100.wav", _tone(261.6, n=5 * SR), SR)  # 5 s among 0.1 s notes
    with caplog.at_level(logging.WARNING):
        ds = ingest_folder(folder, tmp_path / "ds", max_duration_s=0.5)
    assert ds.card.n_samples == SR // 2
    assert ds.card.extra["cut"] == ["audio/flute-060-100.wav"]
    assert "1 files longer than --max-duration-s 0.5 s were cut" in caplog.text
    with pytest.raises(ParameterError, match="max_duration_s=0"):
        ingest_folder(folder, tmp_path / "ds2", max_duration_s=0)


def test_a_second_concurrent_ingest_is_refused(tmp_path):
    import socket
    import subprocess
    import sys

    folder = _nsynth_folder(tmp_path / "notes")
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "ds").mkdir()
        (tmp_path / "ds" / ".timbrespace.lock").write_text(f"{holder.pid} {socket.gethostname()}")
        with pytest.raises(DatasetError, match=f"being written by another ingest \\(pid {holder.pid}"):
            ingest_folder(folder, tmp_path / "ds")
    finally:
        holder.kill()
        holder.wait()
    ingest_folder(folder, tmp_path / "ds")  # the stale lock is taken over
    assert not (tmp_path / "ds" / ".timbrespace.lock").exists()
