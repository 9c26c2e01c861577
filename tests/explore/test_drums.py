"""The ``drums`` adapter: a groove on a chosen kit at a BPM and swing, and its MIDI."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf
from starlette.testclient import TestClient

from timbrespace.experiments.drums_generate import decode_latents
from timbrespace.experiments.drums_run import load_groove_run
from timbrespace.explore import create_app, open_explorable
from timbrespace.patterns.midi import midi_to_patterns, quantize_velocity

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs


@pytest.fixture(scope="module")
def drums(drum_run, drumkits_dir):  # noqa: ANN001, ANN201
    return open_explorable(drum_run, kit_dirs=[drumkits_dir])


def test_info_lists_kits_and_the_click_plane(drums, drum_run):
    info = drums.info()
    run = load_groove_run(drum_run)
    assert info["kind"] == "drums" and info["n_steps"] == 16 and len(info["voices"]) == 9
    assert info["default_plane"] == list(run.latent_plane_dims)
    kits = {o["name"]: o for o in info["options"]}["kit"]["values"]
    assert "TR808EmulationKit" in kits and "Audiophob" in kits
    assert info["factors"] == ["style", "library", "n_hits"]


def test_groove_audio_and_midi_are_the_decoded_pattern(drums, drum_run, tmp_path):
    z = [0.5, -0.2, 0.1, 0.0]
    pattern = decode_latents(load_groove_run(drum_run), np.asarray([z], np.float32))[0]
    slow = drums.decode(z, kit="TR808EmulationKit", bpm=60, bars=2)
    fast = drums.decode(z, kit="TR808EmulationKit", bpm=120, bars=2)
    np.testing.assert_array_equal(slow.pattern, pattern)
    # 2 bars of 4 quarter notes and a 1 s tail: 9 s at 60 BPM, 5 s at 120 BPM
    assert slow.duration_s == pytest.approx(9.0, abs=1e-3) and fast.duration_s == pytest.approx(5.0, abs=1e-3)
    midi = drums.decode_midi(z, bpm=120, bars=2)
    (tmp_path / "g.mid").write_bytes(midi)
    back = midi_to_patterns(tmp_path / "g.mid", steps_per_bar=16)
    np.testing.assert_allclose(back, quantize_velocity(np.stack([pattern, pattern])), atol=1e-6)
    with pytest.raises(Exception, match="kit='909' is not allowed"):
        drums.decode(z, kit="909")


def test_path_plays_bar_after_bar(drums):
    result = drums.path(0, 5, steps=4, kit="TR808EmulationKit", bpm=120)
    clip = result.clips["slerp"]
    assert clip.pattern.shape == (4, 16, 9)
    assert clip.step_starts_s == pytest.approx([0.0, 2.0, 4.0, 6.0])


def test_api_serves_wav_and_midi(drums):
    with TestClient(create_app(drums)) as client:
        body = {"z": [0, 0, 0, 0], "kit": "TR808EmulationKit", "bpm": 100, "swing": 0.2}
        wav = client.post("/api/decode", json=body)
        assert wav.status_code == 200
        y, sr = sf.read(io.BytesIO(wav.content))
        assert sr == 44100 and len(y) == pytest.approx(44100 * (2 * 4 * 0.6 + 1.0), abs=2)
        mid = client.post("/api/decode?format=mid", json=body)
        assert mid.status_code == 200 and mid.headers["content-type"] == "audio/midi"
        assert mid.content[:4] == b"MThd"
        clip = client.post("/api/decode?format=json", json=body).json()
        assert clip["pattern_shape"] == [16, 9]
        for bad, message in (({"kit": "909"}, "kit='909' is not allowed"),
                             ({"bpm": 5}, "bpm=5 is out of range: allowed 40..300 BPM"),
                             ({"swing": 0.6}, "swing=0.6 is out of range")):
            res = client.post("/api/decode", json={"z": [0, 0, 0, 0], **bad})
            assert res.status_code == 400 and message in res.json()["error"]
