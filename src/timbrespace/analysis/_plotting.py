"""Small helpers shared by the figure functions (no pyplot: figures are built with
``matplotlib.figure.Figure`` so that no global state or GUI backend is involved;
``savefig`` renders with Agg)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure

from timbrespace.errors import ParameterError

__all__ = [
    "CSS_PX_PER_IN",
    "FIGURE_DPI",
    "MIN_FONT_PT",
    "PAGE_WIDTH_IN",
    "figure_grid",
    "new_figure",
    "save_figure",
]

# A report shows a figure at its size in inches (96 CSS px per inch), shrunk to fit the
# page's text column; its PNG is drawn at FIGURE_DPI so that it stays sharp on a screen
# with 1.5 device pixels per CSS pixel. Text is at least MIN_FONT_PT points as shown:
# figures are at most PAGE_WIDTH_IN wide (the column of analysis.report's page, 1044 CSS
# px), so they are never shrunk on a desktop-width page.
FIGURE_DPI = 150
CSS_PX_PER_IN = 96.0
PAGE_WIDTH_IN = 1044 / CSS_PX_PER_IN
MIN_FONT_PT = 8.0


def new_figure(width_in: float = 6.4, height_in: float = 4.8, *, dpi: int = FIGURE_DPI) -> Figure:
    """A detached figure (not registered with pyplot, garbage-collected normally)."""
    return Figure(figsize=(width_in, height_in), dpi=dpi, layout="constrained")


def figure_grid(
    n_rows: int, n_cols: int, *, cell_in: tuple[float, float] = (2.4, 2.0), **kwargs: object
) -> tuple[Figure, np.ndarray]:
    """A figure with an ``(n_rows, n_cols)`` array of axes, at most ``PAGE_WIDTH_IN`` wide."""
    width_in = min(PAGE_WIDTH_IN, max(3.0, cell_in[0] * n_cols))
    fig = new_figure(width_in, max(2.0, cell_in[1] * n_rows))
    axes = fig.subplots(n_rows, n_cols, squeeze=False, **kwargs)  # type: ignore[arg-type]
    return fig, axes


def save_figure(fig: Figure, path: str, *, dpi: int = FIGURE_DPI) -> str:
    """Save ``fig`` atomically to ``path`` (format from the extension); return the path."""
    from timbrespace.utils.atomic import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi)
    return str(path)


def check_names(names: Sequence[str] | None, n: int, default_prefix: str, what: str) -> list[str]:
    """Return ``names`` as a list of ``n`` strings, or ``prefix0..prefix{n-1}``."""
    if names is None:
        return [f"{default_prefix}{i}" for i in range(n)]
    names = [str(s) for s in names]
    if len(names) != n:
        raise ParameterError(f"{what} has {len(names)} names but the data has {n}")
    return names
