"""Spectrogram figures: one image, a row of images on one colour scale, traversal grids.

Axes are physical where the caller says how (:class:`SpectrogramAxes`: an ``extent`` in
seconds and Hz, axis labels, the colour bar's unit, e.g. dB); bins and frames otherwise.
Every function returns a :class:`matplotlib.figure.Figure` built without pyplot.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from timbrespace.analysis._plotting import (
    MIN_FONT_PT,
    PAGE_WIDTH_IN,
    check_names,
    figure_grid,
    new_figure,
)
from timbrespace.errors import ParameterError

__all__ = ["SpectrogramAxes", "frequency_ticks_hz", "spectrogram_image", "spectrogram_row", "traversal_grid"]


@dataclass(frozen=True)
class SpectrogramAxes:
    """How to draw a spectrogram's axes and colours.

    Attributes
    ----------
    extent : tuple of float, optional
        ``(t_start, t_end, f_low, f_high)`` of the image (``imshow``'s extent), e.g.
        seconds and Hz; ``None``: frame and bin indices.
    x_label, y_label : str
        Axis labels (with units).
    colorbar_label : str
        What the colours are, with the unit (e.g. ``"level (dB)"``).
    frequencies : np.ndarray [shape=(n_bins,)], optional
        Frequency of each row of a single-frame spectrum (the x axis of its curve).
    row_hz : np.ndarray [shape=(n_bins,)], optional
        Centre frequency (Hz) of each image row where rows are not evenly spaced in Hz
        (CQT, NSGT, mel): the image keeps one row per bin (``extent``'s frequency range
        in rows, ``-0.5 .. n_bins - 0.5``) and the frequency axis is ticked at round
        frequencies, labelled in Hz.
    """

    extent: tuple[float, float, float, float] | None = None
    x_label: str = "frame"
    y_label: str = "bin"
    colorbar_label: str = ""
    frequencies: np.ndarray | None = None
    row_hz: np.ndarray | None = None


def _show(ax: Axes, spec: np.ndarray, axes: SpectrogramAxes, *, vmin: float | None,
          vmax: float | None, cmap: str, max_ticks: int = 6) -> Any:
    image = ax.imshow(spec, origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax,
                      extent=axes.extent, interpolation="nearest")
    if axes.row_hz is not None:
        ticks_hz = frequency_ticks_hz(axes.row_hz, max_ticks=max_ticks)
        ax.set_yticks(np.interp(ticks_hz, axes.row_hz, np.arange(len(axes.row_hz))),
                      [f"{f:g}" for f in ticks_hz])
    return image


def frequency_ticks_hz(row_hz: np.ndarray, *, max_ticks: int = 6) -> np.ndarray:
    """Round frequencies (1, 2, 5 × 10^k Hz) inside the positive range of ``row_hz``.

    Parameters
    ----------
    row_hz : np.ndarray [shape=(n_rows,)]
        Increasing centre frequencies in Hz (a DC row at 0 Hz is allowed).
    max_ticks : int, default=6

    Returns
    -------
    np.ndarray [shape=(n_ticks,), dtype=float64]
        Every other one of them when there are more than ``max_ticks``; with fewer than
        two round values in range, the lowest and highest positive row rounded to 3
        significant figures.

    Examples
    --------
    >>> frequency_ticks_hz(50.0 * 2.0 ** (np.arange(144) / 24))  # a CQT from 50 Hz, 24 bins per octave
    array([  50.,  100.,  200.,  500., 1000., 2000.])
    """
    f = np.asarray(row_hz, dtype=np.float64)
    f = f[f > 0]
    if not len(f):
        return np.zeros(0)
    lo, hi = float(f.min()), float(f.max())
    decades = range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)
    ticks = np.array([m * 10.0**k for k in decades for m in (1, 2, 5) if lo <= m * 10.0**k <= hi])
    while len(ticks) > max_ticks:
        ticks = ticks[::2]
    if len(ticks) < 2:
        ticks = np.unique([float(f"{lo:.3g}"), float(f"{hi:.3g}")])
    return ticks


def spectrogram_image(
    spectrogram: np.ndarray,
    *,
    sample_rate: float | None = None,
    hop_length: int | None = None,
    title: str = "",
    colorbar_label: str = "",
    cmap: str = "magma",
    vmin: float | None = None,
    vmax: float | None = None,
) -> Figure:
    """Image of one spectrogram (frequency up, time right).

    Parameters
    ----------
    spectrogram : np.ndarray [shape=(n_bins, n_frames)]
        Features as stored (dB, normalised, magnitude ...); shown as given.
    sample_rate : float, optional
        Hz; with it the y axis runs 0..sample_rate/2 Hz (bins assumed linear) and, with
        ``hop_length``, the x axis is in seconds.
    hop_length : int, optional
        Samples between frames.
    title, colorbar_label, cmap, vmin, vmax
        Display options.

    Returns
    -------
    matplotlib.figure.Figure
    """
    spec = np.asarray(spectrogram, dtype=np.float64)
    if spec.ndim != 2:
        raise ParameterError(f"spectrogram must be 2-D (n_bins, n_frames); got shape {spec.shape}")
    n_frames = spec.shape[1]
    axes = SpectrogramAxes(colorbar_label=colorbar_label)
    if sample_rate is not None:
        right = n_frames * hop_length / sample_rate if hop_length else n_frames
        axes = SpectrogramAxes(
            extent=(0.0, right, 0.0, sample_rate / 2.0),
            x_label="time (s)" if hop_length else "frame",
            y_label="frequency (Hz)",
            colorbar_label=colorbar_label,
        )
    fig = new_figure(6.0, 3.6)
    ax = fig.add_subplot()
    image = _show(ax, spec, axes, vmin=vmin, vmax=vmax, cmap=cmap)
    ax.set_ylabel(axes.y_label)
    ax.set_xlabel(axes.x_label)
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, label=colorbar_label)
    return fig


def spectrogram_row(
    spectrograms: Sequence[np.ndarray],
    titles: Sequence[str],
    *,
    axes: SpectrogramAxes = SpectrogramAxes(),  # noqa: B008  # frozen
    cmap: str = "magma",
) -> Figure:
    """Spectrograms side by side on one colour scale with one colour bar (e.g. an
    original and its reconstruction).

    Parameters
    ----------
    spectrograms : sequence of np.ndarray [shape=(n_bins, n_frames) or (n_bins,)]
        Single-frame spectra (1-D) are drawn as curves against ``axes.frequencies``.
    titles : sequence of str
        One per spectrogram.
    axes : SpectrogramAxes
        Extent, axis labels and colour-bar unit.
    cmap : str

    Returns
    -------
    matplotlib.figure.Figure

    Raises
    ------
    ParameterError
        Different numbers of spectrograms and titles, or not 1-D/2-D arrays.
    """
    images = [np.asarray(s, dtype=np.float64) for s in spectrograms]
    if len(images) != len(titles) or not images:
        raise ParameterError(f"{len(images)} spectrograms for {len(titles)} titles")
    if any(im.ndim not in (1, 2) for im in images):
        raise ParameterError("spectrograms must be (n_bins, n_frames) images or (n_bins,) spectra")
    lo, hi = min(float(np.min(im)) for im in images), max(float(np.max(im)) for im in images)
    fig, grid = figure_grid(1, len(images), cell_in=(3.4, 2.8), sharex=True, sharey=True)
    shown = None
    for ax, im, title in zip(grid[0], images, titles, strict=True):
        if im.ndim == 1:
            freqs = axes.frequencies if axes.frequencies is not None else np.arange(len(im))
            ax.plot(freqs, im, linewidth=0.8)
            ax.set_ylim(lo, hi)
            ax.set_xlabel(axes.y_label)
        else:
            shown = _show(ax, im, axes, vmin=lo, vmax=hi, cmap=cmap)
            ax.set_xlabel(axes.x_label)
        ax.set_title(title, fontsize=9)
    grid[0, 0].set_ylabel(axes.colorbar_label if images[0].ndim == 1 else axes.y_label)
    if shown is not None:
        fig.colorbar(shown, ax=list(grid[0]), label=axes.colorbar_label)
    return fig


def traversal_grid(
    spectrograms: np.ndarray,
    *,
    latent_names: Sequence[str] | None = None,
    values: Sequence[float] | np.ndarray | None = None,
    sample_rate: float | None = None,
    axes: SpectrogramAxes | None = None,
    cmap: str = "magma",
    title: str = "Latent traversals",
) -> Figure:
    """Grid of decoded spectra: one row per latent, one column per traversal value.

    Parameters
    ----------
    spectrograms : np.ndarray [shape=(n_latents, n_values, n_bins[, n_frames])]
        Decoder outputs. Single-frame spectra (3-D input) are drawn as curves, with all
        columns of a row on the same y range; spectrograms (4-D) as images sharing one
        colour range, with one colour bar.
    latent_names : sequence of str, optional
        Row labels (default ``z0..``), written horizontally left of each row; a label
        that names a factor as ``"z3: f0_hz"`` is broken after the colon.
    values : array-like of shape (n_values,) or (n_latents, n_values), optional
        The latent value of each column: one row of column titles, or the value of each
        cell (rows traversed over different ranges).
    sample_rate : float, optional
        Hz, for a frequency axis on single-frame spectra (when ``axes`` is not given).
    axes : SpectrogramAxes, optional
        Extent (seconds and Hz), axis labels and colour-bar unit of each image.
    cmap, title
        Display options.

    Returns
    -------
    matplotlib.figure.Figure
        ``n_latents x n_values`` axes (then the colour bar's, for images).
    """
    s = np.asarray(spectrograms, dtype=np.float64)
    if s.ndim not in (3, 4):
        raise ParameterError(
            f"spectrograms must be (n_latents, n_values, n_bins[, n_frames]); got shape {s.shape}"
        )
    n_rows, n_cols = s.shape[:2]
    rows = check_names(latent_names, n_rows, "z", "latent_names")
    cells = _cell_values(values, n_rows, n_cols)
    if axes is None:
        freqs = np.linspace(0.0, sample_rate / 2.0, s.shape[2]) if sample_rate else None
        axes = SpectrogramAxes(frequencies=freqs, y_label="frequency (Hz)" if sample_rate else "bin")
    # at most the page's width with 8 pt text: the colour bar and row labels take ~2.4 in
    cell_w = min(1.55, (PAGE_WIDTH_IN - 2.4) / n_cols)
    # every cell has the same extent (images) or limits (curves) and the same ticks, so the
    # axes are not shared: matplotlib's sharing costs every cell a walk over all the others
    # at each limit lookup, most of the drawing time of a 4 x 7 grid
    fig, grid = figure_grid(n_rows, n_cols, cell_in=(cell_w, 1.3))
    vmin, vmax = float(np.min(s)), float(np.max(s))
    shown = None
    for i in range(n_rows):
        for j in range(n_cols):
            ax = grid[i, j]
            ax.tick_params(labelbottom=i == n_rows - 1, labelleft=j == 0)  # tick labels outside only
            if s.ndim == 4:
                shown = _show(ax, s[i, j], axes, vmin=vmin, vmax=vmax, cmap=cmap, max_ticks=3)
                if axes.row_hz is None:  # small cells: three frequency ticks
                    ax.yaxis.set_major_locator(MaxNLocator(3))
            else:
                freqs = axes.frequencies if axes.frequencies is not None else np.arange(s.shape[2])
                ax.plot(freqs, s[i, j], linewidth=0.8)
                ax.set_ylim(vmin, vmax)
            ax.tick_params(labelsize=MIN_FONT_PT)
            ax.xaxis.set_major_locator(MaxNLocator(3))
            if j == 0:
                ax.set_ylabel(rows[i].replace(": ", ":\n"), rotation=0, ha="right", va="center",
                              fontsize=9)
            if cells is not None and (i == 0 or cells.ndim == 2):
                value = cells[j] if cells.ndim == 1 else cells[i, j]
                ax.set_title(f"{value:+.2g}", fontsize=MIN_FONT_PT + 1, pad=2)
    if s.ndim == 4:
        fig.supxlabel(axes.x_label, fontsize=10)
        fig.supylabel(axes.y_label, fontsize=10)
        if shown is not None and axes.colorbar_label:
            fig.colorbar(shown, ax=list(grid.flat), label=axes.colorbar_label, shrink=0.8)
    else:
        fig.supxlabel(axes.y_label, fontsize=10)
        fig.supylabel(axes.colorbar_label or "value", fontsize=10)
    fig.suptitle(title)
    return fig


def _cell_values(values: Sequence[float] | np.ndarray | None, n_rows: int, n_cols: int) -> np.ndarray | None:
    if values is None:
        return None
    cells = np.asarray(values, dtype=np.float64)
    if cells.shape not in ((n_cols,), (n_rows, n_cols)):
        raise ParameterError(
            f"values has shape {cells.shape}; expected ({n_cols},) or ({n_rows}, {n_cols}) for the columns"
        )
    return cells
