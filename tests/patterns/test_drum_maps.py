"""Drum maps: GM note → voice assignments (Magenta 9 classes, seed 004's 8 classes)."""

from __future__ import annotations

import pytest

from timbrespace.errors import ParameterError
from timbrespace.patterns.drum_maps import MAGENTA9, SEED8, DrumMap, DrumVoice, get_drum_map


def _name(dmap: DrumMap, note: int) -> str | None:
    k = dmap.voice_index(note)
    return None if k is None else dmap.voices[k].name


@pytest.mark.parametrize(
    ("note", "voice"),
    [
        (35, "kick"),
        (36, "kick"),
        (37, "snare"),
        (38, "snare"),
        (40, "snare"),
        (91, "snare"),
        (93, "snare"),
        (39, "clap"),
        (46, "open_hat"),
        (42, "closed_hat"),
        (44, "closed_hat"),
        (41, "toms"),
        (43, "toms"),
        (45, "toms"),
        (47, "toms"),
        (48, "toms"),
        (50, "toms"),
        (49, "cymbals"),
        (51, "cymbals"),
        (52, "cymbals"),
        (53, "cymbals"),
        (55, "cymbals"),
        (57, "cymbals"),
        (59, "cymbals"),
        (54, "percussion"),
        (56, "percussion"),
        (70, "percussion"),
        (0, "percussion"),
    ],
)
def test_seed8_assignments(note: int, voice: str) -> None:
    assert _name(SEED8, note) == voice


@pytest.mark.parametrize(
    ("note", "voice"),
    [
        (36, "kick"),
        (35, "kick"),
        (38, "snare"),
        (40, "snare"),
        (37, "snare"),
        (42, "closed_hat"),
        (44, "closed_hat"),
        (46, "open_hat"),
        (41, "low_tom"),
        (43, "low_tom"),
        (45, "low_tom"),
        (47, "mid_tom"),
        (48, "mid_tom"),
        (50, "high_tom"),
        (49, "crash"),
        (57, "crash"),
        (51, "ride"),
        (59, "ride"),
        (53, "ride"),
        (0, None),
        (100, None),
    ],
)
def test_magenta9_assignments(note: int, voice: str | None) -> None:
    assert _name(MAGENTA9, note) == voice


def test_shapes_and_output_notes() -> None:
    assert MAGENTA9.n_voices == 9 and SEED8.n_voices == 8
    assert MAGENTA9.voice_names == [
        "kick",
        "snare",
        "closed_hat",
        "open_hat",
        "low_tom",
        "mid_tom",
        "high_tom",
        "crash",
        "ride",
    ]
    # every output note maps back to its own voice, so MIDI written from a pattern reads back
    for dmap in (MAGENTA9, SEED8):
        assert [dmap.voice_index(int(n)) for n in dmap.output_notes] == list(range(dmap.n_voices))
    table = SEED8.lookup_table()
    assert table.shape == (128,) and (table >= 0).all()
    assert (MAGENTA9.lookup_table() == -1).sum() > 0


def test_errors() -> None:
    with pytest.raises(ParameterError, match="drum_map='gm12'"):
        get_drum_map("gm12")
    with pytest.raises(ParameterError, match="36"):
        DrumMap("bad", (DrumVoice("a", (36,), 36), DrumVoice("b", (36, 38), 38)))
    assert get_drum_map(SEED8) is SEED8
