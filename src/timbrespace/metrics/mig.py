"""Mutual Information Gap (MIG).

For each factor ``v_k`` the two latents with the highest mutual information are found;
their gap, divided by the factor's entropy, says how much of the factor one latent
captures *alone*. The score is the mean over factors.

Implementation as disentanglement_lib's ``mig.py`` (``_compute_mig``): each latent is
discretised into ``n_bins`` equal-width histogram bins over its own range, mutual
information is ``sklearn.metrics.mutual_info_score`` (natural log, nats).

References
----------
Chen, R. T. Q., Li, X., Grosse, R., Duvenaud, D. (2018). Isolating Sources of
Disentanglement in Variational Autoencoders. NeurIPS. arXiv:1802.04942.

Locatello, F. et al. (2019). Challenging Common Assumptions in the Unsupervised
Learning of Disentangled Representations. ICML (disentanglement_lib).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.metrics._utils import (
    check_latents_factors,
    check_positive_int,
    discrete_entropy,
    discrete_mutual_info,
    histogram_discretize,
)

__all__ = ["MIGResult", "mig", "mutual_info_matrix"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MIGResult:
    """Result of :func:`mig`.

    Attributes
    ----------
    score : float
        Mean normalised gap over the non-constant factors, in [0, 1].
    per_factor : np.ndarray [shape=(n_factors,)]
        Normalised gap per factor; NaN for a constant factor (entropy 0), which is
        excluded from ``score``.
    mi : np.ndarray [shape=(n_latents, n_factors)]
        Mutual information between discretised latents and factors, nats.
    factor_entropy : np.ndarray [shape=(n_factors,)]
        Entropy of each factor, nats.
    excluded_factors : tuple of int
        Indices of constant factors left out of ``score``.
    n_bins : int
        Histogram bins used per latent.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import mig
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.integers(0, 5, size=(200, 2))
    >>> r = mig(factors + 0.1 * rng.standard_normal((200, 2)), factors)
    >>> round(r.score, 3), r.per_factor.round(3).tolist(), r.mi.shape
    (0.916, [0.914, 0.918], (2, 2))
    """

    score: float
    per_factor: np.ndarray
    mi: np.ndarray
    factor_entropy: np.ndarray
    excluded_factors: tuple[int, ...] = ()
    n_bins: int = 20


def mutual_info_matrix(latents: np.ndarray, factors: np.ndarray, *, n_bins: int = 20) -> np.ndarray:
    """Mutual information (nats) between each histogram-discretised latent and each factor.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
        Continuous codes (e.g. the encoder mean ``mu``).
    factors : array-like of shape (n_samples, n_factors), int
        Ground-truth factor codes.
    n_bins : int, default=20
        Equal-width bins per latent (disentanglement_lib's default).

    Returns
    -------
    np.ndarray [shape=(n_latents, n_factors), dtype=float64]

    Raises
    ------
    ParameterError
        On mismatched shapes, non-finite latents, non-integer factors or ``n_bins < 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import mutual_info_matrix
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.integers(0, 5, size=(200, 2))
    >>> latents = factors + 0.1 * rng.standard_normal((200, 2))
    >>> mutual_info_matrix(latents, factors).round(2)  # nats, (n_latents, n_factors)
    array([[1.6 , 0.13],
           [0.14, 1.59]])
    """
    z, y = check_latents_factors(latents, factors)
    n_bins = check_positive_int(n_bins, "n_bins", minimum=2)
    return discrete_mutual_info(histogram_discretize(z, n_bins), y)


def _compute_mig(mi: np.ndarray, entropy: np.ndarray) -> tuple[float, np.ndarray, tuple[int, ...]]:
    """MIG from an MI matrix ``(n_latents, n_factors)`` and factor entropies (nats)."""
    sorted_mi = np.sort(mi, axis=0)[::-1]
    second = sorted_mi[1] if mi.shape[0] > 1 else np.zeros(mi.shape[1])
    gap = sorted_mi[0] - second
    constant = entropy <= 0.0
    per_factor = np.full(mi.shape[1], np.nan)
    per_factor[~constant] = gap[~constant] / entropy[~constant]
    excluded = tuple(int(k) for k in np.flatnonzero(constant))
    return float(np.mean(per_factor[~constant])), per_factor, excluded


def mig(latents: np.ndarray, factors: np.ndarray, *, n_bins: int = 20) -> MIGResult:
    """Mutual Information Gap of a representation (Chen et al. 2018).

    ``MIG = 1/K sum_k (I(z_a; v_k) - I(z_b; v_k)) / H(v_k)`` where ``z_a`` and ``z_b`` are
    the latents with the largest and second-largest MI with factor ``v_k``.

    Parameters
    ----------
    latents : array-like of shape (n_samples, n_latents)
        Continuous codes, e.g. the encoder mean ``mu``.
    factors : array-like of shape (n_samples, n_factors), int
        Ground-truth factor codes (``Dataset.factor_codes``).
    n_bins : int, default=20
        Equal-width histogram bins per latent, as disentanglement_lib.

    Returns
    -------
    MIGResult
        ``score`` in [0, 1] (1: each factor captured by exactly one latent), per-factor
        gaps, the MI matrix and factor entropies. A constant factor (entropy 0) has
        ``per_factor`` NaN and is excluded from the mean (logged as a warning). With a
        single latent the second-largest MI is taken as 0.

    Raises
    ------
    ParameterError
        On bad shapes/dtypes, ``n_bins < 2``, or when every factor is constant.

    References
    ----------
    Chen et al. (2018), Isolating Sources of Disentanglement in VAEs, NeurIPS.
    Locatello et al. (2019), disentanglement_lib, ``evaluation/metrics/mig.py``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import mig
    >>> factors = np.stack([np.arange(1000) % 10, np.arange(1000) // 100], axis=1)
    >>> round(mig(factors.astype(float), factors).score, 6)
    1.0
    """
    z, y = check_latents_factors(latents, factors)
    n_bins = check_positive_int(n_bins, "n_bins", minimum=2)
    mi = discrete_mutual_info(histogram_discretize(z, n_bins), y)
    entropy = discrete_entropy(y)
    if np.all(entropy <= 0.0):
        raise ParameterError(
            f"every factor is constant (entropies {entropy.tolist()}): MIG is undefined"
        )
    score, per_factor, excluded = _compute_mig(mi, entropy)
    if excluded:
        logger.warning("MIG: constant factors %s (entropy 0) excluded from the score", excluded)
    return MIGResult(
        score=score,
        per_factor=per_factor,
        mi=mi,
        factor_entropy=entropy,
        excluded_factors=excluded,
        n_bins=n_bins,
    )
