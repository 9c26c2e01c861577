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
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from timbrespace.analysis import BASELINE_METHODS, fit_linear_baseline, reference_latents
from timbrespace.datasets import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments.train import (
    INIT_LATENTS,
    MODELS,
    fit_dataset,
    model_config_for,
    open_features,
)
from timbrespace.metrics import evaluate_representation
from timbrespace.models import VAEConfig
from timbrespace.models.config import WEAK_OBJECTIVES
from timbrespace.training import TrainConfig
from timbrespace.training.config import INIT_METHODS
from timbrespace.utils.atomic import atomic_path, atomic_write_text

__all__ = [
    "SweepRow",
    "sweep",
    "sweep_dataset",
    "check_sweep_grid",
    "linear_baselines",
    "score_latents",
    "plot_sweep",
    "METRIC_COLUMNS",
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


def check_sweep_grid(
    models: Sequence[str | VAEConfig],
    *,
    betas: Sequence[float],
    seeds: Sequence[int],
    inits: Sequence[str],
    baselines: Sequence[str],
) -> None:
    """Refuse a grid a sweep cannot run, before anything is trained or written.

    Raises
    ------
    ParameterError
        An empty grid, an unknown init or baseline, a conditional model (``cvae``,
        ``condition_classes``), or an ICA/PCA start for a conv model.
    """
    if not models or not betas or not seeds or not inits:
        raise ParameterError("models, betas, seeds and inits must each hold at least one value")
    bad_inits = sorted(set(inits) - set(INIT_METHODS))
    if bad_inits:
        raise ParameterError(f"inits {bad_inits} not allowed; choose from {', '.join(INIT_METHODS)}")
    unknown = sorted(set(baselines) - set(BASELINE_METHODS))
    if unknown:
        raise ParameterError(f"baselines {unknown} unknown; choose from {', '.join(BASELINE_METHODS)}")
    names = [m for m in models if isinstance(m, str)]
    unknown_models = sorted(set(names) - set(MODELS))
    if unknown_models:
        raise ParameterError(f"models {unknown_models} not allowed; choose from {', '.join(MODELS)}")
    configs = [m for m in models if isinstance(m, VAEConfig)]
    if "cvae" in names or any(c.is_conditional for c in configs):
        raise ParameterError(
            "a sweep scores disentanglement: conditional models (cvae, condition_classes) are not allowed"
        )
    if any(i != "random" for i in inits) and any(c.architecture != "mlp" for c in configs):
        raise ParameterError(
            "inits ica/pca start the linear paths of an MLP model (linear_skip); "
            "they do not apply to architecture conv"
        )


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
    labelled_fractions: Sequence[float] = (0.0,),
    jobs: int = 1,
) -> tuple[SweepRow, ...]:
    """Train every (model, init, labelled fraction, β, seed) and write ``sweep.csv`` (+ ``sweep.png``).

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
        β values (the models' ``beta``: the one place β lives).
    seeds : sequence of int
        Training seeds (``train_config.seed`` is replaced).
    train_config : TrainConfig
        Shared training settings.
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
    labelled_fractions : sequence of float
        Few-label semi-supervision (``TrainConfig.labelled_fraction``); 0 is unsupervised.
        Weakly supervised objectives (``ada_gvae``, ``ada_mlvae``) run at 0 only.
    jobs : int
        Runs trained at once, each in its own process. A run is the same whatever ``jobs``
        when ``train_config.num_threads`` is set (with ``jobs > 1`` and no thread count,
        each process uses one thread).

    Returns
    -------
    tuple of SweepRow
        The baseline rows, then one row per run in grid order.

    Raises
    ------
    ParameterError
        As :func:`check_sweep_grid`.
    """
    check_sweep_grid(model_configs, betas=betas, seeds=seeds, inits=inits, baselines=baselines)
    if jobs < 1:
        raise ParameterError(f"jobs={jobs} must be >= 1")
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
    points = _grid(model_configs, inits, labelled_fractions, betas, seeds, train_config, out_dir)
    missing = [p for p in points if not (p.run / "latents.npz").is_file()]
    if jobs > 1 and len(missing) > 1:
        if train_config.num_threads is None:
            missing = [dataclasses.replace(p, train_config=dataclasses.replace(p.train_config, num_threads=1))
                       for p in missing]
        context = multiprocessing.get_context("spawn")  # torch's threads do not survive a fork
        with ProcessPoolExecutor(max_workers=min(jobs, len(missing)), mp_context=context) as pool:
            for done in as_completed([pool.submit(_train_point, dataset.root, features, p) for p in missing]):
                done.result()  # a failed run fails the sweep with its own error
    for point in points:
        if not (point.run / "latents.npz").is_file():
            _train_point(dataset.root, features, point)
        rows.append(_row(point.run, point.run.name, point.label, point.beta, point.seed, dci_estimator,
                         point.init, point.fraction))
        _write_table(rows, out_dir / "sweep.csv")
    if plot:
        plot_sweep(rows, out_dir / "sweep.png")
    return tuple(rows)


