"""The drums pipeline (seed 004): groove dataset → the groove VAE → hit F1 against a
baseline on held-out bars → report with piano rolls and audio on a kit.

The model is a configuration of the VAE family (:func:`~timbrespace.models.groove_config`,
MLP or GRU; hits and velocities, hits only, or GrooVAE's hits, velocities and micro-timing
offsets, ``outputs: hv | hits | hvo``), training is :func:`~timbrespace.training.fit`
(β warming up linearly over ``warmup_epochs``, the best validation epoch after it kept).
The run folder has the layout of every run (DESIGN.md, "On disk")::

    RUN/
      run.json            kind "drums", library version, dataset, created
      config.yaml         dataset, grid (drum map, steps per quarter, meter, voices), outputs (hits | hv |
                          hvo: what the model predicts), task (reconstruct | humanize: what the
                          encoder reads), model, training
      metrics.json        GrooveEvaluation (threshold, hit F1 vs baselines, ...), final epoch, sizes,
                          task, "feel" and "feel_valid": FeelEvaluation on the test and valid bars
                          (velocity and offset errors vs baselines, and the model's own for an
                          ``hvo`` model, a Humanize model's from the quantised bars; None for a
                          dataset without offsets)
      feel.json           GrooveFeel of the training bars (``drums humanize --from RUN``)
      report.html         hit scores, training curves, piano rolls of reconstructions and samples, audio
      checkpoints/        last/ and best/ (safetensors + JSON)
      logs/               TensorBoard and CSV
      figures/, audio/    the report's PNGs and WAVs
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from timbrespace.datasets import Dataset
from timbrespace.errors import ConfigError, DatasetError, ParameterError
from timbrespace.experiments.drums_eval import (
    GrooveEvaluation,
    evaluate_groove_model,
    model_inputs,
    predict_hits,
    predict_offsets,
)
from timbrespace.experiments.drums_feel import FEEL_FILE, FeelEvaluation, evaluate_feel
from timbrespace.experiments.drums_humanize import predict_humanized
from timbrespace.experiments.drums_report import write_drums_report
from timbrespace.experiments.drums_run import make_groove_run, read_drums_config
from timbrespace.experiments.runs import RunEvaluation, after_training, write_run_card
from timbrespace.models import VAE, VAEConfig, groove_config, groove_outputs, groove_task
from timbrespace.patterns.dataset import load_offsets, load_patterns
from timbrespace.patterns.feel import feel_from_dataset
from timbrespace.training import TrainConfig, fit, load_checkpoint
from timbrespace.utils.atomic import atomic_write_json, atomic_write_text
from timbrespace.utils.limits import check_seed
from timbrespace.utils.outputs import RUN_MARKERS, output_folder

__all__ = ["GrooveTrainConfig", "train_drums", "evaluate_drums_run"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GrooveTrainConfig:
    """Training options of the groove VAE (seed 004's, in epochs).

    Parameters
    ----------
    epochs : int
    batch_size : int
    lr : float
        Adam learning rate (seed 004: 1e-3).
    beta : float
        Weight of the KL term after warm-up (seed 004: 4).
    warmup_epochs : int
        β rises linearly from 0 to ``beta`` over these epochs (0: constant β).
    warmup_steps : int or None
        The warm-up in optimiser steps instead (``timbrespace drums train --warmup-steps``,
        the unit of ``timbrespace train``); None: ``warmup_epochs`` epochs' worth.
    seed : int
        Seeds initialisation, shuffling and the reparameterisation noise.
    threshold : float or None
        Hit threshold; None calibrates it on the validation split.
    keep_best : bool
        Evaluate the weights of the epoch with the lowest validation loss after the
        warm-up (``checkpoints/best``), not the last ones.
    """

    epochs: int = 300
    batch_size: int = 64
    lr: float = 1e-3
    beta: float = 1.0
    warmup_epochs: int = 50
    warmup_steps: int | None = None
    seed: int = 0
    threshold: float | None = None
    keep_best: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError(f"epochs={self.epochs} and batch_size={self.batch_size} must be >= 1")
        if not (self.lr > 0 and self.beta >= 0 and self.warmup_epochs >= 0):
            raise ConfigError(f"lr={self.lr} must be > 0, beta={self.beta} and warmup_epochs={self.warmup_epochs} >= 0")
        if self.warmup_steps is not None and self.warmup_steps < 0:
            raise ConfigError(f"warmup_steps={self.warmup_steps} must be >= 0")
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise ConfigError(f"threshold={self.threshold} must be in (0, 1)")
        try:
            check_seed(self.seed)
        except ParameterError as exc:
            raise ConfigError(str(exc)) from None

    def train_config(self, n_train: int, *, progress: bool = False) -> TrainConfig:
        """The :class:`TrainConfig` of ``fit``: the warm-up in optimiser steps, ``best`` after it.

        β itself goes on the model (``VAEConfig.beta``, where the schedule rises to).
        """
        steps_per_epoch = -(-n_train // self.batch_size)
        if self.warmup_steps is None:
            warmup_steps, warmup_epochs = self.warmup_epochs * steps_per_epoch, self.warmup_epochs
        else:
            warmup_steps, warmup_epochs = self.warmup_steps, -(-self.warmup_steps // steps_per_epoch)
        return TrainConfig(
            epochs=self.epochs, batch_size=self.batch_size, lr=self.lr, seed=self.seed,
            beta_schedule="linear" if warmup_steps > 0 else "constant",
            warmup_steps=max(1, warmup_steps), beta_start=0.0,
            best_from_epoch=warmup_epochs, enable_progress_bar=progress,
        )


@dataclass(frozen=True)
class _Split:
    """One split's bars: velocities ``x`` and offsets (steps; None for an older dataset), ``(n, n_steps, n_voices)``."""

    x: np.ndarray
    offsets: np.ndarray | None


def _split(dataset: Dataset, name: str, offsets: bool) -> _Split | None:
    if name == "valid" and "valid" not in set(dataset.metadata["split"]):
        return None
    x = load_patterns(dataset, name)[0]
    if name == "valid" and len(x) == 0:
        return None
    return _Split(x, load_offsets(dataset, name) if offsets else None)


def _splits(dataset: Dataset, *, offsets: bool = True) -> tuple[_Split, _Split, _Split | None]:
    """The train, test and valid (None when empty) bars, with their offsets unless ``offsets=False``."""
    train, test = _split(dataset, "train", offsets), _split(dataset, "test", offsets)
    assert train is not None and test is not None
    return train, test, _split(dataset, "valid", offsets)


def train_drums(dataset: str | Path, out: str | Path, *, model_config: VAEConfig | None = None,
                train_config: GrooveTrainConfig | None = None, kit: str = "soundfont",
                progress: bool = False, overwrite: bool = False) -> GrooveEvaluation:
    """Train on a groove dataset's ``train`` split, evaluate on ``test``, write the run folder.

    Parameters
    ----------
    dataset : path-like
        A groove dataset (``timbrespace drums ingest``).
    out : path-like
        Run folder (created). A run already there is replaced only with ``overwrite``;
        a folder that is not a run, or one holding the dataset, never.
    model_config : VAEConfig, optional
        Default: an MLP :func:`~timbrespace.models.groove_config`; its ``input_shape`` is
        always taken from the data and its ``beta`` from ``train_config``.
    train_config : GrooveTrainConfig, optional
    kit : str
        Kit the report plays the grooves on (see :func:`timbrespace.patterns.find_kit`).
    progress : bool
        Show the training progress bar.
    overwrite : bool
        Replace the run already in ``out``.

    Returns
    -------
    GrooveEvaluation
        Also in ``RUN/metrics.json``.

    Raises
    ------
    ConfigError
        A model that is not a groove model (a Gaussian likelihood).
    DatasetError
        Not a groove dataset, or an empty train/test split; an ``hvo`` model on a dataset
        without offsets; ``out`` holding a run (without ``overwrite``) or anything else;
        another writer on it.
    TrainingError
        The loss became NaN/inf.
    EvaluationError
        The evaluation or report after training failed; what training wrote is kept.
    """
    ds = Dataset(dataset)
    base = model_config or groove_config()
    train, test, valid = _splits(ds, offsets=base.likelihood == "hvo")
    x_train = train.x
    if len(x_train) == 0 or len(test.x) == 0:
        raise DatasetError(f"{ds.root}: the train and test splits need bars (train {len(x_train)}, test {len(test.x)})")
    sidecar = ds.feature_sidecar("patterns")
    shape = [int(x_train.shape[1]), int(x_train.shape[2])]
    tc = train_config or GrooveTrainConfig()
    mc = VAEConfig.from_dict({**base.to_dict(), "input_shape": shape, "beta": tc.beta})
    outputs = groove_outputs(mc)  # a Gaussian model is refused here: no hits to score
    inputs_train = model_inputs(mc, x_train, train.offsets)  # before anything is written: offsets missing fail here
    inputs_valid = None if valid is None else model_inputs(mc, valid.x, valid.offsets)
    fit_config = tc.train_config(len(x_train), progress=progress)
    out = Path(out)
    with output_folder(out, marker=RUN_MARKERS, what="run", command="drums train", overwrite=overwrite,
                       inputs=[ds.root]):
        out.mkdir(parents=True, exist_ok=True)
        write_run_card(out, "drums", dataset=ds.root)
        best = tc.keep_best  # fit's `best` starts afresh after the warm-up
        grid = {"drum_map": sidecar["drum_map"], "steps_per_quarter": sidecar["steps_per_quarter"],
                "time_signature": list(sidecar["time_signature"]), "voice_names": list(sidecar["voice_names"])}
        atomic_write_text(out / "config.yaml", yaml.safe_dump({
            "kind": "drums", "dataset": str(Path(ds.root).resolve()), "grid": grid, "outputs": outputs,
            "task": groove_task(mc),
            "model": mc.to_dict(),
            "training": dataclasses.asdict(tc), "fit": fit_config.to_dict(), "checkpoint": "best" if best else "last",
            "report_kit": kit,
        }, sort_keys=False))
        fit(mc, fit_config, inputs_train, inputs_valid, out_dir=out)
        with after_training(out):
            return _evaluate(out)[1]


def evaluate_drums_run(run_dir: str | Path) -> RunEvaluation:
    """Recompute a drums run's held-out scores and report from its checkpoint.

    Reads ``RUN/config.yaml``, the dataset's patterns and the checkpoint the run
    evaluates (``best`` after the warm-up, or ``last``), then rewrites ``metrics.json``
    and ``report.html``.

    Returns
    -------
    RunEvaluation
        ``metrics`` is the new ``metrics.json``.

    Raises
    ------
    ConfigError
        Not a groove run.
    DatasetError
        A run of another kind or made by an older timbrespace, or its dataset missing.
    """
    return _evaluate(run_dir)[0]


def _evaluate_feel(ds: Dataset, run_dir: Path, model: VAE, train: _Split, held_out: dict[str, _Split | None], *,
                   seed: int) -> dict[str, FeelEvaluation | None]:
    """Fit the training bars' feel (``RUN/feel.json``) and measure it on each held-out split, beside the
    model's own velocities and offsets for an ``hvo`` model (a Humanize model's from the quantised bars);
    None for a split without bars or a dataset without offsets."""
    if train.offsets is None:
        logger.info("%s: no micro-timing offsets in the dataset (ingested by an older timbrespace); no feel", ds.root)
        return dict.fromkeys(held_out)
    feel = feel_from_dataset(ds, split="train")
    feel.save(run_dir / FEEL_FILE)
    task = groove_task(model.config) if model.config.likelihood == "hvo" else None
    out: dict[str, FeelEvaluation | None] = {}
    for name, split in held_out.items():
        if split is None or split.offsets is None:
            out[name] = None
            continue
        bpm = load_patterns(ds, name)[1]["bpm"].to_numpy(np.float64)
        velocities = offsets = None
        if task == "humanize":  # a true prediction: the model is given the hits only
            velocities, offsets = predict_humanized(model, split.x > 0)
        elif task == "reconstruct":
            _, velocities, mu = predict_hits(model, split.x, split.offsets)
            offsets = predict_offsets(model, mu)
        out[name] = evaluate_feel(feel, train.x, split.x, split.offsets, bpm, seed=seed, model_velocities=velocities,
                                  model_offsets=offsets, model_task=task)
    return out


def _evaluate(run_dir: str | Path) -> tuple[RunEvaluation, GrooveEvaluation]:
    run_dir = Path(run_dir)
    config = read_drums_config(run_dir)
    try:
        ds = Dataset(config["dataset"])
    except DatasetError as exc:
        raise DatasetError(f"{run_dir}: the dataset it was trained on is gone ({exc})") from None
    train, test, valid = _splits(ds)
    model = load_checkpoint(run_dir / "checkpoints" / config["checkpoint"])
    tc = GrooveTrainConfig(**config["training"])
    ev = evaluate_groove_model(model, train.x, test.x, x_valid=None if valid is None else valid.x,
                               threshold=tc.threshold, seed=tc.seed, offsets_train=train.offsets,
                               offsets_test=test.offsets, offsets_valid=None if valid is None else valid.offsets)
    history = json.loads((run_dir / "history.json").read_text()) if (run_dir / "history.json").is_file() else []
    final = {k: v for k, v in (history[-1] if history else {}).items() if isinstance(v, float) and np.isfinite(v)}
    feels = _evaluate_feel(ds, run_dir, model, train, {"test": test, "valid": valid}, seed=tc.seed)
    feel, feel_valid = feels["test"], feels["valid"]
    metrics = {"kind": "drums", **ev.to_dict(), "final_epoch": final, "checkpoint": config["checkpoint"],
               "task": config.get("task", "reconstruct"),
               "n_train": len(train.x), "n_valid": 0 if valid is None else len(valid.x),
               "feel": None if feel is None else feel.to_dict(),
               "feel_valid": None if feel_valid is None else feel_valid.to_dict()}
    atomic_write_json(run_dir / "metrics.json", metrics)
    run = make_groove_run(run_dir, config, model, threshold=ev.threshold, latent_plane_dims=ev.latent_plane_dims)
    report = write_drums_report(run, evaluation=ev, history=history, x_test=test.x,
                                kit=config.get("report_kit", "soundfont"), seed=tc.seed, offsets_test=test.offsets,
                                feel=feel)
    logger.debug("test hit F1 %.3f (baseline %.3f), accuracy %.3f (baseline %.3f), valid samples %.0f%%",
                 ev.model.f1, ev.baseline_sampled.f1, ev.model.accuracy, ev.baseline_sampled.accuracy,
                 100 * ev.sample_valid_fraction)
    return RunEvaluation(run_dir=run_dir, kind="drums", metrics=metrics, report_path=report), ev
