"""A small run's ``report.html`` in a real headless Chromium, at phone and desktop width.

The page must not scroll sideways (wide tables scroll inside themselves, figures shrink
to the column), and every image must carry at least 150 image pixels per inch as
shown (96 CSS px per inch). Screenshots are saved in the test's temporary folder.

Skips when playwright or /usr/bin/chromium is missing (``pip install playwright``;
``apt-get install -y chromium``): Playwright drives the system's Chromium.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

MIN_DPI = 150.0
CSS_PX_PER_IN = 96.0

_MEASURE = """() => ({
  scrollWidth: document.documentElement.scrollWidth,
  innerWidth: window.innerWidth,
  images: [...document.images].map(i => ({natural: i.naturalWidth, shown: i.clientWidth, alt: i.alt})),
  text: document.body.innerText,
})"""




@pytest.fixture(scope="module")
def report_path(tmp_path_factory, browser) -> Path:  # noqa: ANN001, ARG001  # no run without a browser
    """The default experiment (CQT features, shift-VAE), shrunk to 12 items and 2 epochs."""
    from timbrespace.experiments import load_experiment_config, run_experiment

    experiment = load_experiment_config(None, {
        "dataset.parameters": {"f0_hz": {"min": 100, "max": 800, "n": 4, "spacing": "log"},
                               "decay_per_s": {"min": 1, "max": 12, "n": 3}},
        "dataset.sample_rate": 8000,
        "dataset.duration_s": 0.25,
        "features.n_bins": 144,
        "features.hop_length": 512,
        "model.shift.warp": False,
        "training.epochs": 2,
        "training.init": "random",
        "training.warmup_steps": 1,
        "training.refine_epochs": 1,
        "training.audio_decoder_epochs": 0,
        "model.latent_dim": 3,
        "evaluation.n_reconstructions": 1,
        "evaluation.n_traversal_latents": 2,
    })
    run = tmp_path_factory.mktemp("report-browser") / "run"
    logging.disable(logging.WARNING)
    try:
        result = run_experiment(experiment, out=run, workers=1, progress=False)
    finally:
        logging.disable(logging.NOTSET)
    return result.report_path


@pytest.mark.parametrize("width", [420, 1280])
def test_report_fits_the_window_with_sharp_images(browser, report_path: Path, width: int) -> None:  # noqa: ANN001
    page = browser.new_page(viewport={"width": width, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(report_path.as_uri())
    page.wait_for_load_state("load")
    seen = page.evaluate(_MEASURE)
    shot = report_path.parent / f"report-{width}px.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"screenshot at {width} px: {shot}")
    page.close()
    assert errors == []
    assert seen["scrollWidth"] <= seen["innerWidth"], f"the page scrolls sideways at {width} px"
    assert len(seen["images"]) >= 6  # training, MI, projections, traversals, GIF, reconstruction
    for image in seen["images"]:  # shown: CSS px inside the border
        dpi = image["natural"] / (image["shown"] / CSS_PX_PER_IN)
        assert dpi >= MIN_DPI, f"{image['alt']!r}: {image['natural']} px shown {image['shown']:.0f} CSS px = {dpi:.0f} dpi"
    if width == 1280:
        assert "spectral convergence" in seen["text"] and "Decoder refined for 1 epochs" in seen["text"]
        assert "CQT bin" not in seen["text"]
