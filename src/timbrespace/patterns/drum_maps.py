"""Drum maps: which General MIDI percussion notes fold into which pattern voice.

Two maps are provided:

* ``magenta9`` — the 9 classes of Magenta's drum models (kick, snare, closed hat, open
  hat, low/mid/high tom, crash, ride), exactly Magenta's ``DEFAULT_DRUM_TYPE_PITCHES``
  (used by DrumsRNN, MusicVAE and GrooVAE, Gillick et al., 2019). GM notes outside it are
  dropped (and counted by the MIDI reader).
* ``seed8`` — the 8 classes of seed 004 (ATIAM-Sequenceur): kick 35,36; snare
  37,38,40,91,93; clap 39; open hat 46; closed hat 42,44; toms 41,43,45,47,48,50; cymbals
  49,51,52,53,55,57,59; every other note goes to ``percussion``.

Each voice has one GM note used when writing MIDI (``output_note``) and a few name
keywords used to find a matching instrument in a drum kit whose GM notes are unset.

References
----------
Gillick, Roberts, Engel, Eck, Bamman (2019). Learning to Groove with Inverse Sequence
Transformations. ICML. (Magenta GrooVAE, 9-class drum mapping.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from timbrespace.errors import ParameterError

__all__ = ["DrumVoice", "DrumMap", "MAGENTA9", "SEED8", "DRUM_MAPS", "get_drum_map"]


@dataclass(frozen=True)
class DrumVoice:
    """One row of a pattern's voice axis.

    Parameters
    ----------
    name : str
        Voice name (``kick``, ``snare``, ...).
    midi_notes : tuple of int
        GM percussion notes (key numbers, channel 10) folded into this voice.
    output_note : int
        The GM note written when a pattern is turned back into MIDI.
    keywords : tuple of str
        Lower-case words that identify this voice in a kit's instrument names,
        most specific first.
    """

    name: str
    midi_notes: tuple[int, ...]
    output_note: int
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class DrumMap:
    """An ordered set of voices and the GM note → voice lookup.

    Parameters
    ----------
    name : str
    voices : tuple of DrumVoice
        In pattern order (``pattern[..., k]`` is ``voices[k]``).
    default_voice : str or None
        Voice that receives every GM note not listed anywhere, or None to drop them.
    """

    name: str
    voices: tuple[DrumVoice, ...]
    default_voice: str | None = None

    def __post_init__(self) -> None:
        seen: dict[int, str] = {}
        for voice in self.voices:
            if voice.output_note not in voice.midi_notes:
                raise ParameterError(f"voice {voice.name!r}: output_note={voice.output_note} not in its midi_notes")
            for note in voice.midi_notes:
                if note in seen:
                    raise ParameterError(f"GM note {note} is in voices {seen[note]!r} and {voice.name!r}")
                seen[note] = voice.name
        if self.default_voice is not None and self.default_voice not in self.voice_names:
            raise ParameterError(f"default_voice={self.default_voice!r} is not one of {self.voice_names}")

    @property
    def n_voices(self) -> int:
        return len(self.voices)

    @property
    def voice_names(self) -> list[str]:
        return [v.name for v in self.voices]

    @property
    def output_notes(self) -> np.ndarray:
        """GM note written for each voice, ``np.ndarray [shape=(n_voices,), dtype=int64]``."""
        return np.array([v.output_note for v in self.voices], dtype=np.int64)

    def voice_index(self, midi_note: int) -> int | None:
        """Voice index of a GM note, or None if the map drops it."""
        for k, voice in enumerate(self.voices):
            if midi_note in voice.midi_notes:
                return k
        if self.default_voice is not None:
            return self.voice_names.index(self.default_voice)
        return None

    def lookup_table(self) -> np.ndarray:
        """Voice index of every MIDI note 0..127 (−1 = dropped), ``shape=(128,), int64``."""
        return np.array([-1 if (k := self.voice_index(n)) is None else k for n in range(128)], dtype=np.int64)


MAGENTA9 = DrumMap(
    name="magenta9",
    # Magenta's DEFAULT_DRUM_TYPE_PITCHES (drums_encoder_decoder.py), first note = output.
    voices=(
        DrumVoice("kick", (36, 35), 36, ("kick", "bass drum", "bd")),
        DrumVoice("snare", (38, 27, 28, 31, 32, 33, 34, 37, 39, 40, 56, 65, 66, 75, 85), 38,
                  ("snare", "sd", "rim", "stick", "clap")),
        DrumVoice("closed_hat", (42, 44, 54, 68, 69, 70, 71, 73, 78, 80, 22), 42,
                  ("closed hh", "closed hat", "hat closed", "hh closed", "closed",
                   "pedal hh", "pedal hat", "hat pedal", "hat", "hh")),
        DrumVoice("open_hat", (46, 67, 72, 74, 79, 81, 26), 46, ("open hh", "open hat", "hat open", "hh open", "open")),
        DrumVoice("low_tom", (45, 29, 41, 43, 61, 64, 84), 45, ("tom low", "low tom", "floor", "tom")),
        DrumVoice("mid_tom", (48, 47, 60, 63, 77, 86, 87), 48, ("tom mid", "mid tom", "tom")),
        DrumVoice("high_tom", (50, 30, 62, 76, 83), 50, ("tom hi", "high tom", "hi tom", "tom high", "tom")),
        DrumVoice("crash", (49, 52, 55, 57, 58), 49, ("crash", "cymbal", "china", "splash")),
        DrumVoice("ride", (51, 53, 59, 82), 51, ("ride", "cymbal")),
    ),
    default_voice=None,
)

SEED8 = DrumMap(
    name="seed8",
    voices=(
        DrumVoice("kick", (35, 36), 36, ("kick", "bass drum", "bd")),
        DrumVoice("snare", (37, 38, 40, 91, 93), 38, ("snare", "sd", "rim", "stick")),
        DrumVoice("clap", (39,), 39, ("clap", "snare")),
        DrumVoice("open_hat", (46,), 46, ("open hh", "open hat", "hat open", "hh open", "open")),
        DrumVoice("closed_hat", (42, 44), 42, ("closed hh", "closed hat", "hat closed", "hh closed",
                                                "closed", "pedal hh", "pedal hat", "hat", "hh")),
        DrumVoice("toms", (41, 43, 45, 47, 48, 50), 45, ("tom mid", "mid tom", "tom")),
        DrumVoice("cymbals", (49, 51, 52, 53, 55, 57, 59), 49, ("crash", "cymbal", "ride", "china", "splash")),
        DrumVoice("percussion", (56,), 56, ("cowbell", "perc", "conga", "clave", "shaker", "tamb", "bongo")),
    ),
    default_voice="percussion",
)

DRUM_MAPS: dict[str, DrumMap] = {m.name: m for m in (MAGENTA9, SEED8)}


def get_drum_map(name: str | DrumMap) -> DrumMap:
    """Drum map by name (``magenta9`` or ``seed8``); a :class:`DrumMap` passes through.

    Raises
    ------
    ParameterError
        If the name is unknown.
    """
    if isinstance(name, DrumMap):
        return name
    try:
        return DRUM_MAPS[name]
    except KeyError:
        raise ParameterError(f"drum_map={name!r} is unknown: allowed {', '.join(DRUM_MAPS)}") from None
