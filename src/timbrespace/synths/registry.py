"""Registry of sound models by name, extensible through entry points.

Third-party packages add models without editing timbrespace by declaring, in their
``pyproject.toml``::

    [project.entry-points."timbrespace.synths"]
    my_model = "my_package.module:MySoundModel"
"""

from __future__ import annotations

import logging
from importlib import metadata

from timbrespace.errors import ParameterError
from timbrespace.synths.base import SoundModel, closest_name
from timbrespace.utils.plugins import loaded_entry_points

__all__ = ["register_sound_model", "get_sound_model", "list_sound_models", "ENTRY_POINT_GROUP"]

ENTRY_POINT_GROUP = "timbrespace.synths"
_REGISTRY: dict[str, type[SoundModel]] = {}
_entry_points_loaded = False
log = logging.getLogger(__name__)


def register_sound_model(cls: type[SoundModel]) -> type[SoundModel]:
    """Class decorator: register ``cls`` under ``cls.name``.

    Raises
    ------
    ParameterError
        If another class is already registered under the same name.
    """
    existing = _REGISTRY.get(cls.name)
    if existing is not None and existing is not cls:
        raise ParameterError(f"sound model name {cls.name!r} is already registered by {existing!r}")
    _REGISTRY[cls.name] = cls
    return cls


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for _, cls in loaded_entry_points(metadata.entry_points, ENTRY_POINT_GROUP, what="sound model"):
        if isinstance(cls, type) and issubclass(cls, SoundModel):
            _REGISTRY.setdefault(cls.name, cls)


def list_sound_models() -> dict[str, type[SoundModel]]:
    """All registered sound models (built-in and entry points), sorted by name.

    Examples
    --------
    >>> from timbrespace.synths import list_sound_models
    >>> sorted(list_sound_models())[:4]
    ['additive', 'additive_bandpass', 'additive_seed001', 'drip']
    """
    _load_entry_points()
    return dict(sorted(_REGISTRY.items()))


def get_sound_model(name: str) -> SoundModel:
    """Instantiate the sound model registered as ``name``.

    Raises
    ------
    ParameterError
        Unknown name; the message lists the known models and suggests the closest.

    Examples
    --------
    >>> from timbrespace.synths import get_sound_model
    >>> model = get_sound_model("additive")
    >>> model.parameter_names()[:3]
    ['f0_hz', 'slope_db_per_octave', 'presence']
    """
    models = list_sound_models()
    if name not in models:
        raise ParameterError(
            f"unknown sound model {name!r}{closest_name(name, list(models))}; "
            f"known: {', '.join(models)}"
        )
    return models[name]()
