"""Your own sound on the page, in headless Chromium (see test_browser): choose or drop a WAV,
see it marked on the pad, hear its reconstruction, mix its latents with an item's."""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from .conftest import LiveServer
from .test_browser import Watched

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs

ITEM, OTHER = 5, 12
MINE = (124, 58, 237)  # the marker's violet


def stored(run_dir: Path) -> tuple[np.ndarray, list[str]]:
    with np.load(run_dir / "latents.npz") as data:
        return data["mu"], [str(i) for i in data["item_id"]]


def marker_colour(w: Watched, position: list[float]) -> list[int]:
    """The pad's colour inside the marker at ``position`` (CSS px from the pad's top-left corner),
    2 px right and 3 px up of its centre: off the cross of the current point, which may be on
    it, and off its white edge."""
    return w.page.evaluate("""([x, y]) => {
        const c = document.getElementById('pad'), r = c.getBoundingClientRect();
        const px = Math.round(x * c.width / r.width) + 2, py = Math.round(y * c.height / r.height) - 3;
        return Array.from(c.getContext('2d').getImageData(px, py, 1, 1).data.slice(0, 3));
    }""", position)


def test_a_chosen_wav_is_marked_played_and_mixed_with_an_item(browser, note_explorable, note_run,
                                                               tmp_path):
    mu, ids = stored(note_run)
    y, sr = sf.read(next((note_run / "dataset" / "audio").glob(f"{ids[ITEM]}.*")), dtype="float32")
    wav = tmp_path / "my note.wav"
    sf.write(wav, np.concatenate([y, np.zeros(1000, np.float32)]), sr, subtype="PCM_24")  # 0.625 s: trimmed
    with LiveServer(note_explorable) as server:
        w = Watched(browser)
        w.open(server.url + "/")
        assert w.page.locator("#mine").is_visible() and w.page.locator("#mine-players").is_hidden()
        w.page.set_input_files("#mine-file", str(wav))
        clip = w.wait_clip("window.lastClip.source === 'mine'")
        mine = w.page.evaluate("window.explorer.mine()")
        assert mine["name"] == "my note.wav"
        np.testing.assert_allclose(mine["z"], mu[ITEM], atol=1e-4)
        np.testing.assert_allclose(clip["z"], mu[ITEM], atol=1e-4)  # the pad's point moved to it
        assert clip["duration_s"] == pytest.approx(0.5, abs=1e-3) and clip["rms"] > 1e-4
        assert "trimmed to the run's item duration of 0.500 s" in w.page.locator("#mine-status").inner_text()

        # the two players: the file as it is, and the reconstruction decoded from its latents
        w.page.wait_for_function("['mine-original', 'mine-recon'].every((id) => "
                                 "document.getElementById(id).readyState >= 1)", timeout=10000)
        durations = w.page.evaluate("['mine-original', 'mine-recon'].map((id) => document.getElementById(id).duration)")
        assert durations == [pytest.approx(0.625, abs=1e-3), pytest.approx(0.5, abs=1e-3)]
        assert w.page.locator("#mine-recon").is_visible()
        assert w.page.locator("#mine-recon").get_attribute("src").startswith("blob:")
        # the marker: a violet diamond where the page says it is
        assert marker_colour(w, mine["position"]) == pytest.approx(MINE, abs=8)

        # timbre transfer: the checked latents are mine, the others the chosen item's
        w.page.select_option("#transfer-item", index=OTHER)
        w.page.click("#play-transfer")
        mix = w.wait_clip("window.lastClip.source === 'transfer' && !window.explorer.busy()")
        kept = w.page.evaluate("Array.from(document.querySelectorAll('#keep input:checked'), (b) => "
                               "Number(b.dataset.latent))")
        assert len(kept) == 1  # by default, only the pitch latent: the one with the largest MIG for f0_hz
        info = note_explorable.info()
        best = max((lat for lat in info["latents"] if lat["best_factor"] == "f0_hz"), key=lambda lat: lat["mig"])
        assert kept == [best["index"]]
        expected = np.where(np.isin(np.arange(mu.shape[1]), kept), mu[ITEM], mu[OTHER])
        np.testing.assert_allclose(mix["z"], expected, atol=1e-4)
        w.page.wait_for_timeout(300)
        shot = tmp_path / "encode.png"
        w.page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 10_000

        # "go to mine" goes back and plays the reconstruction again
        w.page.click("#mine-go")
        again = w.wait_clip(f"window.lastClip.source === 'mine' && window.lastClip.count > {mix['count']}")
        np.testing.assert_allclose(again["z"], mu[ITEM], atol=1e-4)
        w.check_clean()
        assert all(u.startswith(server.url) or u.startswith("blob:") for u in w.urls)


def riff(payload: bytes) -> bytes:
    return b"RIFF" + (len(payload) + 4).to_bytes(4, "little") + b"WAVE" + payload


def drop(w: Watched, data: bytes, name: str) -> None:
    """Drop a file with ``data`` on the page, as a user dragging it from a file manager."""
    transfer = w.page.evaluate_handle("""([b64, name]) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], name, {type: 'audio/wav'}));
        return dt;
    }""", [base64.b64encode(data).decode("ascii"), name])
    for event in ("dragenter", "dragover", "drop"):
        w.page.dispatch_event("#pad", event, {"dataTransfer": transfer})


def test_a_dropped_wav_is_encoded_and_a_bad_one_says_why(browser, note_explorable, note_run):
    mu, ids = stored(note_run)
    with LiveServer(note_explorable) as server:
        w = Watched(browser)
        w.open(server.url + "/")
        # a file over the limit is refused on the page, before any request
        w.page.set_input_files("#mine-file", {"name": "huge.wav", "mimeType": "audio/wav",
                                              "buffer": riff(bytes(17 * 2**20))})
        w.page.wait_for_function("document.getElementById('mine-status').textContent.includes('too large')")
        assert "huge.wav: 17.0 MiB is too large to encode (at most 16 MiB of WAV)" in \
            w.page.locator("#mine-status").inner_text()
        assert not any("/api/encode" in u for u in w.urls)

        drop(w, b"this is not a sound", "notes.txt")
        w.page.wait_for_function("document.getElementById('mine-status').textContent.includes('not a WAV')")
        assert w.page.evaluate("window.explorer.mine()") is None
        assert w.page.evaluate("document.body.classList.contains('dropping')") is False
        w.errors.clear()  # the browser logs the 415 on the console

        buf = io.BytesIO()
        y, sr = sf.read(next((note_run / "dataset" / "audio").glob(f"{ids[OTHER]}.*")), dtype="float32")
        sf.write(buf, y, sr, format="WAV", subtype="FLOAT")
        drop(w, buf.getvalue(), "dropped.wav")
        w.wait_clip("window.lastClip.source === 'mine'")
        mine = w.page.evaluate("window.explorer.mine()")
        assert mine["name"] == "dropped.wav"
        np.testing.assert_allclose(mine["z"], mu[OTHER], atol=1e-4)
        assert marker_colour(w, mine["position"]) == pytest.approx(MINE, abs=8)
        w.check_clean()


def test_a_run_that_cannot_encode_shows_no_drop_zone(browser, note_explorable):
    with LiveServer(note_explorable) as server:
        w = Watched(browser)

        def cannot(route) -> None:  # noqa: ANN001
            answer = route.fetch()
            route.fulfill(response=answer, body=json.dumps({**answer.json(), "can_encode": False}))

        w.page.route("**/api/info", cannot)
        w.open(server.url + "/")
        assert w.page.locator("#mine").is_hidden()
        w.check_clean()