@dataclass(frozen=True)
class _GridPoint:
    """One run of a sweep: its folder, table label and configs."""

    run: Path
    label: str
    beta: float
    seed: int
    init: str
    fraction: float
    model_config: VAEConfig
    train_config: TrainConfig


def _grid(model_configs: Sequence[VAEConfig], inits: Sequence[str], fractions: Sequence[float],
          betas: Sequence[float], seeds: Sequence[int], train_config: TrainConfig,
          out_dir: Path) -> list[_GridPoint]:
    """The sweep's runs in table order (weak objectives take no labels: pairs or labels, not both)."""
    points = []
    for config, init, fraction, beta, seed in itertools.product(model_configs, inits, fractions, betas, seeds):
        if fraction > 0 and config.objective in WEAK_OBJECTIVES:
            continue
        label = config.objective if init == "random" else f"{config.objective}+{init}"
        if fraction > 0:
            label = f"{label}+labels{fraction:g}"
        points.append(_GridPoint(
            run=out_dir / f"{label.replace('+', '-')}-beta{beta:g}-seed{seed}", label=label,
            beta=float(beta), seed=int(seed), init=init, fraction=float(fraction),
            model_config=dataclasses.replace(config, beta=float(beta),
                                             linear_skip=config.linear_skip or init != "random"),
            train_config=dataclasses.replace(train_config, seed=int(seed), init=init,
                                             labelled_fraction=float(fraction)),
        ))
    return points


def _train_point(dataset_root: Path, features: str, point: _GridPoint) -> None:
    """Train one grid point (resumable); runs in a worker process when ``jobs > 1``."""
    log.info("sweep: training %s", point.run.name)
    start = time.perf_counter()
    fit_dataset(Dataset(dataset_root), features=features, model_config=point.model_config,
                train_config=point.train_config, out_dir=point.run, resume=True)
    atomic_write_text(point.run / "train_time_s.txt", f"{time.perf_counter() - start:.3f}\n")


