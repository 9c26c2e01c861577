"""MIDI ↔ pattern: grid quantisation by beats, meters, tempo, round trip, real grooves."""

from __future__ import annotations

import io
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest

from timbrespace.errors import DatasetError, ParameterError
from timbrespace.patterns.midi import (
    midi_to_patterns,
    patterns_to_midi,
    quantize_velocity,
    read_midi,
    write_midi,
)


def _write(
    path: Path,
    notes: list[tuple[int, int, int, int]],
    *,
    tpb: int = 96,
    meters: list[tuple[int, int, int]] | None = None,
    tempos: list[tuple[int, float]] | None = None,
) -> Path:
    """Type-1 file; ``notes`` = (tick, channel, note, velocity); meters/tempos = (tick, ...)."""
    mf = mido.MidiFile(type=1, ticks_per_beat=tpb)
    meta = [
        (t, mido.MetaMessage("time_signature", numerator=n, denominator=d))
        for t, n, d in (meters or [])
    ]
    meta += [(t, mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(b))) for t, b in (tempos or [])]
    events = [(t, mido.Message("note_on", channel=c, note=n, velocity=v)) for t, c, n, v in notes]
    events += [(t + 5, mido.Message("note_off", channel=c, note=n)) for t, c, n, _ in notes]
    for evs in (meta, events):
        track, now = mido.MidiTrack(), 0
        for t, msg in sorted(evs, key=lambda e: e[0]):
            track.append(msg.copy(time=t - now))
            now = t
        mf.tracks.append(track)
    mf.save(str(path))
    return path


def test_grid_drum_channel_and_collisions(tmp_path: Path) -> None:
    # 16ths at 96 ticks per quarter = 24 ticks per step
    notes = [
        (0, 9, 36, 100),
        (0, 9, 35, 60),  # two kicks on one step: max velocity
        (24 * 4, 9, 38, 127),
        (24 * 6 + 5, 9, 42, 64),  # 5 ticks late: still step 6
        (24 * 8, 0, 36, 100),  # channel 1: ignored
        (24 * 17 - 3, 9, 42, 50),
    ]  # bar 2, step 1 (3 ticks early)
    g = read_midi(_write(tmp_path / "a.mid", notes), drum_map="magenta9", steps_per_bar=16)
    p, idx = g.patterns()
    assert p.shape == (2, 16, 9) and idx.tolist() == [0, 1]
    assert p[0, 0, 0] == pytest.approx(100 / 127)
    assert p[0, 4, 1] == pytest.approx(1.0)
    assert p[0, 6, 2] == pytest.approx(64 / 127)
    assert p[1, 1, 2] == pytest.approx(50 / 127)
    assert (p > 0).sum() == 4
    assert g.n_notes == 5 and g.mean_offset_steps == pytest.approx((5 / 24 + 3 / 24) / 5)


def test_tempo_changes_do_not_move_notes(tmp_path: Path) -> None:
    notes = [(96 * k, 9, 36, 100) for k in range(8)]
    steady = read_midi(_write(tmp_path / "a.mid", notes, tempos=[(0, 120)])).patterns()[0]
    changing = read_midi(
        _write(tmp_path / "b.mid", notes, tempos=[(0, 120), (96 * 2, 73.5), (96 * 5, 180)])
    )
    assert np.array_equal(steady, changing.patterns()[0])
    assert changing.bpm == pytest.approx(120.0)
    assert np.flatnonzero(steady[..., 0].ravel()).tolist() == [0, 4, 8, 12, 16, 20, 24, 28]


def test_meters(tmp_path: Path) -> None:
    # bar 0 in 4/4 (384 ticks), bars 1-2 in 3/4 (288 ticks), then 6/8 (288 ticks)
    meters = [(0, 4, 4), (384, 3, 4), (384 + 2 * 288, 6, 8)]
    notes = [
        (0, 9, 36, 90),
        (384, 9, 38, 90),
        (384 + 288 + 24 * 11, 9, 42, 90),
        (384 + 576 + 24 * 3, 9, 46, 90),
    ]
    g = read_midi(_write(tmp_path / "m.mid", notes, meters=meters))
    assert [(b.index, b.time_signature, b.pattern.shape[0]) for b in g.bars] == [
        (0, (4, 4), 16),
        (1, (3, 4), 12),
        (2, (3, 4), 12),
        (3, (6, 8), 12),
    ]
    assert g.bars[2].pattern[11, 2] > 0 and g.bars[3].pattern[3, 3] > 0
    three, idx = g.patterns((3, 4))
    assert three.shape == (2, 12, 9) and idx.tolist() == [1, 2]
    with pytest.raises(ParameterError, match="steps"):
        g.patterns(None)


def test_meter_off_the_grid_is_reported_not_mangled(tmp_path: Path) -> None:
    # 5/16 is 1.25 quarters: 5 steps at 16/bar, but 2.5 steps at 8/bar
    notes = [(0, 9, 36, 90), (24, 9, 38, 90)]
    path = _write(tmp_path / "m.mid", notes, meters=[(0, 5, 16)])
    assert read_midi(path, steps_per_bar=16).bars[0].pattern.shape == (5, 9)
    g = read_midi(path, steps_per_bar=8)
    assert g.bars == () and len(g.skipped) == 1 and "5/16" in g.skipped[0]


