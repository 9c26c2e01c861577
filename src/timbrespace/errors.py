"""Exception hierarchy of timbrespace.

Every error the library raises on bad input derives from :class:`TimbrespaceError`.
The CLI catches it and prints one line (``error: <message>``) with exit code 2.
Messages name the parameter, the value received and what is allowed, e.g.
``f0_hz=-3.0 is out of range: allowed 20.0..20000.0 Hz``.
"""

from __future__ import annotations

__all__ = [
    "TimbrespaceError",
    "ParameterError",
    "ConfigError",
    "DatasetError",
    "AudioError",
    "TrainingError",
    "EvaluationError",
    "Interrupted",
]


class TimbrespaceError(Exception):
    """Root of every error timbrespace raises on purpose."""


class ParameterError(TimbrespaceError, ValueError):
    """A parameter value is invalid (wrong range, shape, dtype or name)."""


class ConfigError(TimbrespaceError, ValueError):
    """A configuration file (YAML/JSON) is unreadable or invalid."""


class DatasetError(TimbrespaceError):
    """A dataset folder is missing, malformed, or inconsistent with a request."""


class AudioError(TimbrespaceError):
    """Audio input is unreadable, corrupt, empty or silent where sound is needed."""


class TrainingError(TimbrespaceError):
    """Training failed (e.g. the loss became NaN or infinite)."""


class EvaluationError(TimbrespaceError):
    """A step after training (evaluation, report) failed; what training wrote is kept.

    ``internal`` is True when the cause was not a :class:`TimbrespaceError` (a bug, which
    the CLI reports with exit code 1 rather than 2).
    """

    def __init__(self, message: str, *, internal: bool = False) -> None:
        super().__init__(message)
        self.internal = internal


class Interrupted(TimbrespaceError):
    """Training stopped on a signal (SIGINT, SIGTERM) after saving a checkpoint it resumes from.

    The CLI prints the message (no ``error:``) and exits with ``128 + signum`` (130 for
    Ctrl-C, 143 for SIGTERM). ``hint`` says how to resume; a command may reword it.
    """

    def __init__(self, signum: int, epoch: int, hint: str = "run the same command to resume") -> None:
        self.signum, self.epoch, self.hint = signum, epoch, hint
        super().__init__(signum, epoch, hint)  # as the arguments: a worker process's error unpickles

    def __str__(self) -> str:
        return f"interrupted at epoch {self.epoch}; {self.hint}"
