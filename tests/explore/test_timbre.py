"""The ``timbre`` adapter: descriptor, magnitude and pitch controls, as ``timbre generate`` offers."""

from __future__ import annotations

import numpy as np
import pytest
from starlette.testclient import TestClient

from timbrespace.experiments.timbre_run import TimbreRun
from timbrespace.explore import create_app, open_explorable

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs


@pytest.fixture(scope="module")
def timbre(timbre_run):  # noqa: ANN001, ANN201
    return open_explorable(timbre_run)


def test_info_offers_the_runs_labels(timbre):
    info = timbre.info()
    assert info["kind"] == "timbre" and info["sample_rate"] == 22050 and info["latent_dim"] == 4
    assert info["factors"] == ["descriptor", "magnitude", "pitch"]
    options = {o["name"]: o for o in info["options"]}
    assert options["descriptor"]["values"] == ["Bright", "Dark"]
    assert options["magnitude"]["values"] == [0.0, 50.0, 100.0] and options["magnitude"]["default"] == 50.0
    assert options["pitch"]["values"] == list(range(64, 87)) and options["pitch"]["labels"][0] == "E4 (64)"
    assert len(timbre.items().ids) == 2 * 3 * 23


def test_decode_follows_the_condition(timbre, timbre_run):
    run = TimbreRun(timbre_run)
    z = np.zeros(4)
    low = timbre.decode(z, descriptor="dark", magnitude=100, pitch=64)
    assert low.audio.shape == (16317,) and np.all(np.isfinite(low.audio)) and low.rms > 0
    # the dB range is the original note's with these labels (as `timbre generate`)
    row = run.find("Dark", 100.0, 64)
    min_db, max_db = run.stats_of(np.array([row]))
    high = timbre.decode(z, descriptor="Dark", magnitude=100, pitch=86)
    assert not np.allclose(low.audio, high.audio)
    assert timbre._m.db_range("Dark", 100.0, 64) == pytest.approx((min_db[0], max_db[0]))
    with pytest.raises(Exception, match="descriptor='Crunch' is not allowed: one of Bright, Dark"):
        timbre.decode(z, descriptor="Crunch")


def test_items_path_and_api(timbre, timbre_run):
    original, recon = timbre.item_clips(7)
    np.testing.assert_array_equal(original.audio, TimbreRun(timbre_run).original_audio(np.array([7]))[0])
    assert recon.audio.shape == original.audio.shape
    result = timbre.path(0, 100, steps=3)
    assert result.clips["lerp"].duration_s == pytest.approx(3 * (16317 / 22050 + 0.1), abs=1e-3)
    with TestClient(create_app(timbre)) as client:
        res = client.post("/api/decode", json={"z": [0, 0, 0, 0], "descriptor": "Bright", "pitch": 70})
        assert res.status_code == 200 and res.headers["content-type"] == "audio/wav"
        bad = client.post("/api/decode", json={"z": [0, 0, 0, 0], "pitch": 99})
        assert bad.status_code == 400 and "pitch=99 is not allowed" in bad.json()["error"]