def test_round_trip_exact(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    p = np.where(rng.random((3, 16, 9)) < 0.25, rng.uniform(0.001, 1.0, (3, 16, 9)), 0).astype(
        np.float32
    )
    q = quantize_velocity(p)
    assert ((q > 0) == (p > 0)).all() and np.abs(q - p).max() <= 0.5 / 127 + 1e-6
    path = write_midi(tmp_path / "rt.mid", p, drum_map="magenta9", bpm=97.0)
    back = midi_to_patterns(path)
    assert np.array_equal(back, q)
    # MIDI → pattern → MIDI: same note events (tick, note, velocity)
    again = patterns_to_midi(back, drum_map="magenta9", bpm=97.0)

    def events(mf: mido.MidiFile) -> list[tuple[int, int, int]]:
        out, now = [], 0
        for msg in mido.merge_tracks(mf.tracks):
            now += msg.time
            if msg.type == "note_on" and msg.velocity > 0:
                out.append((now, msg.note, msg.velocity))
        return out

    assert events(again) == events(mido.MidiFile(str(path)))
    # 64 steps (seed 004) and 12 steps of 3/4 also round-trip
    p64 = np.zeros((1, 64, 8), np.float32)
    p64[0, [0, 17, 63], [0, 3, 7]] = [1.0, 0.5, 0.25]
    assert np.array_equal(
        midi_to_patterns(
            write_midi(tmp_path / "s.mid", p64, drum_map="seed8"),
            drum_map="seed8",
            steps_per_bar=64,
        ),
        quantize_velocity(p64),
    )
    p34 = np.zeros((2, 12, 9), np.float32)
    p34[1, 11, 4] = 0.7
    path34 = write_midi(tmp_path / "w.mid", p34, time_signature=(3, 4))
    assert np.array_equal(midi_to_patterns(path34, time_signature=(3, 4)), quantize_velocity(p34))


def test_tempo_is_exact() -> None:
    p = np.zeros((2, 16, 9), np.float32)
    p[:, ::2, 2] = 0.8
    p[1, 15, 0] = 1.0
    mf = patterns_to_midi(p, bpm=120.0)
    buf = io.BytesIO()
    mf.save(file=buf)
    buf.seek(0)
    pm = pretty_midi.PrettyMIDI(buf)
    assert pm.get_tempo_changes()[1].tolist() == [120.0]
    notes = sorted(pm.instruments[0].notes, key=lambda n: (n.start, n.pitch))
    starts = np.array([n.start for n in notes if n.pitch == 42])
    # a 16th at 120 BPM lasts 0.125 s; 2 bars of 8 hat hits
    assert np.allclose(starts, np.arange(16) * 0.25, atol=1e-9)
    kick = [n.start for n in notes if n.pitch == 36]
    assert kick == [pytest.approx((16 + 15) * 0.125, abs=1e-9)]
    assert pm.instruments[0].is_drum
    assert mf.length == pytest.approx(4.0, abs=1e-9)  # 2 bars of 2 s, so loops line up


def test_bad_input(tmp_path: Path) -> None:
    bad = tmp_path / "broken.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x00\x60MTrk\x00\x00\x10\x00\x00\x90")
    with pytest.raises(DatasetError, match="broken.mid"):
        read_midi(bad)
    with pytest.raises(ParameterError, match="steps_per_bar"):
        read_midi(bad, steps_per_bar=0)
    with pytest.raises(ParameterError, match="shape"):
        patterns_to_midi(np.zeros((16, 8)), drum_map="magenta9")
    with pytest.raises(ParameterError, match="bpm"):
        patterns_to_midi(np.zeros((16, 9)), bpm=0)
    with pytest.raises(ParameterError, match="ticks"):
        patterns_to_midi(np.zeros((7, 9)), ticks_per_beat=480)


def test_real_grooves_every_bar(grooves_dir: Path) -> None:
    files = sorted(grooves_dir.glob("*.mid"))
    assert len(files) == 300
    meters: dict[tuple[int, int], int] = {}
    n_hits = 0
    for f in files:
        g = read_midi(f)
        assert g.skipped == ()
        for b in g.bars:
            meters[b.time_signature] = meters.get(b.time_signature, 0) + 1
            num, den = b.time_signature
            assert b.pattern.shape == (16 * num // den, 9)
            n_hits += int((b.pattern > 0).sum())
    assert set(meters) == {(4, 4), (3, 4), (6, 8), (5, 4)}
    assert meters[(4, 4)] > 1000 and sum(meters.values()) > 1500  # all bars, not the first only
    assert n_hits > 10_000
    rock = read_midi(grooves_dir / "stdlib__50srock__50sRock.mid")
    p, _ = rock.patterns()
    # 50sRock: kick on 1 and 3, backbeat snare on 2 and 4
    assert (p[:4, [0, 8], 0] > 0).all() and (p[:4, [4, 12], 1] > 0).all()
