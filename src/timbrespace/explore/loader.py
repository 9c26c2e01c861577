"""Open any run folder as an :class:`~timbrespace.explore.base.Explorable`, by its kind."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from timbrespace.errors import DatasetError
from timbrespace.explore.base import Explorable

__all__ = ["open_explorable", "EXPLORABLE_KINDS"]

EXPLORABLE_KINDS = ("run", "train", "timbre", "drums")


def open_explorable(run_dir: str | Path, *, kit_dirs: Sequence[str | Path] = ()) -> Explorable:
    """Open a run folder for the explorer.

    Parameters
    ----------
    run_dir : path-like
        A folder made by ``timbrespace run``, ``timbrespace train``, ``timbre train`` or
        ``drums train``.
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
    kind = read_run_card(root).kind
    if kind in ("run", "train"):
        from timbrespace.explore.run import RunExplorable

        return RunExplorable(root)
    if kind == "timbre":
        from timbrespace.explore.timbre import TimbreExplorable

        return TimbreExplorable(root)
    if kind == "drums":
        from timbrespace.explore.drums import DrumsExplorable

        return DrumsExplorable(root, kit_dirs=kit_dirs)
    raise DatasetError(f"{root}: a {kind!r} run cannot be explored yet: allowed kinds {', '.join(EXPLORABLE_KINDS)}")
