"""Ranges that the CLI, the library and the explorer share: one value, one place.

Each entry point checks against these (and its help text quotes them), so a value the
command line accepts is one the library and the explorer accept too. The module imports
nothing heavy: the CLI reads it when its help is built.
"""

from __future__ import annotations

from timbrespace.errors import ParameterError

__all__ = ["MAX_INTERPOLATION_STEPS", "MAX_SWING", "MIN_INTERPOLATION_STEPS", "check_steps", "check_swing"]

MIN_INTERPOLATION_STEPS = 2
"""Fewest points of an interpolation between two latents: the two end points."""
MAX_INTERPOLATION_STEPS = 16
"""Most points of an interpolation (``timbre interpolate``, ``drums interpolate``, the explorer's paths)."""

MAX_SWING = 0.45
"""Largest swing of a drum groove, a fraction of a step (the range is ``0..0.45``): a
delayed odd step stays clear of the next step."""


def check_steps(steps: object, name: str = "steps") -> int:
    """``steps`` as an int, if it is one in ``MIN_INTERPOLATION_STEPS..MAX_INTERPOLATION_STEPS``.

    Raises
    ------
    ParameterError
        ``"steps=1 is out of range: allowed 2..16"`` (with ``name``, e.g. ``--steps``).
    """
    # numpy integers count as integers, bools do not
    if isinstance(steps, bool) or not hasattr(steps, "__index__") \
            or not MIN_INTERPOLATION_STEPS <= int(steps) <= MAX_INTERPOLATION_STEPS:  # type: ignore[call-overload]
        raise ParameterError(f"{name}={steps!r} is out of range: allowed "
                             f"{MIN_INTERPOLATION_STEPS}..{MAX_INTERPOLATION_STEPS}")
    return int(steps)  # type: ignore[call-overload]


def check_swing(swing: float, name: str = "swing") -> float:
    """``swing`` if it is in ``0..MAX_SWING`` (a fraction of a step).

    Raises
    ------
    ParameterError
        ``"swing=0.7 is out of range: allowed 0..0.45 of a step"`` (with ``name``).
    """
    if not 0.0 <= swing <= MAX_SWING:
        raise ParameterError(f"{name}={swing:g} is out of range: allowed 0..{MAX_SWING:g} of a step")
    return swing
