"""Figures: training curves, the mutual-information heat map, sweep curves (spectrogram
images and traversal grids are in :mod:`timbrespace.analysis.spectrograms`).

Every function returns a :class:`matplotlib.figure.Figure` built without pyplot (save
it with ``fig.savefig`` or embed it in a :class:`~timbrespace.analysis.report.Report`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from timbrespace.analysis._plotting import (
    MIN_FONT_PT,
    PAGE_WIDTH_IN,
    check_names,
    figure_grid,
    new_figure,
)
from timbrespace.errors import ParameterError

__all__ = [
    "history_frame",
    "mi_heatmap",
    "sweep_figure",
    "training_curves",
]

_SPLIT_PREFIXES = ("train_", "val_", "valid_", "validation_", "test_")
_X_COLUMNS = ("epoch", "step", "global_step")
# panel title and y-axis label of the quantities an EpochRecord holds (nats per item)
_PANELS = {
    "loss": ("Loss: reconstruction NLL + β·KL", "loss (nats per item)"),
    "recon": ("Reconstruction NLL", "NLL (nats per item)"),
    "kl": ("KL to the prior", "KL (nats per item)"),
    "beta": ("β, the weight of the KL term", "β (no unit)"),
    "tc": ("Total correlation", "TC (nats per item)"),
}
_X_LABELS = {"epoch": "epoch (count)", "step": "optimiser step (count)", "global_step": "optimiser step (count)"}


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

    When ``beta`` rises before it levels off (a β warm-up), the warm-up epochs are shaded
    on every panel: there the loss may rise while the model improves, because the KL
    term's weight grows.

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
        Axes titled by quantity in words (``"KL to the prior"``, not ``train_kl``) and
        labelled with its unit (nats per item), lines labelled by split.

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
    warmup_end = _warmup_end(frame, x)
    for ax, (quantity, columns) in zip(axes.flat, groups.items(), strict=False):
        if warmup_end is not None:
            ax.axvspan(x[0], warmup_end, color="0.85", alpha=0.5, lw=0,
                       label="β warm-up" if quantity == "loss" else None)
        for column, split in columns:
            y = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
            ax.plot(x, y, marker="." if len(x) < 30 else None, label=split or quantity)
        title, y_label = _PANELS.get(quantity, (quantity.replace("_", " ").capitalize(), quantity))
        ax.set_title(title, fontsize=10)
        ax.set_xlabel(_X_LABELS.get(x_name or "", "record (index)"))
        ax.set_ylabel(y_label)
        if log_scale and quantity != "beta":
            finite = pd.to_numeric(frame[columns[0][0]], errors="coerce")
            if (finite.dropna() > 0).all():
                ax.set_yscale("log")
        if len(columns) > 1 or (warmup_end is not None and quantity == "loss"):
            ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[n:]:
        ax.set_visible(False)
    return fig


def _warmup_end(frame: pd.DataFrame, x: np.ndarray) -> float | None:
    """The x at which a rising ``beta`` first reaches its final plateau, or None."""
    if "beta" not in frame.columns:
        return None
    beta = pd.to_numeric(frame["beta"], errors="coerce").to_numpy(dtype=float)
    if not np.isfinite(beta).all() or len(beta) < 2 or not beta[-1] > beta[0]:
        return None
    reached = int(np.argmax(beta >= beta[-1] - 1e-9 * max(1.0, abs(beta[-1]))))
    return float(x[reached]) if reached > 0 else None


def mi_heatmap(
    mi: np.ndarray,
    latent_names: Sequence[str] | None = None,
    factor_names: Sequence[str] | None = None,
    *,
    normalize_by: np.ndarray | None = None,
    annotate: bool = True,
    title: str = "Mutual information (nats)",
    colorbar_label: str | None = None,
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
    colorbar_label : str, optional
        Default ``"mutual information (nats)"``, or ``"fraction of the factor's entropy"``
        with ``normalize_by``.

    Returns
    -------
    matplotlib.figure.Figure
        One image axis plus a colour bar; the image array equals the (normalised) MI.
    """
    if colorbar_label is None:
        colorbar_label = "mutual information (nats)" if normalize_by is None else "fraction of the factor's entropy"
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
    fig = new_figure(min(PAGE_WIDTH_IN, 2.2 + 0.9 * m.shape[1]), 1.4 + 0.35 * m.shape[0] + 0.6)
    ax = fig.add_subplot()
    image = ax.imshow(m, cmap="viridis", aspect="auto", vmin=0.0)
    ax.set_xticks(range(m.shape[1]), cols, rotation=30, ha="right")
    ax.set_yticks(range(m.shape[0]), rows)
    ax.set_xlabel("factor (ground truth)")
    ax.set_ylabel("latent (mean code)")
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
                fontsize=MIN_FONT_PT,
                color="black" if value > 0.6 * vmax else "white",
            )
    fig.colorbar(image, ax=ax, label=colorbar_label)
    return fig


def sweep_figure(
    table: pd.DataFrame,
    metrics: Sequence[str],
    *,
    baselines: Sequence[str] = ("pca", "ica"),
) -> Figure:
    """Every metric of a sweep against β: mean ± std over seeds, one line per model (with
    a single β, one point per model, and for MIG the score before training beside it).

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
    references = table[table["model"].isin(baselines)]
    runs = table[~table["model"].isin(baselines)]
    one_beta = runs["beta"].nunique() <= 1  # then the models are the x axis
    fig, axes = figure_grid(n_rows, n_cols, cell_in=(3.75, 3.75 if one_beta else 3.25), sharex=True)
    models = list(dict.fromkeys(runs["model"]))  # in grid order
    for ax in axes.flat[len(metrics):]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, metrics, strict=False):
        if one_beta:
            by_model = runs.groupby("model", sort=False)[metric]
            mean, std = by_model.mean().reindex(models), by_model.std(ddof=0).reindex(models)
            ax.errorbar(np.arange(len(models)), mean, yerr=std, ls="none", marker="o", capsize=3,
                        color="C0", label="trained (mean ± sd over seeds)")
            if metric == "mig" and "mig_at_init" in runs:
                at_init = runs.groupby("model", sort=False)["mig_at_init"].mean().reindex(models)
                ax.plot(np.arange(len(models)), at_init, ls="none", marker="x", color="C3",
                        label="before training")
            ax.set_xticks(np.arange(len(models)), models, rotation=60, ha="right", fontsize=MIN_FONT_PT)
            ax.set_xlabel("model")
        else:
            for model, group in runs.groupby("model", sort=True):
                by_beta = group.groupby("beta")[metric]
                ax.errorbar(by_beta.mean().index, by_beta.mean(), yerr=by_beta.std(ddof=0), marker="o",
                            capsize=3, label=str(model))
            ax.set_xscale("log", base=2)
            ax.set_xlabel("β (no unit)")
        for style, method in zip((":", "--"), baselines, strict=False):
            values = references.loc[references["model"] == method, metric].to_numpy(dtype=float)
            if np.isfinite(values).any():
                ax.axhline(np.nanmean(values), color="0.3", ls=style, lw=1, label=f"{method} (linear)")
        ax.set_title(metric if not one_beta else f"{metric} (beta {runs['beta'].iloc[0]:g})")
        ax.set_ylabel("score (0 to 1)")
        ax.grid(alpha=0.3)
    if one_beta:  # between the trained scores and the baselines / scores at init
        axes.flat[0].legend(fontsize=MIN_FONT_PT, loc="lower center", bbox_to_anchor=(0.5, 0.12))
    else:
        axes.flat[0].legend(fontsize=8)
    return fig
