"""Parametric sound models with declared parameters and vectorised batch rendering.

Public names: :class:`Parameter`, :class:`SoundModel`, :func:`get_sound_model`,
:func:`list_sound_models`, :func:`register_sound_model`, and the built-in models
(``additive``, ``additive_seed001``, ``harmonic_richness``, ``additive_bandpass``,
``fm_moog``, ``pop``, ``drip``, ``soundfont``).
"""

from timbrespace.synths.additive import Additive, AdditiveSeed001
from timbrespace.synths.bandpass import AdditiveBandpass
from timbrespace.synths.base import Parameter, SoundModel, check_render_args
from timbrespace.synths.fm_moog import FMMoog
from timbrespace.synths.registry import (
    ENTRY_POINT_GROUP,
    get_sound_model,
    list_sound_models,
    register_sound_model,
)
from timbrespace.synths.richness import HarmonicRichness
from timbrespace.synths.soundfont import Soundfont
from timbrespace.synths.textures import Drip, Pop

__all__ = [
    "ENTRY_POINT_GROUP",
    "Additive",
    "AdditiveBandpass",
    "AdditiveSeed001",
    "Drip",
    "FMMoog",
    "HarmonicRichness",
    "Parameter",
    "Pop",
    "SoundModel",
    "Soundfont",
    "check_render_args",
    "get_sound_model",
    "list_sound_models",
    "register_sound_model",
]
