"""The registry of run kinds: what each kind of run folder can do, in one place.

A run folder's card (``RUN/run.json``) names its kind; ``evaluate``, ``encode`` and the
explorer look the kind up here instead of testing its name. Each kind is a
:class:`RunKind`; the built-in ones are registered below. Third-party packages add kinds
without editing timbrespace by declaring, in their ``pyproject.toml``::

    [project.entry-points."timbrespace.run_kinds"]
    my_kind = "my_package.module:MY_RUN_KIND"

where ``MY_RUN_KIND`` is a :class:`RunKind`.

The built-in kinds name their functions as ``"module:function"`` strings, imported when
first called: the kinds load different libraries, and the explorer's openers (``explore/``)
and the ``evaluate`` command's summaries (``cli/``) live in packages that may import this
one but not be imported by it.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata
from typing import Any

from timbrespace.errors import ParameterError
from timbrespace.utils.plugins import loaded_entry_points

__all__ = [
    "ENTRY_POINT_GROUP", "RunKind", "get_run_kind", "list_run_kinds", "register_run_kind", "run_kinds_that",
]

ENTRY_POINT_GROUP = "timbrespace.run_kinds"
log = logging.getLogger(__name__)

Ref = Callable[..., Any] | str | None
"""A function, its ``"module:function"`` path, or ``None`` where the kind lacks it."""


def _resolve(ref: Callable[..., Any] | str) -> Callable[..., Any]:
    if callable(ref):
        return ref
    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class RunKind:
    """One kind of run folder and what it can do.

    Attributes
    ----------
    name : str
        The kind as the run card writes it (``"run"``, ``"drums"``).
    description : str
        One line: what makes such a folder.
    evaluate : callable, str or None
        ``evaluate(run_dir, *, allow_unfinished, progress)`` recomputes ``metrics.json``
        and ``report.html`` and returns a ``RunResult`` or ``RunEvaluation``; a
        ``"module:function"`` path is imported when first called. ``None``: no
        evaluation of its own (a sweep).
    explorable : callable, str or None
        ``explorable(run_dir, **options)`` opens the folder as an
        :class:`~timbrespace.explore.base.Explorable`, ignoring options it does not use
        (``kit_dirs`` is a drum run's). ``None``: the explorer cannot open it.
    encode : bool
        Its model encodes an audio file alone (``timbrespace encode``).
    cannot_encode : str
        Why not, when ``encode`` is false (said in the error).
    export : bool
        The explorer can export its decoder (ONNX/TorchScript).
    summary : callable, str or None
        ``summary(result)`` prints what ``timbrespace evaluate`` says of ``evaluate``'s
        result on the console; ``None``: the report's path only.
    """

    name: str
    description: str
    evaluate: Ref = None
    explorable: Ref = None
    encode: bool = False
    cannot_encode: str = "it has no audio encoder"
    export: bool = False
    summary: Ref = None

    def call(self, ability: str, *args: Any, **kwargs: Any) -> Any:
        """Call the kind's ``ability`` (``"evaluate"``, ``"explorable"``, ``"summary"``),
        importing it first where it is a ``"module:function"`` path; it must not be ``None``."""
        ref = getattr(self, ability)
        if ref is None:
            raise ParameterError(f"a {self.name!r} run has no {ability}")
        return _resolve(ref)(*args, **kwargs)


_REGISTRY: dict[str, RunKind] = {}
_entry_points_loaded = False


def register_run_kind(kind: RunKind) -> RunKind:
    """Register ``kind`` under ``kind.name``.

    Raises
    ------
    ParameterError
        Another kind is already registered under the same name.
    """
    existing = _REGISTRY.get(kind.name)
    if existing is not None and existing != kind:
        raise ParameterError(f"run kind {kind.name!r} is already registered")
    _REGISTRY[kind.name] = kind
    return kind


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for name, kind in loaded_entry_points(metadata.entry_points, ENTRY_POINT_GROUP, what="run kind"):
        if not isinstance(kind, RunKind):
            log.warning("run kind entry point %s is not a RunKind: %r", name, kind)
        elif kind.name in _REGISTRY:
            log.warning("run kind entry point %s: kind %r is already registered", name, kind.name)
        else:
            _REGISTRY[kind.name] = kind


def list_run_kinds() -> dict[str, RunKind]:
    """Every registered run kind (built-in, then entry points), by name."""
    _load_entry_points()
    return dict(_REGISTRY)


def run_kinds_that(ability: str, *, builtin_only: bool = False) -> tuple[str, ...]:
    """Names of the kinds that have ``ability`` (``"evaluate"``, ``"explorable"``, ``"encode"``,
    ``"export"``); ``builtin_only`` leaves plug-ins out (and loads none)."""
    kinds = {n: _REGISTRY[n] for n in BUILTIN_RUN_KINDS} if builtin_only else list_run_kinds()
    return tuple(name for name, kind in kinds.items() if getattr(kind, ability))


def get_run_kind(name: str) -> RunKind:
    """The kind registered as ``name``.

    Raises
    ------
    ParameterError
        Unknown name; the message lists the known kinds.
    """
    kinds = list_run_kinds()
    if name not in kinds:
        raise ParameterError(f"kind={name!r} is not a run kind: one of {', '.join(kinds)}")
    return kinds[name]


_AUDIO = "its model needs descriptor labels beside the audio"
for _kind in (
    RunKind("run", "`timbrespace run`: a dataset, its features, a VAE and its scores",
            evaluate="timbrespace.experiments.pipeline:evaluate_run",
            explorable="timbrespace.explore.loader:open_run", encode=True, export=True,
            summary="timbrespace.cli.run:print_run_summary"),
    RunKind("train", "`timbrespace train`: a model trained on an existing dataset",
            evaluate="timbrespace.experiments.pipeline:evaluate_run",
            explorable="timbrespace.explore.loader:open_run", encode=True, export=True,
            summary="timbrespace.cli.run:print_run_summary"),
    RunKind("sweep", "`timbrespace sweep`: a folder of member runs"),
    RunKind("timbre", "`timbre train`: a semantic-timbre model on descriptor-labelled notes",
            evaluate="timbrespace.experiments.evaluate:evaluate_timbre_kind",
            explorable="timbrespace.explore.loader:open_timbre", cannot_encode=_AUDIO, export=True,
            summary="timbrespace.cli.run:print_timbre_summary"),
    RunKind("drums", "`drums train`: a drum-groove model",
            evaluate="timbrespace.experiments.evaluate:evaluate_drums_kind",
            explorable="timbrespace.explore.loader:open_drums",
            cannot_encode="it encodes drum grooves, not audio", export=True,
            summary="timbrespace.cli.run:print_drums_summary"),
):
    register_run_kind(_kind)
BUILTIN_RUN_KINDS: tuple[str, ...] = tuple(_REGISTRY)
"""The kinds timbrespace itself registers, in order."""
