from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics._sampling import FactorGroups
from timbrespace.metrics.beta_vae import beta_vae_score
from timbrespace.metrics.factor_vae import factor_vae_score

from ._fixtures import grid_factors, identity_latents, random_latents

SMALL = {"n_train": 2000, "n_eval": 1000}


def test_same_value_keeps_factor_and_draws_uniformly() -> None:
    factors = grid_factors((3, 4), repeats=2)
    groups = FactorGroups(factors)
    rng = np.random.default_rng(0)
    anchors = np.zeros(40_000, dtype=np.int64)
    partners = groups.same_value(1, anchors, rng)
    np.testing.assert_array_equal(factors[partners, 1], factors[0, 1])
    # 3 values of factor 0 x 2 repeats = 6 items share factor 1's code: each ~1/6
    _, counts = np.unique(partners, return_counts=True)
    assert len(counts) == 6
    np.testing.assert_allclose(counts / counts.sum(), 1 / 6, atol=0.01)


@pytest.mark.parametrize("score_fn", [beta_vae_score, factor_vae_score])
def test_identity_scores_one(score_fn) -> None:
    factors = grid_factors((10, 9, 2, 11))
    result = score_fn(identity_latents(factors), factors, **SMALL)
    assert result.score == pytest.approx(1.0, abs=1e-12)
    assert result.chance == 0.25


@pytest.mark.parametrize("score_fn", [beta_vae_score, factor_vae_score])
def test_random_scores_chance(score_fn) -> None:
    factors = grid_factors((6, 5, 4, 3), repeats=2)
    result = score_fn(random_latents(len(factors), 6), factors, **SMALL)
    assert result.score == pytest.approx(result.chance, abs=0.06)


@pytest.mark.parametrize("score_fn", [beta_vae_score, factor_vae_score])
def test_callable_equals_array(score_fn) -> None:
    factors = grid_factors((4, 3, 5))
    z = identity_latents(factors, noise=0.3)
    a = score_fn(z, factors, random_state=3, **SMALL)
    b = score_fn(lambda idx: z[idx], factors, random_state=3, **SMALL)
    assert a.score == b.score
    assert 0.4 < a.score <= 1.0


def test_factor_vae_one_latent_for_two_factors() -> None:
    # z0 = f0 + 10 f1 (both factors in one latent), z1 = f2. Fixing f0 or f1 leaves z0
    # varying; its normalised variance is smallest when f1 (the dominant part) is
    # fixed. z0 wins votes for f0 and f1, z1 for f2: the majority classifier can map z0
    # to only one of them, so the accuracy is 2/3.
    factors = grid_factors((3, 3, 3), repeats=4)
    latents = np.column_stack([factors[:, 0] + 10.0 * factors[:, 1], factors[:, 2]])
    result = factor_vae_score(latents, factors, **SMALL)
    assert result.score == pytest.approx(2 / 3, abs=0.04)
    assert result.classifier[1] == 2


def test_factor_vae_prunes_collapsed_latents() -> None:
    # a dead latent (std 0) and one collapsed to std 0.01 < 0.05 never vote; with
    # min_std=0 the collapsed one is kept, but dividing by the global variance makes its
    # scale irrelevant (its normalised variance stays ~1), so the score is unchanged.
    factors = grid_factors((4, 4), repeats=2)
    rng = np.random.default_rng(0)
    latents = np.column_stack(
        [
            identity_latents(factors),
            np.zeros(len(factors)),
            0.01 * rng.standard_normal(len(factors)),
        ]
    )
    result = factor_vae_score(latents, factors, **SMALL)
    np.testing.assert_array_equal(result.active_latents, [True, True, False, False])
    assert result.votes[:, 2:].sum() == 0
    assert result.score == pytest.approx(1.0)
    kept = factor_vae_score(latents, factors, min_std=0.0, **SMALL)
    assert kept.active_latents.tolist() == [True, True, False, True]
    assert kept.score == pytest.approx(1.0)
    assert kept.votes[:, 3].sum() == 0


def test_beta_vae_constant_factor_excluded() -> None:
    factors = np.column_stack([grid_factors((4, 4)), np.zeros(16, dtype=int)])
    result = beta_vae_score(identity_latents(factors[:, :2]), factors, **SMALL)
    assert result.used_factors == (0, 1)
    assert result.chance == 0.5


def test_bad_inputs_raise() -> None:
    factors = grid_factors((4, 4))
    with pytest.raises(ParameterError, match="n_items"):
        beta_vae_score(np.zeros((5, 2)), factors)
    with pytest.raises(ParameterError, match="batch_size"):
        factor_vae_score(identity_latents(factors), factors, batch_size=1)
    with pytest.raises(ParameterError, match="representation function"):
        beta_vae_score(lambda idx: np.zeros((3, 2)), factors, **SMALL)
    with pytest.raises(ParameterError, match="non-constant"):
        factor_vae_score(np.zeros((16, 2)), factors[:, :1])
