"""Hit detection scores of drum patterns: F1, precision, recall and accuracy pooled over cells.

Drum grids are sparse (about 15 % hits), so accuracy is high for any sparse guess; F1
on the hit class is the informative number. Scores are pooled over all cells of all
bars ("micro" averaging, as ``sklearn.metrics.f1_score`` on the flattened grids).

References
----------
Gillick et al., "Learning to groove with inverse sequence transformations", ICML 2019
(hit accuracy and F1 of drum reconstructions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from timbrespace.errors import ParameterError

__all__ = ["HitScores", "hit_scores"]


@dataclass(frozen=True)
class HitScores:
    """Pooled hit detection scores over all cells.

    Attributes
    ----------
    f1, precision, recall : float
        Of the hit class; F1 is 1 when neither grid has a hit.
    accuracy : float
        Fraction of cells where hit/no-hit agree.
    """

    f1: float
    precision: float
    recall: float
    accuracy: float


def hit_scores(true_hits: np.ndarray, pred_hits: np.ndarray) -> HitScores:
    """Pooled F1, precision, recall and accuracy of boolean hit grids.

    Parameters
    ----------
    true_hits, pred_hits : array-like of bool, same shape (e.g. ``(n_bars, n_steps, n_voices)``)

    Returns
    -------
    HitScores

    Raises
    ------
    ParameterError
        If the shapes differ.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import hit_scores
    >>> true_hits = np.array([[1, 0, 1, 0], [0, 1, 0, 0]], bool)
    >>> pred_hits = np.array([[1, 0, 0, 0], [0, 1, 0, 1]], bool)
    >>> s = hit_scores(true_hits, pred_hits)
    >>> round(s.f1, 3), round(s.precision, 3), round(s.recall, 3), s.accuracy
    (0.667, 0.667, 0.667, 0.75)
    """
    t = np.asarray(true_hits, bool)
    p = np.asarray(pred_hits, bool)
    if t.shape != p.shape:
        raise ParameterError(f"true_hits shape {t.shape} and pred_hits shape {p.shape} must match")
    t, p = t.ravel(), p.ravel()
    tp = float(np.sum(t & p))
    fp = float(np.sum(~t & p))
    fn = float(np.sum(t & ~p))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return HitScores(f1, precision, recall, float(np.mean(t == p)) if t.size else 1.0)
