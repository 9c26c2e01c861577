"""Open any run folder as an :class:`~timbrespace.explore.base.Explorable`, by its kind.

The kind's opener comes from the registry (:mod:`timbrespace.experiments.kinds`); the
built-in kinds' openers are the ``open_*`` functions here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from timbrespace.errors import DatasetError
from timbrespace.experiments.kinds import get_run_kind, run_kinds_that
from timbrespace.explore.base import Explorable

__all__ = ["open_explorable", "EXPLORABLE_KINDS", "open_drums", "open_run", "open_timbre"]

EXPLORABLE_KINDS = run_kinds_that("explorable", builtin_only=True)
"""Built-in run kinds the explorer opens (plug-in kinds may add more)."""


def open_explorable(run_dir: str | Path, *, kit_dirs: Sequence[str | Path] = ()) -> Explorable:
    """Open a run folder for the explorer.

    Parameters
    ----------
    run_dir : path-like
        A folder made by ``timbrespace run``, ``timbrespace train``, ``timbre train`` or
        ``drums train`` (or a plug-in kind's command).
    kit_dirs : sequence of path-like
        Drum runs: more folders of Hydrogen kits to offer.

    Returns
    -------
    Explorable

    Raises
    ------
    DatasetError
        Not a run folder, one made by an older timbrespace (no ``run.json``), a kind the
        explorer cannot play (``sweep``, a conditional ``train`` run), or an unfinished run.
    """
    from timbrespace.experiments.runs import read_run_card

    root = Path(run_dir)
    kind = get_run_kind(read_run_card(root).kind)
    if kind.explorable is None:
        raise DatasetError(f"{root}: a {kind.name!r} run cannot be explored yet: "
                           f"allowed kinds {', '.join(run_kinds_that('explorable'))}")
    return kind.call("explorable", root, kit_dirs=kit_dirs)


def open_run(run_dir: str | Path, **options: object) -> Explorable:
    """The ``run`` and ``train`` kinds' opener (no options)."""
    from timbrespace.explore.run import RunExplorable

    return RunExplorable(run_dir)


def open_timbre(run_dir: str | Path, **options: object) -> Explorable:
    """The ``timbre`` kind's opener (no options)."""
    from timbrespace.explore.timbre import TimbreExplorable

    return TimbreExplorable(run_dir)


def open_drums(run_dir: str | Path, *, kit_dirs: Sequence[str | Path] = (), **options: object) -> Explorable:
    """The ``drums`` kind's opener: ``kit_dirs`` are more folders of Hydrogen kits."""
    from timbrespace.explore.drums import DrumsExplorable

    return DrumsExplorable(run_dir, kit_dirs=kit_dirs)
