"""Piano rolls of drum patterns: voices against steps, velocity as colour.

One panel per pattern, steps on the x axis in beats (quarter notes) with a line at each
beat, one row per voice of the drum map, hits drawn with their velocity (0..1).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from timbrespace.analysis._plotting import check_names, figure_grid
from timbrespace.errors import ParameterError

__all__ = ["feel_histograms", "piano_roll"]


def piano_roll(
    patterns: np.ndarray,
    *,
    voice_names: Sequence[str] | None = None,
    steps_per_quarter: float = 4.0,
    titles: Sequence[str] | None = None,
    n_cols: int = 4,
) -> Figure:
    """Piano rolls of drum patterns.

    Parameters
    ----------
    patterns : np.ndarray [shape=(n_patterns, n_steps, n_voices) or (n_steps, n_voices)]
        Velocities in [0, 1]; 0 means no hit.
    voice_names : sequence of str, optional
        Row labels (default ``v0, v1, ...``).
    steps_per_quarter : float
        Grid resolution; the x axis is in beats and a line marks every beat.
    titles : sequence of str, optional
        One per pattern.
    n_cols : int
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        With a velocity colour bar.

    Raises
    ------
    ParameterError
        On a bad shape, velocities outside [0, 1], or a wrong number of names or titles.
    """
    x = np.asarray(patterns, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[0] == 0:
        raise ParameterError(f"patterns must be (n_patterns, n_steps, n_voices); got shape {np.shape(patterns)}")
    if not np.all(np.isfinite(x)) or x.min() < 0 or x.max() > 1:
        raise ParameterError("pattern velocities must be finite and in [0, 1]")
    if not steps_per_quarter > 0:
        raise ParameterError(f"steps_per_quarter={steps_per_quarter} must be > 0")
    n, n_steps, n_voices = x.shape
    names = check_names(voice_names, n_voices, "v", "voice_names")
    labels = check_names(titles, n, "pattern ", "titles") if titles is not None else [""] * n
    cols = max(1, min(n_cols, n))
    rows = -(-n // cols)
    fig, axes = figure_grid(rows, cols, cell_in=(3.2, 0.22 * n_voices + 0.9))
    beats = n_steps / steps_per_quarter
    image = None
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.set_axis_off()
            continue
        shown = np.ma.masked_equal(x[k].T, 0.0)
        image = ax.imshow(shown, origin="lower", aspect="auto", cmap="viridis", vmin=0.0, vmax=1.0,
                          interpolation="nearest", extent=(0.0, beats, -0.5, n_voices - 0.5))
        for beat in range(1, int(np.ceil(beats))):
            ax.axvline(beat, color="0.8", linewidth=0.6, zorder=0)
        ax.set_yticks(range(n_voices))
        ax.set_yticklabels(names if k % cols == 0 else [], fontsize=6)
        ax.tick_params(axis="x", labelsize=6)
        ax.set_xlim(0.0, beats)
        if labels[k]:
            ax.set_title(labels[k], fontsize=8)
        if k // cols == rows - 1:
            ax.set_xlabel("beat", fontsize=7)
    if image is not None:
        fig.colorbar(image, ax=axes.ravel().tolist(), label="velocity", shrink=0.8)
    return fig


def feel_histograms(
    velocities: Sequence[np.ndarray],
    offsets: Sequence[np.ndarray],
    *,
    labels: Sequence[str],
) -> Figure:
    """Distributions of hit velocities and micro-timing offsets, one curve per set of hits.

    The feel of grooves (the velocity and micro-timing matrices of GrooVAE, Gillick et al.
    2019) drawn as densities: held-out bars beside generated grooves, say.

    Parameters
    ----------
    velocities : sequence of np.ndarray [shape=(n_hits_k,)]
        Each set's hit velocities in [0, 1] (MIDI / 127).
    offsets : sequence of np.ndarray [shape=(n_hits_k,)]
        Each set's offsets from the grid, in steps (-0.5..0.5).
    labels : sequence of str
        One per set.

    Returns
    -------
    matplotlib.figure.Figure
        Two panels (velocity, offset); each set a step histogram normalised to density.

    Raises
    ------
    ParameterError
        Sets and labels of different counts, an empty set, or values out of range.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> fig = feel_histograms([rng.uniform(0.3, 1.0, 50), rng.uniform(0.5, 0.9, 40)],
    ...                       [rng.normal(0, 0.1, 50).clip(-0.5, 0.5), np.zeros(40)], labels=["a", "b"])
    >>> len(fig.axes)
    2
    """
    if not (len(velocities) == len(offsets) == len(labels)) or not labels:
        raise ParameterError(f"feel_histograms: {len(velocities)} velocity sets, {len(offsets)} offset sets and "
                             f"{len(labels)} labels; give one of each per set")
    vs = [np.asarray(v, dtype=np.float64).ravel() for v in velocities]
    os_ = [np.asarray(o, dtype=np.float64).ravel() for o in offsets]
    for name, sets, lo, hi in (("velocities", vs, 0.0, 1.0), ("offsets", os_, -0.5, 0.5)):
        for k, a in enumerate(sets):
            if a.size == 0 or not np.all(np.isfinite(a)) or a.min() < lo or a.max() > hi:
                raise ParameterError(f"feel_histograms: {name} of {labels[k]!r} must be non-empty and in [{lo}, {hi}]")
    fig, axes = figure_grid(1, 2, cell_in=(4.0, 2.6))
    for ax, sets, edges, xlabel in (
        (axes[0, 0], vs, np.linspace(0.0, 1.0, 21), "velocity (MIDI / 127)"),
        (axes[0, 1], os_, np.linspace(-0.5, 0.5, 26), "offset from the grid (steps)"),
    ):
        for a, label in zip(sets, labels, strict=True):
            ax.hist(a, bins=edges, density=True, histtype="step", linewidth=1.5, label=f"{label} ({a.size} hits)")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("density")
    axes[0, 0].legend(fontsize="small")
    return fig
