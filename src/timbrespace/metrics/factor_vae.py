"""FactorVAE disentanglement score (Kim & Mnih 2018).

Latents are first divided by their global standard deviation. For each vote a factor
``k`` is fixed at a random value and ``batch_size`` items sharing it are encoded; the
latent with the smallest normalised variance, ``argmin_i var_batch(z_i) / var(z_i)``,
votes for ``k``. A majority-vote classifier maps each latent to the factor it most
often wins for; the score is that classifier's accuracy on fresh votes. A disentangled
code scores 1; a random code close to chance, ``1 / n_factors``.

Implementation as disentanglement_lib's ``factor_vae.py`` (batch 64, 10,000 train and
5,000 eval votes, global variances from 10,000 items, ``ddof=1``, and the study's
``prune_dims.threshold = 0.05``: latents with global standard deviation below 0.05 are
collapsed to the prior and never vote), sampling items from a finished dataset (see
:mod:`timbrespace.metrics._sampling`). Two deliberate differences: a latent with zero
variance is always pruned (the reference would divide 0 by 0), and a vote is credited
to the winning latent's own index (the reference indexes the vote matrix with the
position among *active* latents, which misattributes votes once a latent is pruned).

References
----------
Kim, H., Mnih, A. (2018). Disentangling by Factorising. ICML.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.metrics._sampling import (
    FactorGroups,
    LatentSource,
    check_latent_source,
    gather_latents,
)
from timbrespace.metrics._utils import check_positive_int, check_random_state
from timbrespace.metrics.beta_vae import _check_factors

__all__ = ["FactorVAEResult", "factor_vae_score"]

logger = logging.getLogger(__name__)

_CHUNK_VOTES = 512


@dataclass(frozen=True)
class FactorVAEResult:
    """Result of :func:`factor_vae_score`.

    Attributes
    ----------
    score : float
        Eval accuracy of the majority-vote classifier (= ``eval_accuracy``).
    train_accuracy, eval_accuracy : float
    chance : float
        ``1 / n_used_factors``.
    votes : np.ndarray [shape=(n_factors, n_latents), dtype=int64]
        Training votes: how often latent ``i`` had the smallest normalised variance when
        factor ``k`` was fixed.
    classifier : np.ndarray [shape=(n_latents,), dtype=int64]
        Factor each latent is mapped to (majority vote).
    active_latents : np.ndarray [shape=(n_latents,), dtype=bool]
        Latents kept after this metric's pruning by ``min_std`` (disentanglement_lib's
        rule, part of the metric's definition; the package's definition of an active
        latent is :func:`timbrespace.metrics.active_latents`).
    used_factors : tuple of int
    """

    score: float
    train_accuracy: float
    eval_accuracy: float
    chance: float
    votes: np.ndarray
    classifier: np.ndarray
    active_latents: np.ndarray
    used_factors: tuple[int, ...]


def _votes(
    source: LatentSource,
    groups: FactorGroups,
    used: np.ndarray,
    n_votes: int,
    batch_size: int,
    scale: np.ndarray,
    active: np.ndarray,
    n_latents: int,
    rng: np.random.Generator,
) -> np.ndarray:
    votes = np.zeros((groups.n_factors, n_latents), dtype=np.int64)
    active_index = np.flatnonzero(active)
    for start in range(0, n_votes, _CHUNK_VOTES):
        n = min(_CHUNK_VOTES, n_votes - start)
        label = used[rng.integers(len(used), size=n)]
        anchor = rng.integers(groups.n_items, size=n)
        items = np.empty((n, batch_size), dtype=np.int64)
        for k in np.unique(label):
            rows = label == k
            repeated = np.repeat(anchor[rows, None], batch_size, axis=1)
            items[rows] = groups.same_value(int(k), repeated, rng)
        z = gather_latents(source, items)[:, :, active_index] / scale[active_index]
        winner = active_index[np.argmin(np.var(z, axis=1, ddof=1), axis=1)]
        np.add.at(votes, (label, winner), 1)
    return votes


def factor_vae_score(
    latents: LatentSource,
    factors: np.ndarray,
    *,
    batch_size: int = 64,
    n_train: int = 10_000,
    n_eval: int = 5_000,
    n_variance_estimate: int = 10_000,
    min_std: float = 0.05,
    random_state: int | np.random.Generator | None = 0,
) -> FactorVAEResult:
    """FactorVAE score: majority-vote accuracy of the least-varying latent (Kim & Mnih 2018).

    Parameters
    ----------
    latents : array-like of shape (n_items, n_latents), or callable
        Latents of every item, or a function of a 1-D int array of item indices
        returning their latents.
    factors : array-like of shape (n_items, n_factors), int
        Factor codes of every item.
    batch_size : int, default=64
        Items per vote (>= 2, a variance is taken over them).
    n_train, n_eval : int, default=10000, 5000
        Votes to build and to score the classifier.
    n_variance_estimate : int, default=10000
        Items drawn (with replacement) to estimate each latent's global variance.
    min_std : float, default=0.05
        Latents with global standard deviation ``< min_std`` (or exactly 0) are pruned
        and never vote. 0.05 is disentanglement_lib's study setting and suits encoder
        means of a VAE with a unit Gaussian prior; rescale it for other codes.
    random_state : int, Generator or None, default=0

    Returns
    -------
    FactorVAEResult
        All scores 0 when every latent is pruned.

    Raises
    ------
    ParameterError
        On bad shapes or sizes, ``min_std < 0``, or fewer than two non-constant factors.

    References
    ----------
    Kim & Mnih (2018), Disentangling by Factorising, ICML. disentanglement_lib
    ``evaluation/metrics/factor_vae.py``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import factor_vae_score
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.integers(0, 5, size=(200, 2))
    >>> latents = factors + 0.1 * rng.standard_normal((200, 2))
    >>> r = factor_vae_score(latents, factors, batch_size=16, n_train=200, n_eval=100,
    ...                      n_variance_estimate=200)
    >>> round(r.score, 3), r.chance
    (1.0, 0.5)
    """
    y = _check_factors(factors)
    source = check_latent_source(latents, y.shape[0])
    batch_size = check_positive_int(batch_size, "batch_size", minimum=2)
    n_train = check_positive_int(n_train, "n_train")
    n_eval = check_positive_int(n_eval, "n_eval")
    n_variance_estimate = check_positive_int(n_variance_estimate, "n_variance_estimate", minimum=2)
    if not min_std >= 0.0:
        raise ParameterError(f"min_std={min_std} must be >= 0")
    rng = check_random_state(random_state)
    groups = FactorGroups(y)
    used = np.array([k for k in range(y.shape[1]) if groups.n_values(k) > 1], dtype=np.int64)
    if len(used) < 2:
        raise ParameterError(
            f"factor_vae_score needs >= 2 non-constant factors; got {len(used)} of {y.shape[1]}"
        )
    # the metric's own pruning (disentanglement_lib): latents below min_std never vote
    z_global = gather_latents(source, rng.integers(y.shape[0], size=n_variance_estimate))
    scale = np.sqrt(np.var(z_global, axis=0, ddof=1))
    active = (scale >= min_std) & (scale > 0.0)
    n_latents = z_global.shape[1]
    if not np.any(active):
        logger.warning("factor_vae_score: every latent has std < %g; score 0", min_std)
        return _all_pruned(y.shape[1], n_latents, active, used)
    safe_scale = np.where(active, scale, 1.0)
    args = (source, groups, used)
    train_votes = _votes(*args, n_train, batch_size, safe_scale, active, n_latents, rng)
    classifier = np.argmax(train_votes, axis=0)
    columns = np.arange(n_latents)
    train_accuracy = float(train_votes[classifier, columns].sum() / train_votes.sum())
    eval_votes = _votes(*args, n_eval, batch_size, safe_scale, active, n_latents, rng)
    eval_accuracy = float(eval_votes[classifier, columns].sum() / eval_votes.sum())
    return FactorVAEResult(
        score=eval_accuracy,
        train_accuracy=train_accuracy,
        eval_accuracy=eval_accuracy,
        chance=1.0 / len(used),
        votes=train_votes,
        classifier=classifier,
        active_latents=active,
        used_factors=tuple(int(k) for k in used),
    )


def _all_pruned(n_factors: int, n_latents: int, active: np.ndarray, used: np.ndarray) -> FactorVAEResult:
    return FactorVAEResult(
        score=0.0,
        train_accuracy=0.0,
        eval_accuracy=0.0,
        chance=1.0 / len(used),
        votes=np.zeros((n_factors, n_latents), dtype=np.int64),
        classifier=np.zeros(n_latents, dtype=np.int64),
        active_latents=active,
        used_factors=tuple(int(k) for k in used),
    )
