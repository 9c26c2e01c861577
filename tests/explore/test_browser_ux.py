"""The page's keyboard use, play head and out-of-range warning, in headless Chromium (see test_browser)."""

from __future__ import annotations

import json

import pytest

from timbrespace.explore import open_explorable

from .conftest import LiveServer
from .test_browser import PAD_CORNER, Watched

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs


def test_the_pad_and_sliders_take_the_arrow_keys_and_the_play_head_stops(browser, note_explorable):
    with LiveServer(note_explorable) as server:
        w = Watched(browser)
        w.open(server.url + "/")
        pad = w.page.locator("#pad")
        assert pad.get_attribute("tabindex") == "0" and "arrow keys" in pad.get_attribute("aria-label")
        plane, rng = w.page.evaluate("window.explorer.plane()"), w.page.evaluate("window.explorer.range()")
        origin = note_explorable.info()["origin"]
        pad.focus()
        w.page.keyboard.press("ArrowRight")
        moved = w.wait_clip("window.lastClip.source === 'keyboard' && !window.explorer.busy()")
        assert moved["z"][plane["x"]] == pytest.approx(origin[plane["x"]] + (rng["u"][1] - rng["u"][0]) / 50, abs=1e-5)
        assert moved["z"][plane["y"]] == pytest.approx(origin[plane["y"]], abs=1e-5)
        assert w.page.evaluate("document.activeElement.id") == "pad"
        assert w.page.evaluate("getComputedStyle(document.getElementById('pad')).outlineStyle") == "solid"
        w.page.keyboard.press("Shift+ArrowDown")
        down = w.wait_clip(f"window.lastClip.count > {moved['count']} && !window.explorer.busy()")
        assert down["z"][plane["y"]] == pytest.approx(origin[plane["y"]] - 5 * (rng["v"][1] - rng["v"][0]) / 50,
                                                      abs=1e-5)
        # the clip (0.5 s) ends: the play head stops with it
        w.page.wait_for_function("!window.explorer.playing()", timeout=5000)

        slider = w.page.locator("#sliders input[type=range]").first
        lo, hi = float(slider.get_attribute("min")), float(slider.get_attribute("max"))
        before = float(slider.input_value())
        slider.focus()
        w.page.keyboard.press("ArrowRight")
        assert float(slider.input_value()) == pytest.approx(min(hi, before + (hi - lo) / 50), abs=1e-6 * (hi - lo))
        last = w.wait_clip("window.lastClip.source === 'slider'")
        assert w.page.locator("#path-legend").inner_text().count("(lerp)") == 1
        # this 2-epoch model decodes much outside [0, 1] even at the items: the page says so
        assert w.page.locator("#clip-warning").is_visible() == (last["clipped_fraction"] > 0.05)
        w.check_clean()


def test_a_clip_far_off_the_items_shows_a_warning(browser, shift_run):
    """The server says 40 % of the features were outside the stored range: the page says so;
    the default run's points near the items decode inside it, and the warning goes."""
    with LiveServer(open_explorable(shift_run)) as server:
        w = Watched(browser)

        def far(route) -> None:  # noqa: ANN001
            answer = route.fetch()
            body = {**answer.json(), "clipped_fraction": 0.4}
            route.fulfill(response=answer, body=json.dumps(body))

        w.page.route("**/api/decode?format=json", far)
        w.open(server.url + "/")
        w.click_pad(*PAD_CORNER)
        clip = w.wait_clip("window.lastClip.count >= 1")
        assert clip["clipped_fraction"] == pytest.approx(0.4)
        warning = w.page.locator("#clip-warning")
        assert warning.is_visible() and "40 %" in warning.inner_text() and "outside the range" in warning.inner_text()
        w.page.unroute("**/api/decode?format=json")
        w.page.keyboard.press("Tab")  # something else: the next clip is in range again
        w.page.locator("#pad").focus()
        w.page.keyboard.press("ArrowUp")
        near = w.wait_clip(f"window.lastClip.count > {clip['count']}")
        assert near["clipped_fraction"] < 0.05 and warning.is_hidden()
        w.check_clean()
