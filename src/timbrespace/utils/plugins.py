"""Plug-ins through entry points: the one loop that loads a group, so a broken plug-in is a
warning and never breaks what is built in (sound models, run kinds)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["loaded_entry_points"]


def loaded_entry_points(entry_points: Callable[..., Iterable[Any]], group: str, *,
                        what: str) -> Iterator[tuple[str, Any]]:
    """``(name, object)`` of each entry point of ``group`` that loads.

    Parameters
    ----------
    entry_points : callable
        ``importlib.metadata.entry_points`` (passed in, so a caller's module-level
        reference can be replaced in tests).
    group : str
        Entry-point group, e.g. ``"timbrespace.synths"``.
    what : str
        What the group holds, for the warning (``"sound model"``).

    Yields
    ------
    name : str
    obj : object
        What the entry point names; one that raises on import is logged and skipped.
    """
    for ep in entry_points(group=group):
        try:
            obj = ep.load()
        except Exception as exc:  # a broken plug-in must not break the built-in ones
            log.warning("could not load %s entry point %s: %s", what, ep.name, exc)
            continue
        yield ep.name, obj
