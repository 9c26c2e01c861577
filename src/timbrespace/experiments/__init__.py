"""Experiments: the YAML config and the pipelines of ``timbrespace run``, ``train`` and
``sweep``; every run folder has a run card (``run.json``)."""

from timbrespace.experiments.config import (
    EvaluationConfig,
    ExperimentConfig,
    builtin_experiments,
    default_experiment_path,
    load_experiment_config,
)
from timbrespace.experiments.pipeline import (
    RunResult,
    default_run_dir,
    evaluate_run,
    run_experiment,
)
from timbrespace.experiments.runs import RUN_KINDS, RunCard, read_run_card, write_run_card
from timbrespace.experiments.sweep import SweepRow, sweep, sweep_dataset
from timbrespace.experiments.train import TrainRunResult, fit_dataset, train_dataset

__all__ = [
    "RUN_KINDS",
    "RunCard",
    "read_run_card",
    "write_run_card",
    "EvaluationConfig",
    "ExperimentConfig",
    "RunResult",
    "SweepRow",
    "TrainRunResult",
    "fit_dataset",
    "sweep",
    "sweep_dataset",
    "train_dataset",
    "builtin_experiments",
    "default_experiment_path",
    "default_run_dir",
    "evaluate_run",
    "load_experiment_config",
    "run_experiment",
]
