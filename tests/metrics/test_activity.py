"""The one definition of an active latent, and the KL per latent."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics import ACTIVE_VARIANCE, active_latents, kl_per_latent


def test_active_latents_counts_varying_means() -> None:
    rng = np.random.default_rng(0)
    latents = np.c_[rng.normal(size=500), rng.normal(scale=0.01, size=500), np.zeros(500)]
    assert active_latents(latents).tolist() == [True, False, False]
    assert ACTIVE_VARIANCE == 0.01


def test_active_is_variance_of_the_means_above_the_threshold() -> None:
    """Burda et al.'s active units: a constant offset (nats of KL, no information) is inactive."""
    z = np.c_[np.full(100, 3.0), np.linspace(0.0, 0.5, 100)]  # Var = 0 and Var = 0.0212
    assert active_latents(z).tolist() == [False, True]
    assert active_latents(z, threshold=0.05).tolist() == [False, False]
    with pytest.raises(ParameterError, match="2-D"):
        active_latents(np.zeros(5))
    with pytest.raises(ParameterError, match="threshold=-1"):
        active_latents(z, threshold=-1)


def test_kl_per_latent_is_the_gaussian_kl_from_the_prior() -> None:
    mu = np.array([[0.0, 1.0], [0.0, -1.0]])
    logvar = np.array([[0.0, np.log(0.25)], [0.0, np.log(0.25)]])
    # KL(N(m, s^2) || N(0, 1)) = 0.5 (m^2 + s^2 - log s^2 - 1)
    expected = [0.0, 0.5 * (1.0 + 0.25 - np.log(0.25) - 1.0)]
    np.testing.assert_allclose(kl_per_latent(mu, logvar), expected)
    with pytest.raises(ParameterError, match="must both be"):
        kl_per_latent(mu, logvar[:, :1])
