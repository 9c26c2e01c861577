"""Open any run folder as an :class:`~timbrespace.explore.base.Explorable`, by its kind."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from timbrespace.errors import DatasetError
from timbrespace.explore.base import Explorable

__all__ = ["open_explorable", "EXPLORABLE_KINDS"]

EXPLORABLE_KINDS = ("run", "timbre", "drums")


def _kind(root: Path) -> str:
    """The run's kind: ``run.json``'s, or for folders written before run cards, what its files say."""
    from timbrespace.experiments.runs import read_run_card

    if (root / "run.json").is_file():
        return read_run_card(root).kind
    if not root.is_dir():
        raise DatasetError(f"{root}: no such run folder")
    # Timbre and drum runs made before they wrote run.json.
    if (root / "items.parquet").is_file() and (root / "features" / "spectrograms.npy").is_file():
        return "timbre"
    model_json = root / "checkpoints" / "model.json"
    if model_json.is_file():
        try:
            if "drum_map" in json.loads(model_json.read_text()).get("extra", {}):
                return "drums"
        except (json.JSONDecodeError, AttributeError):
            pass
    raise DatasetError(f"{root}: not a run folder (no run.json)")


def open_explorable(run_dir: str | Path, *, kit_dirs: Sequence[str | Path] = ()) -> Explorable:
    """Open a run folder for the explorer.

    Parameters
    ----------
    run_dir : path-like
        A folder made by ``timbrespace run``, ``timbre train`` or ``drums train``.
    kit_dirs : sequence of path-like
        Drum runs: more folders of Hydrogen kits to offer.

    Returns
    -------
    Explorable

    Raises
    ------
    DatasetError
        Not a run folder, a kind the explorer cannot play (``sweep``, ``train``), or an
        unfinished run.
    """
    root = Path(run_dir)
    kind = _kind(root)
    if kind == "run":
        from timbrespace.explore.run import RunExplorable

        return RunExplorable(root)
    if kind == "timbre":
        from timbrespace.explore.timbre import TimbreExplorable

        return TimbreExplorable(root)
    if kind == "drums":
        from timbrespace.explore.drums import DrumsExplorable

        return DrumsExplorable(root, kit_dirs=kit_dirs)
    raise DatasetError(f"{root}: a {kind!r} run cannot be explored yet: allowed kinds {', '.join(EXPLORABLE_KINDS)}")
