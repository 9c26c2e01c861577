"""Sweeps: train a grid of (model, β, seed) on one feature set and tabulate the metrics.

A small version of the disentanglement_lib study (Locatello et al. 2019) on our audio
datasets. Each run lives in ``out_dir/<objective>-beta<β>-seed<s>/`` (a normal run
folder); a finished run (its ``latents.npz`` exists) is not trained again, so a killed
sweep resumes. The table goes to ``out_dir/sweep.csv`` and a figure of every metric
against β (mean ± std over seeds, one line per model) to ``out_dir/sweep.png``.

Metrics: MIG and modularity on all items; DCI and SAP fitted on the ``train`` split and
scored on ``test`` (``valid`` or all items when absent).

Beside the VAEs, a sweep scores two linear baselines of the same features with the same
metrics (:func:`linear_baselines`): PCA and FastICA, fitted on the ``train`` split with
as many components as the models have latents. They answer "how much of the factor
structure is linear in the input?": a VAE that scores below ICA has not found the
independent directions a linear method finds.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.models import VAEConfig
from timbrespace.training.config import INIT_METHODS, TrainConfig
from timbrespace.training.dataset_training import train_on_dataset
from timbrespace.training.linear import BASELINE_METHODS, fit_linear_baseline
from timbrespace.utils.atomic import atomic_path, atomic_write_text

if TYPE_CHECKING:
    from timbrespace.datasets.dataset import Dataset

__all__ = [
    "SweepRow",
    "sweep",
    "linear_baselines",
    "fit_linear_baseline",
    "score_latents",
    "active_latents",
    "plot_sweep",
    "METRIC_COLUMNS",
    "BASELINE_METHODS",
]

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
    """One trained run of a sweep and its scores (``nan`` where a metric is undefined).

    A linear-baseline row has ``model`` ``"pca"`` or ``"ica"``, ``beta`` ``nan``,
    ``epochs`` 0, ``nan`` losses, ``init`` ``"none"`` and its fitting time in
    ``train_time_s``. A VAE started at a linear solution (``init`` ``"ica"`` or
    ``"pca"``, :func:`~timbrespace.training.linear_start`) has ``model``
    ``"<objective>+<init>"``.
    """

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
    init: str = "random"


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
    baselines: Sequence[str] = BASELINE_METHODS,
    inits: Sequence[str] = ("random",),
) -> tuple[SweepRow, ...]:
    """Train every (model, init, β, seed) and write ``sweep.csv`` (+ ``sweep.png``).

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
    baselines : sequence of {"pca", "ica"}
        Linear baselines scored first, with as many components as the largest
        ``latent_dim`` (:func:`linear_baselines`); empty for none.
    inits : sequence of {"random", "ica", "pca"}
        Weight initialisations (``TrainConfig.init``). ``ica`` / ``pca`` runs use the
        model with ``linear_skip=True`` (MLP only) and are labelled ``"<objective>+<init>"``.

    Returns
    -------
    tuple of SweepRow
        The baseline rows, then one row per run in grid order.

    Raises
    ------
    ParameterError
        Empty grid, a conditional model, ``train_config.beta`` set, an unknown
        baseline or init, or a linear start for a conv model.
    """
    if not model_configs or not betas or not seeds or not inits:
        raise ParameterError(
            "model_configs, betas, seeds and inits must each hold at least one value"
        )
    bad_inits = sorted(set(inits) - set(INIT_METHODS))
    if bad_inits:
        raise ParameterError(f"inits {bad_inits} unknown; choose from {list(INIT_METHODS)}")
    if any(i != "random" for i in inits) and any(c.architecture != "mlp" for c in model_configs):
        raise ParameterError(
            "inits ica/pca start the linear paths of an MLP model (linear_skip); "
            "they do not apply to architecture conv"
        )
    if any(c.is_conditional for c in model_configs):
        raise ParameterError(
            "a sweep scores disentanglement: conditional models (condition_classes) are not allowed"
        )
    if train_config.beta is not None:
        raise ParameterError(
            f"train_config.beta={train_config.beta} must be None in a sweep (betas sets it)"
        )
    unknown = sorted(set(baselines) - set(BASELINE_METHODS))
    if unknown:
        raise ParameterError(f"baselines {unknown} unknown; choose from {list(BASELINE_METHODS)}")
    out_dir = Path(out_dir)
    rows: list[SweepRow] = []
    if baselines:
        rows.extend(
            linear_baselines(
                dataset,
                features=features,
                n_components=max(c.latent_dim for c in model_configs),
                seeds=seeds,
                methods=baselines,
                dci_estimator=dci_estimator,
            )
        )
        _write_table(rows, out_dir / "sweep.csv")
    for config, init, beta, seed in itertools.product(model_configs, inits, betas, seeds):
        label = config.objective if init == "random" else f"{config.objective}+{init}"
        name = f"{label.replace('+', '-')}-beta{beta:g}-seed{seed}"
        run = out_dir / name
        model_config = dataclasses.replace(
            config, beta=float(beta), linear_skip=config.linear_skip or init != "random"
        )
        tc = dataclasses.replace(train_config, seed=int(seed), init=init)
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
            atomic_write_text(run / "train_time_s.txt", f"{time.perf_counter() - start:.3f}\n")
        rows.append(_row(run, name, label, float(beta), int(seed), dci_estimator, init))
        _write_table(rows, out_dir / "sweep.csv")
    if plot:
        plot_sweep(rows, out_dir / "sweep.png")
    return tuple(rows)


def linear_baselines(
    dataset: Dataset,
    *,
    features: str,
    n_components: int,
    seeds: Sequence[int] = (0,),
    methods: Sequence[str] = BASELINE_METHODS,
    dci_estimator: str = "gbt",
) -> tuple[SweepRow, ...]:
    """Score PCA and FastICA of the flattened features with the sweep's metrics (no VAE).

    Both are fitted on the ``train`` split (all items when there is none) and applied
    to every item, as a VAE is trained on ``train`` and encodes everything. ICA is
    FastICA (logcosh contrast) on the PCA scores, i.e. on the same ``n_components``-
    dimensional principal subspace, so it only rotates what PCA keeps.

    Parameters
    ----------
    dataset : Dataset
        Dataset with stored features and known factors.
    features : str
        Feature set name; each item's features are flattened.
    n_components : int
        Components kept (clipped to the number of training items and features).
    seeds : sequence of int
        FastICA seeds, one row each; PCA (deterministic) gets one row, at ``seeds[0]``.
    methods : sequence of {"pca", "ica"}
        Which baselines.
    dci_estimator : {"gbt", "hist"}
        DCI's per-factor classifier.

    Returns
    -------
    tuple of SweepRow
        ``model`` ``"pca"`` / ``"ica"``, ``run`` ``"pca"`` / ``"ica-seed<s>"``. A
        baseline that cannot be fitted (e.g. ICA with no more training items than
        components) is logged and left out.

    Raises
    ------
    DatasetError
        If the feature set ``features`` is not stored in ``dataset``.

    References
    ----------
    Hyvärinen & Oja, "Independent component analysis: algorithms and applications",
    Neural Networks 13, 2000 (FastICA). Rolinek, Zietlow & Martius, "Variational
    autoencoders pursue PCA directions (by accident)", CVPR 2019 (why PCA is the
    VAE's reference).
    """
    from timbrespace.errors import DatasetError

    x = dataset.load_features(features).reshape(len(dataset), -1)
    try:
        train_idx = dataset.split_indices("train")
    except DatasetError:
        train_idx = np.arange(len(dataset))
    if train_idx.size == 0:
        train_idx = np.arange(len(dataset))
    k = int(min(n_components, train_idx.size, x.shape[1]))
    factors = dataset.factor_codes
    split = (
        dataset.metadata["split"].astype(str).to_numpy()
        if "split" in dataset.metadata
        else np.array([])
    )
    seeds = [int(s) for s in seeds] or [0]
    rows: list[SweepRow] = []
    for method in methods:
        for seed in seeds[:1] if method == "pca" else seeds:
            start = time.perf_counter()
            try:
                latents = fit_linear_baseline(x, method, k, train=train_idx, random_state=seed)
            except ParameterError as exc:  # e.g. too few items: a reference never fails a sweep
                log.warning("linear baseline %s skipped: %s", method, exc)
                break
            fit_time_s = time.perf_counter() - start
            scores = score_latents(
                latents, factors, split, random_state=seed, dci_estimator=dci_estimator
            )
            rows.append(
                SweepRow(
                    model=method,
                    beta=float("nan"),
                    seed=seed,
                    run=method if method == "pca" else f"{method}-seed{seed}",
                    epochs=0,
                    train_loss=float("nan"),
                    val_loss=float("nan"),
                    train_time_s=fit_time_s,
                    **{name: float(scores[name]) for name in METRIC_COLUMNS},
                    n_active_latents=active_latents(latents),
                    init="none",
                )
            )
    return tuple(rows)


def _row(
    run: Path, name: str, model: str, beta: float, seed: int, dci_estimator: str, init: str
) -> SweepRow:
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
        init=init,
    )


def _write_table(rows: list[SweepRow], path: Path) -> None:
    import pandas as pd

    frame = pd.DataFrame([dataclasses.asdict(r) for r in rows])
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def plot_sweep(rows: Sequence[SweepRow], path: str | Path) -> Path:
    """Every metric against β (log2 axis), mean ± std over seeds, one line per model.

    Linear-baseline rows (:func:`linear_baselines`) are drawn as horizontal lines at
    their mean over seeds.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(15, 6.5), sharex=True)
    baseline_rows = [r for r in rows if r.model in BASELINE_METHODS]
    rows = [r for r in rows if r.model not in BASELINE_METHODS]
    models = sorted({r.model for r in rows})
    for ax in axes.flat[len(METRIC_COLUMNS) :]:
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
        for style, method in zip((":", "--"), BASELINE_METHODS, strict=True):
            values = [getattr(r, metric) for r in baseline_rows if r.model == method]
            if values and np.isfinite(values).any():
                ax.axhline(
                    np.nanmean(values), color="0.3", ls=style, lw=1, label=f"{method} (linear)"
                )
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
