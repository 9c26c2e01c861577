"""Explicitness (Ridgeway & Mozer 2018).

How linearly decodable each factor is from the whole representation: a logistic
regression per factor on all latents, scored by the macro-averaged one-vs-rest
ROC-AUC of its class probabilities. 1 is perfectly explicit; chance is 0.5.

Implementation as disentanglement_lib's ``modularity_explicitness.py``: latents
standardised with the training mean and standard deviation, then per factor
``LogisticRegression()`` with defaults, classes one-hot encoded (their
``MultiLabelBinarizer``) and ``roc_auc_score`` (macro average).

References
----------
Ridgeway, K., Mozer, M. C. (2018). Learning Deep Disentangled Embeddings With the
F-Statistic Loss. NeurIPS.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from timbrespace.errors import ParameterError
from timbrespace.metrics._utils import check_train_test

__all__ = ["ExplicitnessResult", "explicitness"]


@dataclass(frozen=True)
class ExplicitnessResult:
    """Result of :func:`explicitness`.

    Attributes
    ----------
    score_train, score_test : float
        Mean ROC-AUC over factors (chance 0.5, perfect 1).
    per_factor_train, per_factor_test : np.ndarray [shape=(n_factors,)]
    """

    score_train: float
    score_test: float
    per_factor_train: np.ndarray
    per_factor_test: np.ndarray

    @property
    def score(self) -> float:
        """The test score (the number usually quoted)."""
        return self.score_test


def _auc(y: np.ndarray, proba: np.ndarray, classes: np.ndarray) -> float:
    onehot = (y[:, None] == classes[None, :]).astype(np.int64)
    present = (onehot.sum(axis=0) > 0) & (onehot.sum(axis=0) < len(y))
    if not np.any(present):
        return float("nan")
    return float(roc_auc_score(onehot[:, present], proba[:, present], average="macro"))


def explicitness(
    latents_train: np.ndarray,
    factors_train: np.ndarray,
    latents_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    random_state: int = 0,
) -> ExplicitnessResult:
    """Explicitness of a representation (Ridgeway & Mozer 2018).

    Parameters
    ----------
    latents_train, latents_test : array-like of shape (n_samples, n_latents)
    factors_train, factors_test : array-like of shape (n_samples, n_factors), int
    random_state : int, default=0
        Passed to ``LogisticRegression`` (only matters for some solvers).

    Returns
    -------
    ExplicitnessResult
        Per-factor AUCs; classes absent from (or the only class of) a split are left
        out of that split's macro average.

    Raises
    ------
    ParameterError
        On bad shapes or a factor with a single class in the training set.

    References
    ----------
    Ridgeway & Mozer (2018), NeurIPS. disentanglement_lib
    ``evaluation/metrics/modularity_explicitness.py``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import explicitness
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.integers(0, 5, size=(200, 2))
    >>> latents = factors + 0.1 * rng.standard_normal((200, 2))
    >>> r = explicitness(latents[:100], factors[:100], latents[100:], factors[100:])
    >>> round(r.score_test, 3), r.per_factor_test.round(3).tolist()
    (0.996, [0.998, 0.993])
    """
    z_tr, y_tr, z_te, y_te = check_train_test(latents_train, factors_train, latents_test, factors_test)
    mean = z_tr.mean(axis=0)
    std = z_tr.std(axis=0)
    std = np.where(std > 0, std, 1.0)  # a constant latent stays 0 instead of NaN
    z_tr = (z_tr - mean) / std
    z_te = (z_te - mean) / std
    n_factors = y_tr.shape[1]
    train = np.zeros(n_factors)
    test = np.zeros(n_factors)
    for j in range(n_factors):
        if np.unique(y_tr[:, j]).size < 2:
            raise ParameterError(f"factor {j} has a single class in the training set")
        clf = LogisticRegression(random_state=random_state)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(z_tr, y_tr[:, j])
        train[j] = _auc(y_tr[:, j], clf.predict_proba(z_tr), clf.classes_)
        test[j] = _auc(y_te[:, j], clf.predict_proba(z_te), clf.classes_)
    return ExplicitnessResult(
        score_train=float(np.nanmean(train)),
        score_test=float(np.nanmean(test)),
        per_factor_train=train,
        per_factor_test=test,
    )
