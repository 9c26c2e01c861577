"""``evaluate_any``: recompute the metrics and report of a run folder of any kind.

The run card (``RUN/run.json``) says what made the folder; each kind has its own
evaluation, all of which recompute from the checkpoint and rewrite ``metrics.json`` and
``report.html``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from timbrespace.errors import DatasetError
from timbrespace.experiments.pipeline import RunResult, evaluate_run
from timbrespace.experiments.runs import (
    RunEvaluation,
    TrainingProgress,
    read_run_card,
    unfinished_training,
)
from timbrespace.utils.atomic import atomic_write_json
from timbrespace.utils.progress import stage

__all__ = ["EVALUATED_KINDS", "evaluate_any"]

EVALUATED_KINDS: tuple[str, ...] = ("run", "train", "timbre", "drums")
"""Run kinds :func:`evaluate_any` evaluates (a sweep is a folder of runs: evaluate its members)."""


def evaluate_any(run_dir: str | Path, *, allow_unfinished: bool = False,
                 progress: bool = False) -> RunResult | RunEvaluation:
    """Evaluate a run folder of any kind, dispatching on its run card.

    Kinds ``run`` and ``train`` go to :func:`~timbrespace.experiments.evaluate_run`,
    ``timbre`` to :func:`~timbrespace.experiments.timbre.evaluate_timbre_run` and ``drums``
    to :func:`~timbrespace.experiments.drums.evaluate_drums_run`.

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
    unfinished = unfinished_training(run_dir, allow_unfinished=allow_unfinished)
    # each kind's pipeline is imported when needed: they load different libraries
    if card.kind in ("run", "train"):
        return evaluate_run(run_dir, allow_unfinished=allow_unfinished, progress=progress)
    if card.kind == "timbre":
        from timbrespace.experiments.timbre import evaluate_timbre_run

        with stage("evaluate (timbre)", enabled=progress):
            return _mark_unfinished(evaluate_timbre_run(run_dir), unfinished)
    if card.kind == "drums":
        from timbrespace.experiments.drums import evaluate_drums_run

        with stage("evaluate (drums)", enabled=progress):
            return _mark_unfinished(evaluate_drums_run(run_dir), unfinished)
    raise DatasetError(
        f"{run_dir}: a {card.kind!r} run has no evaluation of its own; allowed kinds {', '.join(EVALUATED_KINDS)} "
        "(evaluate a sweep's member runs)"
    )


def _mark_unfinished(result: RunEvaluation, progress: TrainingProgress | None) -> RunEvaluation:
    """Record in ``metrics.json`` that the evaluated model's training did not finish."""
    if progress is None:
        return result
    metrics = {**result.metrics, "training_unfinished": dataclasses.asdict(progress)}
    atomic_write_json(Path(result.run_dir) / "metrics.json", metrics)
    return dataclasses.replace(result, metrics=metrics)
