"""Latent traversals: animated GIFs (seed 001) and traversal audio.

A traversal moves one latent through a range of values with the others held at a base
code (usually the mean code of an item, or zero). :func:`timbrespace.generation.traverse`
builds the codes (the one builder of them); the caller decodes them (``timbrespace.training.decode_array``) and hands the
spectra to :func:`~timbrespace.analysis.spectrograms.traversal_grid`, :func:`traversal_gif`
(raw values, or frames drawn with axes and a colour bar by :func:`render_frames`) or,
after inversion to audio, :func:`traversal_audio`.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import matplotlib
import numpy as np

from timbrespace.analysis._plotting import FIGURE_DPI
from timbrespace.analysis.spectrograms import SpectrogramAxes
from timbrespace.errors import ParameterError
from timbrespace.utils.atomic import atomic_path

__all__ = [
    "render_frames",
    "tile_traversal_frames",
    "traversal_audio",
    "traversal_gif",
]


def tile_traversal_frames(spectrograms: np.ndarray, *, gap: int = 2) -> np.ndarray:
    """Put all latents side by side, one frame per traversal value.

    Parameters
    ----------
    spectrograms : np.ndarray [shape=(n_latents, n_values, n_bins, n_frames)]
    gap : int, default=2
        Columns of padding (at the global minimum) between latents.

    Returns
    -------
    np.ndarray [shape=(n_values, n_bins, n_latents * (n_frames + gap) - gap)]
        Frames for :func:`traversal_gif`.
    """
    s = np.asarray(spectrograms, dtype=np.float64)
    if s.ndim != 4:
        raise ParameterError(
            f"spectrograms must be (n_latents, n_values, n_bins, n_frames); got shape {s.shape}"
        )
    n_latents, n_values, n_bins, n_frames = s.shape
    pad = np.full((n_values, n_bins, gap), s.min())
    pieces = []
    for i in range(n_latents):
        pieces.append(s[i])
        if i < n_latents - 1 and gap > 0:
            pieces.append(pad)
    return np.concatenate(pieces, axis=2)


def _to_rgb_frames(
    frames: np.ndarray, cmap: str, origin: str, vmin: float | None, vmax: float | None
) -> np.ndarray:
    f = np.asarray(frames)
    if f.ndim == 4 and f.shape[-1] in (3, 4):
        rgb = f[..., :3]
        if np.issubdtype(rgb.dtype, np.floating):
            rgb = np.clip(rgb, 0.0, 1.0) * 255.0
        rgb = rgb.astype(np.uint8)
    elif f.ndim == 3:
        f = f.astype(np.float64)
        if not np.all(np.isfinite(f)):
            raise ParameterError("frames contain NaN/inf")
        lo = float(f.min()) if vmin is None else vmin
        hi = float(f.max()) if vmax is None else vmax
        scaled = np.clip((f - lo) / (hi - lo), 0.0, 1.0) if hi > lo else np.zeros_like(f)
        rgb = (matplotlib.colormaps[cmap](scaled)[..., :3] * 255.0).astype(np.uint8)
    else:
        raise ParameterError(
            "frames must be (n_frames, height, width) values or (n_frames, height, width, 3|4) "
            f"RGB(A); got shape {f.shape}"
        )
    if origin == "lower":
        rgb = rgb[:, ::-1]
    return rgb


def traversal_gif(
    frames: np.ndarray,
    path: str | os.PathLike[str],
    *,
    duration_ms: int = 150,
    cmap: str = "magma",
    origin: str = "lower",
    min_size: int = 128,
    vmin: float | None = None,
    vmax: float | None = None,
    bounce: bool = True,
) -> Path:
    """Write an animated GIF of a traversal (seed 001's traversal GIFs).

    Parameters
    ----------
    frames : np.ndarray [shape=(n_frames, height, width) or (n_frames, height, width, 3|4)]
        Values (e.g. spectrograms, one colour range for all frames, mapped with
        ``cmap``) or RGB(A) images (uint8, or float in [0, 1]).
    path : path-like
        Output ``.gif``; written atomically.
    duration_ms : int, default=150
        Display time per frame.
    cmap : str, default="magma"
    origin : {"lower", "upper"}, default="lower"
        "lower" puts row 0 (low frequency) at the bottom, as spectrogram images.
    min_size : int, default=128
        Small frames are enlarged by an integer factor (nearest) to at least this height.
    vmin, vmax : float, optional
        Colour range (default: global min/max over all frames).
    bounce : bool, default=True
        Play forward then backward (a smooth loop).

    Returns
    -------
    pathlib.Path
        The GIF path.

    Raises
    ------
    ParameterError
        On a bad shape, non-finite values, ``duration_ms <= 0`` or bad ``origin``.
    """
    from PIL import Image

    if duration_ms <= 0:
        raise ParameterError(f"duration_ms={duration_ms} must be > 0")
    if origin not in ("lower", "upper"):
        raise ParameterError(f"origin={origin!r} is not one of 'lower', 'upper'")
    rgb = _to_rgb_frames(frames, cmap, origin, vmin, vmax)
    if rgb.shape[0] == 0:
        raise ParameterError("frames is empty")
    factor = max(1, int(np.ceil(min_size / rgb.shape[1])))
    if factor > 1:
        rgb = rgb.repeat(factor, axis=1).repeat(factor, axis=2)
    # each frame to its palette once, as the GIF writer would, so the frames played back
    # (``bounce``) are not quantised a second time: the same file, a third less work
    images = [Image.fromarray(np.ascontiguousarray(frame)).convert("P", palette=Image.Palette.ADAPTIVE)
              for frame in rgb]
    if bounce and len(images) > 2:
        images = images + images[-2:0:-1]
    path = Path(path)
    with atomic_path(path, suffix=".gif") as tmp:
        images[0].save(
            tmp,
            format="GIF",
            save_all=True,
            append_images=images[1:],
            duration=duration_ms,
            loop=0,
        )
    return path


def traversal_audio(
    audio: np.ndarray, sample_rate: int, *, gap_s: float = 0.15, fade_ms: float = 10.0
) -> np.ndarray:
    """Concatenate the decoded sounds of one traversal, with short fades and gaps.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_values, n_samples)]
        Audio decoded along one latent.
    sample_rate : int
        Hz.
    gap_s : float, default=0.15
        Silence between sounds, seconds.
    fade_ms : float, default=10
        Linear fade in/out of each sound, milliseconds (avoids clicks).

    Returns
    -------
    np.ndarray [shape=(n_samples_out,), dtype=float32]
        Peak-normalised to 0.99 if it would clip.
    """
    y = np.asarray(audio, dtype=np.float64)
    if y.ndim != 2 or y.shape[0] == 0:
        raise ParameterError(f"audio must be (n_values, n_samples); got shape {y.shape}")
    if sample_rate <= 0 or gap_s < 0 or fade_ms < 0:
        raise ParameterError(
            f"sample_rate={sample_rate}, gap_s={gap_s}, fade_ms={fade_ms}: need > 0, >= 0, >= 0"
        )
    n_fade = min(int(round(fade_ms * 1e-3 * sample_rate)), y.shape[1] // 2)
    if n_fade > 0:
        ramp = np.linspace(0.0, 1.0, n_fade)
        y = y.copy()
        y[:, :n_fade] *= ramp
        y[:, -n_fade:] *= ramp[::-1]
    gap = np.zeros((y.shape[0], int(round(gap_s * sample_rate))))
    out = np.concatenate([y, gap], axis=1).reshape(-1)
    peak = float(np.max(np.abs(out))) if out.size else 0.0
    if peak > 0.99:
        out = out * (0.99 / peak)
    return out.astype(np.float32)


def render_frames(
    spectrograms: np.ndarray,
    titles: Sequence[str],
    *,
    axes: SpectrogramAxes = SpectrogramAxes(),  # noqa: B008  # frozen
    cmap: str = "magma",
    size_px: tuple[int, int] = (840, 540),
    dpi: int = FIGURE_DPI,
) -> np.ndarray:
    """Draw each spectrogram of a traversal as a labelled figure, for :func:`traversal_gif`.

    Every frame has the same axes (time and frequency in ``axes``' units), the same
    colour range and colour bar, and its own title (e.g. the latent's value), so that
    the animation is readable on its own. The frames are drawn on one figure laid out
    for the first: titles that differ in their values (one line, the same glyph heights)
    give the frames a figure of their own would.

    Parameters
    ----------
    spectrograms : np.ndarray [shape=(n_frames, n_bins, n_time)]
    titles : sequence of str
        One per frame.
    axes : SpectrogramAxes
    cmap : str
    size_px : (int, int), default=(840, 540)
        Width and height of each frame in pixels.
    dpi : int, default=150
        Pixels per inch of the drawing (text sizes are in points): 840 px at 150 dpi is
        a 5.6 in figure, to be shown 538 CSS px wide (``Report.figure(..., dpi=150)``).

    Returns
    -------
    np.ndarray [shape=(n_frames, height, width, 3), dtype=uint8]

    Raises
    ------
    ParameterError
        Not a stack of 2-D spectrograms, or one title per frame missing.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from timbrespace.analysis._plotting import new_figure
    from timbrespace.analysis.spectrograms import _show

    s = np.asarray(spectrograms, dtype=np.float64)
    if s.ndim != 3 or not len(s) or len(titles) != len(s):
        raise ParameterError(
            f"spectrograms must be (n_frames, n_bins, n_time) with one title each; got {s.shape}, "
            f"{len(titles)} titles"
        )
    # one figure for every frame: only the image and the title change, so the frames share
    # the first one's layout, computed once (constrained layout is most of a drawing's cost)
    fig = new_figure(size_px[0] / dpi, size_px[1] / dpi, dpi=dpi)
    ax = fig.add_subplot()
    image = _show(ax, s[0], axes, vmin=float(s.min()), vmax=float(s.max()), cmap=cmap)
    ax.set_xlabel(axes.x_label)
    ax.set_ylabel(axes.y_label)
    heading = ax.set_title(titles[0], fontsize=10)
    fig.colorbar(image, ax=ax, label=axes.colorbar_label)
    canvas = FigureCanvasAgg(fig)
    out = []
    for k, (spec, title) in enumerate(zip(s, titles, strict=True)):
        if k:
            image.set_data(spec)
            heading.set_text(title)
        canvas.draw()
        if not k:
            fig.set_layout_engine("none")  # keep the positions just computed
        out.append(np.asarray(canvas.buffer_rgba())[..., :3].copy())
    return np.stack(out)
