"""``evaluate_any``: recompute the metrics and report of a run folder of any kind.

The run card (``RUN/run.json``) says what made the folder; each kind has its own
evaluation, all of which recompute from the checkpoint and rewrite ``metrics.json`` and
``report.html``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import TYPE_CHECKING

from timbrespace.errors import DatasetError
from timbrespace.experiments.kinds import get_run_kind, run_kinds_that
from timbrespace.experiments.runs import (
    RunEvaluation,
    TrainingProgress,
    read_run_card,
    unfinished_training,
)
from timbrespace.utils.atomic import atomic_write_json
from timbrespace.utils.progress import stage

if TYPE_CHECKING:
    from timbrespace.experiments.pipeline import RunResult

__all__ = ["EVALUATED_KINDS", "evaluate_any", "evaluate_drums_kind", "evaluate_timbre_kind"]

EVALUATED_KINDS: tuple[str, ...] = run_kinds_that("evaluate", builtin_only=True)
"""Built-in run kinds :func:`evaluate_any` evaluates (a sweep is a folder of runs: evaluate its members)."""


def evaluate_any(run_dir: str | Path, *, allow_unfinished: bool = False,
                 progress: bool = False) -> RunResult | RunEvaluation:
    """Evaluate a run folder of any kind: its run card's kind, looked up in the registry.

    The kind's ``evaluate`` (:class:`~timbrespace.experiments.kinds.RunKind`) does the work:
    :func:`~timbrespace.experiments.evaluate_run` for ``run`` and ``train``,
    :func:`evaluate_timbre_kind` and :func:`evaluate_drums_kind` for ``timbre`` and ``drums``.

    Parameters
    ----------
    run_dir : path-like
        A run folder (with ``run.json``).
    allow_unfinished : bool
        Evaluate a run whose training did not finish (killed, interrupted): its
        ``metrics.json`` then records ``training_unfinished`` and its report says so,
        and ``run`` still resumes it. Without it such a run is refused before anything
        is written.
    progress : bool
        A spinner on stderr for each stage (one for a timbre or drums run's evaluation).

    Returns
    -------
    RunResult or RunEvaluation
        ``RunResult`` for ``run``/``train``, ``RunEvaluation`` for ``timbre``/``drums``;
        both give the run folder (``run_dir``), its new ``metrics.json`` (``metrics``) and
        the report's path (``report_path``).

    Raises
    ------
    DatasetError
        No run folder, no run card (a folder made by an older timbrespace: train again),
        an unreadable card, a kind that has no evaluation (``sweep``), or training that
        did not finish (without ``allow_unfinished``).
    """
    card = read_run_card(run_dir)
    unfinished_training(run_dir, allow_unfinished=allow_unfinished)  # refused before any kind's work
    kind = get_run_kind(card.kind)
    if kind.evaluate is None:
        raise DatasetError(
            f"{run_dir}: a {card.kind!r} run has no evaluation of its own; "
            f"allowed kinds {', '.join(run_kinds_that('evaluate'))} (evaluate a sweep's member runs)"
        )
    return kind.call("evaluate", run_dir, allow_unfinished=allow_unfinished, progress=progress)


def evaluate_timbre_kind(run_dir: str | Path, *, allow_unfinished: bool = False,
                         progress: bool = False) -> RunEvaluation:
    """The ``timbre`` kind's evaluation: :func:`~timbrespace.experiments.timbre.evaluate_timbre_run`
    in a spinner, its metrics marked when the training did not finish (see :func:`evaluate_any`)."""
    from timbrespace.experiments.timbre import evaluate_timbre_run  # loaded when needed

    unfinished = unfinished_training(run_dir, allow_unfinished=allow_unfinished)
    with stage("evaluate (timbre)", enabled=progress):
        return _mark_unfinished(evaluate_timbre_run(run_dir), unfinished)


def evaluate_drums_kind(run_dir: str | Path, *, allow_unfinished: bool = False,
                        progress: bool = False) -> RunEvaluation:
    """The ``drums`` kind's evaluation: :func:`~timbrespace.experiments.drums.evaluate_drums_run`
    in a spinner, its metrics marked when the training did not finish (see :func:`evaluate_any`)."""
    from timbrespace.experiments.drums import evaluate_drums_run  # loaded when needed

    unfinished = unfinished_training(run_dir, allow_unfinished=allow_unfinished)
    with stage("evaluate (drums)", enabled=progress):
        return _mark_unfinished(evaluate_drums_run(run_dir), unfinished)


def _mark_unfinished(result: RunEvaluation, progress: TrainingProgress | None) -> RunEvaluation:
    """Record in ``metrics.json`` that the evaluated model's training did not finish."""
    if progress is None:
        return result
    metrics = {**result.metrics, "training_unfinished": dataclasses.asdict(progress)}
    atomic_write_json(Path(result.run_dir) / "metrics.json", metrics)
    return dataclasses.replace(result, metrics=metrics)
