"""The timbre pipeline (seed 002): descriptor dataset → seed-002 spectrograms → the
conditional conv VAE → quality on held-back notes → report.

Every stage is the package's own: the spectrograms are a :class:`FeatureConfig`
(:data:`SEED002_FEATURES`) computed by :func:`~timbrespace.features.compute_dataset_features`
and inverted by :func:`~timbrespace.features.invert`; the model is
:func:`~timbrespace.models.timbre_config`; training is :func:`~timbrespace.training.fit`.
The run folder has the layout of every run (DESIGN.md, "On disk")::

    RUN/
      run.json            kind "timbre", library version, dataset, created
      config.yaml         dataset, descriptors, pitches, magnitudes, seed, features, model, training
      items.parquet       row k of the run: dataset_index, item_id, descriptor, magnitude, pitch, split
      metrics.json        training summary and quality (:mod:`.timbre_quality`)
      report.html         training curves, latent maps, generated notes with their measured pitch
      checkpoints/        last/ and best/ (safetensors + JSON), fit's training state
      logs/               TensorBoard and CSV
      figures/, audio/    the report's PNGs and WAVs

The dataset has factors ``descriptor``, ``magnitude`` and ``pitch`` (``timbrespace ingest``
of a seed-002 folder); a seed-002 folder itself is ingested into ``RUN/dataset`` first.
The spectrograms are stored with the dataset (``features/timbre_seed002.zarr``).
Held-back notes are the dataset's ``test`` split: never seen in training.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments.runs import RunEvaluation, after_training, write_run_card
from timbrespace.experiments.timbre_quality import check_quality_options, measure_timbre_quality
from timbrespace.experiments.timbre_report import sample_notes, write_timbre_report
from timbrespace.experiments.timbre_run import (
    DEFAULT_DESCRIPTORS,
    SEED002_FEATURES,
    TIMBRE_FEATURE_NAME,
    TimbreRun,
)
from timbrespace.features import FeatureConfig, compute_dataset_features
from timbrespace.models import TIMBRE_PRESETS, VAEConfig, timbre_config
from timbrespace.timbre.build import SEED002_SAMPLE_RATE
from timbrespace.training import TrainConfig, fit
from timbrespace.utils.atomic import atomic_path, atomic_write_json, atomic_write_text
from timbrespace.utils.outputs import RUN_MARKERS, output_folder
from timbrespace.utils.paths import safe_name

__all__ = [
    "DEFAULT_DESCRIPTORS",
    "SEED002_FEATURES",
    "TIMBRE_FEATURE_NAME",
    "TimbreRun",
    "TrainSummary",
    "open_timbre_dataset",
    "timbre_train_config",
    "train_timbre",
    "evaluate_timbre_run",
]

logger = logging.getLogger(__name__)

_FACTORS = ("descriptor", "magnitude", "pitch")
# preset -> (lr, batch_size, epochs) of seed 002 (``seed``) and of the CPU presets
_TRAINING: dict[str, tuple[float, int, int]] = {"cpu": (1e-3, 32, 40), "seed": (5e-4, 64, 300), "tiny": (1e-3, 16, 3)}


@dataclass(frozen=True)
class TrainSummary:
    """Result of :func:`train_timbre`.

    Parameters
    ----------
    run_dir : str
    n_train, n_valid, n_test : int
        Notes per split (test = held back).
    final_train_loss, final_valid_loss : float
        Last epoch's losses (``nan`` without a validation split).
    seconds : float
        Wall time of training.
    """

    run_dir: str
    n_train: int
    n_valid: int
    n_test: int
    final_train_loss: float
    final_valid_loss: float
    seconds: float


def timbre_train_config(
    name: str = "cpu", *, epochs: int | None = None, seed: int = 0, progress: bool = False
) -> TrainConfig:
    """Optimiser settings of a timbre preset: ``seed`` Adam 5e-4, batch 64, 300 epochs;
    ``cpu`` 1e-3, 32, 40; ``tiny`` 1e-3, 16, 3.

    Raises
    ------
    ParameterError
        Unknown preset or a non-positive ``epochs``.
    """
    if name not in _TRAINING:
        raise ParameterError(f"model={name!r} is unknown: allowed {', '.join(TIMBRE_PRESETS)}")
    if epochs is not None and epochs < 1:
        raise ParameterError(f"epochs={epochs} must be a positive integer")
    lr, batch_size, default_epochs = _TRAINING[name]
    return TrainConfig(epochs=epochs or default_epochs, batch_size=batch_size, lr=lr, seed=seed,
                       enable_progress_bar=progress)


def open_timbre_dataset(path: str | Path, run_dir: str | Path) -> Dataset:
    """Open a dataset with descriptor/magnitude/pitch factors, ingesting a seed-002 folder.

    Raises
    ------
    DatasetError
        Not a dataset nor a seed-002 folder, or the factors are missing.
    """
    path = Path(path)
    if (path / "dataset.json").is_file():
        ds = Dataset(path)
    elif path.is_dir():
        from timbrespace.datasets.ingest import ingest_folder

        target = Path(run_dir) / "dataset"
        logger.info("%s is not a dataset: ingesting it (layout seed002) into %s", path, target)
        ds = ingest_folder(path, target, layout="seed002", overwrite=True)
    else:
        raise DatasetError(f"{path} does not exist")
    missing = [f for f in _FACTORS if f not in ds.metadata.columns]
    if missing:
        raise DatasetError(
            f"{path}: factors {missing} missing (has {ds.factor_names}); "
            "build one with `timbrespace timbre build` and `timbrespace ingest`"
        )
    if ds.sample_rate != SEED002_SAMPLE_RATE:
        raise DatasetError(f"{ds.root}: sample rate {ds.sample_rate} Hz, the representation needs {SEED002_SAMPLE_RATE} Hz")
    return ds


def _select(ds: Dataset, descriptors: Sequence[str] | None) -> pd.DataFrame:
    meta = ds.metadata
    present = sorted(meta["descriptor"].astype(str).unique())
    chosen = present if descriptors is None else list(descriptors)
    if descriptors is not None and tuple(descriptors) == DEFAULT_DESCRIPTORS:  # the default: those present
        absent = [d for d in chosen if d not in present]
        chosen = [d for d in chosen if d in present] or present
        if absent:
            logger.info("default descriptors %s are not in %s: training on %s", absent, ds.root, ", ".join(chosen))
    unknown = [d for d in chosen if d not in present]
    if unknown:
        raise ParameterError(f"descriptors {unknown} are not in {ds.root}: allowed {', '.join(present)}")
    for d in chosen:  # descriptors name the run's generated clips (note_label)
        safe_name(d, what=f"{ds.root}: descriptor", error=DatasetError)
    rows = np.flatnonzero(meta["descriptor"].astype(str).isin(chosen).to_numpy())
    items = meta.iloc[rows][["item_id", "descriptor", "magnitude", "pitch", "split"]].copy()
    items["dataset_index"] = rows
    return items.reset_index(drop=True)


def train_timbre(
    dataset: str | Path,
    out: str | Path,
    *,
    descriptors: Sequence[str] | None = DEFAULT_DESCRIPTORS,
    model: str | VAEConfig = "cpu",
    epochs: int | None = None,
    seed: int = 0,
    features: FeatureConfig = SEED002_FEATURES,
    progress: bool = False,
    evaluate: bool = False,
    overwrite: bool = False,
) -> TrainSummary:
    """Compute the seed-002 spectrograms of a descriptor dataset and train the conditional VAE.

    Parameters
    ----------
    dataset : path-like
        Dataset (factors descriptor, magnitude, pitch) or a seed-002 folder.
    out : path-like
        Run folder (created). A run already there is replaced only with ``overwrite``;
        a folder that is not a run, or one holding the dataset, never.
    descriptors : sequence of str or None
        Subset to train on (default: those of :data:`DEFAULT_DESCRIPTORS` in the dataset,
        or all when it has none of them); None = all in the dataset.
    model : str or VAEConfig
        Preset (``cpu``, ``seed``, ``tiny``; :func:`~timbrespace.models.timbre_config`) or a
        config; its condition classes and input shape are set from the data.
    epochs : int, optional
        Overrides the preset's (``seed`` 300, ``cpu`` 40, ``tiny`` 3).
    seed : int
        Weight init, shuffling and reparameterisation noise.
    features : FeatureConfig
        The representation (default :data:`SEED002_FEATURES`); it must be invertible
        magnitudes (``stft`` ``db``/``magnitude``) for generation.
    progress : bool
        Show the training progress bar.
    evaluate : bool
        Also measure the quality on held-back notes (as :func:`evaluate_timbre_run`).
    overwrite : bool
        Replace the run already in ``out``.

    Returns
    -------
    TrainSummary
        Also written to ``RUN/metrics.json`` (``train``, with ``timbre_quality`` when
        evaluated and the report's ``generated_notes``); the report is ``RUN/report.html``.

    Raises
    ------
    ParameterError
        Unknown preset, bad ``epochs``, or a descriptor not in the dataset (present ones listed).
    DatasetError
        Not a descriptor dataset, wrong sample rate, or no ``train`` notes; ``out``
        holding a run (without ``overwrite``) or anything else; another writer on it.
    TrainingError
        The loss became NaN/inf.
    EvaluationError
        The evaluation or report after training failed; what training wrote is kept.
    """
    preset = model if isinstance(model, str) else "cpu"
    train_config = timbre_train_config(preset, epochs=epochs, seed=seed, progress=progress)
    out = Path(out)
    with output_folder(out, marker=RUN_MARKERS, what="run", command="timbre train", overwrite=overwrite,
                       inputs=[dataset]):
        return _train_timbre_locked(dataset, out, train_config, descriptors=descriptors, model=model, seed=seed,
                                    features=features, progress=progress, evaluate=evaluate)


def _train_timbre_locked(dataset: str | Path, out: Path, train_config: TrainConfig, *,
                         descriptors: Sequence[str] | None, model: str | VAEConfig, seed: int,
                         features: FeatureConfig, progress: bool, evaluate: bool) -> TrainSummary:
    """:func:`train_timbre` with the run folder checked and locked."""
    ds = open_timbre_dataset(dataset, out)
    items = _select(ds, descriptors)
    chosen = sorted(items["descriptor"].astype(str).unique())
    pitches = sorted(int(p) for p in ds.metadata["pitch"].unique())
    magnitudes = sorted(float(m) for m in items["magnitude"].unique())
    split = items["split"].astype(str).to_numpy()
    train_idx, valid_idx = np.flatnonzero(split == "train"), np.flatnonzero(split == "valid")
    if train_idx.size == 0:
        raise DatasetError(f"{ds.root}: no 'train' items among descriptors {chosen}")

    out.mkdir(parents=True, exist_ok=True)
    write_run_card(out, "timbre", dataset=ds.root)
    # the command's own derived feature set (recomputable): a changed config replaces it
    name = compute_dataset_features(ds, features, name=TIMBRE_FEATURE_NAME, progress=progress, overwrite=True)
    x = ds.load_features(name, items["dataset_index"].to_numpy())
    shape = tuple(int(s) for s in x.shape[1:])
    if isinstance(model, VAEConfig):
        model_config = VAEConfig.from_dict({**model.to_dict(), "input_shape": list(shape),
                                            "condition_classes": [len(chosen), len(pitches)]})
    else:
        model_config = timbre_config(model, n_descriptors=len(chosen), n_pitches=len(pitches), input_shape=shape)
    with atomic_path(out / "items.parquet") as tmp:
        items.to_parquet(tmp, index=False)
    atomic_write_text(out / "config.yaml", yaml.safe_dump({
        "kind": "timbre", "dataset": str(Path(ds.root).resolve()), "descriptors": chosen, "pitches": pitches,
        "magnitudes": magnitudes, "seed": int(seed), "feature_name": name,
        "features": features.model_dump(mode="json"), "model": model_config.to_dict(),
        "training": train_config.to_dict(),
    }, sort_keys=False))

    run = TimbreRun(out, load_model=False)
    c = run.conditions_of(np.arange(len(items)))
    start = time.perf_counter()
    result = fit(model_config, train_config, x[train_idx], x[valid_idx] if valid_idx.size else None,
                 out_dir=out, c_train=c[train_idx], c_valid=c[valid_idx] if valid_idx.size else None)
    seconds = time.perf_counter() - start
    last = result.history[-1]
    summary = TrainSummary(str(out), int(train_idx.size), int(valid_idx.size), int(np.sum(split == "test")),
                           float(last.train_loss), float("nan") if last.val_loss is None else float(last.val_loss),
                           seconds)
    metrics = {"kind": "timbre", "train": _finite(asdict(summary))}
    atomic_write_json(out / "metrics.json", metrics)  # training's results are on disk before evaluation starts
    with after_training(out):
        _measure_and_report(TimbreRun(out), metrics, quality=evaluate, seed=seed)
    return summary


def evaluate_timbre_run(
    run_dir: str | Path, *, max_requests: int | None = 120, n_pairs: int = 8, seed: int = 0
) -> RunEvaluation:
    """Measure a timbre run's quality on its held-back notes and rewrite its report.

    Parameters
    ----------
    run_dir : path-like
        Folder written by :func:`train_timbre`.
    max_requests, n_pairs, seed :
        See :func:`~timbrespace.experiments.timbre_quality.measure_timbre_quality`.

    Returns
    -------
    RunEvaluation
        ``metrics`` is the new ``metrics.json`` (``timbre_quality`` added).

    Raises
    ------
    DatasetError
        Not a timbre run (or one made by an older timbrespace), its checkpoint or
        dataset missing, or no held-back notes.
    ParameterError
        ``max_requests`` or ``n_pairs`` below 1 (checked before the run is opened).
    """
    check_quality_options(max_requests=max_requests, n_pairs=n_pairs, seed=seed)
    run = TimbreRun(run_dir)
    path = run.root / "metrics.json"
    metrics = json.loads(path.read_text()) if path.is_file() else {"kind": "timbre"}
    metrics, report = _measure_and_report(run, metrics, quality=True, max_requests=max_requests, n_pairs=n_pairs,
                                          seed=seed)
    return RunEvaluation(run_dir=run.root, kind="timbre", metrics=metrics, report_path=report)


def _measure_and_report(run: TimbreRun, metrics: dict[str, Any], *, quality: bool, seed: int,
                        max_requests: int | None = 120, n_pairs: int = 8) -> tuple[dict[str, Any], Path]:
    """Quality (optional) and the report's generated notes into ``metrics.json``, then the report."""
    measured = None
    if quality:
        measured = measure_timbre_quality(run, max_requests=max_requests, n_pairs=n_pairs, seed=seed)
        metrics["timbre_quality"] = _finite(asdict(measured))
    notes = sample_notes(run, seed=seed)
    metrics["generated_notes"] = notes.records()
    atomic_write_json(run.root / "metrics.json", metrics)
    return metrics, write_timbre_report(run, metrics=metrics, notes=notes, quality=measured)


def _finite(d: dict[str, Any]) -> dict[str, Any]:
    """JSON-safe copy: non-finite floats become None (nested dicts too)."""
    out: dict[str, Any] = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = _finite(v)
        elif isinstance(v, float) and not np.isfinite(v):
            out[k] = None
        else:
            out[k] = v
    return out
