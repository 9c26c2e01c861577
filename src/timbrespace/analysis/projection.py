"""2-D projections of latent codes (PCA, t-SNE) coloured by a factor, as seed 002's
``-timbre/-magnitude/-pitch`` plots.

Compute the embedding once with :func:`project_latents` and pass it to
:func:`latent_projection` for each factor, so that every colouring shows the same map.

References
----------
van der Maaten, L., Hinton, G. (2008). Visualizing Data using t-SNE. JMLR 9.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from threadpoolctl import threadpool_limits

from timbrespace.analysis._plotting import new_figure
from timbrespace.errors import ParameterError

__all__ = ["latent_projection", "project_latents"]

_MAX_CATEGORIES = 20
_THREADED_TSNE_MIN = 5000


def project_latents(
    latents: np.ndarray,
    *,
    method: Literal["pca", "tsne"] = "pca",
    random_state: int = 0,
    perplexity: float = 30.0,
    max_iter: int = 1000,
) -> np.ndarray:
    """Project latents to 2-D.

    Parameters
    ----------
    latents : np.ndarray [shape=(n_samples, n_latents)]
    method : {"pca", "tsne"}, default="pca"
        ``sklearn.decomposition.PCA`` or ``sklearn.manifold.TSNE`` (PCA init).
    random_state : int, default=0
    perplexity : float, default=30
        t-SNE perplexity, lowered to ``(n_samples - 1) / 3`` for small sets.
    max_iter : int, default=1000
        t-SNE iterations (>= 250).

    Returns
    -------
    np.ndarray [shape=(n_samples, 2), dtype=float64]
        With a single latent the second column is 0.

    Raises
    ------
    ParameterError
        On a bad shape, non-finite values, fewer than 3 samples or unknown method.
    """
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] < 3:
        raise ParameterError(f"latents must be (n_samples >= 3, n_latents); got shape {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ParameterError("latents contain NaN/inf")
    if method not in ("pca", "tsne"):
        raise ParameterError(f"method={method!r} is not one of 'pca', 'tsne'")
    if z.shape[1] == 1:
        return np.column_stack([z[:, 0], np.zeros(len(z))])
    if z.shape[1] == 2 and method == "pca":
        return z - z.mean(axis=0)
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=random_state).fit_transform(z)
    from sklearn.manifold import TSNE

    perplexity = min(perplexity, max(1.0, (z.shape[0] - 1) / 3.0))
    tsne = TSNE(
        n_components=2,
        perplexity=perplexity,
        init="pca",
        random_state=random_state,
        max_iter=max(250, int(max_iter)),
    )
    if z.shape[0] >= _THREADED_TSNE_MIN:
        return tsne.fit_transform(z).astype(np.float64)
    # Small sets: one OpenMP thread. With torch loaded, its OpenMP pool and t-SNE's
    # spin-wait against each other on a busy machine (measured 13x slower on 2 cores).
    with threadpool_limits(limits=1, user_api="openmp"):
        return tsne.fit_transform(z).astype(np.float64)


def _is_categorical(values: pd.Series, categorical: bool | None) -> bool:
    if categorical is not None:
        return categorical
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return True
    return pd.api.types.is_integer_dtype(values) and values.nunique() <= _MAX_CATEGORIES


def latent_projection(
    latents: np.ndarray,
    values: Sequence[object] | np.ndarray,
    *,
    method: Literal["pca", "tsne"] = "pca",
    random_state: int = 0,
    embedding: np.ndarray | None = None,
    factor_name: str = "",
    categorical: bool | None = None,
    title: str | None = None,
    point_size: float | None = None,
    log_scale: bool = False,
) -> Figure:
    """Scatter plot of a 2-D latent projection coloured by one factor.

    Parameters
    ----------
    latents : np.ndarray [shape=(n_samples, n_latents)]
    values : array-like of shape (n_samples,)
        Factor value per sample (codes, physical values or labels such as descriptor
        names).
    method : {"pca", "tsne"}, default="pca"
    random_state : int, default=0
    embedding : np.ndarray [shape=(n_samples, 2)], optional
        A precomputed projection (from :func:`project_latents`); then ``latents`` is
        only checked for length.
    factor_name : str
        Legend title / colour-bar label.
    categorical : bool, optional
        Force a legend (True) or a colour bar (False). By default strings, booleans and
        integers with <= 20 distinct values get a legend, other numbers a colour bar.
    title : str, optional
        Default ``"PCA of latents — <factor_name>"`` (or ``t-SNE``).
    point_size : float, optional
        Marker area (points²). Default: 10 for up to 300 points, smaller for more (down
        to 3), with more transparency, so that dense regions show as dense.
    log_scale : bool, default=False
        Colour a numeric factor on a logarithmic scale (``LogNorm``): for factors whose
        levels are log-spaced (the dataset card's ``scale`` ``"log"``/``"exp2"``, e.g.
        ``f0_hz``), so that each level gets its own colour step. Values must be positive.

    Returns
    -------
    matplotlib.figure.Figure
        One scatter axis (one collection per category, or one collection plus colour
        bar), axis labels ``PC 1 (42 % of variance)`` (PCA: the share of the latents'
        total variance along each axis) or ``t-SNE 1 (no unit)``.
    """
    z = np.asarray(latents)
    series = pd.Series(np.asarray(values).ravel() if not isinstance(values, pd.Series) else values)
    series = series.reset_index(drop=True)
    if len(series) != z.shape[0]:
        raise ParameterError(f"values has {len(series)} entries but latents has {z.shape[0]} rows")
    if embedding is None:
        xy = project_latents(z, method=method, random_state=random_state)
    else:
        xy = np.asarray(embedding, dtype=np.float64)
        if xy.shape != (z.shape[0], 2):
            raise ParameterError(f"embedding must have shape ({z.shape[0]}, 2); got {xy.shape}")
    fig = new_figure(6.4, 5.0)
    ax = fig.add_subplot()
    n = len(xy)
    size = point_size if point_size is not None else float(np.clip(10.0 * np.sqrt(300 / max(n, 1)), 3.0, 10.0))
    alpha = 0.8 if n <= 300 else float(np.clip(0.8 * np.sqrt(300 / n), 0.25, 0.8))
    if _is_categorical(series, categorical):
        _scatter_categories(ax, xy, series, factor_name, size, alpha)
    else:
        _scatter_values(fig, ax, xy, series.to_numpy(dtype=float), factor_name, size, alpha, log_scale)
    if method == "tsne":
        ax.set_xlabel("t-SNE 1 (no unit)")
        ax.set_ylabel("t-SNE 2 (no unit)")
    else:
        total = float(np.sum(np.var(z.astype(np.float64), axis=0)))
        share = 100.0 * np.var(xy, axis=0) / total if total > 0 else np.zeros(2)
        ax.set_xlabel(f"PC 1 ({share[0]:.0f} % of variance)")
        ax.set_ylabel(f"PC 2 ({share[1]:.0f} % of variance)")
    default_title = f"{'t-SNE' if method == 'tsne' else 'PCA'} of latents"
    if factor_name:
        default_title += f" — {factor_name}"
    ax.set_title(title if title is not None else default_title)
    return fig


def _scatter_categories(ax: Any, xy: np.ndarray, series: pd.Series, factor_name: str, point_size: float,
                        alpha: float) -> None:
    categories = pd.unique(series)
    try:
        categories = sorted(categories)
    except TypeError:
        pass
    cmap = matplotlib.colormaps["tab20" if len(categories) > 10 else "tab10"]
    for index, category in enumerate(categories):
        mask = (series == category).to_numpy()
        ax.scatter(xy[mask, 0], xy[mask, 1], s=point_size, color=cmap(index % cmap.N),
                   label=str(category), alpha=alpha, linewidths=0)
    legend = ax.legend(title=factor_name or None, fontsize="small", markerscale=2.0, loc="center left",
                       bbox_to_anchor=(1.0, 0.5))
    for handle in legend.legend_handles:
        handle.set_alpha(1.0)


def _scatter_values(fig: Figure, ax: Any, xy: np.ndarray, values: np.ndarray, factor_name: str,
                    point_size: float, alpha: float, log_scale: bool) -> None:
    norm = None
    if log_scale:
        if not np.all(values > 0):
            raise ParameterError(f"log_scale needs positive values; {factor_name or 'values'} has some <= 0")
        norm = LogNorm(vmin=float(values.min()), vmax=float(values.max()))
    points = ax.scatter(xy[:, 0], xy[:, 1], c=values, s=point_size, cmap="viridis", norm=norm,
                        alpha=alpha, linewidths=0)
    bar = fig.colorbar(points, ax=ax, label=f"{factor_name}, log scale" if log_scale else factor_name)
    bar.solids.set_alpha(1.0)
    if log_scale:  # round values (100, 200, 500), not a grid's levels (719.7) nor only decades
        ticks = log_ticks(float(values.min()), float(values.max()))
        bar.set_ticks(ticks, labels=[f"{v:g}" for v in ticks])
        bar.minorticks_off()


def log_ticks(vmin: float, vmax: float) -> np.ndarray:
    """Round ticks for a log axis from ``vmin`` to ``vmax`` (both > 0).

    1, 2, 5 × 10^k inside the range; if fewer than three, every 1..9 × 10^k; if still
    fewer than two, the ends rounded to 2 significant figures.

    Examples
    --------
    >>> log_ticks(100.0, 1000.0)
    array([ 100.,  200.,  500., 1000.])
    """
    decades = range(int(np.floor(np.log10(vmin))), int(np.ceil(np.log10(vmax))) + 1)
    for mantissas in ((1, 2, 5), tuple(range(1, 10))):
        ticks = np.array([m * 10.0**k for k in decades for m in mantissas
                          if vmin * (1 - 1e-9) <= m * 10.0**k <= vmax * (1 + 1e-9)])
        if len(ticks) >= 3:
            return ticks
    if len(ticks) >= 2:
        return ticks
    return np.unique([float(f"{vmin:.2g}"), float(f"{vmax:.2g}")])
