"""Spectrogram figures and features in physical units: dB on axes in Hz and seconds."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.analysis import (
    SpectrogramAxes,
    physical_features,
    render_frames,
    spectrogram_axes,
    spectrogram_row,
    traversal_grid,
)
from timbrespace.errors import ParameterError
from timbrespace.features import FeatureConfig, as_sidecar, extract


def _tones(sr: int = 8000) -> np.ndarray:
    t = np.arange(4000) / sr
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * t), 0.1 * np.sin(2 * np.pi * 1000 * t)]).astype(np.float32)


@pytest.mark.parametrize("normalization", ["minmax_item", "standardize", "none"])
def test_physical_features_undo_the_normalisation_into_db(normalization: str) -> None:
    """Oracle: the same features extracted without normalisation (dB re full scale)."""
    y = _tones()
    db = extract(y, FeatureConfig(n_fft=256, hop_length=128), sample_rate=8000).features
    res = extract(y, FeatureConfig(n_fft=256, hop_length=128, normalization=normalization), sample_rate=8000)
    side = as_sidecar(res)
    norm = side.normalization
    own = {} if norm.item_min is None else {"item_min": norm.item_min, "item_max": norm.item_max}
    np.testing.assert_allclose(physical_features(res.features, side, **own), db, atol=1e-3)


def test_magnitude_and_complex_features_are_shown_in_db() -> None:
    y = _tones()
    db = extract(y, FeatureConfig(n_fft=256, hop_length=128, top_db=None), sample_rate=8000).features
    for output in ("magnitude", "complex"):
        res = extract(y, FeatureConfig(n_fft=256, hop_length=128, output=output, top_db=None), sample_rate=8000)
        np.testing.assert_allclose(physical_features(res.features, as_sidecar(res)), db, atol=1e-2)
    with pytest.raises(ParameterError, match="does not match"):
        physical_features(db[:, :10], as_sidecar(res))


def test_spectrogram_axes_are_in_hz_and_seconds() -> None:
    res = extract(_tones(), FeatureConfig(n_fft=256, hop_length=128, n_bins=100), sample_rate=8000)
    axes = spectrogram_axes(as_sidecar(res))
    bin_hz, hop_s = 8000 / 256, 128 / 8000
    n_frames = res.features.shape[-1]
    np.testing.assert_allclose(axes.extent, [-hop_s / 2, (n_frames - 0.5) * hop_s, -bin_hz / 2, 99.5 * bin_hz])
    assert (axes.x_label, axes.y_label) == ("time (s)", "frequency (Hz)")
    assert axes.colorbar_label == "level, 20·log₁₀|X| (dB)"  # not re full scale: a full-scale tone is above 0 dB
    mel = extract(_tones(), FeatureConfig(kind="mel", n_fft=256, hop_length=128, n_mels=20), sample_rate=8000)
    mel_axes = spectrogram_axes(as_sidecar(mel))
    assert mel_axes.y_label == "frequency (Hz)" and len(mel_axes.row_hz) == 20  # ticked in Hz, one row per band
    frame = extract(_tones(), FeatureConfig(n_fft=256, single_frame=True), sample_rate=8000)
    spectrum = spectrogram_axes(as_sidecar(frame))
    assert spectrum.extent is None and spectrum.frequencies[2] == pytest.approx(2 * bin_hz)


def test_traversal_grid_labels_rows_horizontally_and_every_cell_with_its_value() -> None:
    specs = np.random.default_rng(0).random((2, 3, 8, 5))
    values = np.array([[-1.0, 0.0, 1.0], [-4.0, 0.5, 5.0]])
    axes = SpectrogramAxes(extent=(0, 0.5, 0, 4000), x_label="time (s)", y_label="frequency (Hz)",
                           colorbar_label="level (dB)")
    fig = traversal_grid(specs, latent_names=["z3: slope_db_per_octave", "z1: f0_hz"], values=values, axes=axes)
    cells = fig.axes[:6]
    assert [ax.get_title() for ax in cells] == ["-1", "+0", "+1", "-4", "+0.5", "+5"]
    assert cells[0].get_ylabel() == "z3:\nslope_db_per_octave" and cells[0].yaxis.label.get_rotation() == 0
    np.testing.assert_allclose(cells[4].get_images()[0].get_extent(), [0, 0.5, 0, 4000])
    assert fig.axes[-1].get_ylabel() == "level (dB)"  # the shared colour bar
    with pytest.raises(ParameterError, match=r"values has shape \(2,\)"):
        traversal_grid(specs, values=[1.0, 2.0])


def test_spectrogram_row_shares_one_colour_scale() -> None:
    a, b = np.zeros((8, 5)), np.full((8, 5), 10.0)
    fig = spectrogram_row([a, b], ["original", "reconstruction"],
                          axes=SpectrogramAxes(colorbar_label="level (dB)"))
    images = [ax.get_images()[0] for ax in fig.axes[:2]]
    assert all(im.get_clim() == (0.0, 10.0) for im in images)
    assert [ax.get_title() for ax in fig.axes[:2]] == ["original", "reconstruction"]
    assert fig.axes[2].get_ylabel() == "level (dB)"
    with pytest.raises(ParameterError, match="2 spectrograms for 1 titles"):
        spectrogram_row([a, b], ["x"])


def test_rendered_gif_frames_are_readable_figures() -> None:
    frames = render_frames(np.random.default_rng(0).random((3, 16, 8)), ["a", "b", "c"],
                           axes=SpectrogramAxes(extent=(0, 1, 0, 4000), colorbar_label="dB"))
    assert frames.shape == (3, 540, 840, 3) and frames.dtype == np.uint8  # 5.6 x 3.6 in at 150 dpi
    assert not np.array_equal(frames[0], frames[1])  # each frame its own image and title


def test_gif_frames_share_one_figure_and_are_what_a_figure_per_frame_draws() -> None:
    """Oracle: each frame drawn alone on its own figure (same colour range: every frame
    spans 0..1), pixel for pixel: the titles, the report's, differ in their values."""
    specs = np.random.default_rng(1).random((3, 24, 10))
    specs[:, 0, 0], specs[:, 0, 1] = 0.0, 1.0
    titles = [f"z2 = {v:+.2f}   (informs f0_hz most)" for v in (-2.0, 0.25, 11.5)]
    axes = SpectrogramAxes(extent=(0, 0.5, 0, 4000), x_label="time (s)", y_label="frequency (Hz)",
                           colorbar_label="level (dB)")
    frames = render_frames(specs, titles, axes=axes)
    for k in range(3):
        np.testing.assert_array_equal(frames[k], render_frames(specs[k:k + 1], titles[k:k + 1], axes=axes)[0])
    with pytest.raises(ParameterError, match="one title each"):
        render_frames(specs[:0], [], axes=axes)


