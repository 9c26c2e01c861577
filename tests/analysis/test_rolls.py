"""Drum-pattern figures: the feel histograms."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError


def test_feel_histograms_draw_each_set_and_refuse_bad_input() -> None:
    from timbrespace.analysis import feel_histograms

    rng = np.random.default_rng(0)
    v = [rng.uniform(0.2, 1.0, 60), rng.uniform(0.5, 0.8, 30)]
    o = [rng.normal(0.0, 0.1, 60).clip(-0.5, 0.5), np.zeros(30)]
    fig = feel_histograms(v, o, labels=["held-out", "generated"])
    velocity_ax, offset_ax = fig.axes
    assert len(velocity_ax.patches) == 2 and len(offset_ax.patches) == 2  # one step outline per set
    assert [t.get_text() for t in velocity_ax.get_legend().get_texts()] == ["held-out (60 hits)", "generated (30 hits)"]
    with pytest.raises(ParameterError, match="offsets of 'generated' must be non-empty and in"):
        feel_histograms(v, [o[0], np.full(30, 0.7)], labels=["held-out", "generated"])
    with pytest.raises(ParameterError, match="give one of each per set"):
        feel_histograms(v, o, labels=["one"])
