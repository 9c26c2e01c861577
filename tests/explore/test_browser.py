"""The page in a real headless Chromium (Debian's, driven by Playwright): it plays what you click.

Skips when playwright or /usr/bin/chromium is missing (``pip install playwright``;
``apt-get install -y chromium``): browsers cannot be downloaded here, so Playwright drives
the system's Chromium through ``executable_path``.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from timbrespace.explore import open_explorable, write_static_page

from .conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs

PAD_CORNER = (40, 40)  # CSS px inside the pad's frame, in its 12 % margin where no item is drawn




class Watched:
    """A page whose console errors, page errors and requests off this machine are recorded."""

    def __init__(self, browser, allowed_scheme: str = "http") -> None:  # noqa: ANN001
        self.page = browser.new_page(viewport={"width": 1200, "height": 860})
        self.errors: list[str] = []
        self.offsite: list[str] = []
        self.urls: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

        def route(r) -> None:  # noqa: ANN001
            url = urlparse(r.request.url)
            self.urls.append(r.request.url)
            local = url.scheme == "file" if allowed_scheme == "file" else url.hostname == "127.0.0.1"
            if local or url.scheme in ("data", "blob"):
                r.continue_()
            else:
                self.offsite.append(r.request.url)
                r.abort()

        self.page.route("**/*", route)

    def open(self, url: str) -> None:
        self.page.goto(url)
        self.page.wait_for_selector("body[data-ready=true]", timeout=20000)

    def click_pad(self, x: float, y: float) -> None:
        box = self.page.locator("#pad").bounding_box()
        self.page.mouse.click(box["x"] + x, box["y"] + y)

    def wait_clip(self, condition: str, timeout: float = 20000) -> dict:
        self.page.wait_for_function(f"window.lastClip && ({condition})", timeout=timeout)
        return self.page.evaluate("window.lastClip")

    def check_clean(self) -> None:
        assert self.errors == [], self.errors
        assert self.offsite == [], self.offsite


def test_run_page_plays_pad_slider_item_and_path(browser, note_explorable, tmp_path):
    with LiveServer(note_explorable) as server:
        w = Watched(browser)
        w.open(server.url + "/")
        w.click_pad(*PAD_CORNER)
        pad = w.wait_clip("window.lastClip.count >= 1")
        assert pad["source"] == "pad" and pad["duration_s"] == pytest.approx(0.5, abs=1e-3) and pad["rms"] > 1e-4

        # drag the first latent's slider from one end to the other: the sound changes
        slider = w.page.locator("#sliders input[type=range]").first
        box = slider.bounding_box()
        w.page.mouse.move(box["x"] + 2, box["y"] + box["height"] / 2)
        w.page.mouse.down()
        w.page.mouse.move(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2, steps=8)
        w.page.mouse.up()
        moved = w.wait_clip("window.lastClip.source === 'slider' && !window.explorer.busy()")
        j = int(slider.get_attribute("id").split("-")[1])
        top = float(slider.get_attribute("max"))
        assert moved["z"][j] == pytest.approx(top, abs=0.01 * (top - float(slider.get_attribute("min"))))
        assert moved["z"][j] != pytest.approx(pad["z"][j], abs=1e-4)
        assert moved["duration_s"] == pytest.approx(0.5, abs=1e-3)
        assert abs(moved["rms"] - pad["rms"]) > 1e-6

        # an item: its original, then its reconstruction
        x, y = w.page.evaluate("window.explorer.itemPosition(3)")
        w.click_pad(x, y)
        w.wait_clip("window.lastClip.source === 'original'")
        recon = w.wait_clip("window.lastClip.source === 'reconstruction'")
        assert recon["duration_s"] == pytest.approx(0.5, abs=1e-3)

        w.page.click("#play-slerp")
        path = w.wait_clip("window.lastClip.source === 'path'")
        assert path["duration_s"] == pytest.approx(7 * 0.6, abs=1e-3)
        w.page.wait_for_timeout(300)
        shot = tmp_path / "explore.png"
        w.page.screenshot(path=str(shot))
        assert shot.stat().st_size > 10_000
        w.check_clean()
        assert all(u.startswith(server.url) for u in w.urls)


def test_static_page_plays_without_any_request(browser, note_explorable, tmp_path):
    page_path = write_static_page(note_explorable, tmp_path / "static.html", grid=3)
    w = Watched(browser, allowed_scheme="file")
    w.open(page_path.as_uri())
    w.click_pad(*PAD_CORNER)
    clip = w.wait_clip("window.lastClip.count >= 1")
    assert clip["duration_s"] == pytest.approx(0.5, abs=1e-3) and clip["rms"] > 0
    w.check_clean()
    assert w.urls == [page_path.as_uri()]


def test_drum_page_shows_the_grid_and_downloads_midi(browser, drum_run, tmp_path):
    with LiveServer(open_explorable(drum_run)) as server:
        w = Watched(browser)
        w.open(server.url + "/")
        w.click_pad(*PAD_CORNER)
        clip = w.wait_clip("window.lastClip.count >= 1", timeout=60000)
        assert clip["duration_s"] == pytest.approx(5.0, abs=1e-3)  # 2 bars at 120 BPM and a 1 s tail
        assert w.page.locator("#grid td").count() == 16 * 9
        with w.page.expect_download() as download:
            w.page.click("#download-mid")
        assert Path(download.value.path()).read_bytes()[:4] == b"MThd"
        w.check_clean()


def test_timbre_page_changes_with_the_descriptor(browser, timbre_run):
    with LiveServer(open_explorable(timbre_run)) as server:
        w = Watched(browser)
        w.open(server.url + "/")
        w.click_pad(*PAD_CORNER)
        first = w.wait_clip("window.lastClip.count >= 1")
        w.page.select_option("#option-descriptor", label="Dark")
        second = w.wait_clip(f"window.lastClip.count > {first['count']}")
        assert second["source"] == "option" and second["duration_s"] == pytest.approx(16317 / 22050, abs=1e-3)
        assert abs(second["rms"] - first["rms"]) > 1e-7
        w.check_clean()


def test_default_experiment_page_plays_the_shift_vae(browser, shift_run):
    """The default run (shift-VAE on a CQT): the pad and an item play, n_iter starts at 8."""
    with LiveServer(open_explorable(shift_run)) as server:
        w = Watched(browser)
        w.open(server.url + "/")
        assert w.page.locator("#option-n_iter").input_value() == "8"
        w.click_pad(*PAD_CORNER)
        pad = w.wait_clip("window.lastClip.count >= 1")
        assert pad["source"] == "pad" and pad["duration_s"] == pytest.approx(0.5, abs=1e-3) and pad["rms"] > 1e-4
        x, y = w.page.evaluate("window.explorer.itemPosition(2)")
        w.click_pad(x, y)
        recon = w.wait_clip("window.lastClip.source === 'reconstruction'")
        assert recon["duration_s"] == pytest.approx(0.5, abs=1e-3)
        w.check_clean()
