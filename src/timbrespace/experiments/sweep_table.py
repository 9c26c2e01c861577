"""The sweep's table: one :class:`SweepRow` per run or linear baseline, how a run's
latents are scored (:func:`score_latents`), the linear baselines' rows
(:func:`linear_baselines`), ``sweep.csv`` and ``sweep.png`` (:func:`plot_sweep`).

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

import numpy as np

from timbrespace.analysis import BASELINE_METHODS, fit_linear_baseline, reference_latents
from timbrespace.datasets import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments.train import INIT_LATENTS
from timbrespace.metrics import evaluate_representation
from timbrespace.utils.atomic import atomic_path

__all__ = [
    "METRIC_COLUMNS", "SweepRow", "linear_baselines", "plot_sweep", "run_row", "score_latents", "write_table",
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
    ``"<objective>+<init>"``; one trained with few labels ``"<objective>+labels<fraction>"``.
    ``mig_at_init`` is the MIG of the encoder before its first optimiser step, scored
    like ``mig``.
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
    mig_at_init: float = float("nan")
    labelled_fraction: float = 0.0


def _split_masks(split: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and test masks from split labels (``test``, else ``valid``; all items without labels)."""
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
    """The sweep's columns of :func:`timbrespace.metrics.evaluate_representation`.

    MIG and modularity on all items; DCI (disentanglement, completeness, test
    informativeness) and SAP fitted on ``train`` and scored on ``test``; ``mig_ica``: MIG
    after an unsupervised ICA re-alignment of the active latents
    (:func:`timbrespace.analysis.reference_latents`; an analysis, not the model's own axes).

    Parameters
    ----------
    latents : np.ndarray [shape=(n_items, n_latents)]
    factors : np.ndarray [shape=(n_items, n_factors), dtype=int]
    split : np.ndarray [shape=(n_items,) or (0,), dtype=str]
        Split label of each item (``train``/``valid``/``test``).

    Returns
    -------
    dict
        One float per name of ``METRIC_COLUMNS``; ``nan`` where a metric is undefined
        (e.g. modularity with one factor).
    """
    train, test = _split_masks(np.asarray(split), len(latents))
    scores = evaluate_representation(
        latents,
        factors,
        train=train,
        test=test,
        metrics=("mig", "dci", "sap", "modularity"),
        references=reference_latents(latents, align="ica", random_state=random_state),
        random_state=random_state,
        dci_estimator=dci_estimator,  # type: ignore[arg-type]
        on_error="warn",
    )
    nan = float("nan")
    d = scores.dci
    return {
        "mig": scores.mig.score if scores.mig is not None else nan,
        "dci_disentanglement": d.disentanglement if d is not None else nan,
        "dci_completeness": d.completeness if d is not None else nan,
        "dci_informativeness": d.informativeness_test if d is not None else nan,
        "sap": scores.sap.score if scores.sap is not None else nan,
        "modularity": scores.modularity.score if scores.modularity is not None else nan,
        "mig_ica": scores.aligned.score if scores.aligned is not None else nan,
        "n_active_latents": scores.n_active,
    }


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
    to every item, as a VAE is trained on ``train`` and encodes everything
    (:func:`timbrespace.analysis.fit_linear_baseline`).

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
    """
    x = dataset.load_features(features).reshape(len(dataset), -1)
    try:
        train_idx = dataset.split_indices("train")
    except DatasetError:
        train_idx = np.arange(len(dataset))
    if train_idx.size == 0:
        train_idx = np.arange(len(dataset))
    k = int(min(n_components, train_idx.size, x.shape[1]))
    split = dataset.metadata["split"].astype(str).to_numpy() if "split" in dataset.metadata else np.array([])
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
            scores = score_latents(latents, dataset.factor_codes, split, random_state=seed,
                                   dci_estimator=dci_estimator)
            rows.append(SweepRow(
                model=method, beta=float("nan"), seed=seed,
                run=method if method == "pca" else f"{method}-seed{seed}",
                epochs=0, train_loss=float("nan"), val_loss=float("nan"), train_time_s=fit_time_s,
                **{name: float(scores[name]) for name in METRIC_COLUMNS},
                n_active_latents=int(scores["n_active_latents"]), init="none",
            ))
    return tuple(rows)


def run_row(
    run: Path, name: str, model: str, beta: float, seed: int, dci_estimator: str, init: str,
    labelled_fraction: float = 0.0,
) -> SweepRow:
    import json

    from timbrespace.metrics import mig

    with np.load(run / "latents.npz") as data:
        scores = score_latents(data["mu"], data["factor_codes"], data["split"], random_state=seed,
                               dci_estimator=dci_estimator)
        factors = data["factor_codes"]
    mig_at_init = float("nan")
    if (run / INIT_LATENTS).is_file():
        with np.load(run / INIT_LATENTS) as init_data:
            mig_at_init = float(mig(init_data["mu"], factors).score)
    history = json.loads((run / "history.json").read_text()) if (run / "history.json").is_file() else []
    last = history[-1] if history else {}
    time_path = run / "train_time_s.txt"
    val = last.get("val_loss")
    return SweepRow(
        model=model,
        beta=beta,
        seed=seed,
        run=name,
        epochs=len(history),
        train_loss=float(last.get("train_loss", np.nan)),
        val_loss=float("nan") if val is None else float(val),
        train_time_s=float(time_path.read_text()) if time_path.is_file() else float("nan"),
        **{k: float(scores[k]) for k in METRIC_COLUMNS},
        n_active_latents=int(scores["n_active_latents"]),
        init=init,
        mig_at_init=mig_at_init,
        labelled_fraction=labelled_fraction,
    )


def write_table(rows: list[SweepRow], path: Path) -> None:
    """Write ``sweep.csv`` (one row per :class:`SweepRow`), atomically."""
    import pandas as pd

    frame = pd.DataFrame([dataclasses.asdict(r) for r in rows])
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")


def plot_sweep(rows: Sequence[SweepRow], path: str | Path) -> Path:
    """Every metric against β (log2 axis), mean ± std over seeds, one line per model
    (:func:`timbrespace.analysis.sweep_figure`); linear-baseline rows are horizontal
    lines at their mean over seeds. Written atomically to ``path``."""
    import pandas as pd

    from timbrespace.analysis import sweep_figure

    fig = sweep_figure(pd.DataFrame([dataclasses.asdict(r) for r in rows]), METRIC_COLUMNS,
                       baselines=BASELINE_METHODS)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=110)
    return Path(path)
