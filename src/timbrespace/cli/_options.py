"""Options and option values that several commands share.

- :data:`ProgressOption`: one ``--progress/--no-progress`` for every long-running command.
- :func:`numbers` / :func:`names`: comma-separated lists (``--hidden 400,200``).
- :func:`check_min`: an option's lower bound, checked before anything is created.
- :func:`as_options`: library errors that name a config field (``n_fft=…``) re-worded
  with the command's option (``--n-fft=…``), at the CLI boundary.

The console every command prints through is :func:`timbrespace.cli._console.console`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Annotated

import typer

from timbrespace.errors import Interrupted, ParameterError, TimbrespaceError

__all__ = ["ProgressOption", "as_options", "check_min", "distinct", "names", "numbers", "resume_hint"]

ProgressOption = Annotated[
    bool, typer.Option("--progress/--no-progress", help="Show progress bars (on stderr).")
]


def numbers(text: str, option: str, kind: type, example: str) -> tuple:
    """Parse a comma-separated list such as ``32,64,128`` (``kind`` is int or float).

    Raises
    ------
    ParameterError
        An entry that is not a number of ``kind`` (``nan`` and ``inf`` are not), or an
        empty list.
    """
    what = "integers" if kind is int else "finite numbers"
    try:
        values = tuple(kind(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ParameterError(f"{option}={text!r} must be comma-separated {what}, e.g. {example}") from None
    if not values or not all(math.isfinite(v) for v in values):
        raise ParameterError(f"{option}={text!r} must be comma-separated {what}, e.g. {example}")
    return values


def names(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of names: ``"a, b,,c"`` → ``("a", "b", "c")``."""
    return tuple(v.strip() for v in text.split(",") if v.strip())


def distinct(values: tuple, option: str, text: str) -> tuple:
    """Refuse a list that gives a value twice where each value names one thing (a run, an item).

    Raises
    ------
    ParameterError
        ``"--beta=1,1 gives 1 twice; give each value once"``.
    """
    seen: set = set()
    for value in values:
        if value in seen:
            shown = f"{value:g}" if isinstance(value, float) else str(value)
            raise ParameterError(f"{option}={text} gives {shown} twice; give each value once")
        seen.add(value)
    return values


def check_min(option: str, value: float | None, minimum: float, unit: str = "") -> None:
    """Refuse ``value < minimum`` (``None`` means the default, which is always valid).

    Raises
    ------
    ParameterError
        ``"--workers=0 must be >= 1"`` (NaN is refused the same way).
    """
    if value is not None and not value >= minimum:
        raise ParameterError(f"{option}={value:g} must be >= {minimum:g}{unit}")


@contextmanager
def as_options(fields: Iterable[str], renames: Mapping[str, str] | None = None) -> Iterator[None]:
    """Re-word a library error's ``field=value`` as the command's ``--option=value``.

    Each of ``fields`` becomes ``--field-name``; ``renames`` maps the fields whose option
    has another name (``{"output": "--scale"}``). Other text is left alone.
    """
    options = {f: f"--{f.replace('_', '-')}" for f in fields}
    options.update(renames or {})
    try:
        yield
    except TimbrespaceError as exc:
        pattern = r"(?<![\w.-])(" + "|".join(map(re.escape, sorted(options, key=len, reverse=True))) + r")="
        message = str(exc)
        new = re.sub(pattern, lambda m: f"{options[m.group(1)]}=", message)
        if new == message:
            raise
        try:
            reworded = type(exc)(new)
        except TypeError:  # an error class with another constructor
            reworded = ParameterError(new)
        raise reworded from None


@contextmanager
def resume_hint(hint: str) -> Iterator[None]:
    """Say in an interrupted training's line (:class:`~timbrespace.errors.Interrupted`) how
    this command continues it, e.g. ``"run the same command with --resume to continue"``."""
    try:
        yield
    except Interrupted as exc:
        exc.hint = hint
        raise
