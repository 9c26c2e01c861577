"""Groove datasets: broken files skipped by name, de-duplication, splits by style, on-disk layout."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from timbrespace.datasets import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.patterns.dataset import (
    GrooveDatasetConfig,
    build_groove_dataset,
    load_patterns,
    style_of,
)
from timbrespace.patterns.midi import write_midi


def _bar(kick_steps: list[int], velocity: float = 0.8) -> np.ndarray:
    p = np.zeros((16, 9), np.float32)
    p[kick_steps, 0] = velocity
    p[[4, 12], 1] = 0.9
    return p


def _folder(tmp_path: Path) -> Path:
    d = tmp_path / "midi"
    d.mkdir()
    # style "rock": 3 bars, one repeated; style "funk": 2 bars; style "jazz" shares a bar with rock
    write_midi(d / "lib__rock__Rock1.mid", np.stack([_bar([0, 8]), _bar([0, 8]), _bar([0, 6, 8])]))
    write_midi(
        d / "lib__rock__RockPlus.mid", np.stack([_bar([0, 8], 0.5), np.zeros((16, 9), np.float32)])
    )
    write_midi(d / "lib__funk__Funk.mid", np.stack([_bar([0, 3, 10]), _bar([0, 3, 11])]))
    write_midi(d / "lib__jazz__Jazz.mid", np.stack([_bar([0, 8]), _bar([2, 14])]))
    write_midi(
        d / "lib__waltz__Waltz.mid", np.zeros((2, 12, 9), np.float32) + 0.5, time_signature=(3, 4)
    )
    (d / "lib__broken__Broken.mid").write_bytes(
        b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x00\x60MTrk\x00\x00\x10"
    )
    (d / "notes.txt").write_text("not midi")
    return d


def test_build_layout_dedup_and_broken(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    src = _folder(tmp_path)
    cfg = GrooveDatasetConfig(splits=(("train", 1.0),), dedup="hits")
    report = build_groove_dataset(src, tmp_path / "ds", config=cfg)
    assert list(report.skipped_files) == ["lib__broken__Broken.mid"]
    assert "lib__broken__Broken.mid" in caplog.text
    assert report.n_files == 6 and report.n_other_meter == 2 and report.n_empty == 1
    # unique hit grids: [0,8], [0,6,8], [0,3,10], [0,3,11], [2,14] → 5 (3 duplicates of [0,8])
    assert report.n_items == 5 and report.n_duplicates == 3
    ds = Dataset(tmp_path / "ds")
    assert ds.feature_names() == ["patterns"]
    x, meta = load_patterns(ds)
    assert x.shape == (5, 16, 9) and x.dtype == np.float32
    assert meta["item_id"].iloc[0] == "lib__funk__Funk-bar000"
    assert set(meta.columns) >= {
        "item_id",
        "audio_path",
        "split",
        "source_file",
        "bar_index",
        "style",
        "style_code",
    }
    assert sorted(meta["style"].unique()) == ["funk", "jazz", "rock"]
    assert np.array_equal(ds.factor_codes[:, 0], meta["style_code"].to_numpy())
    assert meta["n_hits"].tolist() == [int(v) for v in (x > 0).sum(axis=(1, 2))]
    card = json.loads((tmp_path / "ds" / "dataset.json").read_text())
    assert card["extra"]["ingest"]["skipped_files"]["lib__broken__Broken.mid"].startswith(
        "lib__broken__Broken.mid"
    )
    assert ds.feature_sidecar("patterns")["voice_names"][0] == "kick"
    # pattern-level dedup keeps the two velocities of the [0, 8] rock bar
    r2 = build_groove_dataset(
        src, tmp_path / "ds2", config=GrooveDatasetConfig(splits=(("train", 1.0),), dedup="pattern")
    )
    assert r2.n_items == 6
    r3 = build_groove_dataset(
        src, tmp_path / "ds3", config=GrooveDatasetConfig(splits=(("train", 1.0),), dedup="none")
    )
    assert r3.n_items == 8  # 9 bars in 4/4, one empty


def test_other_meter_dataset(tmp_path: Path) -> None:
    src = _folder(tmp_path)
    cfg = GrooveDatasetConfig(time_signature=(3, 4), splits=(("train", 1.0),))
    report = build_groove_dataset(src, tmp_path / "ds", config=cfg)
    x, _ = load_patterns(tmp_path / "ds")
    assert report.n_items == 1 and x.shape == (1, 12, 9)


def test_splits_reproducible_without_leakage(grooves_dir: Path, tmp_path: Path) -> None:
    a = build_groove_dataset(grooves_dir, tmp_path / "a", config=GrooveDatasetConfig(seed=5))
    b = build_groove_dataset(grooves_dir, tmp_path / "b", config=GrooveDatasetConfig(seed=5))
    assert a == b
    ma, mb = Dataset(tmp_path / "a").metadata, Dataset(tmp_path / "b").metadata
    assert ma.equals(mb)
    styles = ma.groupby("style")["split"].nunique()
    assert (styles == 1).all()  # a style sits in one split only
    x, _ = load_patterns(tmp_path / "a")
    keys = {np.packbits(v > 0).tobytes() for v in x}
    assert len(keys) == len(x)  # no bar twice, across splits too
    assert a.n_items > 400 and a.split_counts["test"] > 20 and a.split_counts["valid"] > 10
    build_groove_dataset(grooves_dir, tmp_path / "c", config=GrooveDatasetConfig(seed=6))
    assert not Dataset(tmp_path / "c").metadata["split"].equals(ma["split"])


def test_errors(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="does not exist"):
        build_groove_dataset(tmp_path / "nope", tmp_path / "ds")
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no .mid"):
        build_groove_dataset(tmp_path / "empty", tmp_path / "ds")
    with pytest.raises(ParameterError, match="dedup"):
        GrooveDatasetConfig(dedup="bars")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="drum_map"):
        GrooveDatasetConfig(drum_map="gm")
    with pytest.raises(ParameterError, match="steps_per_bar"):
        GrooveDatasetConfig(steps_per_bar=8, time_signature=(5, 16))
    only_broken = tmp_path / "broken"
    only_broken.mkdir()
    shutil.copy(_folder(tmp_path) / "lib__broken__Broken.mid", only_broken)
    with pytest.raises(DatasetError, match="no 4/4 bars"):
        build_groove_dataset(only_broken, tmp_path / "ds")
    with pytest.raises(DatasetError, match="not a groove dataset"):
        load_patterns(_plain_dataset(tmp_path))


def _plain_dataset(tmp_path: Path) -> Path:
    import pandas as pd

    from timbrespace.datasets import DatasetCard, write_card, write_metadata

    root = tmp_path / "plain"
    write_card(
        root,
        DatasetCard(
            name="plain", source={}, factors=[], sample_rate=16000, n_samples=None, n_items=1
        ),
    )
    write_metadata(root, pd.DataFrame({"item_id": ["a"], "split": ["train"]}))
    return root


def test_style_of() -> None:
    assert style_of("stdlib__50srock__50sRockPlus.mid") == ("stdlib", "50srock")
    assert style_of("pflib__16beat2.mid") == ("pflib", "16beat")
    assert style_of("groove.mid") == ("", "groove")


def test_midi_without_drums_is_skipped_by_name_and_alone_is_one_clear_error(tmp_path: Path) -> None:
    import pretty_midi

    folder = tmp_path / "piano"
    folder.mkdir()
    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(velocity=100, pitch=60, start=0.5 * i, end=0.5 * i + 0.4) for i in range(8)]
    pm.instruments.append(piano)
    pm.write(str(folder / "lib__pop__Piano.mid"))
    with pytest.raises(DatasetError, match=r"no drum bar: every bar is empty \(no drum notes on MIDI channel 10"):
        build_groove_dataset(folder, tmp_path / "ds")
    assert not (tmp_path / "ds").exists()


def test_existing_dataset_is_replaced_only_with_overwrite(tmp_path: Path) -> None:
    src = _folder(tmp_path)
    cfg = GrooveDatasetConfig(splits=(("train", 1.0),))
    build_groove_dataset(src, tmp_path / "ds", config=cfg)
    before = {p: p.read_bytes() for p in (tmp_path / "ds").rglob("*") if p.is_file()}
    with pytest.raises(DatasetError, match="already exists and holds a dataset"):
        build_groove_dataset(src, tmp_path / "ds", config=GrooveDatasetConfig(splits=(("train", 1.0),), dedup="none"))
    assert {p: p.read_bytes() for p in (tmp_path / "ds").rglob("*") if p.is_file()} == before
    report = build_groove_dataset(src, tmp_path / "ds", config=GrooveDatasetConfig(splits=(("train", 1.0),),
                                                                                    dedup="none"), overwrite=True)
    assert report.n_duplicates == 0 and len(Dataset(tmp_path / "ds")) == report.n_items
    with pytest.raises(DatasetError, match="writing there would destroy it"):
        build_groove_dataset(src, tmp_path, config=cfg, overwrite=True)
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "keep.txt").write_text("x")
    with pytest.raises(DatasetError, match="not a timbrespace dataset"):
        build_groove_dataset(src, tmp_path / "other", config=cfg, overwrite=True)
