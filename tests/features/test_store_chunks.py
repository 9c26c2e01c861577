"""A lost or cut chunk of stored features fails with its file named (issue 32), never reads as zeros."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError
from timbrespace.features import FeatureConfig, compute_dataset_features

CFG = FeatureConfig(n_fft=512, hop_length=256, output="db")


def _chunks(dataset: Dataset, name: str) -> list:
    return sorted(p for p in (dataset.features_dir / f"{name}.zarr").rglob("*") if p.is_file() and p.name != "zarr.json")


def test_a_missing_chunk_fails_and_the_same_command_recomputes_it(notes_dataset: Dataset) -> None:
    name = compute_dataset_features(notes_dataset, CFG, name="f", batch_size=4, progress=False)
    assert (notes_dataset.features_dir / "f.chunks.json").is_file()
    assert notes_dataset.feature_names() == ["f"]  # the manifest is no feature set
    good = notes_dataset.load_features(name)
    chunks = _chunks(notes_dataset, name)
    assert len(chunks) >= 2
    chunks[1].unlink()
    with pytest.raises(DatasetError, match=f"{chunks[1]}: a chunk of the stored features is missing"):
        notes_dataset.load_features(name)
    compute_dataset_features(notes_dataset, CFG, name="f", batch_size=4, progress=False)  # no --overwrite needed
    np.testing.assert_array_equal(notes_dataset.load_features(name), good)


def test_a_truncated_chunk_fails(notes_dataset: Dataset) -> None:
    name = compute_dataset_features(notes_dataset, CFG, name="f", batch_size=4, progress=False)
    chunk = _chunks(notes_dataset, name)[0]
    chunk.write_bytes(chunk.read_bytes()[:50])
    with pytest.raises(DatasetError, match="holds 50 bytes, not the .* written"):
        notes_dataset.load_features(name, [0])


def test_a_store_without_a_manifest_is_checked_against_its_chunk_grid(notes_dataset: Dataset) -> None:
    name = compute_dataset_features(notes_dataset, CFG, name="f", batch_size=4, progress=False)
    (notes_dataset.features_dir / "f.chunks.json").unlink()  # written before manifests existed
    good = notes_dataset.load_features(name)
    assert good.shape[0] == len(notes_dataset)
    chunk = _chunks(notes_dataset, name)[-1]
    chunk.unlink()
    with pytest.raises(DatasetError, match=f"{chunk}: .*missing \\(it would read as zeros\\)"):
        notes_dataset.load_features(name)
