"""Output folders: nothing a user has is replaced without ``--overwrite``, and then only
a timbrespace artefact of the same kind.

A dataset folder is marked by ``dataset.json``, a run folder by ``run.json``; each
command that writes a folder names its marker. :func:`check_output_folder` is called
after the arguments are validated and before anything is written (issue 18, rule 2).
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

from timbrespace.errors import DatasetError
from timbrespace.utils.lock import LOCK_NAME, folder_lock

__all__ = ["RUN_MARKERS", "check_output_folder", "clear_folder", "folder_is_empty", "output_folder"]

RUN_MARKERS = ("run.json", "checkpoints")
"""What marks a run folder: its card, or the checkpoints of a run interrupted before it."""


def folder_is_empty(folder: str | os.PathLike[str]) -> bool:
    """True when ``folder`` is missing or holds nothing but a writer's lock file."""
    folder = Path(folder)
    return not folder.exists() or (folder.is_dir() and all(p.name == LOCK_NAME for p in folder.iterdir()))


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def check_output_folder(
    out: str | os.PathLike[str],
    *,
    marker: str | tuple[str, ...],
    what: str,
    overwrite: bool,
    inputs: Iterable[str | os.PathLike[str]] = (),
    reuse: bool = False,
) -> bool:
    """Check that writing ``out`` loses nothing the user has; say whether it must be cleared.

    Parameters
    ----------
    out : path-like
        The folder a command is about to write.
    marker : str or tuple of str
        File (or files, any of which) that marks an artefact of the kind being written
        (``"dataset.json"``, :data:`RUN_MARKERS`).
    what : str
        The kind in words, for the messages (``"dataset"``, ``"run"``).
    overwrite : bool
        The user passed ``--overwrite``: an existing artefact of this kind may be replaced.
    inputs : iterable of path-like
        What the command reads. ``out`` may never be one of them or a folder holding one,
        even with ``overwrite``.
    reuse : bool
        An existing artefact of this kind is written into as it is (``--resume``, an
        interrupted run continued): allowed without ``overwrite``.

    Returns
    -------
    bool
        True when ``out`` holds an artefact that ``overwrite`` replaces: the caller clears
        it (:func:`clear_folder`) once everything else is validated.

    Raises
    ------
    DatasetError
        ``out`` is (or holds) an input; is a file; holds something that is not a
        timbrespace ``what``; or holds one and neither ``overwrite`` nor ``reuse`` is given.
    """
    out = Path(out)
    resolved = out.resolve()
    for source in inputs:
        if _inside(Path(source).resolve(), resolved):
            raise DatasetError(
                f"--out {out} is the input {source} or holds it; writing there would destroy it: "
                "choose another --out"
            )
    if out.exists() and not out.is_dir():
        raise DatasetError(f"--out {out} is a file, not a folder; choose another --out")
    if folder_is_empty(out):
        return False
    markers = (marker,) if isinstance(marker, str) else marker
    if not any((out / m).exists() for m in markers):
        raise DatasetError(
            f"--out {out} holds files and is not a timbrespace {what} (no {' or '.join(markers)}); "
            "nothing there is replaced: choose another --out"
        )
    if reuse:
        return False
    if not overwrite:
        raise DatasetError(f"--out {out} already exists and holds a {what}; choose another --out or pass --overwrite")
    return True


def clear_folder(folder: str | os.PathLike[str]) -> None:
    """Remove everything in ``folder`` but a writer's lock file (an artefact being replaced)."""
    for entry in Path(folder).iterdir():
        if entry.name == LOCK_NAME:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


@contextlib.contextmanager
def output_folder(
    out: str | os.PathLike[str],
    *,
    marker: str | tuple[str, ...],
    what: str,
    command: str,
    overwrite: bool,
    inputs: Iterable[str | os.PathLike[str]] = (),
    reuse: bool = False,
) -> Iterator[Path]:
    """Check ``out`` (:func:`check_output_folder`), hold its writer lock, clear a replaced artefact.

    The check runs before the folder is created, so a refusal leaves nothing; it runs
    again under the lock, since another writer may have finished in between.

    Parameters
    ----------
    out, marker, what, overwrite, inputs, reuse
        As :func:`check_output_folder`.
    command : str
        Named in the error a second concurrent writer gets (e.g. ``"train"``).

    Yields
    ------
    Path
        ``out``, existing and locked; emptied when ``overwrite`` replaces an artefact.

    Raises
    ------
    DatasetError
        As :func:`check_output_folder`, or another live process holds ``out``'s lock.
    """
    inputs = list(inputs)
    check_output_folder(out, marker=marker, what=what, overwrite=overwrite, inputs=inputs, reuse=reuse)
    with folder_lock(out, what=command):
        if check_output_folder(out, marker=marker, what=what, overwrite=overwrite, inputs=inputs, reuse=reuse):
            clear_folder(out)
        yield Path(out)
