from __future__ import annotations

import math

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from timbrespace.errors import ParameterError
from timbrespace.metrics.dci import dci, dci_from_importance

from ._fixtures import grid_factors, identity_latents, random_latents


def _split(latents: np.ndarray, factors: np.ndarray, seed: int = 0):
    order = np.random.default_rng(seed).permutation(len(latents))
    cut = int(0.7 * len(order))
    tr, te = order[:cut], order[cut:]
    return latents[tr], factors[tr], latents[te], factors[te]


def _naive_dci(r: np.ndarray) -> tuple[float, float]:
    """D and C re-derived from Eastwood & Williams (2018) with plain loops."""
    n_latents, n_factors = r.shape
    r = r + 1e-11
    d_per, c_per = [], []
    for i in range(n_latents):
        p = r[i] / r[i].sum()
        d_per.append(1 - sum(-pk * math.log(pk, n_factors) for pk in p))
    for j in range(n_factors):
        p = r[:, j] / r[:, j].sum()
        c_per.append(1 - sum(-pk * math.log(pk, n_latents) for pk in p))
    r0 = r - 1e-11
    rho_latent = r0.sum(axis=1) / r0.sum()
    rho_factor = r0.sum(axis=0) / r0.sum()
    return float(np.dot(d_per, rho_latent)), float(np.dot(c_per, rho_factor))


def test_identity_scores_one() -> None:
    factors = grid_factors((6, 5, 2), repeats=4)
    latents = identity_latents(factors, noise=0.05)
    result = dci(*_split(latents, factors))
    assert result.disentanglement > 0.95
    assert result.completeness > 0.95
    assert result.informativeness_test == pytest.approx(1.0, abs=1e-12)
    assert result.importance.shape == (3, 3)
    np.testing.assert_array_equal(np.argmax(result.importance, axis=0), [0, 1, 2])


def test_random_scores_near_zero() -> None:
    factors = grid_factors((4, 3, 2), repeats=15)
    latents = random_latents(len(factors), 4)
    result = dci(*_split(latents, factors))
    assert result.disentanglement < 0.15
    assert result.completeness < 0.15
    # chance accuracy is 1/4, 1/3, 1/2 -> mean 0.36
    assert result.informativeness_test < 0.5


def test_one_latent_for_two_factors() -> None:
    # z0 carries both factors, z1 is noise: D -> 0 (z0 splits its importance evenly),
    # C -> 1 (each factor lives in a single latent).
    factors = grid_factors((4, 4), repeats=20)
    rng = np.random.default_rng(0)
    latents = np.column_stack(
        [4.0 * factors[:, 0] + factors[:, 1], rng.standard_normal(len(factors))]
    )
    result = dci(*_split(latents, factors))
    assert result.disentanglement < 0.1
    assert result.completeness > 0.9
    assert result.informativeness_test > 0.99


def test_from_importance_agrees_with_naive() -> None:
    rng = np.random.default_rng(5)
    r = rng.random((7, 3)) ** 3
    d, c, d_per, c_per = dci_from_importance(r)
    d_naive, c_naive = _naive_dci(r)
    assert d == pytest.approx(d_naive, abs=1e-9)
    assert c == pytest.approx(c_naive, abs=1e-9)
    assert d_per.shape == (7,) and c_per.shape == (3,)


def test_from_importance_analytic_extremes() -> None:
    d, c, _, _ = dci_from_importance(np.eye(4))
    assert (d, c) == (pytest.approx(1.0, abs=1e-9), pytest.approx(1.0, abs=1e-9))
    d, c, _, _ = dci_from_importance(np.ones((4, 4)))
    assert (d, c) == (pytest.approx(0.0, abs=1e-9), pytest.approx(0.0, abs=1e-9))
    # one latent for two factors: D = 0, C = 1
    d, c, _, _ = dci_from_importance(np.array([[1.0, 1.0], [0.0, 0.0]]))
    assert d == pytest.approx(0.0, abs=1e-9) and c == pytest.approx(1.0, abs=1e-9)


def test_hist_estimator_agrees_on_identity() -> None:
    factors = grid_factors((6, 5, 2), repeats=4)
    latents = identity_latents(factors, noise=0.05)
    with threadpool_limits(limits=1, user_api="openmp"):  # torch's OpenMP pool is loaded
        result = dci(*_split(latents, factors), estimator="hist")
    assert result.estimator == "hist"
    assert result.disentanglement > 0.95 and result.completeness > 0.95


def test_deterministic_given_random_state() -> None:
    factors = grid_factors((3, 3), repeats=10)
    latents = random_latents(len(factors), 3)
    a = dci(*_split(latents, factors), random_state=7)
    b = dci(*_split(latents, factors), random_state=7)
    np.testing.assert_array_equal(a.importance, b.importance)


@pytest.mark.long(16)
def test_2000_items_score_a_disentangled_code() -> None:
    # No wall-clock bound here: timed tests fail on loaded machines.
    rng = np.random.default_rng(0)
    factors = np.stack([rng.integers(0, k, 2000) for k in (10, 9, 2, 11)], axis=1)
    latents = np.column_stack(
        [factors + 0.1 * rng.standard_normal(factors.shape), rng.standard_normal((2000, 6))]
    )
    result = dci(latents[:1500], factors[:1500], latents[1500:], factors[1500:])
    assert result.disentanglement > 0.8


def test_bad_input_raises() -> None:
    z = np.zeros((10, 3))
    y = np.zeros((10, 2), dtype=int)
    with pytest.raises(ParameterError):
        dci(z, y, np.zeros((5, 4)), np.zeros((5, 2), dtype=int))
    with pytest.raises(ParameterError, match="estimator"):
        dci(z, y, z, y, estimator="xgb")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="2 latents"):
        dci(z[:, :1], y, z[:, :1], y)


def test_one_factor_gives_completeness_and_informativeness() -> None:
    """One factor: disentanglement (entropy of base 1) is undefined, the rest is not."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, size=(200, 1))
    z = np.column_stack([y[:, 0] + 0.01 * rng.normal(size=200), rng.normal(size=200)])
    result = dci(z[:150], y[:150], z[150:], y[150:], random_state=0)
    assert np.isnan(result.disentanglement)
    assert result.completeness > 0.8  # one latent holds the factor
    assert result.informativeness_test > 0.95