def test_traversal_grid_cells_have_one_extent_and_tick_labels_outside() -> None:
    """The cells are not shared axes: each has the same limits and ticks, and only the
    left column and the bottom row show tick labels."""
    from timbrespace.analysis import figure_png

    specs = np.random.default_rng(0).random((3, 4, 8, 5))
    axes = SpectrogramAxes(extent=(0, 0.5, 0, 4000), x_label="time (s)", y_label="frequency (Hz)",
                           colorbar_label="level (dB)")
    fig = traversal_grid(specs, values=np.linspace(-2, 2, 4), axes=axes)
    figure_png(fig)  # tick labels exist after a draw
    cells = np.array(fig.axes[:12]).reshape(3, 4)
    for i in range(3):
        for j in range(4):
            ax = cells[i, j]
            assert ax.get_xlim() == cells[0, 0].get_xlim() and ax.get_ylim() == cells[0, 0].get_ylim()
            np.testing.assert_array_equal(ax.get_xticks(), cells[0, 0].get_xticks())
            shown_x = [t.get_text() for t in ax.get_xticklabels() if t.get_visible() and t.get_text()]
            shown_y = [t.get_text() for t in ax.get_yticklabels() if t.get_visible() and t.get_text()]
            assert bool(shown_x) == (i == 2) and bool(shown_y) == (j == 0), (i, j)
