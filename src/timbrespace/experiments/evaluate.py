"""``evaluate_any``: recompute the metrics and report of a run folder of any kind.

The run card (``RUN/run.json``) says what made the folder; each kind has its own
evaluation, all of which recompute from the checkpoint and rewrite ``metrics.json`` and
``report.html``.
"""

from __future__ import annotations

from pathlib import Path

from timbrespace.errors import DatasetError
from timbrespace.experiments.pipeline import RunResult, evaluate_run
from timbrespace.experiments.runs import RunEvaluation, read_run_card
from timbrespace.utils.progress import stage

__all__ = ["EVALUATED_KINDS", "evaluate_any"]

EVALUATED_KINDS: tuple[str, ...] = ("run", "train", "timbre", "drums")
"""Run kinds :func:`evaluate_any` evaluates (a sweep is a folder of runs: evaluate its members)."""


def evaluate_any(run_dir: str | Path, *, progress: bool = False) -> RunResult | RunEvaluation:
    """Evaluate a run folder of any kind, dispatching on its run card.

    Kinds ``run`` and ``train`` go to :func:`~timbrespace.experiments.evaluate_run`,
    ``timbre`` to :func:`~timbrespace.experiments.timbre.evaluate_timbre_run` and ``drums``
    to :func:`~timbrespace.experiments.drums.evaluate_drums_run`.

    Parameters
    ----------
    run_dir : path-like
        A run folder (with ``run.json``).
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
        an unreadable card, or a kind that has no evaluation (``sweep``).
    """
    card = read_run_card(run_dir)
    # each kind's pipeline is imported when needed: they load different libraries
    if card.kind in ("run", "train"):
        return evaluate_run(run_dir, progress=progress)
    if card.kind == "timbre":
        from timbrespace.experiments.timbre import evaluate_timbre_run

        with stage("evaluate (timbre)", enabled=progress):
            return evaluate_timbre_run(run_dir)
    if card.kind == "drums":
        from timbrespace.experiments.drums import evaluate_drums_run

        with stage("evaluate (drums)", enabled=progress):
            return evaluate_drums_run(run_dir)
    raise DatasetError(
        f"{run_dir}: a {card.kind!r} run has no evaluation of its own; allowed kinds {', '.join(EVALUATED_KINDS)} "
        "(evaluate a sweep's member runs)"
    )
