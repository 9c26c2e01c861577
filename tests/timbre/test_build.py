"""Builder: seed-002 layout, labels read back by ingest, unparseable files reported."""

from __future__ import annotations

import json

import librosa
import numpy as np
import pytest
import soundfile as sf

from timbrespace.datasets.ingest import ingest_folder
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.timbre.build import (
    SEED002_N_SAMPLES,
    build_timbre_folder,
    load_clean_notes,
    seed002_relpath,
)


def test_relpath_matches_seed_layout():
    assert seed002_relpath("Crunch", 100, 64) == "audio/DistortionFX/Crunch/100/1-0.wav"
    assert seed002_relpath("Bright", 25, 86) == "audio/FilterFX/Bright/25/1-22.wav"
    with pytest.raises(ParameterError, match="64..86"):
        seed002_relpath("Bright", 25, 87)


def test_build_layout_and_labels(synthetic_notes, tmp_path):
    out = tmp_path / "folder"
    res = build_timbre_folder(
        synthetic_notes,
        out,
        instrument="fake_guitar",
        descriptors=["Bright", "Crunch"],
        magnitudes=[0, 50, 100],
    )
    assert res.n_files == 2 * 3 * 23
    wavs = sorted(p.relative_to(out).as_posix() for p in (out / "audio").rglob("*.wav"))
    assert len(wavs) == 138 and "audio/DistortionFX/Crunch/50/1-22.wav" in wavs
    y, sr = sf.read(out / "audio/FilterFX/Bright/0/1-6.wav", dtype="float32")
    assert sr == 22050 and y.shape == (SEED002_N_SAMPLES,)
    clean = load_clean_notes(synthetic_notes, instrument="fake_guitar", pitches=[70])[0]
    np.testing.assert_array_equal(y, clean)  # magnitude 0 is the clean note
    f0 = librosa.yin(y[:8192], fmin=200, fmax=2000, sr=sr)
    assert librosa.hz_to_midi(np.median(f0)) == pytest.approx(70, abs=0.2)  # 1-6.wav is MIDI 64 + 6
    card = json.loads((out / "build.json").read_text())
    assert (
        card["chains"]["Crunch"]["group"] == "DistortionFX"
        and "Distortion" in card["chains"]["Crunch"]["chain"]
    )
    assert card["n_files"] == 138 and card["magnitudes"] == [0, 50, 100]
    assert not list(out.rglob(".*.wav"))  # no temporary files left

    (out / "audio/FilterFX/Bright/50/take-two.wav").write_bytes(
        (out / "audio/FilterFX/Bright/50/1-0.wav").read_bytes()
    )
    ds = ingest_folder(out, tmp_path / "ds", layout="seed002")
    assert len(ds) == 138
    assert ds.card.extra["unmatched"] == [
        "FilterFX/Bright/50/take-two.wav"
    ]  # reported, not misaligned
    meta = ds.metadata
    row = meta[meta["source_path"].str.endswith("DistortionFX/Crunch/100/1-22.wav")].iloc[0]
    assert (row["descriptor"], row["magnitude"], row["pitch"]) == ("Crunch", 100.0, 86)


def test_rebuild_is_byte_identical(synthetic_notes, tmp_path):
    kw = dict(instrument="fake_guitar", descriptors=["WahWah"], magnitudes=[75], pitches=[64, 80])
    build_timbre_folder(synthetic_notes, tmp_path / "a", **kw)
    build_timbre_folder(synthetic_notes, tmp_path / "b", **kw)
    for rel in ("audio/ModulationFX/WahWah/75/1-0.wav", "audio/ModulationFX/WahWah/75/1-16.wav"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()


def test_build_errors(synthetic_notes, tmp_path):
    with pytest.raises(DatasetError, match="velocities for 'fake_guitar': \\[100\\]"):
        build_timbre_folder(synthetic_notes, tmp_path / "x", instrument="fake_guitar", velocity=50)
    with pytest.raises(DatasetError, match="instruments: fake_guitar"):
        build_timbre_folder(synthetic_notes, tmp_path / "x", instrument="banjo")
    with pytest.raises(ParameterError, match="allowed Bright, Crunch"):
        build_timbre_folder(
            synthetic_notes, tmp_path / "x", instrument="fake_guitar", descriptors=["Loud"]
        )
    with pytest.raises(ParameterError, match="0..100"):
        build_timbre_folder(
            synthetic_notes, tmp_path / "x", instrument="fake_guitar", magnitudes=[0, 120]
        )
    build_timbre_folder(
        synthetic_notes,
        tmp_path / "y",
        instrument="fake_guitar",
        descriptors=["Soft"],
        magnitudes=[0],
    )
    with pytest.raises(DatasetError, match="not empty"):
        build_timbre_folder(
            synthetic_notes,
            tmp_path / "y",
            instrument="fake_guitar",
            descriptors=["Soft"],
            magnitudes=[0],
        )


def test_build_from_real_guitar(notes_dir, tmp_path):
    res = build_timbre_folder(
        notes_dir, tmp_path / "g", descriptors=["Dark"], magnitudes=[0, 100], pitches=[64, 86]
    )
    assert res.n_files == 4
    y0, _ = sf.read(tmp_path / "g/audio/FilterFX/Dark/0/1-22.wav", dtype="float32")
    y1, _ = sf.read(tmp_path / "g/audio/FilterFX/Dark/100/1-22.wav", dtype="float32")
    assert np.sqrt(np.mean(y1**2)) < np.sqrt(
        np.mean(y0**2)
    )  # a 500 Hz low-pass removes most of a 1175 Hz note


def test_build_from_soundfont(tmp_path):
    pytest.importorskip("tinysoundfont", reason="the tinysoundfont wheel is not installed (make install)")
    res = build_timbre_folder("soundfont", tmp_path / "sf", descriptors=["Bright"], magnitudes=[0], pitches=[69])
    y, sr = sf.read(tmp_path / "sf/audio/FilterFX/Bright/0/1-5.wav", dtype="float32")
    assert res.n_files == 1 and y.shape == (SEED002_N_SAMPLES,)
    f0 = librosa.yin(y[:8192], fmin=200, fmax=2000, sr=sr)
    assert librosa.hz_to_midi(np.median(f0)) == pytest.approx(69, abs=0.3)
    with pytest.raises(ParameterError, match="clean_electric_guitar"):
        build_timbre_folder("soundfont", tmp_path / "sf2", instrument="kazoo")
