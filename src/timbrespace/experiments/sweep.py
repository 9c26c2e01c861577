"""Sweeps: train a grid of (model, β, seed) on one feature set and tabulate the metrics.

A small version of the disentanglement_lib study (Locatello et al. 2019) on our audio
datasets. Each run lives in ``out_dir/<objective>-beta<β>-seed<s>/`` (a normal run
folder); a finished run (its ``latents.npz`` exists) is not trained again, so a killed
sweep resumes. The table goes to ``out_dir/sweep.csv`` and a figure of every metric
against β (mean ± std over seeds, one line per model) to ``out_dir/sweep.png``.

Metrics: MIG and modularity on all items; DCI and SAP fitted on the ``train`` split and
scored on ``test`` (``valid`` or all items when absent); the table is built in
:mod:`.sweep_table`.

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

from timbrespace.analysis import BASELINE_METHODS
from timbrespace.datasets import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments.sweep_table import (
    METRIC_COLUMNS,
    SweepRow,
    linear_baselines,
    plot_sweep,
    run_row,
    score_latents,
    write_table,
)
from timbrespace.experiments.train import MODELS, fit_dataset, model_config_for, open_features
from timbrespace.models import VAEConfig
from timbrespace.models.config import WEAK_OBJECTIVES, canonical_objective
from timbrespace.training import TrainConfig
from timbrespace.training.config import INIT_METHODS
from timbrespace.utils.atomic import atomic_write_text
from timbrespace.utils.limits import check_seed

__all__ = [
    "METRIC_COLUMNS",
    "SweepRow",
    "check_sweep_grid",
    "linear_baselines",
    "plot_sweep",
    "score_latents",
    "sweep",
    "sweep_dataset",
]

log = logging.getLogger(__name__)

DCI_ESTIMATORS = ("gbt", "hist")
"""DCI's per-factor classifiers (:func:`timbrespace.metrics.dci`)."""

def check_sweep_grid(
    models: Sequence[str | VAEConfig],
    *,
    betas: Sequence[float],
    seeds: Sequence[int],
    inits: Sequence[str],
    baselines: Sequence[str],
    labelled_fractions: Sequence[float] = (0.0,),
    dci_estimator: str = "gbt",
) -> None:
    """Refuse a grid a sweep cannot run, before anything is trained or written.

    Raises
    ------
    ParameterError
        An empty grid, a value given twice (one run would fill two rows), a beta that is
        negative or not finite, a seed outside ``0 <= seed < 2**32``, an unknown init,
        baseline or DCI estimator, a conditional model (``cvae``,
        ``condition_classes``), or an ICA/PCA start for a conv model.
    """
    if not models or not betas or not seeds or not inits:
        raise ParameterError("models, betas, seeds and inits must each hold at least one value")
    bad_betas = [b for b in betas if not (np.isfinite(b) and b >= 0)]
    if bad_betas:
        raise ParameterError(f"betas {bad_betas} not allowed: each beta must be a finite number >= 0")
    for seed in seeds:
        check_seed(seed)
    if dci_estimator not in DCI_ESTIMATORS:
        raise ParameterError(f"dci_estimator={dci_estimator!r} is not one of {', '.join(DCI_ESTIMATORS)}")
    for what, values in (("models", [m if isinstance(m, str) else m.objective for m in models]),
                         ("betas", [float(b) for b in betas]), ("seeds", list(seeds)), ("inits", list(inits)),
                         ("baselines", list(baselines)), ("labelled fractions", [float(f) for f in labelled_fractions])):
        twice = sorted({v for v in values if values.count(v) > 1}, key=str)
        if twice and not (what == "models" and any(not isinstance(m, str) for m in models)):
            raise ParameterError(f"{what} list {', '.join(f'{v:g}' if isinstance(v, float) else str(v) for v in twice)} "
                                 "more than once: each value is one point of the grid; give each once")
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
    check_sweep_grid(model_configs, betas=betas, seeds=seeds, inits=inits, baselines=baselines,
                     labelled_fractions=labelled_fractions, dci_estimator=dci_estimator)
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
        write_table(rows, out_dir / "sweep.csv")
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
        rows.append(run_row(point.run, point.run.name, point.label, point.beta, point.seed, dci_estimator,
                         point.init, point.fraction))
        write_table(rows, out_dir / "sweep.csv")
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
    models = [canonical_objective(m) for m in models]
    check_sweep_grid(list(models), betas=betas or (1.0,), seeds=seeds, inits=inits, baselines=baselines,
                     labelled_fractions=labelled_fractions, dci_estimator=dci_estimator)
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

