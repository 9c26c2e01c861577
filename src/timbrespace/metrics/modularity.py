"""Modularity (Ridgeway & Mozer 2018).

A latent is modular if it carries information about at most one factor. From the
mutual-information matrix ``m`` (latents x factors, as in :mod:`~.mig`), for latent
``i`` with ``theta_i = max_j m_ij``::

    delta_i = sum_{j != argmax} m_ij^2 / (theta_i^2 (n_factors - 1))
    modularity_i = 1 - delta_i         (0 if theta_i == 0)

and the score is the mean over latents. Implementation as disentanglement_lib's
``modularity_explicitness.py`` (``modularity``), with the same histogram
discretisation (20 equal-width bins, natural-log MI).

Note: a latent that carries nothing scores 0 (theta 0), while a pure-noise latent
carries small, nearly equal spurious MI about every factor and so scores near 0 as
well; a single latent that encodes two factors equally scores 0.

References
----------
Ridgeway, K., Mozer, M. C. (2018). Learning Deep Disentangled Embeddings With the
F-Statistic Loss. NeurIPS.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.metrics._utils import (
    check_latents_factors,
    check_positive_int,
    discrete_mutual_info,
    histogram_discretize,
)

__all__ = ["ModularityResult", "modularity", "modularity_from_mi"]


@dataclass(frozen=True)
class ModularityResult:
    """Result of :func:`modularity`.

    Attributes
    ----------
    score : float
        Mean modularity over latents, in [0, 1].
    per_latent : np.ndarray [shape=(n_latents,)]
    mi : np.ndarray [shape=(n_latents, n_factors)]
        Mutual information, nats.
    n_bins : int
    """

    score: float
    per_latent: np.ndarray
    mi: np.ndarray
    n_bins: int = 20


def modularity_from_mi(mi: np.ndarray) -> tuple[float, np.ndarray]:
    """Modularity score and per-latent values from an MI matrix ``(n_latents, n_factors)``.

    Raises
    ------
    ParameterError
        If there are fewer than 2 factors (modularity is undefined).

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import modularity_from_mi
    >>> score, per_latent = modularity_from_mi(np.eye(2))  # each latent informs one factor
    >>> round(score, 3), per_latent.tolist()
    (1.0, [1.0, 1.0])
    """
    mi = np.asarray(mi, dtype=np.float64)
    if mi.ndim != 2 or mi.shape[1] < 2:
        raise ParameterError(f"modularity needs >= 2 factors; got MI matrix of shape {mi.shape}")
    squared = np.square(mi)
    theta = squared.max(axis=1)
    numerator = squared.sum(axis=1) - theta
    with np.errstate(divide="ignore", invalid="ignore"):
        delta = numerator / (theta * (mi.shape[1] - 1.0))
    per_latent = np.where(theta == 0.0, 0.0, 1.0 - delta)
    return float(np.mean(per_latent)), per_latent


def modularity(latents: np.ndarray, factors: np.ndarray, *, n_bins: int = 20) -> ModularityResult:
    """Modularity of a representation (Ridgeway & Mozer 2018).

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
    factors : array-like of shape (n_samples, n_factors), int
    n_bins : int, default=20
        Equal-width histogram bins per latent.

    Returns
    -------
    ModularityResult

    Raises
    ------
    ParameterError
        On bad shapes, ``n_bins < 2`` or fewer than 2 factors.

    References
    ----------
    Ridgeway & Mozer (2018), Learning Deep Disentangled Embeddings With the F-Statistic
    Loss, NeurIPS. disentanglement_lib ``evaluation/metrics/modularity_explicitness.py``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import modularity
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.integers(0, 5, size=(200, 2))
    >>> latents = factors + 0.1 * rng.standard_normal((200, 2))
    >>> r = modularity(latents, factors)
    >>> round(r.score, 3), r.mi.shape
    (0.993, (2, 2))
    """
    z, y = check_latents_factors(latents, factors)
    n_bins = check_positive_int(n_bins, "n_bins", minimum=2)
    mi = discrete_mutual_info(histogram_discretize(z, n_bins), y)
    score, per_latent = modularity_from_mi(mi)
    return ModularityResult(score=score, per_latent=per_latent, mi=mi, n_bins=n_bins)
