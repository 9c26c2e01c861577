"""``export --format nsynth``: NSynth's layout as it ships, and the round trip through ``ingest``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from timbrespace.datasets import Dataset, DatasetConfig, generate_dataset
from timbrespace.datasets.audiofolder import EXPORT_MARKER
from timbrespace.datasets.export import (
    NSYNTH_FAMILIES,
    NSYNTH_QUALITIES,
    export_dataset,
    nsynth_family,
)
from timbrespace.datasets.ingest import ingest_folder
from timbrespace.errors import DatasetError

NSYNTH_FIELDS = {"note", "note_str", "pitch", "velocity", "instrument", "instrument_str", "instrument_family",
                 "instrument_family_str", "instrument_source", "instrument_source_str", "qualities",
                 "qualities_str", "sample_rate"}
SR = 8000


def _factor_table(ds: Dataset, names: list[str]) -> list[tuple]:
    meta = ds.metadata
    return sorted(zip(*(meta[n].astype(str) for n in names), strict=True))


@pytest.fixture(scope="module")
def tones(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Three sines at MIDI 57, 69, 81, 0.5 s at 8 kHz."""
    config = DatasetConfig(name="tones", sound_model="additive", sample_rate=SR, duration_s=0.5,
                           fixed={"n_partials": 1}, parameters={"f0_hz": {"values": [220.0, 440.0, 880.0]}})
    return generate_dataset(config, tmp_path_factory.mktemp("ns") / "d", workers=1, progress=False)


