"""A MIDI file spanning more bars than read_midi reads is refused at once (issue 32)."""

from __future__ import annotations

import time

import mido
import pytest

from timbrespace.errors import DatasetError
from timbrespace.patterns.midi import MAX_BARS_PER_FILE, read_midi


def _two_hits(path, gap_ticks: int, ticks_per_beat: int = 1) -> None:
    mf = mido.MidiFile(ticks_per_beat=ticks_per_beat)
    track = mido.MidiTrack()
    track.append(mido.Message("note_on", channel=9, note=36, velocity=100, time=0))
    track.append(mido.Message("note_on", channel=9, note=38, velocity=100, time=gap_ticks))
    mf.tracks.append(track)
    mf.save(path)


def test_a_gap_of_millions_of_bars_is_refused_quickly(tmp_path) -> None:
    path = tmp_path / "gap.mid"
    _two_hits(path, 2**23)  # 2**21 bars at one tick per quarter note
    t0 = time.perf_counter()
    with pytest.raises(DatasetError, match=rf"gap.mid: spans 2097153 bars .* at most {MAX_BARS_PER_FILE} bars"):
        read_midi(path)
    assert time.perf_counter() - t0 < 5.0


def test_a_file_at_the_cap_is_read(tmp_path) -> None:
    path = tmp_path / "long.mid"
    _two_hits(path, 4 * (MAX_BARS_PER_FILE - 1))  # the second hit starts the last bar
    assert len(read_midi(path).bars) == MAX_BARS_PER_FILE
