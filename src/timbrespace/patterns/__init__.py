"""Drum grooves: the domain of MIDI ↔ pattern arrays, groove datasets, drum kits and rendering.

Patterns are ``(n_items, n_steps, n_voices)`` float32 velocities in [0, 1], with their
micro-timing offsets (steps, in [-0.5, 0.5]) beside them where known (DESIGN.md, "Grooves
with feel").

Modules: :mod:`~timbrespace.patterns.drum_maps` (GM note → voice), :mod:`.midi` (read and
write MIDI on a step grid, swing and offsets), :mod:`.dataset` (groove datasets on disk),
:mod:`.kits` (Hydrogen kits, GM soundfont), :mod:`.render` (audio at an exact tempo),
:mod:`.feel` (velocity and timing per drum and position in the beat; humanising),
:mod:`.drumify` (a tapped rhythm → a full kit, GrooVAE's Drumify). The groove VAE
is a configuration of the VAE family (:func:`timbrespace.models.groove_config`); its
training, held-out scores, generation and report are the drums pipeline
(:mod:`timbrespace.experiments.drums`).
"""

from __future__ import annotations

from timbrespace.patterns.dataset import (
    GrooveDatasetConfig,
    IngestReport,
    build_groove_dataset,
    load_offsets,
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
from timbrespace.patterns.drumify import (
    Drumify,
    default_drumify,
    drumify_from_dataset,
    fit_drumify,
    read_drumify,
    tap_track,
)
from timbrespace.patterns.feel import (
    GrooveFeel,
    default_feel,
    feel_from_dataset,
    fit_groove_feel,
    read_feel,
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
    check_offsets,
    midi_to_patterns,
    patterns_to_midi,
    quantize_velocity,
    read_midi,
    write_midi,
    write_midi_file,
)
from timbrespace.patterns.render import render_patterns, step_onsets_samples, write_wav

__all__ = [
    "DRUM_MAPS", "MAGENTA9", "SEED8", "DrumMap", "DrumVoice", "get_drum_map",
    "GrooveBar", "MidiGroove", "read_midi", "midi_to_patterns", "patterns_to_midi", "write_midi",
    "quantize_velocity", "check_offsets", "write_midi_file",
    "GrooveDatasetConfig", "IngestReport", "build_groove_dataset", "load_patterns", "load_offsets", "style_of",
    "GrooveFeel", "fit_groove_feel", "feel_from_dataset", "default_feel", "read_feel",
    "Drumify", "fit_drumify", "drumify_from_dataset", "default_drumify", "read_drumify", "tap_track",
    "DrumKit", "KitInstrument", "KitLayer", "SoundfontKit", "find_kit", "load_hydrogen_kit",
    "render_patterns", "step_onsets_samples", "write_wav",
]
