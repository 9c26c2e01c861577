"""Hit scores of drum grids against scikit-learn and analytic cases."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, precision_score, recall_score

from timbrespace.errors import ParameterError
from timbrespace.metrics import hit_scores


def test_hit_scores_match_sklearn() -> None:
    rng = np.random.default_rng(0)
    t, p = rng.random((20, 16, 9)) < 0.2, rng.random((20, 16, 9)) < 0.3
    s = hit_scores(t, p)
    assert s.f1 == pytest.approx(f1_score(t.ravel(), p.ravel()))
    assert s.precision == pytest.approx(precision_score(t.ravel(), p.ravel()))
    assert s.recall == pytest.approx(recall_score(t.ravel(), p.ravel()))
    assert s.accuracy == pytest.approx(accuracy_score(t.ravel(), p.ravel()))


def test_extremes() -> None:
    t = np.zeros((2, 4, 3), bool)
    t[:, 0, 0] = True
    assert hit_scores(t, t).f1 == 1.0 and hit_scores(t, t).accuracy == 1.0
    none = hit_scores(t, np.zeros_like(t))
    assert none.f1 == 0.0 and none.recall == 0.0 and none.accuracy == pytest.approx(1 - 2 / 24)
    assert hit_scores(np.zeros_like(t), np.zeros_like(t)).f1 == 1.0  # nothing to find, nothing found
    with pytest.raises(ParameterError, match="must match"):
        hit_scores(t, t[:1])