@pytest.fixture(scope="module")
def tones_by_presence(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    """Two items per pitch (presence all / odd): their NSynth note names collide."""
    config = DatasetConfig(name="pairs", sound_model="additive", sample_rate=SR, duration_s=0.25,
                           parameters={"f0_hz": {"values": [220.0, 440.0]},
                                       "presence": {"values": ["all", "odd"]}})
    return generate_dataset(config, tmp_path_factory.mktemp("ns") / "p", workers=1, progress=False)


def test_layout_and_fields(tones: Dataset, tmp_path: Path) -> None:
    path = export_dataset(tones, tmp_path / "ex", format="nsynth")
    assert path == tmp_path / "ex" / "examples.json" and (tmp_path / "ex" / EXPORT_MARKER).is_file()
    examples = json.loads(path.read_text())
    assert sorted(examples) == ["additive-057-100", "additive-069-100", "additive-081-100"]
    assert sorted(p.name for p in (tmp_path / "ex" / "audio").iterdir()) == [f"{k}.wav" for k in sorted(examples)]
    for note_str, rec in examples.items():
        assert set(rec) == NSYNTH_FIELDS and rec["note_str"] == note_str
        assert rec["velocity"] == 100 and rec["sample_rate"] == 16000 and rec["instrument"] == 0
        assert (rec["instrument_family_str"], rec["instrument_source_str"]) == ("synth_lead", "synthetic")
        assert (rec["instrument_family"], rec["instrument_source"]) == (NSYNTH_FAMILIES.index("synth_lead"), 2)
        assert rec["qualities"] == [0] * len(NSYNTH_QUALITIES) and rec["qualities_str"] == []
        info = sf.info(tmp_path / "ex" / "audio" / f"{note_str}.wav")
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (16000, 1, 64000, "PCM_16")
    assert sorted(r["note"] for r in examples.values()) == [0, 1, 2]
    # resampled, not relabelled: the 440 Hz sine peaks at 440 Hz at 16 kHz; zeros after 0.5 s
    y, _ = sf.read(tmp_path / "ex" / "audio" / "additive-069-100.wav")
    spectrum = np.abs(np.fft.rfft(y[:8000]))
    assert abs(np.argmax(spectrum) * 16000 / 8000 - 440.0) <= 2.0
    assert np.abs(y[8100:]).max() == 0.0 and np.abs(y[:8000]).max() > 0.05


def test_round_trip_synthetic(tones: Dataset, tmp_path: Path) -> None:
    export_dataset(tones, tmp_path / "ex", format="nsynth")
    back = ingest_folder(tmp_path / "ex", tmp_path / "back")
    assert back.factor_names == ["instrument_str", "pitch", "velocity"] and back.sample_rate == 16000
    pitches = np.rint(69 + 12 * np.log2(tones.metadata["f0_hz"].to_numpy() / 440.0)).astype(int)
    assert sorted(back.metadata["pitch"].astype(int)) == sorted(pitches.tolist())


def test_round_trip_real_notes(notes_dir: Path, tmp_path: Path) -> None:
    source = ingest_folder(notes_dir, tmp_path / "ds1")
    assert len(source) == 276 and source.sample_rate == 22050
    export_dataset(source, tmp_path / "ex", format="nsynth")
    again = ingest_folder(tmp_path / "ex", tmp_path / "ds2")
    names = ["instrument_str", "pitch", "velocity"]
    assert again.factor_names == names and again.sample_rate == 16000
    assert _factor_table(again, names) == _factor_table(source, names)
    assert sorted(again.item_ids) == sorted(source.item_ids)
    examples = json.loads((tmp_path / "ex" / "examples.json").read_text())
    families = {r["instrument_str"]: r["instrument_family_str"] for r in examples.values()}
    assert families["violin"] == "string" and families["trumpet"] == "brass" and families["flute"] == "flute"
    assert families["acoustic_grand_piano"] == "keyboard" and families["nylon_guitar"] == "guitar"
    assert {r["instrument_source_str"] for r in examples.values()} == {"acoustic"}
    assert sf.info(tmp_path / "ex" / "audio" / "violin-064-050.wav").frames == 64000


def test_duplicate_note_names_refused(tones_by_presence: Dataset, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match=r"both map to NSynth note 'additive-057-100'.*--suffix-duplicates"):
        export_dataset(tones_by_presence, tmp_path / "ex", format="nsynth")
    assert not (tmp_path / "ex").exists()


def test_duplicate_note_names_suffixed(tones_by_presence: Dataset, tmp_path: Path) -> None:
    path = export_dataset(tones_by_presence, tmp_path / "ex", format="nsynth", suffix_duplicates=True)
    examples = json.loads(path.read_text())
    assert sorted(examples) == ["additive-057-100-0", "additive-057-100-1", "additive-069-100-0",
                                "additive-069-100-1"]
    assert len(ingest_folder(tmp_path / "ex", tmp_path / "back")) == 4


def test_overwrite_replaces_only_an_export(tones: Dataset, tmp_path: Path) -> None:
    export_dataset(tones, tmp_path / "ex", format="nsynth")
    with pytest.raises(DatasetError, match="already exists"):
        export_dataset(tones, tmp_path / "ex", format="nsynth")
    (tmp_path / "ex" / "audio" / "stale.wav").write_bytes(b"x")
    export_dataset(tones, tmp_path / "ex", format="nsynth", overwrite=True)
    assert not (tmp_path / "ex" / "audio" / "stale.wav").exists()
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "keep.txt").write_text("mine")
    with pytest.raises(DatasetError):
        export_dataset(tones, tmp_path / "mine", format="nsynth", overwrite=True)
    assert (tmp_path / "mine" / "keep.txt").read_text() == "mine"


@pytest.mark.parametrize(("name", "family"), [
    ("violin", "string"), ("contrabass", "string"), ("bassoon", "reed"), ("english_horn", "reed"),
    ("electric_bass_finger", "bass"), ("french_horn", "brass"), ("trumpet", "brass"), ("flute", "flute"),
    ("nylon_guitar", "guitar"), ("acoustic_grand_piano", "keyboard"), ("harpsichord", "keyboard"), ("marimba", "mallet"),
    ("church_organ", "organ"), ("choir_aahs", "vocal"), ("synth_lead_square", "synth_lead"), ("additive", None),
])
def test_family_by_name(name: str, family: str | None) -> None:
    assert nsynth_family(name) == family
