"""Drum grooves: the domain of MIDI ↔ pattern arrays, groove datasets, drum kits and rendering.

Patterns are ``(n_items, n_steps, n_voices)`` float32 velocities in [0, 1] (DESIGN.md).

Modules: :mod:`~timbrespace.patterns.drum_maps` (GM note → voice), :mod:`.midi` (read and
write MIDI on a step grid), :mod:`.dataset` (groove datasets on disk), :mod:`.kits`
(Hydrogen kits, GM soundfont), :mod:`.render` (audio at an exact tempo). The groove VAE
is a configuration of the VAE family (:func:`timbrespace.models.groove_config`); its
training, held-out scores, generation and report are the drums pipeline
(:mod:`timbrespace.experiments.drums`).
"""

from __future__ import annotations

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

__all__ = [
    "DRUM_MAPS", "MAGENTA9", "SEED8", "DrumMap", "DrumVoice", "get_drum_map",
    "GrooveBar", "MidiGroove", "read_midi", "midi_to_patterns", "patterns_to_midi", "write_midi",
    "quantize_velocity",
    "GrooveDatasetConfig", "IngestReport", "build_groove_dataset", "load_patterns", "style_of",
    "DrumKit", "KitInstrument", "KitLayer", "SoundfontKit", "find_kit", "load_hydrogen_kit",
    "render_patterns", "step_onsets_samples", "write_wav",
]
