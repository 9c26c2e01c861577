"""Grooves with feel (issue 31): swing and micro-timing offsets in MIDI, audio and groove datasets."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import mido
import numpy as np
import pretty_midi
import pytest
import soundfile as sf

from tests.grooves import drum_note_ons
from timbrespace.errors import ParameterError
from timbrespace.patterns.dataset import (
    OFFSETS_STORE,
    GrooveDatasetConfig,
    build_groove_dataset,
    load_offsets,
    load_patterns,
)
from timbrespace.patterns.drum_maps import get_drum_map
from timbrespace.patterns.kits import load_hydrogen_kit
from timbrespace.patterns.midi import patterns_to_midi, read_midi
from timbrespace.patterns.render import render_patterns, step_onsets_samples

SR = 8000


def _reload(mf: mido.MidiFile) -> mido.MidiFile:
    buf = io.BytesIO()
    mf.save(file=buf)
    buf.seek(0)
    return mido.MidiFile(file=buf)


def _bytes(mf: mido.MidiFile) -> bytes:
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def _pattern() -> np.ndarray:
    p = np.zeros((2, 16, 9), np.float32)
    p[:, :, 2] = 0.6  # closed hat on every 16th: odd and even steps
    p[:, ::4, 0] = 1.0  # kick on the beats (even steps)
    return p


def test_swing_delays_odd_steps_by_the_swing_in_ticks() -> None:
    p = _pattern()
    straight = _reload(patterns_to_midi(p, bpm=120.0, ticks_per_beat=480))
    swung = _reload(patterns_to_midi(p, bpm=120.0, ticks_per_beat=480, swing=0.3))
    assert _bytes(straight) != _bytes(swung)
    assert _bytes(patterns_to_midi(p, swing=0.0)) == _bytes(patterns_to_midi(p))  # no swing: the bytes of before
    a, b = drum_note_ons(straight).notes, drum_note_ons(swung).notes
    assert len(a) == len(b) == 2 * 16 + 2 * 4
    tps = 120  # a 16th at 480 ticks per quarter
    for (ta, na, va), (tb, nb, vb) in zip(a, b, strict=True):
        assert (na, va) == (nb, vb)
        odd = (ta // tps) % 2 == 1
        assert tb - ta == (36 if odd else 0)  # 0.3 · 120 ticks, exactly
    # the audio's delay, in seconds: 0.3 of a 16th at 120 BPM = 37.5 ms
    pm = pretty_midi.PrettyMIDI(io.BytesIO(_bytes(swung)))
    hats = sorted(n.start for n in pm.instruments[0].notes if n.pitch == 42)
    step_s = 60 / 120 / 4
    onsets_s = step_onsets_samples(32, bpm=120.0, sample_rate=48000, swing=0.3) / 48000
    assert np.allclose(hats, onsets_s, atol=1e-9)
    assert hats[1] - step_s == pytest.approx(0.0375, abs=1e-9)


def test_offsets_move_hits_in_midi_and_audio(tmp_path: Path) -> None:
    p = np.zeros((1, 16, 9), np.float32)
    p[0, 0, 0] = p[0, 4, 0] = p[0, 9, 1] = 1.0
    o = np.zeros_like(p)
    o[0, 0, 0] = -0.25  # before tick 0: held at 0
    o[0, 4, 0] = 0.25
    o[0, 9, 1] = -0.1
    ons = drum_note_ons(_reload(patterns_to_midi(p, offsets=o, ticks_per_beat=480))).notes
    assert ons == [(0, 36, 127), (4 * 120 + 30, 36, 127), (9 * 120 - 12, 38, 127)]
    # swing and offsets add
    ons = drum_note_ons(_reload(patterns_to_midi(p, offsets=o, swing=0.25, ticks_per_beat=480))).notes
    assert [t for t, _, _ in ons] == [0, 510, 9 * 120 + 30 - 12]
    with pytest.raises(ParameterError, match="offsets"):
        patterns_to_midi(p, offsets=o + 0.6)
    with pytest.raises(ParameterError, match="offsets shape"):
        patterns_to_midi(p, offsets=o[:, :8])
    with pytest.raises(ParameterError, match="swing"):
        patterns_to_midi(p, swing=0.5)

    root = tmp_path / "Kit"
    root.mkdir()
    impulse = np.zeros(50, np.float32)
    impulse[0] = 1.0
    sf.write(root / "hit.wav", impulse, SR, subtype="FLOAT")
    (root / "drumkit.xml").write_text(
        '<?xml version="1.0"?><drumkit_info><name>T</name><instrumentList>'
        "<instrument><id>0</id><name>Kick</name><midiOutNote>36</midiOutNote>"
        "<layer><filename>hit.wav</filename><min>0</min><max>1</max></layer></instrument>"
        "<instrument><id>1</id><name>Snare</name><midiOutNote>38</midiOutNote>"
        "<layer><filename>hit.wav</filename><min>0</min><max>1</max></layer></instrument>"
        "</instrumentList></drumkit_info>")
    kit = load_hydrogen_kit(root)
    y = render_patterns(p, kit, bpm=120.0, sample_rate=SR, offsets=o, peak_db=0.0)
    step = SR * 60 / 120 / 4  # 1000 samples
    assert np.flatnonzero(y).tolist() == [0, int(4 * step + 250), int(9 * step - 100)]


def _original_notes(path: Path, drum_map: str) -> list[tuple[float, int, int]]:
    """(beat, voice, velocity) of every drum note the map plays, read with mido alone."""
    mf = mido.MidiFile(str(path))
    lookup = get_drum_map(drum_map).lookup_table()
    out = []
    for tick, note, vel in drum_note_ons(mf).notes:
        if lookup[note] >= 0:
            out.append((tick / mf.ticks_per_beat, int(lookup[note]), vel))
    return out


def test_real_grooves_offsets_round_trip(grooves_dir: Path) -> None:
    """Offsets in range; a groove written with its offsets and velocities plays its notes within one tick."""
    dmap = get_drum_map("magenta9")
    n_files = n_moved = 0
    for path in sorted(grooves_dir.glob("*.mid")):
        groove = read_midi(path)
        meters = {b.time_signature for b in groove.bars}
        for b in groove.bars:
            assert b.offsets is not None and b.offsets.shape == b.pattern.shape
            assert np.all(np.abs(b.offsets) <= 0.5)
            assert np.all(b.offsets[b.pattern == 0] == 0)
        if len(meters) != 1:
            continue  # one meter per written file
        (meter,) = meters
        x, o, _ = groove.patterns_and_offsets(meter)
        original = _original_notes(path, "magenta9")
        for tpb in (480, mido.MidiFile(str(path)).ticks_per_beat):
            written = drum_note_ons(_reload(patterns_to_midi(x, offsets=o, time_signature=meter, ticks_per_beat=tpb,
                                                             bpm=groove.bpm))).notes
            assert len(written) == int((x > 0).sum())
            for tick, note, vel in written:
                voice = int(np.flatnonzero(dmap.output_notes == note)[0])
                beat = tick / tpb
                near = [b for b, v, w in original if v == voice and w == vel and abs(b - beat) <= 1 / tpb]
                assert near, f"{path.name}: note {note} at beat {beat:.4f} (v {vel}) has no original within a tick"
        n_files += 1
        n_moved += int((o != 0).sum())
    assert n_files > 250 and n_moved > 1000  # real grooves, really off the grid


def test_dataset_keeps_offsets_and_old_datasets_read(grooves_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "midi"
    src.mkdir()
    for f in sorted(grooves_dir.glob("*.mid"))[::6]:
        shutil.copy(f, src)
    out = tmp_path / "ds"
    build_groove_dataset(src, out, config=GrooveDatasetConfig(dedup="none"))
    x, meta = load_patterns(out)
    o = load_offsets(out)
    assert o is not None and o.shape == x.shape and o.dtype == np.float32
    assert np.all(np.abs(o) <= 0.5) and np.all(o[x == 0] == 0) and np.count_nonzero(o) > 100
    for split in ("train", "test"):
        xs, _ = load_patterns(out, split)
        os_ = load_offsets(out, split)
        assert os_ is not None and os_.shape == xs.shape
    # every row is its bar of its file, offsets included
    row = int(np.argmax(np.abs(o).reshape(len(o), -1).max(axis=1)))
    groove = read_midi(src / meta["source_file"][row])
    bar = next(b for b in groove.bars if b.index == meta["bar_index"][row])
    assert np.array_equal(bar.offsets, o[row]) and np.array_equal(bar.pattern, x[row])
    from timbrespace.datasets import Dataset

    assert Dataset(out).feature_names() == ["patterns"]  # still one feature set
    # a dataset written before offsets were kept: no key in the sidecar, no store
    sidecar = out / "features" / "patterns.json"
    data = json.loads(sidecar.read_text())
    del data["offsets"]
    sidecar.write_text(json.dumps(data))
    shutil.rmtree(out / "features" / OFFSETS_STORE)
    assert load_offsets(out) is None and np.array_equal(load_patterns(out)[0], x)


def test_offset_of_a_note_carried_into_the_next_meter(tmp_path: Path) -> None:
    """A note just before a meter change rounds to the new bar's first step and keeps its (negative) offset."""
    mf = mido.MidiFile(type=1, ticks_per_beat=480)
    mf.tracks.append(mido.MidiTrack([
        mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
        mido.MetaMessage("time_signature", numerator=3, denominator=4, time=1920),
    ]))
    mf.tracks.append(mido.MidiTrack([
        mido.Message("note_on", channel=9, note=36, velocity=100, time=1900),
        mido.Message("note_off", channel=9, note=36, velocity=0, time=10),
        mido.Message("note_on", channel=9, note=38, velocity=90, time=500),
        mido.Message("note_off", channel=9, note=38, velocity=0, time=10),
    ]))
    mf.save(str(tmp_path / "meters.mid"))
    bars = read_midi(tmp_path / "meters.mid").bars
    assert [b.time_signature for b in bars] == [(4, 4), (3, 4)] and not bars[0].pattern.any()
    assert bars[1].offsets[0, 0] == pytest.approx(-20 / 120) and bars[1].pattern[0, 0] == pytest.approx(100 / 127)
    assert bars[1].offsets[4, 1] == pytest.approx(10 / 120)  # 2410 ticks: 490 into the 3/4 bar, step 4
