"""Normalisation: per-item min-max (seed 002) and dataset-level standardisation."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.features import FeatureConfig, extract, invert
from timbrespace.features.normalization import NormStats, fit_standardize

SR = 22050


def test_minmax_item_silent_item_gives_zeros_not_nan(notes: np.ndarray) -> None:
    audio = notes[:3].copy()
    audio[1] = 0.0
    res = extract(audio, FeatureConfig(normalization="minmax_item"), sample_rate=SR)
    feats = res.features
    assert np.isfinite(feats).all()
    assert np.all(feats[1] == 0.0)
    for k in (0, 2):
        assert feats[k].min() == pytest.approx(0.0, abs=1e-7) and feats[k].max() == pytest.approx(
            1.0, abs=1e-6
        )
    norm = res.sidecar["normalization"]
    assert norm["item_min"][1] == norm["item_max"][1] == pytest.approx(-100.0)  # amin = 1e-5
    back = invert(feats, res.sidecar, method="pghi", return_info=True)
    assert np.isfinite(back.audio).all()
    assert np.max(np.abs(back.audio[1])) < 1e-3


def test_minmax_item_stores_what_undoes_it(notes: np.ndarray) -> None:
    raw = extract(notes, FeatureConfig(), sample_rate=SR).features
    res = extract(notes, FeatureConfig(normalization="minmax_item"), sample_rate=SR)
    lo = np.asarray(res.sidecar["normalization"]["item_min"])
    hi = np.asarray(res.sidecar["normalization"]["item_max"])
    np.testing.assert_allclose(lo, raw.min(axis=(1, 2)), atol=1e-4)
    np.testing.assert_allclose(
        lo[:, None, None] + res.features * (hi - lo)[:, None, None], raw, atol=1e-3
    )


def test_minmax_subset_needs_indices(notes: np.ndarray) -> None:
    res = extract(
        notes,
        FeatureConfig(output="db_phase", top_db=None, amin=1e-30, normalization="minmax_item"),
        sample_rate=SR,
    )
    with pytest.raises(ParameterError, match="pass indices="):
        invert(res.features[3:5], res.sidecar)
    sub = invert(res.features[3:5], res.sidecar, indices=[3, 4])
    full = invert(res.features, res.sidecar)
    np.testing.assert_allclose(sub, full[3:5], atol=1e-6)


def test_standardize_fits_per_bin(notes: np.ndarray) -> None:
    res = extract(notes, FeatureConfig(normalization="standardize"), sample_rate=SR)
    feats = res.features.astype(np.float64)
    np.testing.assert_allclose(feats.mean(axis=(0, 2)), 0.0, atol=1e-4)
    std = feats.std(axis=(0, 2))
    assert np.all((np.abs(std - 1.0) < 1e-3) | (std < 1e-6))
    assert len(res.sidecar["normalization"]["mean"]) == 513


def test_standardize_with_given_stats_and_running_fit(notes: np.ndarray) -> None:
    raw = extract(notes, FeatureConfig(), sample_rate=SR).features
    stats = NormStats()
    for part in np.array_split(raw, 4):
        stats.update(part)
    mean, std = stats.mean_std()
    mean_all, std_all = fit_standardize(raw)
    np.testing.assert_allclose(mean, mean_all, rtol=1e-10)
    np.testing.assert_allclose(std, std_all, rtol=1e-8)
    res = extract(
        notes[:2],
        FeatureConfig(normalization="standardize"),
        sample_rate=SR,
        standardize_stats=(mean, std),
    )
    np.testing.assert_allclose(res.features, (raw[:2] - mean[:, None]) / std[:, None], atol=1e-4)


def test_decoded_features_with_interpolated_minmax(notes: np.ndarray) -> None:
    # seed 002 generation: decoded [0, 1] spectrogram, min/max interpolated between two notes
    cfg = FeatureConfig(output="db_phase", top_db=None, amin=1e-30, normalization="minmax_item")
    res = extract(notes[:2], cfg, sample_rate=SR)
    norm = res.sidecar["normalization"]
    back = invert(res.features[:1], res.sidecar, item_min=norm["item_min"][0], item_max=norm["item_max"][0])
    assert np.linalg.norm(back[0] - notes[0]) / np.linalg.norm(notes[0]) < 1e-5
    with pytest.raises(ParameterError, match="both item_min and item_max"):
        invert(res.features[:1], res.sidecar, item_min=0.0)
