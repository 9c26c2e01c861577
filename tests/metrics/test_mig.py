from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics.mig import mig, mutual_info_matrix

from ._fixtures import (
    grid_factors,
    identity_latents,
    naive_entropy,
    naive_mi_matrix,
    random_latents,
)


def _naive_mig(latents: np.ndarray, factors: np.ndarray, n_bins: int) -> tuple[float, np.ndarray]:
    """MIG re-derived from its definition with plain loops and counts."""
    mi = naive_mi_matrix(latents, factors, n_bins)
    gaps = []
    for k in range(factors.shape[1]):
        mis = sorted(mi[:, k], reverse=True)
        gaps.append((mis[0] - mis[1]) / naive_entropy(factors[:, k]))
    return float(np.mean(gaps)), np.array(gaps)


def test_identity_scores_one() -> None:
    factors = grid_factors((10, 9, 2, 11))
    result = mig(identity_latents(factors), factors)
    assert result.score == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(result.per_factor, 1.0, atol=1e-9)
    np.testing.assert_allclose(result.factor_entropy, np.log([10, 9, 2, 11]), rtol=1e-12)
    assert result.mi.shape == (4, 4)


def test_noisy_identity_scores_near_one() -> None:
    factors = grid_factors((10, 9, 2, 11), repeats=3)
    result = mig(identity_latents(factors, noise=0.05), factors)
    assert 0.97 < result.score <= 1.0


def test_random_scores_near_zero() -> None:
    factors = grid_factors((10, 5, 4), repeats=25)
    result = mig(random_latents(len(factors), 6), factors)
    assert 0.0 <= result.score < 0.02


def test_one_latent_for_two_factors_known_value() -> None:
    # z0 = 4 f0 + f1 determines both factors; z1 = f1. Factor 0: gap H - 0 -> 1;
    # factor 1: z0 and z1 both carry H(f1) -> gap 0. MIG = 0.5 exactly.
    factors = grid_factors((4, 4), repeats=3)
    latents = np.stack([4.0 * factors[:, 0] + factors[:, 1], factors[:, 1]], axis=1)
    result = mig(latents, factors)
    np.testing.assert_allclose(result.per_factor, [1.0, 0.0], atol=1e-12)
    assert result.score == pytest.approx(0.5, abs=1e-12)


def test_duplicated_latents_score_zero() -> None:
    factors = grid_factors((5, 6))
    z = identity_latents(factors)
    assert mig(np.hstack([z, z]), factors).score == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("n_bins", [20, 7])
def test_agrees_with_naive_rederivation(n_bins: int) -> None:
    rng = np.random.default_rng(3)
    factors = np.stack([rng.integers(0, 5, 400), rng.integers(0, 3, 400)], axis=1)
    latents = np.column_stack(
        [
            factors[:, 0] + 0.8 * rng.standard_normal(400),
            np.sin(factors[:, 1]) + 0.5 * rng.standard_normal(400),
            rng.standard_normal(400),
        ]
    )
    expected_score, expected_gaps = _naive_mig(latents, factors, n_bins)
    result = mig(latents, factors, n_bins=n_bins)
    assert result.score == pytest.approx(expected_score, abs=1e-9)
    np.testing.assert_allclose(result.per_factor, expected_gaps, atol=1e-9)
    assert 0.05 < result.score < 0.9  # a non-trivial case, not an extreme


def test_constant_factor_is_excluded(caplog: pytest.LogCaptureFixture) -> None:
    factors = grid_factors((5, 4))
    factors = np.column_stack([factors, np.zeros(len(factors), dtype=int)])
    result = mig(identity_latents(factors[:, :2]), factors)
    assert np.isnan(result.per_factor[2])
    assert result.excluded_factors == (2,)
    assert result.score == pytest.approx(1.0, abs=1e-9)
    assert "constant" in caplog.text


def test_mutual_info_matrix_matches_mig() -> None:
    factors = grid_factors((3, 4), repeats=2)
    z = identity_latents(factors)
    np.testing.assert_array_equal(mutual_info_matrix(z, factors), mig(z, factors).mi)


@pytest.mark.parametrize(
    ("latents", "factors"),
    [
        (np.zeros((10, 2)), np.zeros((9, 2), dtype=int)),
        (np.zeros(10), np.zeros((10, 2), dtype=int)),
        (np.full((10, 2), np.nan), np.zeros((10, 2), dtype=int)),
        (np.zeros((10, 2)), np.full((10, 2), 0.5)),
        (np.zeros((10, 2)), np.zeros((10, 2), dtype=int)),  # all factors constant
    ],
)
def test_bad_input_raises(latents: np.ndarray, factors: np.ndarray) -> None:
    with pytest.raises(ParameterError):
        mig(latents, factors)


def test_bad_n_bins_raises() -> None:
    with pytest.raises(ParameterError, match="n_bins"):
        mig(np.zeros((10, 2)), np.arange(20).reshape(10, 2), n_bins=1)
