from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics.explicitness import explicitness

from ._fixtures import grid_factors, identity_latents, random_latents


def _split(latents: np.ndarray, factors: np.ndarray):
    order = np.random.default_rng(0).permutation(len(latents))
    tr, te = order[: len(order) // 2], order[len(order) // 2 :]
    return latents[tr], factors[tr], latents[te], factors[te]


def test_identity_scores_one() -> None:
    factors = grid_factors((6, 5, 2), repeats=3)
    # one-hot-like codes: each factor linearly separable class by class
    onehots = [np.eye(k)[factors[:, j]] for j, k in enumerate((6, 5, 2))]
    latents = np.hstack(onehots) + 0.01 * random_latents(len(factors), 13)
    result = explicitness(*_split(latents, factors))
    assert result.score_test > 0.99
    assert result.per_factor_test.shape == (3,)


def test_ordinal_identity_near_one() -> None:
    factors = grid_factors((10, 9, 2, 11))
    result = explicitness(*_split(identity_latents(factors, noise=0.05), factors))
    assert result.score > 0.97


def test_random_scores_chance() -> None:
    factors = grid_factors((5, 4, 3), repeats=10)
    result = explicitness(*_split(random_latents(len(factors), 4), factors))
    assert result.score_test == pytest.approx(0.5, abs=0.05)


def test_single_class_factor_raises() -> None:
    z = random_latents(20, 2)
    y = np.zeros((20, 2), dtype=int)
    y[:, 0] = np.arange(20) % 2
    with pytest.raises(ParameterError, match="factor 1"):
        explicitness(z, y, z, y)
