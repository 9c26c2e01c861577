"""Separated Attribute Predictability (SAP).

For every latent-factor pair a one-feature classifier predicts the factor from that
latent alone; the score matrix holds test accuracies. SAP is the mean over factors of
the gap between the two most predictive latents.

Implementation as disentanglement_lib's ``sap_score.py``: ``LinearSVC(C=0.01,
class_weight="balanced")`` per pair for discrete factors; with
``continuous_factors=True`` the score is the squared correlation ``R^2`` of latent and
factor on the training set instead (the "regression" variant of Kumar et al.).

Note that the classification variant cannot reach 1: an uninformative latent still
predicts a balanced factor at chance level ``1/n_classes``, so a perfect
representation of binary factors scores about 0.5, and a one-dimensional linear
classifier separates at most a few classes of a many-valued factor.

References
----------
Kumar, A., Sattigeri, P., Balakrishnan, A. (2018). Variational Inference of
Disentangled Latent Concepts from Unlabeled Observations. ICLR.

Locatello, F. et al. (2019). Challenging Common Assumptions in the Unsupervised
Learning of Disentangled Representations. ICML (disentanglement_lib).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.svm import LinearSVC

from timbrespace.errors import ParameterError
from timbrespace.metrics._utils import check_train_test

__all__ = ["SAPResult", "sap", "sap_from_scores"]


@dataclass(frozen=True)
class SAPResult:
    """Result of :func:`sap`.

    Attributes
    ----------
    score : float
        Mean over factors of the top-two gap in ``scores``.
    per_factor : np.ndarray [shape=(n_factors,)]
        Gap per factor.
    scores : np.ndarray [shape=(n_latents, n_factors)]
        Test accuracy (discrete) or R^2 (continuous) of each latent for each factor.
    continuous_factors : bool
    """

    score: float
    per_factor: np.ndarray
    scores: np.ndarray
    continuous_factors: bool = False


def sap_from_scores(scores: np.ndarray) -> tuple[float, np.ndarray]:
    """Top-two gap per factor of a ``(n_latents, n_factors)`` score matrix, and its mean.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import sap_from_scores
    >>> score, per_factor = sap_from_scores(np.array([[0.9, 0.1], [0.2, 0.8]]))
    >>> round(score, 3), per_factor.round(3).tolist()
    (0.7, [0.7, 0.7])
    """
    s = np.sort(np.asarray(scores, dtype=np.float64), axis=0)
    if s.shape[0] < 2:
        raise ParameterError(f"SAP needs >= 2 latents; got score matrix of shape {s.shape}")
    gap = s[-1] - s[-2]
    return float(np.mean(gap)), gap


def sap(
    latents_train: np.ndarray,
    factors_train: np.ndarray,
    latents_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    continuous_factors: bool = False,
) -> SAPResult:
    """SAP score (Kumar et al. 2018).

    Parameters
    ----------
    latents_train, latents_test : array-like of shape (n_samples, n_latents)
    factors_train, factors_test : array-like of shape (n_samples, n_factors), int
    continuous_factors : bool, default=False
        False: per pair ``LinearSVC(C=0.01, class_weight="balanced")`` fit on train,
        accuracy on test. True: ``cov(z_i, v_j)^2 / (var z_i var v_j)`` on train (0 where
        the latent's variance is below 1e-12).

    Returns
    -------
    SAPResult

    Raises
    ------
    ParameterError
        On bad shapes or fewer than 2 latents.

    References
    ----------
    Kumar, Sattigeri & Balakrishnan (2018), Variational Inference of Disentangled
    Latent Concepts from Unlabeled Observations, ICLR. disentanglement_lib
    ``evaluation/metrics/sap_score.py``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import sap
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.integers(0, 5, size=(200, 2))
    >>> latents = factors + 0.1 * rng.standard_normal((200, 2))
    >>> r = sap(latents[:100], factors[:100], latents[100:], factors[100:])
    >>> r.scores.shape, round(r.score, 3)  # scores: (n_latents, n_factors) accuracies
    ((2, 2), 0.395)
    """
    z_tr, y_tr, z_te, y_te = check_train_test(latents_train, factors_train, latents_test, factors_test)
    if z_tr.shape[1] < 2:
        raise ParameterError(f"SAP needs >= 2 latents; got {z_tr.shape[1]}")
    n_latents, n_factors = z_tr.shape[1], y_tr.shape[1]
    scores = np.zeros((n_latents, n_factors))
    for i in range(n_latents):
        for j in range(n_factors):
            if continuous_factors:
                cov = np.cov(z_tr[:, i], y_tr[:, j], ddof=1)
                if cov[0, 0] > 1e-12 and cov[1, 1] > 0:
                    scores[i, j] = cov[0, 1] ** 2 / (cov[0, 0] * cov[1, 1])
                continue
            if np.unique(y_tr[:, j]).size < 2:
                scores[i, j] = float(np.mean(y_te[:, j] == y_tr[0, j]))
                continue
            classifier = LinearSVC(C=0.01, class_weight="balanced")
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                classifier.fit(z_tr[:, i : i + 1], y_tr[:, j])
            scores[i, j] = float(np.mean(classifier.predict(z_te[:, i : i + 1]) == y_te[:, j]))
    score, per_factor = sap_from_scores(scores)
    return SAPResult(
        score=score, per_factor=per_factor, scores=scores, continuous_factors=continuous_factors
    )
