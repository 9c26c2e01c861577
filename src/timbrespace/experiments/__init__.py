"""Experiments: the YAML config and the pipelines — ``run`` (:mod:`.pipeline`), ``train``
(:mod:`.train_runs`, on :mod:`.train`), ``sweep`` (:mod:`.sweep`), ``benchmark`` (:mod:`.benchmark`), timbre (:mod:`.timbre`, seed 002) and drums
(:mod:`.drums`, seed 004) — that all write the same run layout with a run card
(``run.json``), the registry of run kinds (:mod:`.kinds`), and :func:`evaluate_any`, which
evaluates a run folder of any kind.

The timbre and drums names are imported on first use (they load torch, Lightning and
the audio libraries), so that ``import timbrespace.experiments`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from timbrespace.experiments.benchmark import BenchmarkResult, run_benchmark
from timbrespace.experiments.config import (
    EvaluationConfig,
    ExperimentConfig,
    builtin_experiments,
    default_experiment_path,
    load_experiment_config,
)
from timbrespace.experiments.kinds import RunKind, get_run_kind, list_run_kinds, register_run_kind
from timbrespace.experiments.pipeline import (
    RunResult,
    default_run_dir,
    evaluate_run,
    run_experiment,
)
from timbrespace.experiments.runs import (
    RUN_KINDS,
    RunCard,
    RunEvaluation,
    read_run_card,
    require_run_kind,
    write_run_card,
)
from timbrespace.experiments.sweep import SweepRow, sweep, sweep_dataset
from timbrespace.experiments.train import fit_dataset
from timbrespace.experiments.train_runs import TrainRunResult, train_dataset

__all__ = [
    "BenchmarkResult",
    "EVALUATED_KINDS",
    "GrooveTrainConfig",
    "RunEncoder",
    "RUN_KINDS",
    "RunCard",
    "RunKind",
    "get_run_kind",
    "list_run_kinds",
    "register_run_kind",
    "RunEvaluation",
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
    "encode_audio_files",
    "evaluate_any",
    "evaluate_drums_run",
    "evaluate_run",
    "humanize_midi",
    "load_feel",
    "drumify_file",
    "read_taps",
    "load_drumify",
    "evaluate_drumify",
    "evaluate_timbre_run",
    "load_experiment_config",
    "require_run_kind",
    "run_benchmark",
    "run_experiment",
    "train_drums",
    "train_timbre",
]

_LAZY = {
    "RunEncoder": "encode",
    "encode_audio_files": "encode",
    "EVALUATED_KINDS": "evaluate",
    "evaluate_any": "evaluate",
    "GrooveTrainConfig": "drums",
    "train_drums": "drums",
    "evaluate_drums_run": "drums",
    "humanize_midi": "drums_feel",
    "load_feel": "drums_feel",
    "drumify_file": "drums_drumify",
    "read_taps": "drums_drumify",
    "load_drumify": "drums_drumify",
    "evaluate_drumify": "drums_drumify",
    "train_timbre": "timbre",
    "evaluate_timbre_run": "timbre",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"timbrespace.experiments.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'timbrespace.experiments' has no attribute {name!r}")
