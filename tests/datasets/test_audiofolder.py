"""Hugging Face audiofolder: export with splits and string ids, ingest, round trip, `datasets`."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from timbrespace.cli import main
from timbrespace.datasets import Dataset, DatasetConfig, export_dataset, generate_dataset
from timbrespace.datasets.ingest import ingest_folder
from timbrespace.errors import DatasetError, ParameterError


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    config = DatasetConfig(
        name="hf",
        sound_model="additive",
        sample_rate=8000,
        duration_s=0.05,
        parameters={
            "f0_hz": {"values": [200.0, 300.0, 450.0, 675.0]},
            "presence": {"values": ["all", "odd", "even"]},
        },
        splits={"train": 0.5, "valid": 0.25, "test": 0.25},
    )
    return generate_dataset(config, tmp_path_factory.mktemp("hf") / "d", workers=1, progress=False)


def _rows(folder: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted(folder.glob("*/metadata.jsonl")):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            rows[record["item_id"]] = {**record, "split": path.parent.name}
    return rows


def test_export_keeps_splits_and_string_ids(dataset: Dataset, tmp_path: Path) -> None:
    out = export_dataset(dataset, tmp_path / "hf", format="hf-audiofolder")
    assert out == tmp_path / "hf"
    assert sorted(p.name for p in out.iterdir()) == [".timbrespace-export.json", "test", "train", "valid"]
    rows = _rows(out)
    meta = dataset.metadata.set_index("item_id")
    assert sorted(rows) == sorted(meta.index) and "000000" in rows
    for item_id, row in rows.items():
        assert isinstance(row["item_id"], str) and row["split"] == meta.loc[item_id, "split"]
        assert row["f0_hz"] == meta.loc[item_id, "f0_hz"] and row["presence"] == meta.loc[item_id, "presence"]
        wav = out / row["split"] / row["file_name"]
        assert wav.read_bytes() == (dataset.root / meta.loc[item_id, "audio_path"]).read_bytes()
    counts = {s: len(list((out / s).glob("*.wav"))) for s in ("train", "valid", "test")}
    assert counts == dataset.card.splits == {"train": 6, "valid": 3, "test": 3}


def test_export_never_replaces_without_overwrite(
    dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "hf"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    for overwrite in (False, True):  # a folder that is not an export is never replaced
        with pytest.raises(DatasetError, match="is not a timbrespace export"):
            export_dataset(dataset, out, format="hf-audiofolder", overwrite=overwrite)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    with pytest.raises(DatasetError, match="is the input .* or holds it"):
        export_dataset(dataset, dataset.root, format="hf-audiofolder", overwrite=True)
    with pytest.raises(DatasetError, match="is not a timbrespace export"):  # the dataset's own audio
        export_dataset(dataset, dataset.root / "audio", format="hf-audiofolder", overwrite=True)
    export = tmp_path / "export"
    export_dataset(dataset, export, format="hf-audiofolder")
    with pytest.raises(SystemExit) as exc:
        main(["export", str(dataset.root), "--format", "hf-audiofolder", "--out", str(export)])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and err[0].startswith("error:")
    next((export / "train").glob("*.wav")).unlink()
    main(["export", str(dataset.root), "--format", "audiofolder", "--out", str(export), "--overwrite"])
    assert sorted(p.name for p in export.iterdir()) == [".timbrespace-export.json", "test", "train", "valid"]
    assert (export / "train" / "metadata.jsonl").is_file()


def test_overwrite_replaces_an_export_written_before_its_marker(dataset: Dataset, tmp_path: Path) -> None:
    out = export_dataset(dataset, tmp_path / "hf", format="hf-audiofolder")
    (out / ".timbrespace-export.json").unlink()
    export_dataset(dataset, out, format="hf-audiofolder", overwrite=True)
    assert (out / ".timbrespace-export.json").is_file()
    (out / ".timbrespace-export.json").unlink()
    (out / "train" / "thesis.txt").write_text("mine")
    with pytest.raises(DatasetError, match="is not a timbrespace export"):
        export_dataset(dataset, out, format="hf-audiofolder", overwrite=True)
    assert (out / "train" / "thesis.txt").read_text() == "mine"


def _encode_path_only(self, value):  # noqa: ANN001, ANN202 - stands in for Audio.encode_example
    path = value if isinstance(value, str) else value.get("path")
    return {"bytes": None, "path": str(path)}


def test_datasets_library_loads_the_export(
    dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    datasets = pytest.importorskip("datasets", reason="the test extra installs Hugging Face datasets")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = export_dataset(dataset, tmp_path / "hf", format="hf-audiofolder")
    if importlib.util.find_spec("torchcodec") is None:
        # datasets encodes audio through torchcodec, which needs FFmpeg's libraries; without
        # them only that encoder is replaced (files stay paths): the split discovery, the
        # metadata reading and its types, and the joining of rows to files are the library's.
        monkeypatch.setattr(datasets.Audio, "encode_example", _encode_path_only)
    loaded = datasets.load_dataset("audiofolder", data_dir=str(out), cache_dir=str(tmp_path / "cache"))
    # "valid" is one of the library's validation keywords
    assert sorted(loaded) == ["test", "train", "validation"]
    assert loaded["train"].features["item_id"] == datasets.Value("string")
    meta = dataset.metadata.set_index("item_id")
    seen = []
    for split, folder in (("train", "train"), ("validation", "valid"), ("test", "test")):
        part = loaded[split].cast_column("audio", datasets.Audio(decode=False))
        assert part.num_rows == dataset.card.splits[folder]
        for row in part:
            item_id = row["item_id"]
            seen.append(item_id)
            assert meta.loc[item_id, "split"] == folder
            assert row["f0_hz"] == meta.loc[item_id, "f0_hz"] and row["presence"] == meta.loc[item_id, "presence"]
            assert Path(row["audio"]["path"]).parent.name == folder
            audio, sr = sf.read(row["audio"]["path"], dtype="float32")
            assert sr == 8000 and audio.shape == (400,)
    assert sorted(seen) == sorted(meta.index) and "000000" in seen


def test_round_trip_export_then_ingest(dataset: Dataset, tmp_path: Path) -> None:
    out = export_dataset(dataset, tmp_path / "hf", format="hf-audiofolder")
    back = ingest_folder(out, tmp_path / "back")
    assert back.card.source["layout"] == "hf-audiofolder"
    assert back.factor_names == dataset.factor_names
    for a, b in zip(dataset.factors, back.factors, strict=True):
        assert sorted(map(str, a.values)) == sorted(map(str, b.values))
    assert back.item_ids == dataset.item_ids
    cols = ["item_id", "split", "variation", *dataset.factor_names]
    pd.testing.assert_frame_equal(back.metadata[cols], dataset.metadata[cols], check_dtype=False)
    assert back.card.splits == dataset.card.splits
    np.testing.assert_array_equal(back.load_audio(), dataset.load_audio())


def _hf_folder(root: Path) -> Path:
    # a hand-made audiofolder: one metadata.csv at the root, files in split folders
    rows = []
    for k, (split, speaker, pitch) in enumerate(
        [("train", "ann", 60), ("train", "bob", 62), ("train", "ann", 64), ("test", "bob", 60)]
    ):
        name = f"{split}/{k:03d}.wav"
        (root / split).mkdir(parents=True, exist_ok=True)
        sf.write(root / name, 0.1 * np.sin(np.arange(800) * 0.05 * (k + 1)), 8000)
        rows.append({"file_name": name, "speaker": speaker, "pitch": pitch})
    pd.DataFrame(rows).to_csv(root / "metadata.csv", index=False)
    return root


def test_ingest_hand_made_audiofolder(tmp_path: Path) -> None:
    folder = _hf_folder(tmp_path / "in")
    ds = ingest_folder(folder, tmp_path / "out")
    assert ds.factor_names == ["speaker", "pitch"]
    assert ds.item_ids == ["000", "001", "002", "003"]
    assert ds.metadata["split"].tolist() == ["train", "train", "train", "test"]
    assert ds.card.splits == {"train": 3, "test": 1}
    assert ds.metadata["pitch"].tolist() == [60, 62, 64, 60]
    chosen = ingest_folder(folder, tmp_path / "chosen", factors=["pitch"])
    assert chosen.factor_names == ["pitch"]


def test_ingest_audiofolder_refusals(tmp_path: Path) -> None:
    folder = _hf_folder(tmp_path / "in")
    with pytest.raises(ParameterError, match="has split folders \\(test, train\\), which are kept; leave --splits out"):
        ingest_folder(folder, tmp_path / "o1", splits={"train": 1.0})
    with pytest.raises(ParameterError, match="factor 'age' is not a metadata column; available: speaker, pitch"):
        ingest_folder(folder, tmp_path / "o2", factors=["age"])
    mixed = tmp_path / "mixed"
    (mixed / "train").mkdir(parents=True)
    sf.write(mixed / "train" / "a.wav", np.zeros(10), 8000)
    sf.write(mixed / "b.wav", np.zeros(10), 8000)
    pd.DataFrame({"file_name": ["train/a.wav", "b.wav"], "label": ["x", "y"]}).to_csv(mixed / "metadata.csv", index=False)
    with pytest.raises(DatasetError, match="some files lie in split folders"):
        ingest_folder(mixed, tmp_path / "o3")
    pd.DataFrame({"name": ["b.wav"]}).to_csv(mixed / "metadata.csv", index=False)
    with pytest.raises(DatasetError, match="no 'file_name' column"):
        ingest_folder(mixed, tmp_path / "o4", layout="hf-audiofolder")
    assert not any((tmp_path / f"o{k}").exists() for k in range(1, 5))
