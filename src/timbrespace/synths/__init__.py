"""Parametric sound models with declared parameters and vectorised batch rendering.

Public names: :class:`Parameter`, :class:`SoundModel`, :func:`get_sound_model`,
:func:`list_sound_models`, :func:`register_sound_model`, and the built-in models.
"""

from timbrespace.synths.base import Parameter, SoundModel, check_render_args
from timbrespace.synths.registry import (
    ENTRY_POINT_GROUP,
    get_sound_model,
    list_sound_models,
    register_sound_model,
)
from timbrespace.synths.additive import Additive

__all__ = [
    "ENTRY_POINT_GROUP",
    "Additive",
    "Parameter",
    "SoundModel",
    "check_render_args",
    "get_sound_model",
    "list_sound_models",
    "register_sound_model",
]
