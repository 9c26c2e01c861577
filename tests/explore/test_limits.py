"""Decoded features outside the stored range: limited softly (far points stay distinct) and reported."""

from __future__ import annotations

import base64
import itertools

import numpy as np
import pytest
from starlette.testclient import TestClient

from timbrespace.explore import create_app, open_explorable
from timbrespace.explore.limits import KNEE_FRACTION, feature_range, soft_limit


def test_soft_limit_leaves_the_middle_and_keeps_far_values_apart():
    lo, hi = -50.0, 26.0
    k = KNEE_FRACTION * (hi - lo)
    x = np.concatenate([np.linspace(-1000, 1000, 20001), [lo, hi, lo + k, hi - k]])[None]
    y, frac = soft_limit(x, (lo, hi))
    inside = (x >= lo + k) & (x <= hi - k)
    np.testing.assert_array_equal(y[inside], x[inside])
    assert np.all((y > lo) & (y < hi))
    order = np.argsort(x[0])
    assert np.all(np.diff(y[0, order]) > 0) or np.all(np.diff(y[0, order])[np.diff(x[0, order]) > 0] > 0)
    # 77..127 dB, all above the range, stay different (a hard clip makes them all 26 dB)
    far, _ = soft_limit(np.linspace(77, 127, 51, dtype=np.float32)[None], (lo, hi))
    assert len(np.unique(far)) == 51
    # continuous, with slope 1, at the knee
    eps = 1e-6
    below, above = soft_limit(np.array([[hi - k - eps, hi - k + eps]]), (lo, hi))[0][0]
    assert (above - below) / (2 * eps) == pytest.approx(1.0, abs=1e-3)
    assert frac[0] == pytest.approx(np.mean((x < lo) | (x > hi)))


def test_soft_limit_fractions_are_per_item_and_none_means_unchanged():
    x = np.array([[0.5, 0.2, 0.9, 0.1], [1.5, -0.5, 0.5, 2.0]])
    _, frac = soft_limit(x, (0.0, 1.0))
    np.testing.assert_allclose(frac, [0.0, 0.75])
    same, frac = soft_limit(x, None)
    assert same is x and frac.tolist() == [0.0, 0.0]


@pytest.mark.slow
@pytest.mark.xdist_group("explore-runs")
def test_far_points_of_the_default_run_decode_to_different_clips(shift_run):
    """Points whose features all lie above the stored range: a hard clip gave them one and the
    same clip; the soft limit keeps them apart, and each says all its values were outside."""
    from timbrespace.features import invert
    from timbrespace.training import decode_array

    run = open_explorable(shift_run)
    lo, hi = feature_range(run.sidecar)
    candidates = np.array(list(itertools.product([-5.0, 5.0], repeat=4)), np.float32)
    x = decode_array(run.model, candidates)
    above = candidates[x.reshape(len(x), -1).min(axis=1) > hi]
    assert len(above) >= 2, "no two far points above the range: the test needs another run"
    far = above[:2]
    hard = invert(decode_array(run.model, far), run.sidecar, method="pghi+gl", n_iter=8)  # clips to the range
    np.testing.assert_array_equal(hard[0], hard[1])  # what the explorer did before
    clips = [run.decode(z.tolist()) for z in far]
    assert clips[0].wav() != clips[1].wav()
    assert not np.allclose(clips[0].audio, clips[1].audio, atol=1e-4)
    assert [c.clipped_fraction for c in clips] == [1.0, 1.0]
    assert np.all(np.isfinite(clips[0].audio))
    # an item's own latent decodes inside the range (nearly)
    assert run.decode(run.items().latents[3].tolist()).clipped_fraction < 0.05


@pytest.mark.slow
@pytest.mark.xdist_group("explore-runs")
def test_the_api_reports_the_clipped_fraction(shift_run):
    run = open_explorable(shift_run)
    far, near = [5.0, 5.0, 5.0, 5.0], run.items().latents[3].tolist()
    with TestClient(create_app(run)) as c:
        as_json = c.post("/api/decode?format=json", json={"z": far}).json()
        assert as_json["clipped_fraction"] == pytest.approx(run.decode(far).clipped_fraction, abs=1e-6)
        assert as_json["clipped_fraction"] > 0.5
        res = c.post("/api/decode", json={"z": far})
        assert res.status_code == 200 and res.content == base64.b64decode(as_json["wav_base64"])
        assert float(res.headers["x-clipped-fraction"]) == pytest.approx(as_json["clipped_fraction"], abs=1e-6)
        assert float(c.post("/api/decode", json={"z": near}).headers["x-clipped-fraction"]) < 0.05
        item = c.post("/api/item", json={"index": 3, "which": "reconstruction"})
        assert float(item.headers["x-clipped-fraction"]) < 0.05
        path = c.post("/api/path", json={"a": 0, "b": 5, "steps": 3}).json()
        assert 0 <= path["lerp"]["clip"]["clipped_fraction"] <= 1
