from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics.sap import sap, sap_from_scores

from ._fixtures import grid_factors, identity_latents, random_latents


def _split(latents: np.ndarray, factors: np.ndarray):
    order = np.random.default_rng(0).permutation(len(latents))
    tr, te = order[: len(order) // 2], order[len(order) // 2 :]
    return latents[tr], factors[tr], latents[te], factors[te]


def test_identity_continuous_scores_one() -> None:
    factors = grid_factors((10, 9, 11))
    result = sap(*_split(identity_latents(factors, noise=0.05), factors), continuous_factors=True)
    assert result.score > 0.98
    assert result.scores.shape == (3, 3)


def test_identity_binary_factors_score_one_minus_chance() -> None:
    # Classification SAP: the informative latent is 100 % accurate, the others predict a
    # balanced binary factor at chance (50 %), so the gap is 0.5 for every factor.
    factors = grid_factors((2, 2, 2), repeats=50)
    result = sap(*_split(identity_latents(factors, noise=0.05, seed=2), factors))
    np.testing.assert_allclose(np.sort(result.scores, axis=0)[-1], 1.0)
    assert result.score == pytest.approx(0.5, abs=0.08)


def test_random_scores_near_zero() -> None:
    factors = grid_factors((5, 4, 3), repeats=10)
    latents = random_latents(len(factors), 4)
    assert sap(*_split(latents, factors)).score < 0.06
    assert sap(*_split(latents, factors), continuous_factors=True).score < 0.03


def test_from_scores_known_value() -> None:
    scores = np.array([[0.9, 0.2], [0.3, 0.8], [0.1, 0.7]])
    score, gap = sap_from_scores(scores)
    np.testing.assert_allclose(gap, [0.6, 0.1])
    assert score == pytest.approx(0.35)


def test_one_latent_needs_raise() -> None:
    with pytest.raises(ParameterError, match="2 latents"):
        sap(
            np.zeros((10, 1)),
            np.zeros((10, 2), dtype=int),
            np.zeros((4, 1)),
            np.zeros((4, 2), dtype=int),
        )
