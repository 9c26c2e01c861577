"""The run report's figures as a reader sees them: every axis says its unit, text is at
least 8 pt at the size the page shows it, PNGs are 150 dpi, CQT axes are in Hz.

The page (``analysis.report``) shows a figure at its width in inches (96 CSS px per inch),
shrunk to the text column (``PAGE_WIDTH_IN``) when wider; the display scale of a figure
is therefore ``min(1, PAGE_WIDTH_IN / width_in)``.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure
from matplotlib.text import Text

from timbrespace.analysis import (
    Report,
    descriptor_map,
    figure_png,
    latent_projection,
    mi_heatmap,
    physical_features,
    spectrogram_axes,
    spectrogram_row,
    sweep_figure,
    training_curves,
    traversal_grid,
)
from timbrespace.analysis._plotting import FIGURE_DPI, MIN_FONT_PT, PAGE_WIDTH_IN
from timbrespace.analysis.feature_display import row_frequencies_hz
from timbrespace.analysis.projection import log_ticks
from timbrespace.analysis.spectrograms import frequency_ticks_hz
from timbrespace.features import FeatureConfig, as_sidecar, extract

UNIT = re.compile(r"\([^()]+\)")


def _tones(sr: int = 8000) -> np.ndarray:
    t = np.arange(4000) / sr
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.1 * np.sin(2 * np.pi * 1000 * t)]).astype(np.float32)


def _cqt_sidecar():  # noqa: ANN202
    cfg = FeatureConfig(kind="cqt", bins_per_octave=24, fmin_hz=50, n_bins=96, hop_length=512, output="db",
                        top_db=50)
    res = extract(_tones(), cfg, sample_rate=8000)
    return res, as_sidecar(res)


def _history(n: int = 6) -> list[dict]:
    return [{"epoch": e, "train_loss": 10.0 / (e + 1), "val_loss": 11.0 / (e + 1), "train_recon": 9.0 / (e + 1),
             "val_recon": 9.5 / (e + 1), "train_kl": 1.0 + e, "val_kl": 1.1 + e, "beta": min(1.0, e / 3)}
            for e in range(n)]


def _figures() -> dict[str, Figure]:
    """One of each figure the run and sweep reports embed (small, synthetic data)."""
    rng = np.random.default_rng(0)
    res, sidecar = _cqt_sidecar()
    axes = spectrogram_axes(sidecar)
    db = physical_features(res.features, sidecar)
    strips = np.stack([np.stack([db[0]] * 7), np.stack([db[1]] * 7)])  # 2 latents x 7 values
    z = rng.normal(size=(1000, 4))
    f0 = np.repeat(np.geomspace(100.0, 1000.0, 8), 125)
    sweep = pd.DataFrame({"model": ["vae", "vae", "betavae", "betavae", "pca"], "beta": [1.0, 1.0, 1.0, 1.0, np.nan],
                          "mig": [0.1, 0.2, 0.3, 0.4, 0.05], "mig_at_init": [0.0] * 5, "sap": [0.1] * 5})
    stft = extract(_tones(), FeatureConfig(n_fft=256, hop_length=128, output="magnitude"), sample_rate=8000)
    magnitudes = np.concatenate([stft.features] * 2)[:4]
    return {
        "training_curves": training_curves(_history()),
        "mi_heatmap": mi_heatmap(rng.random((6, 4)), [f"z{k}" for k in range(6)],
                                 ["f0_hz", "slope_db_per_octave", "inharmonicity", "decay_per_s"]),
        "projection_log": latent_projection(z, f0, factor_name="f0_hz (Hz)", log_scale=True),
        "projection_categories": latent_projection(z, np.repeat(list("abcd"), 250), factor_name="kind (label)"),
        "projection_tsne": latent_projection(z[:60], np.arange(60.0), embedding=rng.normal(size=(60, 2)),
                                             method="tsne", factor_name="index (count)"),
        "traversals": traversal_grid(strips, latent_names=["z1: f0_hz", "z0: decay_per_s"],
                                     values=np.linspace(-2, 2, 7), axes=axes),
        "reconstruction": spectrogram_row([db[0], db[1]], ["original", "reconstruction"], axes=axes),
        "descriptor_map": descriptor_map([0.0, 1.0], [0.0, 1.0], magnitudes=magnitudes, sample_rate=8000,
                                         n_fft=256, hop_length=128, x_label="z0 (latent value)",
                                         y_label="z1 (latent value)"),
        "sweep": sweep_figure(sweep, ["mig", "sap"]),
    }


def _has_ticks(axis) -> bool:  # noqa: ANN001
    return any(t.get_visible() and t.get_text() for t in axis.get_ticklabels())


def _numeric(axis) -> bool:  # noqa: ANN001
    texts = [t.get_text() for t in axis.get_ticklabels() if t.get_text()]
    return all(re.fullmatch(r"[−\-+]?[\d.,]+(e[−\-+]?\d+)?", s) for s in texts)


def _sup(fig: Figure, which: str) -> str:
    text = getattr(fig, f"_sup{which}label", None)
    return text.get_text() if text is not None else ""


FIGURES = _figures()


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_every_axis_with_tick_labels_says_its_unit(name: str) -> None:
    fig = FIGURES[name]
    figure_png(fig)  # lays the figure out (tick labels exist after a draw)
    for ax in fig.axes:
        if not ax.get_visible():
            continue
        for which, axis, label in (("x", ax.xaxis, ax.get_xlabel()), ("y", ax.yaxis, ax.get_ylabel())):
            if not _has_ticks(axis) or not _numeric(axis) and label:
                continue  # no values to read, or named categories under a label
            shown = label if UNIT.search(label) else _sup(fig, which)
            assert UNIT.search(shown), f"{name}: {which} axis labelled {label!r} has no unit"


@pytest.mark.parametrize("name", sorted(FIGURES))
def test_text_is_at_least_8_pt_as_the_page_shows_it(name: str) -> None:
    fig = FIGURES[name]
    png = figure_png(fig)
    width_in = int.from_bytes(png[16:20], "big") / FIGURE_DPI  # as cropped for the page
    scale = min(1.0, PAGE_WIDTH_IN / width_in)
    small = {(t.get_text(), round(t.get_fontsize() * scale, 1)) for t in fig.findobj(Text)
             if t.get_visible() and t.get_text().strip() and t.get_fontsize() * scale < MIN_FONT_PT}
    assert not small, f"{name} ({width_in:.1f} in wide, shown at x{scale:.2f}): text under 8 pt: {sorted(small)}"


def test_pngs_are_150_dpi_and_shown_at_their_size_in_inches() -> None:
    png = figure_png(FIGURES["mi_heatmap"])
    at = png.find(b"pHYs")
    assert round(int.from_bytes(png[at + 4:at + 8], "big") * 0.0254) == 150 == FIGURE_DPI
    page = Report("x").figure(png).html()
    width_px = int.from_bytes(png[16:20], "big")
    assert f'width="{width_px * 96 // 150}"' in page  # 1.5625 image px per CSS px


def test_cqt_axes_are_in_hz_and_seconds_with_round_ticks() -> None:
    _, sidecar = _cqt_sidecar()
    axes = spectrogram_axes(sidecar)
    assert (axes.x_label, axes.y_label) == ("time (s)", "frequency (Hz)")
    np.testing.assert_allclose(axes.row_hz[[0, 24, 95]], [50.0, 100.0, 50.0 * 2 ** (95 / 24)])
    fig = FIGURES["traversals"]
    figure_png(fig)
    ticks = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert ticks == ["50", "200"]  # of 50, 100, 200 and 500 Hz (a small cell: at most 3), at their rows
    np.testing.assert_allclose(fig.axes[0].get_yticks(), [0.0, 48.0], atol=1e-6)
    assert fig.axes[-1].get_ylabel() == "level, 20·log₁₀|X| (dB)"


def test_mel_and_nsgt_rows_have_their_centre_frequencies() -> None:
    import librosa

    mel = as_sidecar(extract(_tones(), FeatureConfig(kind="mel", n_fft=256, hop_length=128, n_mels=20),
                             sample_rate=8000))
    np.testing.assert_allclose(row_frequencies_hz(mel), librosa.mel_frequencies(22, fmin=0.0, fmax=4000.0)[1:-1])
    nsgt = as_sidecar(extract(_tones(), FeatureConfig(kind="nsgt", fmin_hz=100.0, bins_per_octave=6, output="db"),
                              sample_rate=8000))
    rows = row_frequencies_hz(nsgt)
    assert len(rows) == nsgt.shape[0] and rows[0] == 0.0 and rows[-1] == 4000.0
    assert rows[1] == pytest.approx(100.0) and rows[-2] == pytest.approx(0.45 * 8000)
    axes = spectrogram_axes(nsgt)
    assert axes.x_label == "time (s)" and axes.extent[1] == pytest.approx(0.5)


def test_round_ticks() -> None:
    np.testing.assert_allclose(frequency_ticks_hz(50.0 * 2 ** (np.arange(144) / 24)), [50, 100, 200, 500, 1000, 2000])
    np.testing.assert_allclose(log_ticks(100.0, 1000.0), [100, 200, 500, 1000])
    np.testing.assert_allclose(log_ticks(1.0, 12.0), [1, 2, 5, 10])
    np.testing.assert_allclose(log_ticks(300.0, 400.0), [300, 400])
    np.testing.assert_allclose(log_ticks(310.0, 320.0), [310, 320])


def test_a_gif_is_shown_at_its_width_over_the_given_dpi() -> None:
    import io

    from PIL import Image

    from timbrespace.errors import ParameterError

    buffer = io.BytesIO()
    Image.new("RGB", (840, 540)).save(buffer, format="GIF")
    gif = buffer.getvalue()
    assert 'width="537"' in Report("x").figure(gif, dpi=150).html()  # 840 px / 150 dpi = 5.6 in
    assert "<img" in (page := Report("x").figure(gif).html()) and " width=" not in page.split("<img")[1]
    with pytest.raises(ParameterError, match="dpi=0"):
        Report("x").figure(gif, dpi=0)
