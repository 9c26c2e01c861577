"""Figures: training curves, the mutual-information heat map, spectrogram images and
latent traversal grids.

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (save
it with ``fig.savefig`` or embed it in a :class:`~timbrespace.analysis.report.Report`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from timbrespace.analysis._plotting import check_names, figure_grid, new_figure
from timbrespace.errors import ParameterError

__all__ = [
    "history_frame",
    "mi_heatmap",
    "spectrogram_image",
    "sweep_figure",
    "training_curves",
    "traversal_grid",
]

_SPLIT_PREFIXES = ("train_", "val_", "valid_", "validation_", "test_")
_X_COLUMNS = ("epoch", "step", "global_step")


def history_frame(history: Any) -> pd.DataFrame:
    """Training history as a DataFrame, one row per record.

    Parameters
    ----------
    history : DataFrame, sequence of dataclass records (e.g. ``EpochRecord``) or of
        mappings, or a mapping of column -> sequence.

    Returns
    -------
    pandas.DataFrame
    """
    if isinstance(history, pd.DataFrame):
        return history.copy()
    if isinstance(history, Mapping):
        return pd.DataFrame(dict(history))
    rows = []
    for record in history:
        if dataclasses.is_dataclass(record) and not isinstance(record, type):
            rows.append(dataclasses.asdict(record))
        elif isinstance(record, Mapping):
            rows.append(dict(record))
        elif hasattr(record, "to_dict"):
            rows.append(record.to_dict())
        else:
            raise ParameterError(
                f"history records must be dataclasses or mappings; got {type(record).__name__}"
            )
    return pd.DataFrame(rows)


def _split_name(column: str) -> tuple[str, str]:
    for prefix in _SPLIT_PREFIXES:
        if column.startswith(prefix):
            return column[len(prefix) :], prefix.rstrip("_")
    return column, ""


def training_curves(history: Any, *, log_scale: bool = False) -> Figure:
    """One panel per quantity (loss, recon, kl, beta, ...), train and validation overlaid.

    Parameters
    ----------
    history : DataFrame or sequence of records
        Per-epoch records, e.g. ``TrainResult.history`` (``EpochRecord`` with ``epoch``,
        ``train_loss``, ``val_loss``, ``train_recon``, ..., ``beta``). Columns prefixed
        ``train_``/``val_``/``valid_``/``test_`` share a panel; all-missing columns are
        skipped.
    log_scale : bool, default=False
        Log y axis for the loss panels (positive values only).

    Returns
    -------
    matplotlib.figure.Figure
        Axes titled by quantity, lines labelled by split.

    Raises
    ------
    ParameterError
        If the history is empty or has no numeric columns.
    """
    frame = history_frame(history)
    if frame.empty:
        raise ParameterError("history is empty: nothing to plot")
    x_name = next((c for c in _X_COLUMNS if c in frame.columns), None)
    x = frame[x_name].to_numpy() if x_name else np.arange(len(frame))
    groups: dict[str, list[tuple[str, str]]] = {}
    for column in frame.columns:
        if column == x_name:
            continue
        values = pd.to_numeric(frame[column], errors="coerce")
        if values.notna().sum() == 0:
            continue
        quantity, split = _split_name(str(column))
        groups.setdefault(quantity, []).append((str(column), split))
    if not groups:
        raise ParameterError(f"history has no numeric columns (columns: {list(frame.columns)})")
    n = len(groups)
    n_cols = min(n, 3)
    fig, axes = figure_grid((n + n_cols - 1) // n_cols, n_cols, cell_in=(3.2, 2.4))
    for ax, (quantity, columns) in zip(axes.flat, groups.items(), strict=False):
        for column, split in columns:
            y = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            ax.plot(x, y, marker="." if len(x) < 30 else None, label=split or quantity)
        ax.set_title(quantity)
        ax.set_xlabel(x_name or "record")
        if log_scale and quantity != "beta":
            finite = pd.to_numeric(frame[columns[0][0]], errors="coerce")
            if (finite.dropna() > 0).all():
                ax.set_yscale("log")
        if len(columns) > 1:
            ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig


def mi_heatmap(
    mi: np.ndarray,
    latent_names: Sequence[str] | None = None,
    factor_names: Sequence[str] | None = None,
    *,
    normalize_by: np.ndarray | None = None,
    annotate: bool = True,
    title: str = "Mutual information (nats)",
) -> Figure:
    """Heat map of a mutual-information matrix, latents as rows and factors as columns.

    Parameters
    ----------
    mi : np.ndarray [shape=(n_latents, n_factors)]
        E.g. ``MIGResult.mi`` (nats).
    latent_names, factor_names : sequence of str, optional
        Row and column labels (default ``z0..``, ``v0..``).
    normalize_by : np.ndarray [shape=(n_factors,)], optional
        Divide each column by this (e.g. ``MIGResult.factor_entropy`` to show the
        fraction of each factor's entropy); zero entries leave the column at 0.
    annotate : bool, default=True
        Write the value in each cell (only when the matrix has <= 400 cells).
    title : str

    Returns
    -------
    matplotlib.figure.Figure
        One image axis plus a colour bar; the image array equals the (normalised) MI.
    """
    m = np.asarray(mi, dtype=np.float64)
    if m.ndim != 2:
        raise ParameterError(f"mi must be 2-D (n_latents, n_factors); got shape {m.shape}")
    if normalize_by is not None:
        h = np.asarray(normalize_by, dtype=np.float64)
        if h.shape != (m.shape[1],):
            raise ParameterError(f"normalize_by must have shape ({m.shape[1]},); got {h.shape}")
        m = np.divide(m, h, out=np.zeros_like(m), where=h > 0)
    rows = check_names(latent_names, m.shape[0], "z", "latent_names")
    cols = check_names(factor_names, m.shape[1], "v", "factor_names")
    fig = new_figure(1.2 + 0.9 * m.shape[1], 1.0 + 0.35 * m.shape[0] + 0.6)
    ax = fig.add_subplot()
    image = ax.imshow(m, cmap="viridis", aspect="auto", vmin=0.0)
    ax.set_xticks(range(m.shape[1]), cols, rotation=30, ha="right")
    ax.set_yticks(range(m.shape[0]), rows)
    ax.set_xlabel("factor")
    ax.set_ylabel("latent")
    ax.set_title(title)
    if annotate and m.size <= 400:
        vmax = float(m.max()) if m.size else 0.0
        for (i, j), value in np.ndenumerate(m):
            ax.text(
                j,
                i,
                f"{value:.2f}",
                ha="center",
                va="center",
                fontsize=7,
                color="black" if value > 0.6 * vmax else "white",
            )
    fig.colorbar(image, ax=ax)
    return fig


def _show_spectrogram(
    ax: Axes,
    spec: np.ndarray,
    *,
    sample_rate: float | None,
    hop_length: int | None,
    vmin: float | None,
    vmax: float | None,
    cmap: str,
) -> Any:
    n_bins, n_frames = spec.shape
    extent = None
    if sample_rate is not None:
        top_hz = sample_rate / 2.0
        right = n_frames * hop_length / sample_rate if hop_length else n_frames
        extent = (0.0, right, 0.0, top_hz)
    return ax.imshow(
        spec,
        origin="lower",
        aspect="auto",
        cmap=cmap,
        vmin=vmin,
        vmax=vmax,
        extent=extent,
        interpolation="nearest",
    )


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
    fig = new_figure(6.0, 3.6)
    ax = fig.add_subplot()
    image = _show_spectrogram(
        ax, spec, sample_rate=sample_rate, hop_length=hop_length, vmin=vmin, vmax=vmax, cmap=cmap
    )
    ax.set_ylabel("frequency (Hz)" if sample_rate else "bin")
    ax.set_xlabel("time (s)" if sample_rate and hop_length else "frame")
    if title:
        ax.set_title(title)
    fig.colorbar(image, ax=ax, label=colorbar_label)
    return fig


def traversal_grid(
    spectrograms: np.ndarray,
    *,
    latent_names: Sequence[str] | None = None,
    values: Sequence[float] | None = None,
    sample_rate: float | None = None,
    cmap: str = "magma",
    title: str = "Latent traversals",
) -> Figure:
    """Grid of decoded spectra: one row per latent, one column per traversal value.

    Parameters
    ----------
    spectrograms : np.ndarray [shape=(n_latents, n_values, n_bins[, n_frames])]
        Decoder outputs. Single-frame spectra (3-D input) are drawn as curves, with all
        columns of a row on the same y range; spectrograms (4-D) as images sharing one
        colour range.
    latent_names : sequence of str, optional
        Row labels (default ``z0..``).
    values : sequence of float, optional
        Column labels: the latent value of each column.
    sample_rate : float, optional
        Hz, for a frequency axis on single-frame spectra.
    cmap, title
        Display options.

    Returns
    -------
    matplotlib.figure.Figure
        ``n_latents x n_values`` axes.
    """
    s = np.asarray(spectrograms, dtype=np.float64)
    if s.ndim not in (3, 4):
        raise ParameterError(
            f"spectrograms must be (n_latents, n_values, n_bins[, n_frames]); got shape {s.shape}"
        )
    n_rows, n_cols = s.shape[:2]
    rows = check_names(latent_names, n_rows, "z", "latent_names")
    if values is not None and len(values) != n_cols:
        raise ParameterError(f"values has {len(values)} entries but there are {n_cols} columns")
    fig, axes = figure_grid(n_rows, n_cols, cell_in=(1.5, 1.2), sharex=True, sharey=True)
    vmin, vmax = float(np.min(s)), float(np.max(s))
    freqs = (
        np.linspace(0.0, sample_rate / 2.0, s.shape[2]) if sample_rate else np.arange(s.shape[2])
    )
    for i in range(n_rows):
        for j in range(n_cols):
            ax = axes[i, j]
            if s.ndim == 4:
                _show_spectrogram(
                    ax,
                    s[i, j],
                    sample_rate=None,
                    hop_length=None,
                    vmin=vmin,
                    vmax=vmax,
                    cmap=cmap,
                )
            else:
                ax.plot(freqs, s[i, j], linewidth=0.8)
                ax.set_ylim(vmin, vmax)
            ax.tick_params(labelsize=6)
            if j == 0:
                ax.set_ylabel(rows[i])
            if i == 0 and values is not None:
                ax.set_title(f"{values[j]:+.2g}", fontsize=8)
    fig.suptitle(title)
    return fig


def sweep_figure(
    table: pd.DataFrame,
    metrics: Sequence[str],
    *,
    baselines: Sequence[str] = ("pca", "ica"),
) -> Figure:
    """Every metric of a sweep against β: mean ± std over seeds, one line per model.

    Parameters
    ----------
    table : pandas.DataFrame
        One row per run with columns ``model``, ``beta`` and one per metric (the sweep's
        ``sweep.csv``). Rows whose ``model`` is one of ``baselines`` (no β) are drawn as
        horizontal lines at their mean over seeds.
    metrics : sequence of str
        Columns to plot, one panel each (four per row).
    baselines : sequence of str
        Model names of the linear baselines (dotted, then dashed lines).

    Returns
    -------
    matplotlib.figure.Figure
    """
    n_cols = 4
    n_rows = max(1, (len(metrics) + n_cols - 1) // n_cols)
    fig, axes = figure_grid(n_rows, n_cols, cell_in=(3.75, 3.25), sharex=True)
    references = table[table["model"].isin(baselines)]
    runs = table[~table["model"].isin(baselines)]
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        for model, group in runs.groupby("model", sort=True):
            by_beta = group.groupby("beta")[metric]
            ax.errorbar(by_beta.mean().index, by_beta.mean(), yerr=by_beta.std(ddof=0), marker="o",
                        capsize=3, label=str(model))
        for style, method in zip((":", "--"), baselines, strict=False):
            values = references.loc[references["model"] == method, metric].to_numpy(dtype=float)
            if np.isfinite(values).any():
                ax.axhline(np.nanmean(values), color="0.3", ls=style, lw=1, label=f"{method} (linear)")
        ax.set_xscale("log", base=2)
        ax.set_title(metric)
        ax.set_xlabel("beta")
        ax.set_ylabel("score")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    return fig
