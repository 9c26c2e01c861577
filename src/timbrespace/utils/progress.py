"""Progress on stderr: a bar over a counted loop, a spinner over a step with no count.

Every bar of timbrespace goes to stderr (stdout keeps a command's output) and is drawn
only when asked (``progress=True``, the CLI's ``--progress``). On a terminal rich redraws
it in place; piped, it prints its final state once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

__all__ = ["stage", "track"]

T = TypeVar("T")


def _console() -> Console:
    return Console(stderr=True)


def track(items: Sequence[T], label: str, *, enabled: bool = True, unit: str = "items") -> Iterator[T]:
    """Yield ``items``, with a bar ``label ━━━ 3/10 items 0:00:02 0:00:05`` while enabled.

    Parameters
    ----------
    items : sequence
        What the loop goes over (its length is the bar's total).
    label : str
        The bar's name, e.g. ``"invert"``.
    enabled : bool
        False: no bar, the items only.
    unit : str
        What one item is, after the count.
    """
    if not enabled:
        yield from items
        return
    with Progress(TextColumn(f"[bold]{label}"), BarColumn(), MofNCompleteColumn(), TextColumn(unit),
                  TimeElapsedColumn(), TimeRemainingColumn(), console=_console()) as bar:
        task = bar.add_task(label, total=len(items))
        for item in items:
            yield item
            bar.advance(task)


@contextmanager
def stage(label: str, *, enabled: bool = True) -> Iterator[None]:
    """A spinner with the elapsed time, ``⠋ metrics 0:00:04``, while a step with no count runs.

    Parameters
    ----------
    label : str
        What runs, e.g. ``"metrics"``.
    enabled : bool
        False: nothing is drawn.
    """
    if not enabled:
        yield
        return
    with Progress(SpinnerColumn(finished_text="✓"), TextColumn(f"[bold]{label}"), TimeElapsedColumn(),
                  console=_console()) as bar:
        task = bar.add_task(label, total=None)
        yield
        bar.update(task, total=1, completed=1)

