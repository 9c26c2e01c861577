"""β-VAE disentanglement score (Higgins et al. 2017).

Each training point is built from ``batch_size`` pairs of items that share the value
of one randomly chosen factor ``k``: the feature is the mean absolute difference of
their latents, ``mean_b |z(x1_b) - z(x2_b)|``, and the label is ``k``. A linear
classifier (logistic regression) is fit on ``n_train`` points; the score is its
accuracy on ``n_eval`` fresh points. A disentangled code has a near-zero difference in
the latent of the fixed factor, so the classifier is accurate (1); a random code scores
chance, ``1 / n_factors``.

Implementation as disentanglement_lib's ``beta_vae.py`` (batch 64, 10,000 train and
5,000 eval points, ``LogisticRegression``), sampling items from a finished dataset:
see :mod:`timbrespace.metrics._sampling`.

References
----------
Higgins, I. et al. (2017). beta-VAE: Learning Basic Visual Concepts with a Constrained
Variational Framework. ICLR.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from timbrespace.errors import ParameterError
from timbrespace.metrics._sampling import (
    FactorGroups,
    LatentSource,
    check_latent_source,
    gather_latents,
)
from timbrespace.metrics._utils import check_positive_int, check_random_state

__all__ = ["BetaVAEResult", "beta_vae_score"]

logger = logging.getLogger(__name__)

_CHUNK_POINTS = 512  # points built per latent lookup, to bound memory


@dataclass(frozen=True)
class BetaVAEResult:
    """Result of :func:`beta_vae_score`.

    Attributes
    ----------
    score : float
        Eval accuracy (= ``eval_accuracy``).
    train_accuracy, eval_accuracy : float
    chance : float
        ``1 / n_used_factors``, the expected score of a random representation.
    used_factors : tuple of int
        Factors with at least two values (constant factors cannot be fixed usefully).
    batch_size, n_train, n_eval : int
    """

    score: float
    train_accuracy: float
    eval_accuracy: float
    chance: float
    used_factors: tuple[int, ...]
    batch_size: int
    n_train: int
    n_eval: int


def _check_factors(factors: object) -> np.ndarray:
    y = np.asarray(factors)
    if y.ndim != 2 or y.shape[0] < 2:
        raise ParameterError(f"factors must be (n_items >= 2, n_factors); got shape {y.shape}")
    if not np.issubdtype(y.dtype, np.integer):
        raise ParameterError(f"factors must be integer codes; got dtype {y.dtype}")
    return y.astype(np.int64, copy=False)


def _points(
    source: LatentSource,
    groups: FactorGroups,
    used: np.ndarray,
    n_points: int,
    batch_size: int,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    features, labels = [], []
    for start in range(0, n_points, _CHUNK_POINTS):
        n = min(_CHUNK_POINTS, n_points - start)
        label = used[rng.integers(len(used), size=n)]
        first = rng.integers(groups.n_items, size=(n, batch_size))
        second = np.empty_like(first)
        for k in np.unique(label):
            rows = label == k
            second[rows] = groups.same_value(int(k), first[rows], rng)
        diff = np.abs(gather_latents(source, first) - gather_latents(source, second))
        features.append(diff.mean(axis=1))
        labels.append(label)
    return np.concatenate(features), np.concatenate(labels)


def beta_vae_score(
    latents: LatentSource,
    factors: np.ndarray,
    *,
    batch_size: int = 64,
    n_train: int = 10_000,
    n_eval: int = 5_000,
    random_state: int | np.random.Generator | None = 0,
) -> BetaVAEResult:
    """β-VAE score: accuracy of predicting which factor was held fixed (Higgins et al. 2017).

    Parameters
    ----------
    latents : array-like of shape (n_items, n_latents), or callable
        Latents of every item of the dataset, or a representation function taking a 1-D
        int array of item indices and returning their latents (e.g. encoding the items'
        audio on demand).
    factors : array-like of shape (n_items, n_factors), int
        Factor codes of every item (``Dataset.factor_codes``).
    batch_size : int, default=64
        Pairs averaged per point.
    n_train, n_eval : int, default=10000, 5000
        Points to fit and to score the classifier.
    random_state : int, Generator or None, default=0

    Returns
    -------
    BetaVAEResult
        ``score`` is 1 for a disentangled code and ``chance`` (``1/n_factors``) for a
        random one.

    Raises
    ------
    ParameterError
        On bad shapes, non-positive sizes, or fewer than two non-constant factors.

    References
    ----------
    Higgins et al. (2017), beta-VAE: Learning Basic Visual Concepts with a Constrained
    Variational Framework, ICLR. disentanglement_lib ``evaluation/metrics/beta_vae.py``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import beta_vae_score
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.integers(0, 5, size=(200, 2))
    >>> latents = factors + 0.1 * rng.standard_normal((200, 2))
    >>> r = beta_vae_score(latents, factors, batch_size=16, n_train=200, n_eval=100)
    >>> round(r.score, 3), r.chance  # chance: one factor of two
    (1.0, 0.5)
    """
    y = _check_factors(factors)
    source = check_latent_source(latents, y.shape[0])
    batch_size = check_positive_int(batch_size, "batch_size")
    n_train = check_positive_int(n_train, "n_train", minimum=2)
    n_eval = check_positive_int(n_eval, "n_eval")
    rng = check_random_state(random_state)
    groups = FactorGroups(y)
    used = np.array([k for k in range(y.shape[1]) if groups.n_values(k) > 1], dtype=np.int64)
    if len(used) < 2:
        raise ParameterError(
            f"beta_vae_score needs >= 2 non-constant factors; got {len(used)} of {y.shape[1]}"
        )
    if len(used) < y.shape[1]:
        logger.warning(
            "beta_vae_score: constant factors excluded: %s",
            sorted(set(range(y.shape[1])) - set(used.tolist())),
        )
    x_train, y_train = _points(source, groups, used, n_train, batch_size, rng)
    x_eval, y_eval = _points(source, groups, used, n_eval, batch_size, rng)
    seed = int(rng.integers(2**31 - 1))
    model = LogisticRegression(random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x_train, y_train)
    train_accuracy = float(model.score(x_train, y_train))
    eval_accuracy = float(model.score(x_eval, y_eval))
    return BetaVAEResult(
        score=eval_accuracy,
        train_accuracy=train_accuracy,
        eval_accuracy=eval_accuracy,
        chance=1.0 / len(used),
        used_factors=tuple(int(k) for k in used),
        batch_size=batch_size,
        n_train=n_train,
        n_eval=n_eval,
    )
