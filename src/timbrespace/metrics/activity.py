"""Which latents a model uses: the one definition of an *active* latent.

A latent is active when its posterior mean varies across items:
``Var_x(E_q[z_k | x]) > 0.01`` (Burda et al. 2016, "active units"). A latent collapsed
to the prior gives the same mean for every item, so it carries nothing about them,
whatever its posterior variance. The definition needs only the latent means, so it
applies to any representation, a VAE's ``mu`` or a linear baseline's projections.

Every part of timbrespace that counts or selects active latents (``metrics.json``'s
``active_latents``, the unsupervised re-alignment of the latents, the sweep table)
calls :func:`active_latents`.

References
----------
Burda, Y., Grosse, R., Salakhutdinov, R. (2016). Importance Weighted Autoencoders.
ICLR, section 5.2.
"""

from __future__ import annotations

import numpy as np

from timbrespace.errors import ParameterError

__all__ = ["ACTIVE_VARIANCE", "active_latents", "kl_per_latent"]

ACTIVE_VARIANCE = 0.01
"""Variance of a latent's mean across items above which the latent is active (Burda et al.)."""


def active_latents(latents: np.ndarray, *, threshold: float = ACTIVE_VARIANCE) -> np.ndarray:
    """Flag the active latents: those whose mean varies across items.

    Parameters
    ----------
    latents : np.ndarray [shape=(n_items, n_latents)]
        Latent means (``mu``) of a dataset, or any other representation of its items.
    threshold : float
        Variance above which a latent is active (default 0.01, Burda et al. 2016).

    Returns
    -------
    np.ndarray [shape=(n_latents,), dtype=bool]
        ``Var_items(latents[:, k]) > threshold`` (variance in float64).

    Raises
    ------
    ParameterError
        If ``latents`` is not 2-D or ``threshold`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import active_latents
    >>> z = np.c_[np.linspace(-1, 1, 100), np.full(100, 0.3)]
    >>> active_latents(z).tolist()
    [True, False]
    """
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 2:
        raise ParameterError(f"latents must be 2-D (n_items, n_latents); got shape {z.shape}")
    if not threshold >= 0:
        raise ParameterError(f"threshold={threshold} must be >= 0")
    return np.var(z, axis=0) > threshold


def kl_per_latent(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean KL divergence of each latent's posterior from the standard normal prior.

    ``KL_k = mean_items 0.5 * (mu_k**2 + exp(logvar_k) - logvar_k - 1)`` nats: how much
    each latent costs in the β-VAE objective. Reported beside :func:`active_latents`
    (a latent can cost nats without varying across items).

    Parameters
    ----------
    mu, logvar : np.ndarray [shape=(n_items, n_latents)]
        Posterior means and log-variances.

    Returns
    -------
    np.ndarray [shape=(n_latents,), dtype=float64]
        Nats per latent.

    Raises
    ------
    ParameterError
        If the shapes differ or are not 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import kl_per_latent
    >>> mu = np.zeros((4, 3))
    >>> mu[:, 0] = [-2.0, -1.0, 1.0, 2.0]  # only latent 0 moves away from the prior
    >>> kl_per_latent(mu, np.zeros((4, 3))).tolist()  # nats
    [1.25, 0.0, 0.0]
    """
    mu64, lv64 = np.asarray(mu, dtype=np.float64), np.asarray(logvar, dtype=np.float64)
    if mu64.ndim != 2 or mu64.shape != lv64.shape:
        raise ParameterError(
            f"mu {mu64.shape} and logvar {lv64.shape} must both be (n_items, n_latents)"
        )
    return np.mean(0.5 * (mu64**2 + np.exp(lv64) - lv64 - 1.0), axis=0)