def sweep_dataset(
    source: str | Path,
    *,
    out_dir: str | Path,
    features: str | None = None,
    models: Sequence[str] = ("beta_vae",),
    betas: Sequence[float] | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    inits: Sequence[str] = ("random",),
    baselines: Sequence[str] = BASELINE_METHODS,
    model_options: dict[str, object] | None = None,
    train_config: TrainConfig | None = None,
    dci_estimator: str = "gbt",
    labelled_fractions: Sequence[float] = (0.0,),
    train_options: dict[str, object] | None = None,
    jobs: int = 1,
) -> tuple[SweepRow, ...]:
    """A sweep over named models on a dataset, or on an experiment's dataset: what
    ``timbrespace sweep`` runs.

    Parameters
    ----------
    source : path-like or str
        A dataset folder with stored features, or an experiment (YAML or built-in name)
        whose dataset and features are made (resumably) under ``out_dir/dataset``.
    out_dir : path-like
        Sweep folder.
    features : str, optional
        Feature set name (default: the only one).
    models : sequence of str
        Model names of :data:`timbrespace.experiments.train.MODELS` but ``cvae``.
    betas : sequence of float, optional
        As :func:`sweep`. Default: an experiment's own β, else 1, 2, 4, 8.
    seeds, inits, baselines, dci_estimator :
        As :func:`sweep`.
    model_options : dict, optional
        Shared ``VAEConfig`` fields and ``architecture`` (:func:`~timbrespace.experiments.train.model_config_for`).
        For an experiment without an ``architecture`` option, the models are the
        experiment's own model with the objective (and these fields) replaced.
    train_config : TrainConfig, optional
        Default: the experiment's training section for an experiment, else ``TrainConfig()``.
    labelled_fractions : sequence of float
        As :func:`sweep`.
    train_options : dict, optional
        ``TrainConfig`` fields replaced in the base training settings (``train_config``, the
        experiment's training section, or ``TrainConfig()``), e.g. ``{"epochs": 10}``.
    jobs : int
        As :func:`sweep`.

    Returns
    -------
    tuple of SweepRow

    Raises
    ------
    ParameterError, ConfigError
        A bad grid or option, before an experiment's dataset is generated.
    DatasetError
        Missing dataset or features.
    """
    check_sweep_grid(list(models), betas=betas or (1.0,), seeds=seeds, inits=inits, baselines=baselines)
    if jobs < 1:
        raise ParameterError(f"jobs={jobs} must be >= 1")
    bad_fractions = [f for f in labelled_fractions if not 0.0 <= float(f) <= 1.0]
    if not labelled_fractions or bad_fractions:
        raise ParameterError(f"labelled fractions {bad_fractions or '[]'}: give values in [0, 1]")
    try:
        dataclasses.replace(train_config or TrainConfig(), **(train_options or {}))
    except TypeError as err:
        raise ParameterError(f"training options: {err}") from None
    options = dict(model_options or {})
    if any(i != "random" for i in inits) and options.get("architecture", "auto") not in ("auto", "mlp"):
        raise ParameterError("inits ica/pca start the linear paths of an MLP model: use architecture mlp")
    experiment = None
    if not (Path(source) / "dataset.json").is_file():
        source, features, experiment = _experiment_dataset(str(source), Path(out_dir))
    ds, features = open_features(source, features)
    if experiment is not None and options.get("architecture", "auto") == "auto":
        # an experiment's sweep varies its own model: objective (and given fields) replaced
        shape = tuple(int(v) for v in ds.load_features(features, np.arange(1)).shape[1:])
        base = dataclasses.replace(experiment.model, input_shape=shape)
        options.pop("architecture", None)
        configs = [dataclasses.replace(base, objective=MODELS[name], **options) for name in models]
        train_config = train_config or experiment.training
        betas = betas or (experiment.model.beta,)
    else:
        configs = [model_config_for(ds, features, name, **options) for name in models]
    train_config = dataclasses.replace(train_config or TrainConfig(), **(train_options or {}))
    return sweep(ds, features=features, model_configs=configs, betas=betas or (1.0, 2.0, 4.0, 8.0),
                 seeds=seeds, train_config=train_config, out_dir=out_dir,
                 dci_estimator=dci_estimator, baselines=baselines, inits=inits,
                 labelled_fractions=labelled_fractions, jobs=jobs)


def _experiment_dataset(experiment: str, out: Path) -> tuple[Path, str, Any]:
    """Generate an experiment's dataset and features under ``out/dataset`` (resumable);
    returns the dataset folder, the feature name and the experiment config."""
    from timbrespace.datasets import generate_dataset
    from timbrespace.experiments.config import load_experiment_config
    from timbrespace.features import compute_dataset_features

    cfg = load_experiment_config(experiment)
    if cfg.dataset is None:
        raise DatasetError(f"{experiment}: the experiment has no dataset section to generate")
    ds = generate_dataset(cfg.dataset, out / "dataset", progress=True)
    # the command's own derived feature set (recomputable): a changed config replaces it
    name = compute_dataset_features(ds, cfg.features, name="run_features", overwrite=True)
    return ds.root, name, cfg


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


def _row(
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


def _write_table(rows: list[SweepRow], path: Path) -> None:
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
