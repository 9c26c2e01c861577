"""compute_dataset_features: zarr + sidecar, equal to extract, resumable, invertible."""

from __future__ import annotations

import json

import numpy as np
import pytest

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.features import FeatureConfig, compute_dataset_features, extract, invert
from timbrespace.features import store as store_module


def test_written_features_equal_extract(notes_dataset: Dataset) -> None:
    cfg = FeatureConfig(n_fft=1024, hop_length=256, output="db", normalization="minmax_item")
    name = compute_dataset_features(notes_dataset, cfg, batch_size=4)
    assert name == "stft_1024_256_db_minmax_item"
    assert notes_dataset.feature_names() == [name]
    assert not (notes_dataset.features_dir / f"{name}.item_stats.zarr").exists()
    stored = notes_dataset.load_features(name)
    ref = extract(notes_dataset.load_audio(), cfg, sample_rate=notes_dataset.sample_rate)
    np.testing.assert_array_equal(stored, ref.features)
    sidecar = notes_dataset.feature_sidecar(name)
    assert sidecar["normalization"]["item_min"] == pytest.approx(
        ref.sidecar["normalization"]["item_min"]
    )
    assert sidecar["item_ids"] == notes_dataset.item_ids
    back = invert(
        notes_dataset.load_features(name, [5, 7]),
        sidecar,
        indices=[5, 7],
        n_iter=8,
        return_info=True,
    )
    assert back.audio.shape == (2, sidecar["n_samples"])
    assert back.spectral_convergence is not None and back.spectral_convergence.max() < 0.05


def test_resume_after_a_killed_run(notes_dataset: Dataset, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = FeatureConfig(kind="mdct", n_fft=1024, normalization="minmax_item")
    real_forward = store_module.forward
    calls: list[int] = []

    def dying_forward(audio: np.ndarray, *args: object, **kwargs: object) -> np.ndarray:
        calls.append(len(audio))
        if len(calls) == 4:  # probe, chunk 0, chunk 1, then killed during chunk 2
            raise KeyboardInterrupt
        return real_forward(audio, *args, **kwargs)

    monkeypatch.setattr(store_module, "forward", dying_forward)
    with pytest.raises(KeyboardInterrupt):
        compute_dataset_features(notes_dataset, cfg, name="m", batch_size=4)
    assert not (notes_dataset.features_dir / "m.json").exists()  # incomplete: no sidecar
    assert notes_dataset.feature_names() == []

    calls.clear()
    monkeypatch.setattr(
        store_module,
        "forward",
        lambda a, *x, **k: (calls.append(len(a)), real_forward(a, *x, **k))[1],
    )
    assert compute_dataset_features(notes_dataset, cfg, name="m", batch_size=4) == "m"
    assert calls == [1, 2]  # the shape probe, then only the last chunk (items 8, 9)
    ref = extract(notes_dataset.load_audio(), cfg, sample_rate=notes_dataset.sample_rate)
    np.testing.assert_array_equal(notes_dataset.load_features("m"), ref.features)
    assert notes_dataset.feature_sidecar("m")["normalization"]["item_max"] == pytest.approx(
        ref.sidecar["normalization"]["item_max"]
    )
    calls.clear()
    compute_dataset_features(notes_dataset, cfg, name="m", batch_size=4)
    assert calls == [1]  # complete: nothing recomputed


def test_standardize_fits_on_train_split(notes_dataset: Dataset) -> None:
    cfg = FeatureConfig(
        kind="mel", n_fft=1024, hop_length=256, n_mels=40, normalization="standardize"
    )
    name = compute_dataset_features(notes_dataset, cfg, batch_size=3)
    sidecar = notes_dataset.feature_sidecar(name)
    assert sidecar["normalization"]["fitted_on"] == "train"
    train = notes_dataset.split_indices("train")
    feats = notes_dataset.load_features(name).astype(np.float64)
    np.testing.assert_allclose(feats[train].mean(axis=(0, 2)), 0.0, atol=1e-4)
    assert np.abs(feats[notes_dataset.split_indices("test")].mean(axis=(0, 2))).max() > 1e-3


def test_changed_config_is_refused_then_recomputes_with_overwrite(notes_dataset: Dataset) -> None:
    compute_dataset_features(
        notes_dataset, FeatureConfig(output="magnitude"), name="x", batch_size=5
    )
    before = (notes_dataset.features_dir / "x.json").read_bytes()
    with pytest.raises(DatasetError, match="feature set 'x' exists with another config.*--overwrite"):
        compute_dataset_features(notes_dataset, FeatureConfig(output="db"), name="x", batch_size=5)
    assert (notes_dataset.features_dir / "x.json").read_bytes() == before
    compute_dataset_features(notes_dataset, FeatureConfig(output="db"), name="x", batch_size=5, overwrite=True)
    sidecar = json.loads((notes_dataset.features_dir / "x.json").read_text())
    assert sidecar["config"]["output"] == "db"
    ref = extract(
        notes_dataset.load_audio(),
        FeatureConfig(output="db"),
        sample_rate=notes_dataset.sample_rate,
    )
    np.testing.assert_array_equal(notes_dataset.load_features("x"), ref.features)


def test_bad_arguments(notes_dataset: Dataset) -> None:
    with pytest.raises(ParameterError, match="batch_size=0"):
        compute_dataset_features(notes_dataset, FeatureConfig(), batch_size=0)
    with pytest.raises(ParameterError, match="name='../x'"):
        compute_dataset_features(notes_dataset, FeatureConfig(), name="../x")
    n = notes_dataset.card.n_samples
    with pytest.raises(ParameterError, match=f"n_fft={2 * n} is longer than the items \\({n} samples\\)"):
        compute_dataset_features(notes_dataset, FeatureConfig(n_fft=2 * n))
    assert not notes_dataset.features_dir.exists()


def test_a_second_concurrent_writer_is_refused(notes_dataset: Dataset) -> None:
    from timbrespace.utils.lock import folder_lock

    with folder_lock(notes_dataset.features_dir, what="features"):
        with pytest.raises(DatasetError, match="being written by another features"):
            compute_dataset_features(notes_dataset, FeatureConfig(), batch_size=5)


def test_ragged_dataset_is_padded_to_the_longest_item(ragged_dataset: tuple[Dataset, np.ndarray]) -> None:
    ds, audio = ragged_dataset
    name = compute_dataset_features(ds, FeatureConfig(kind="mdct", n_fft=512), batch_size=2)
    back = invert(ds.load_features(name), ds.feature_sidecar(name))
    assert back.shape == (5, audio.shape[1])
    np.testing.assert_allclose(back[4, :5000], audio[4, :5000], atol=1e-6)
    assert np.abs(back[4, 5000:]).max() < 1e-6
