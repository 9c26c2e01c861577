"""Sweeps: train a grid of (model, β, seed) on one feature set and tabulate the metrics.

A small version of the disentanglement_lib study (Locatello et al. 2019) on our audio
datasets. Each run lives in ``out_dir/<objective>-beta<β>-seed<s>/`` (a normal run
folder); a finished run (its ``latents.npz`` exists) is not trained again, so a killed
sweep resumes. The table goes to ``out_dir/sweep.csv`` and a figure of every metric
against β (mean ± std over seeds, one line per model) to ``out_dir/sweep.png``.

Metrics: MIG and modularity on all items; DCI and SAP fitted on the ``train`` split and
scored on ``test`` (``valid`` or all items when absent).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.models import VAEConfig
from timbrespace.training.config import TrainConfig
from timbrespace.training.dataset_training import train_on_dataset
from timbrespace.utils.atomic import atomic_path, atomic_write_text

if TYPE_CHECKING:
    from timbrespace.datasets.dataset import Dataset

__all__ = ["SweepRow", "sweep", "score_latents", "active_latents", "plot_sweep", "METRIC_COLUMNS"]

log = logging.getLogger(__name__)

METRIC_COLUMNS = (
    "mig",
    "dci_disentanglement",
    "dci_completeness",
    "dci_informativeness",
    "sap",
    "modularity",
    "mig_ica",
)


@dataclass(frozen=True)
class SweepRow:
    """One trained run of a sweep and its scores (``nan`` where a metric is undefined)."""

    model: str
    beta: float
    seed: int
    run: str
    epochs: int
    train_loss: float
    val_loss: float
    train_time_s: float
    mig: float
    dci_disentanglement: float
    dci_completeness: float
    dci_informativeness: float
    sap: float
    modularity: float
    mig_ica: float
    n_active_latents: int


def _split_masks(split: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n = split.shape[0]
    train = split == "train" if split.size else np.ones(n, bool)
    for name in ("test", "valid"):
        test = split == name if split.size else np.zeros(n, bool)
        if test.any():
            return (train if train.any() else ~test), test
    return np.ones(n, bool), np.ones(n, bool)


def score_latents(
    latents: np.ndarray,
    factors: np.ndarray,
    split: np.ndarray,
    *,
    random_state: int = 0,
    dci_estimator: str = "gbt",
) -> dict[str, float]:
    """MIG, DCI (disentanglement, completeness, test informativeness), SAP, modularity and
    ``mig_ica``: MIG after an unsupervised ICA re-alignment of the active latents
    (:func:`timbrespace.analysis.align_latents`; an analysis, not the model's own axes).

    Parameters
    ----------
    latents : np.ndarray [shape=(n_items, n_latents)]
    factors : np.ndarray [shape=(n_items, n_factors), dtype=int]
    split : np.ndarray [shape=(n_items,) or (0,), dtype=str]
        Split label of each item (``train``/``valid``/``test``).

    Returns
    -------
    dict
        One float per name of ``METRIC_COLUMNS``; ``nan`` where a metric raised
        (e.g. modularity with one factor).
    """
    from timbrespace.metrics import dci, mig, modularity, sap

    train, test = _split_masks(split)
    scores = dict.fromkeys(METRIC_COLUMNS, float("nan"))
    jobs = {
        "mig": lambda: {"mig": mig(latents, factors).score},
        "modularity": lambda: {"modularity": modularity(latents, factors).score},
        "mig_ica": lambda: {"mig_ica": _mig_ica(latents, factors, random_state)},
        "sap": lambda: {
            "sap": sap(latents[train], factors[train], latents[test], factors[test]).score
        },
        "dci": lambda: _dci(
            dci(
                latents[train],
                factors[train],
                latents[test],
                factors[test],
                random_state=random_state,
                estimator=dci_estimator,
            )
        ),  # type: ignore[arg-type]
    }
    for name, job in jobs.items():
        try:
            scores.update(job())
        except Exception as exc:  # a metric undefined for this dataset must not lose the run
            log.warning("%s not computed: %s", name, exc)
    return scores


def _mig_ica(latents: np.ndarray, factors: np.ndarray, random_state: int) -> float:
    from timbrespace.analysis import align_active_latents
    from timbrespace.metrics import mig

    return mig(align_active_latents(latents, "ica", random_state=random_state), factors).score


def active_latents(latents: np.ndarray, *, threshold: float = 0.01) -> int:
    """Number of active units: latents whose posterior mean varies across items, ``Var_x(mu) > threshold``.

    References
    ----------
    Burda, Grosse & Salakhutdinov, "Importance weighted autoencoders", ICLR 2016, sec. 5.2.
    """
    return int((np.var(np.asarray(latents, dtype=np.float64), axis=0) > threshold).sum())


def _dci(result: object) -> dict[str, float]:
    return {
        "dci_disentanglement": result.disentanglement,  # type: ignore[attr-defined]
        "dci_completeness": result.completeness,  # type: ignore[attr-defined]
        "dci_informativeness": result.informativeness_test,  # type: ignore[attr-defined]
    }


def sweep(
    dataset: Dataset,
    *,
    features: str,
    model_configs: Sequence[VAEConfig],
    betas: Sequence[float],
    seeds: Sequence[int],
    train_config: TrainConfig,
    out_dir: str | Path,
    dci_estimator: str = "gbt",
    plot: bool = True,
) -> tuple[SweepRow, ...]:
    """Train every (model, β, seed) and write ``sweep.csv`` (+ ``sweep.png``).

    Parameters
    ----------
    dataset : Dataset
        Dataset with stored features and known factors.
    features : str
        Feature set name.
    model_configs : sequence of VAEConfig
        One per model (objective); their ``beta`` is replaced by each of ``betas``.
        Conditional configs are refused (they see the factors).
    betas : sequence of float
        β values.
    seeds : sequence of int
        Training seeds (``train_config.seed`` is replaced).
    train_config : TrainConfig
        Shared training settings (its ``beta`` must be ``None``).
    out_dir : path-like
        Sweep folder.
    dci_estimator : {"gbt", "hist"}
        DCI's per-factor classifier (``hist`` is faster on large sets).
    plot : bool
        Write ``sweep.png``.

    Returns
    -------
    tuple of SweepRow
        One row per run, in grid order.
    """
    if not model_configs or not betas or not seeds:
        raise ParameterError("model_configs, betas and seeds must each hold at least one value")
    if any(c.is_conditional for c in model_configs):
        raise ParameterError(
            "a sweep scores disentanglement: conditional models (condition_classes) are not allowed"
        )
    if train_config.beta is not None:
        raise ParameterError(
            f"train_config.beta={train_config.beta} must be None in a sweep (betas sets it)"
        )
    out_dir = Path(out_dir)
    rows: list[SweepRow] = []
    for config in model_configs:
        for beta in betas:
            for seed in seeds:
                name = f"{config.objective}-beta{beta:g}-seed{seed}"
                run = out_dir / name
                model_config = dataclasses.replace(config, beta=float(beta))
                tc = dataclasses.replace(train_config, seed=int(seed))
                if not (run / "latents.npz").is_file():
                    log.info("sweep: training %s", name)
                    start = time.perf_counter()
                    train_on_dataset(
                        dataset,
                        features=features,
                        model_config=model_config,
                        train_config=tc,
                        out_dir=run,
                        resume=True,
                    )
                    atomic_write_text(
                        run / "train_time_s.txt", f"{time.perf_counter() - start:.3f}\n"
                    )
                rows.append(
                    _row(run, name, config.objective, float(beta), int(seed), dci_estimator)
                )
                _write_table(rows, out_dir / "sweep.csv")
    if plot:
        plot_sweep(rows, out_dir / "sweep.png")
    return tuple(rows)


def _row(run: Path, name: str, model: str, beta: float, seed: int, dci_estimator: str) -> SweepRow:
    import json

    with np.load(run / "latents.npz") as data:
        n_active = active_latents(data["latents"])
        scores = score_latents(
            data["latents"],
            data["factors"],
            data["split"],
            random_state=seed,
            dci_estimator=dci_estimator,
        )
    history = (
        json.loads((run / "history.json").read_text()) if (run / "history.json").is_file() else []
    )
    last = history[-1] if history else {}
    time_path = run / "train_time_s.txt"
    train_time_s = float(time_path.read_text()) if time_path.is_file() else float("nan")
    val = last.get("val_loss")
    return SweepRow(
        model=model,
        beta=beta,
        seed=seed,
        run=name,
        epochs=len(history),
        train_loss=float(last.get("train_loss", np.nan)),
        val_loss=float("nan") if val is None else float(val),
        train_time_s=train_time_s,
        **{k: float(scores[k]) for k in METRIC_COLUMNS},
        n_active_latents=n_active,
    )


def _write_table(rows: list[SweepRow], path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame([dataclasses.asdict(r) for r in rows])
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def plot_sweep(rows: Sequence[SweepRow], path: str | Path) -> Path:
    """Every metric against β (log2 axis), mean ± std over seeds, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(15, 6.5), sharex=True)
    models = sorted({r.model for r in rows})
    for ax in axes.flat[len(METRIC_COLUMNS):]:
        ax.set_visible(False)
    for ax, metric in zip(axes.flat, METRIC_COLUMNS, strict=False):
        for model in models:
            betas = sorted({r.beta for r in rows if r.model == model})
            values = [
                [getattr(r, metric) for r in rows if r.model == model and r.beta == b]
                for b in betas
            ]
            mean = [np.nanmean(v) if np.isfinite(v).any() else np.nan for v in values]
            std = [np.nanstd(v) if np.isfinite(v).any() else np.nan for v in values]
            ax.errorbar(betas, mean, yerr=std, marker="o", capsize=3, label=model)
        ax.set_xscale("log", base=2)
        ax.set_title(metric)
        ax.set_xlabel("beta")
        ax.grid(alpha=0.3)
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    plt.close(fig)
    return Path(path)
