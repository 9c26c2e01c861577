"""Tests of the unsupervised latent re-alignment (PCA, ICA)."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.analysis import align_active_latents, align_latents
from timbrespace.errors import ParameterError
from timbrespace.metrics import mig


def grid_factors() -> np.ndarray:
    """Every combination of 8 × 6 × 5 levels: independent, uniform, non-Gaussian factors."""
    return np.stack(np.meshgrid(np.arange(8), np.arange(6), np.arange(5), indexing="ij"), -1).reshape(-1, 3)


def rotated(codes: np.ndarray, seed: int = 0) -> np.ndarray:
    """Standardised factors mixed by a random rotation, plus a little noise."""
    rng = np.random.default_rng(seed)
    z = (codes - codes.mean(0)) / codes.std(0)
    q, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    return z @ q.T + 0.05 * rng.normal(size=z.shape)


def test_ica_recovers_rotated_grid_factors() -> None:
    codes = grid_factors()
    mixed = rotated(codes, seed=3)  # a rotation that mixes all three factors
    aligned = align_latents(mixed, "ica").transform(mixed)
    assert mig(mixed, codes).score < 0.25
    assert mig(aligned, codes).score > 0.85


def test_pca_is_an_orthogonal_rotation_that_inverts_exactly() -> None:
    mixed = rotated(grid_factors(), seed=1)
    alignment = align_latents(mixed, "pca")
    assert np.allclose(alignment.components @ alignment.components.T, np.eye(3), atol=1e-10)
    z = alignment.transform(mixed)
    assert np.all(np.diff(z.var(0)) <= 1e-12)  # variance-ordered
    assert np.allclose(alignment.inverse_transform(z), mixed, atol=1e-10)


def test_ica_is_deterministic_and_inverts() -> None:
    mixed = rotated(grid_factors(), seed=2)
    a, b = align_latents(mixed, "ica", random_state=3), align_latents(mixed, "ica", random_state=3)
    assert np.array_equal(a.components, b.components)
    assert np.allclose(a.inverse_transform(a.transform(mixed)), mixed, atol=1e-8)
    assert np.allclose(a.transform(mixed).std(0), 1.0, atol=1e-6)


@pytest.mark.parametrize(
    ("latents", "method", "match"),
    [
        (np.zeros((10, 2)), "svd", "not one of"),
        (np.zeros((2, 3)), "ica", "n_samples > n_latents"),
        (np.full((10, 2), np.nan), "ica", "NaN"),
        (np.c_[np.arange(10.0), np.ones(10)], "pca", "rank-deficient"),
    ],
)
def test_bad_latents_raise_a_parameter_error(latents: np.ndarray, method: str, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        align_latents(latents, method)  # type: ignore[arg-type]


def test_align_active_latents_leaves_inactive_columns_untouched() -> None:
    codes = grid_factors()
    mixed = rotated(codes, seed=3)
    dead = np.full((len(mixed), 1), 0.25)  # a collapsed latent: constant mean
    z = align_active_latents(np.hstack([mixed[:, :1], dead, mixed[:, 1:]]), "ica")
    assert np.array_equal(z[:, 1], dead[:, 0])
    assert mig(z, codes).score > 0.85
    one = np.hstack([mixed[:, :1], dead])  # fewer than two active: unchanged
    assert np.array_equal(align_active_latents(one), one)
    with pytest.raises(ParameterError, match="one flag per latent"):
        align_active_latents(mixed, active=np.ones(2, bool))
