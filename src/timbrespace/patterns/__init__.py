"""Drum grooves: MIDI ↔ pattern arrays, groove datasets, drum kits, a groove VAE, rendering.

Patterns are ``(n_items, n_steps, n_voices)`` float32 velocities in [0, 1] (DESIGN.md).

Modules: :mod:`~timbrespace.patterns.drum_maps` (GM note → voice), :mod:`.midi` (read and
write MIDI on a step grid), :mod:`.dataset` (groove datasets on disk), :mod:`.kits`
(Hydrogen kits, GM soundfont), :mod:`.render` (audio at an exact tempo), :mod:`.model`
(groove VAE, torch), :mod:`.training` (fit, held-out F1 vs baseline, run folder),
:mod:`.generate` (samples, click plane, interpolation). The torch-based names are
imported on first use so that ``import timbrespace.patterns`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from timbrespace.patterns.dataset import (
    GrooveDatasetConfig,
    IngestReport,
    build_groove_dataset,
    load_patterns,
    style_of,
)
from timbrespace.patterns.drum_maps import (
    DRUM_MAPS,
    MAGENTA9,
    SEED8,
    DrumMap,
    DrumVoice,
    get_drum_map,
)
from timbrespace.patterns.kits import (
    DrumKit,
    KitInstrument,
    KitLayer,
    SoundfontKit,
    find_kit,
    load_hydrogen_kit,
)
from timbrespace.patterns.midi import (
    GrooveBar,
    MidiGroove,
    midi_to_patterns,
    patterns_to_midi,
    quantize_velocity,
    read_midi,
    write_midi,
)
from timbrespace.patterns.render import render_patterns, step_onsets_samples, write_wav

_LAZY = {
    "GrooveVAEConfig": "model", "GrooveVAE": "model", "build_groove_model": "model",
    "save_groove_model": "model", "load_groove_model": "model", "SEED004_CONFIG": "model",
    "GrooveTrainConfig": "training", "GrooveEvaluation": "training", "HitScores": "training",
    "train_groove_vae": "training", "evaluate_groove_vae": "training", "train_groove_run": "training",
    "hit_scores": "training",
    "GrooveRun": "generate", "load_groove_run": "generate", "sample_grooves": "generate",
    "groove_at": "generate", "interpolate_grooves": "generate", "decode_latents": "generate",
    "encode_midi": "generate",
}

__all__ = [
    "DRUM_MAPS", "MAGENTA9", "SEED8", "DrumMap", "DrumVoice", "get_drum_map",
    "GrooveBar", "MidiGroove", "read_midi", "midi_to_patterns", "patterns_to_midi", "write_midi",
    "quantize_velocity",
    "GrooveDatasetConfig", "IngestReport", "build_groove_dataset", "load_patterns", "style_of",
    "DrumKit", "KitInstrument", "KitLayer", "SoundfontKit", "find_kit", "load_hydrogen_kit",
    "render_patterns", "step_onsets_samples", "write_wav",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"timbrespace.patterns.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'timbrespace.patterns' has no attribute {name!r}")
