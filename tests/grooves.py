"""Groove helpers for the drums tests: a small real groove dataset, and the drum note-ons of a MIDI file."""

from __future__ import annotations

import io
import shutil
from pathlib import Path
from typing import NamedTuple

import mido

from timbrespace.patterns.dataset import GrooveDatasetConfig, build_groove_dataset
from timbrespace.patterns.midi import DRUM_CHANNEL


class DrumNoteOns(NamedTuple):
    """The drum channel's note-ons of a MIDI file, as a reader sees them."""

    ticks_per_beat: int
    notes: list[tuple[int, int, int]]
    """Sorted ``(absolute tick, note, velocity)``, one per note-on of velocity > 0."""


def drum_note_ons(midi: Path | bytes | mido.MidiFile) -> DrumNoteOns:
    """The note-ons on :data:`DRUM_CHANNEL` of a MIDI file (a path, its bytes, or the file read)."""
    if isinstance(midi, mido.MidiFile):
        mf = midi
    elif isinstance(midi, bytes):
        mf = mido.MidiFile(file=io.BytesIO(midi))
    else:
        mf = mido.MidiFile(str(midi))
    notes = []
    for track in mf.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.channel == DRUM_CHANNEL and msg.velocity > 0:
                notes.append((tick, msg.note, msg.velocity))
    return DrumNoteOns(mf.ticks_per_beat, sorted(notes))


def small_groove_dataset(grooves_dir: Path, root: Path) -> Path:
    """A groove dataset of 60 real grooves (every 5th MIDI file of ``grooves_dir``), split 0.6/0.2/0.2.

    The files are copied to ``root / "midi"``; the dataset is built in ``root / "ds"``, returned.
    """
    src = root / "midi"
    src.mkdir()
    for f in sorted(grooves_dir.glob("*.mid"))[::5]:
        shutil.copy(f, src)
    config = GrooveDatasetConfig(splits=(("train", 0.6), ("valid", 0.2), ("test", 0.2)))
    build_groove_dataset(src, root / "ds", config=config)
    return root / "ds"
