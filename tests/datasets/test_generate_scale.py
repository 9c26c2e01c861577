"""Generation at scale (issue 29): nothing per item travels to the workers or is held."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from timbrespace.datasets import Dataset, DatasetConfig
from timbrespace.datasets.dataset import write_metadata, write_metadata_chunks
from timbrespace.datasets.design import MetadataRows, build_design, build_metadata, item_names
from timbrespace.datasets.generate import _batches
from timbrespace.errors import DatasetError

_VARIED = [
    {}, {"audio_format": "none"}, {"audio_format": "flac"},
    {"naming": "dsgenerator", "sampling": {"method": "grid"},
     "parameters": {"f0_hz": {"values": [220, 330]}, "decay_per_s": {"values": [0, 2, 4]}}},
    {"duration_s": None, "variations": {"sound_duration_s": 0.03, "chunk_s": 0.01}, "sampling": {"method": "lhs", "n": 20},
     "parameters": {"f0_hz": {"min": 100, "max": 1000}, "presence": {"values": ["all", "odd", "even"]}}},
]


def _config(n: int, **update: object) -> DatasetConfig:
    base: dict[str, object] = dict(
        name="t", sound_model="additive", sample_rate=8000, duration_s=0.01,
        parameters={"f0_hz": {"min": 100, "max": 1000, "spacing": "log"}, "decay_per_s": {"min": 0, "max": 10}},
        sampling={"method": "random", "n": n},
    )
    base.update(update)
    return DatasetConfig(**base)


def test_a_batch_task_does_not_grow_with_the_dataset(tmp_path: Path) -> None:
    sizes = []
    for n in (1_000, 100_000):
        config = _config(n)
        design = build_design(config)
        task = next(_batches(config, design, item_names(config, design), np.ones(n, bool), 256, tmp_path))
        sizes.append(len(pickle.dumps(task)))
    assert abs(sizes[0] - sizes[1]) <= 16 and sizes[1] < 20_000  # a few bytes: the item count itself


@pytest.mark.parametrize("update", _VARIED)
def test_item_names_are_the_metadata_names(update: dict[str, object]) -> None:
    config = _config(50, **update)
    design = build_design(config)
    meta, _ = build_metadata(config, design)
    names = item_names(config, design)
    assert meta["item_id"].tolist() == [names.item_id(i) for i in range(design.n_items)]
    assert meta["audio_path"].tolist() == list(names.audio_paths(design))


@pytest.mark.parametrize("naming", ["index", "dsgenerator"])
def test_resume_writes_only_the_missing_items(tmp_path: Path, naming: str) -> None:
    import hashlib
    import json

    from timbrespace.datasets import generate_dataset
    from timbrespace.datasets.config import config_hash
    from timbrespace.datasets.generate import JOURNAL_NAME

    config = _config(0, naming=naming, sampling={"method": "grid"},
                     parameters={"f0_hz": {"values": [220, 330, 440]}, "decay_per_s": {"values": [0, 2]}})
    out = tmp_path / "d"
    generate_dataset(config, out, workers=1, progress=False)

    def digest() -> dict[str, str]:
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.rglob("*")) if p.is_file()}

    ref = digest()
    (out / "dataset.json").unlink()
    (out / "metadata.parquet").unlink()
    audio = sorted((out / "audio").iterdir())
    for p in audio[1:3]:
        p.unlink()
    (out / "audio" / ".tmp-123").write_bytes(b"RIFF half")  # a write cut short by a kill
    (out / "audio" / "notes.txt").write_text("not an item")  # not counted as one
    (out / JOURNAL_NAME).write_text(json.dumps({"config_hash": config_hash(config), "config": config.to_json_dict()}))
    kept = audio[0].stat().st_mtime_ns
    generate_dataset(config, out, workers=2, batch_size=1, progress=False)
    (out / "audio" / "notes.txt").unlink()
    assert digest().keys() == ref.keys() and {k: v for k, v in digest().items() if k != "dataset.json"} == {
        k: v for k, v in ref.items() if k != "dataset.json"
    }
    assert audio[0].stat().st_mtime_ns == kept  # done items are not rewritten


def test_items_not_written_are_an_error_not_a_dataset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import timbrespace.datasets.generate as generate
    from timbrespace.errors import DatasetError

    monkeypatch.setattr(generate, "atomic_write_files", lambda folder, files: 0)  # e.g. a worker's disk
    with pytest.raises(DatasetError, match=r"6 items missing after generation, e.g. audio/000000.wav"):
        generate.generate_dataset(_config(6), tmp_path / "d", workers=1, progress=False)
    assert not (tmp_path / "d" / "dataset.json").exists()


@pytest.mark.parametrize("update", _VARIED)
def test_metadata_in_chunks_is_the_whole_table(update: dict[str, object]) -> None:
    config = _config(50, **update)
    design = build_design(config)
    whole, factors = build_metadata(config, design)
    rows = MetadataRows(config, design)
    chunks = list(rows.chunks(7))
    assert [len(c) for c in chunks[:-1]] == [7] * (len(chunks) - 1) and sum(map(len, chunks)) == design.n_items
    pd.testing.assert_frame_equal(pd.concat(chunks, ignore_index=True), whole)
    assert rows.factors == factors
    assert rows.split_counts == {k: int((whole["split"] == k).sum()) for k in config.splits}


def test_metadata_written_in_row_groups(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    config = _config(50, sampling={"method": "grid"}, variations={"sound_duration_s": 0.03, "chunk_s": 0.01},
                     duration_s=None,
                     parameters={"f0_hz": {"values": [220, 330]}, "presence": {"values": ["all", "odd", "even"]}})
    design = build_design(config)
    whole, _ = build_metadata(config, design)
    rows = MetadataRows(config, design)
    (tmp_path / "one").mkdir()
    (tmp_path / "many").mkdir()
    write_metadata(tmp_path, whole)
    write_metadata_chunks(tmp_path / "one", rows.chunks(design.n_items))
    one_group = (tmp_path / "one" / "metadata.parquet").read_bytes()
    assert one_group == (tmp_path / "metadata.parquet").read_bytes()  # one chunk: the bytes of before
    write_metadata_chunks(tmp_path / "many", rows.chunks(4))
    many = tmp_path / "many" / "metadata.parquet"
    assert pq.ParquetFile(many).metadata.num_row_groups == 5  # 18 items, 4 per group
    pd.testing.assert_frame_equal(pd.read_parquet(many), whole)
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == ["metadata.parquet"]  # no temporary left
    with pytest.raises(DatasetError, match="without rows"):
        write_metadata_chunks(tmp_path / "many", iter([]))
    assert many.is_file()


def test_generation_writes_metadata_a_row_group_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pyarrow.parquet as pq

    import timbrespace.datasets.generate as generate

    config = _config(40)
    ref = generate.generate_dataset(config, tmp_path / "ref", workers=1, progress=False)
    monkeypatch.setattr(generate, "METADATA_ROW_GROUP", 16)
    ds = generate.generate_dataset(config, tmp_path / "small", workers=2, batch_size=8, progress=False)
    assert pq.ParquetFile(ds.root / "metadata.parquet").metadata.num_row_groups == 3
    pd.testing.assert_frame_equal(ds.metadata, ref.metadata)
    assert (ds.root / "dataset.json").read_bytes() == (ref.root / "dataset.json").read_bytes()


def test_opening_a_dataset_reads_only_the_footer(tmp_path: Path) -> None:
    from timbrespace.datasets import generate_dataset

    generate_dataset(_config(30), tmp_path / "d", workers=1, progress=False)
    ds = Dataset(tmp_path / "d")
    assert len(ds) == 30 and ds._metadata is None  # the rows are read on first use
    assert ds.metadata["item_id"].iloc[-1] == "000029"
    meta = tmp_path / "d" / "metadata.parquet"
    meta.write_bytes(meta.read_bytes()[:-100])  # a truncated file: its footer is gone
    with pytest.raises(DatasetError, match="unreadable metadata"):
        Dataset(tmp_path / "d")


_PEAK_RSS = """
import resource, sys
from timbrespace.datasets import DatasetConfig, generate_dataset
n = int(sys.argv[1])
config = DatasetConfig(name="t", sound_model="additive", sample_rate=8000, duration_s=0.005, audio_format="none",
                       parameters={"f0_hz": {"min": 100, "max": 1000}, "decay_per_s": {"min": 0, "max": 10}},
                       sampling={"method": "random", "n": n})
generate_dataset(config, sys.argv[2], workers=1, progress=False)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""


@pytest.mark.slow
def test_peak_memory_is_flat_in_the_item_count(tmp_path: Path) -> None:
    """Issue 29: 20x the items, 14 MB more as measured (before: +50 MB, about 0.5 KB per item).

    What remains is bounded: one row group of the metadata while it is written, and
    allocator pages that stay mapped after the first few."""
    import subprocess
    import sys

    def peak_mb(n: int) -> float:
        out = subprocess.run([sys.executable, "-c", _PEAK_RSS, str(n), str(tmp_path / f"d{n}")], check=True,
                             capture_output=True, text=True).stdout
        return float(out.strip().splitlines()[-1])

    small, large = peak_mb(5_000), peak_mb(100_000)
    assert large - small < 25, f"peak RSS {small:.0f} MB at 5,000 items, {large:.0f} MB at 100,000"
