from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics.mig import mig
from timbrespace.metrics.modularity import modularity, modularity_from_mi

from ._fixtures import grid_factors, identity_latents, naive_mi_matrix, random_latents


def _naive_modularity(mi: np.ndarray) -> float:
    """Ridgeway & Mozer (2018), eq. for delta_i, with plain loops."""
    values = []
    n_factors = mi.shape[1]
    for row in mi:
        theta = max(row)
        if theta == 0:
            values.append(0.0)
            continue
        rest = sum(m**2 for j, m in enumerate(row) if j != int(np.argmax(row)))
        values.append(1.0 - rest / (theta**2 * (n_factors - 1)))
    return float(np.mean(values))


def test_identity_scores_one() -> None:
    factors = grid_factors((6, 5, 4))
    result = modularity(identity_latents(factors), factors)
    assert result.score == pytest.approx(1.0, abs=1e-12)
    np.testing.assert_allclose(result.per_latent, 1.0, atol=1e-12)


def test_one_latent_for_two_factors_scores_zero() -> None:
    # z0 = 4 f0 + f1 carries both factors equally (ln 4 nats each): delta = 1 -> 0;
    # z1 = f1 is perfectly modular -> 1. Mean 0.5.
    factors = grid_factors((4, 4), repeats=3)
    latents = np.stack([4.0 * factors[:, 0] + factors[:, 1], factors[:, 1]], axis=1)
    result = modularity(latents, factors)
    np.testing.assert_allclose(result.per_latent, [0.0, 1.0], atol=1e-12)
    assert result.score == pytest.approx(0.5, abs=1e-12)


def test_random_is_far_below_identity() -> None:
    # Pure-noise latents carry small, nearly equal spurious MI about every factor, so
    # their modularity is moderate rather than 0 (a known property of the metric).
    factors = grid_factors((8, 8, 8), repeats=4)
    result = modularity(random_latents(len(factors), 5), factors)
    assert result.score < 0.6


@pytest.mark.parametrize("n_bins", [20, 9])
def test_agrees_with_naive_rederivation(n_bins: int) -> None:
    rng = np.random.default_rng(11)
    factors = np.stack([rng.integers(0, 4, 300), rng.integers(0, 6, 300)], axis=1)
    latents = np.column_stack(
        [
            factors[:, 0] + 0.5 * rng.standard_normal(300),
            factors[:, 1] + 0.3 * factors[:, 0] + rng.standard_normal(300),
            rng.standard_normal(300),
        ]
    )
    mi = naive_mi_matrix(latents, factors, n_bins)
    result = modularity(latents, factors, n_bins=n_bins)
    np.testing.assert_allclose(result.mi, mi, atol=1e-12)
    assert result.score == pytest.approx(_naive_modularity(mi), abs=1e-9)
    assert 0.1 < result.score < 0.99


def test_shares_mi_with_mig() -> None:
    factors = grid_factors((3, 5), repeats=2)
    z = identity_latents(factors, noise=0.1)
    np.testing.assert_array_equal(modularity(z, factors).mi, mig(z, factors).mi)


def test_zero_information_latent_scores_zero() -> None:
    score, per = modularity_from_mi(np.array([[0.0, 0.0], [1.0, 0.0]]))
    np.testing.assert_array_equal(per, [0.0, 1.0])
    assert score == 0.5


def test_single_factor_raises() -> None:
    with pytest.raises(ParameterError, match="2 factors"):
        modularity(np.zeros((10, 2)) + np.arange(10)[:, None], np.arange(10)[:, None])
