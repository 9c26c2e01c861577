"""Generation at scale (issue 29): nothing per item travels to the workers or is held."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

from timbrespace.datasets import DatasetConfig
from timbrespace.datasets.design import build_design, build_metadata, item_names
from timbrespace.datasets.generate import _batches


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


@pytest.mark.parametrize(
    "update",
    [{}, {"audio_format": "none"}, {"audio_format": "flac"},
     {"naming": "dsgenerator", "sampling": {"method": "grid"},
      "parameters": {"f0_hz": {"values": [220, 330]}, "decay_per_s": {"values": [0, 2, 4]}}}],
)
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
