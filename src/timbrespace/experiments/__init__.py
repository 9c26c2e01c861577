"""Experiments: the YAML config and the pipeline that ``timbrespace run`` walks."""

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

__all__ = [
    "RUN_KINDS",
    "RunCard",
    "read_run_card",
    "write_run_card",
    "EvaluationConfig",
    "ExperimentConfig",
    "RunResult",
    "builtin_experiments",
    "default_experiment_path",
    "default_run_dir",
    "evaluate_run",
    "load_experiment_config",
    "run_experiment",
]
