"""The groove feel (issue 31): per-voice, per-position velocity and micro-timing statistics, humanising."""

from __future__ import annotations

import json
from pathlib import Path

import mido
import numpy as np
import pytest

from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments.drums_feel import evaluate_feel, humanize_midi, load_feel
from timbrespace.patterns.dataset import build_groove_dataset
from timbrespace.patterns.feel import (
    GrooveFeel,
    default_feel,
    feel_from_dataset,
    fit_groove_feel,
    read_feel,
)
from timbrespace.patterns.midi import patterns_to_midi, read_midi, write_midi


def _grooves(n_bars: int = 20) -> tuple[np.ndarray, np.ndarray]:
    """Hats on every 8th: loud and on time on the beat, soft and 0.3 of a step late on the "and" positions;
    a kick on the beat with velocities 0.6/0.8 alternating and offsets ±0.1; a snare only twice."""
    x = np.zeros((n_bars, 16, 9), np.float32)
    o = np.zeros_like(x)
    x[:, 0::4, 2], x[:, 2::4, 2] = 1.0, 0.4
    o[:, 2::4, 2] = 0.3
    x[:, 0::4, 0] = np.where(np.arange(n_bars) % 2 == 0, 0.6, 0.8)[:, None]
    o[:, 0::4, 0] = np.where(np.arange(n_bars) % 2 == 0, -0.1, 0.1)[:, None]
    x[0, 4, 1] = x[1, 12, 1] = 0.5
    o[0, 4, 1], o[1, 12, 1] = 0.2, 0.0
    return x, o


def test_fit_on_known_grooves() -> None:
    x, o = _grooves()
    feel = fit_groove_feel(x, o, steps_per_quarter=4, min_count=5)
    hat, kick, snare = 2, 0, 1
    assert feel.velocity_mean[hat, 0] == pytest.approx(1.0) and feel.velocity_mean[hat, 2] == pytest.approx(0.4)
    assert feel.offset_mean[hat, 0] == 0 and feel.offset_mean[hat, 2] == pytest.approx(0.3)
    assert feel.velocity_sd[hat, 0] == 0 and feel.offset_sd[hat, 2] == pytest.approx(0, abs=1e-7)
    assert feel.counts[hat].tolist() == [80, 0, 80, 0] and feel.counts[kick].tolist() == [80, 0, 0, 0]
    # positions without hits borrow their voice's statistics over every position
    assert feel.velocity_mean[hat, 1] == pytest.approx(0.7) and feel.offset_mean[hat, 3] == pytest.approx(0.15)
    assert feel.velocity_mean[kick, 0] == pytest.approx(0.7) and feel.velocity_sd[kick, 0] == pytest.approx(0.1)
    assert feel.offset_mean[kick, 0] == pytest.approx(0, abs=1e-7) and feel.offset_sd[kick, 0] == pytest.approx(0.1)
    # a voice with fewer than min_count hits borrows every hit's statistics
    hits = x > 0
    assert feel.velocity_mean[snare, 0] == pytest.approx(float(x[hits].mean()))
    assert feel.offset_sd[snare, 3] == pytest.approx(float(o[hits].std()))
    # the expected feel of the grooves' own hits: exact where a cell has one value
    v, off = feel.expected((x > 0).astype(np.float32))
    assert np.allclose(v[:, 2::4, hat], 0.4) and np.allclose(off[:, 2::4, hat], 0.3) and np.all(v[x == 0] == 0)


def test_humanize_draws() -> None:
    x, o = _grooves(200)
    feel = fit_groove_feel(x, o, steps_per_quarter=4)
    hits = (x > 0).astype(np.float32)
    v, off = feel.humanize(hits, seed=1)
    assert np.array_equal(v > 0, x > 0) and np.all(off[x == 0] == 0)
    assert np.all(np.abs(off) <= 0.45) and v[x > 0].min() >= 1 / 127 and v.max() <= 1
    # zero spread: exactly the cell's value; a spread: its moments
    assert np.allclose(v[:, 2::4, 2], 0.4) and np.allclose(off[:, 2::4, 2], 0.3)
    kick_v, kick_o = v[:, 0::4, 0].ravel(), off[:, 0::4, 0].ravel()
    assert kick_v.mean() == pytest.approx(0.7, abs=0.01) and kick_v.std() == pytest.approx(0.1, abs=0.01)
    assert kick_o.mean() == pytest.approx(0.0, abs=0.01) and kick_o.std() == pytest.approx(0.1, abs=0.01)
    # seeded, and a hit's draw depends on its cell only
    v2, off2 = feel.humanize(hits, seed=1)
    assert np.array_equal(v, v2) and np.array_equal(off, off2)
    assert not np.array_equal(feel.humanize(hits, seed=2)[0], v)
    fewer = hits.copy()
    fewer[:, :, 2] = 0
    v3, off3 = feel.humanize(fewer, seed=1)
    assert np.array_equal(v3[:, :, 0], v[:, :, 0]) and np.array_equal(off3[:, :, 0], off[:, :, 0])
    with pytest.raises(ParameterError, match="seed"):
        feel.humanize(hits, seed=-1)
    with pytest.raises(ParameterError, match="shape"):
        feel.humanize(hits[:, :, :8], seed=0)


def test_fit_refuses(tmp_path: Path) -> None:
    x, o = _grooves()
    with pytest.raises(ParameterError, match="offsets"):
        fit_groove_feel(x, o + 0.7)
    with pytest.raises(ParameterError, match="steps_per_quarter"):
        fit_groove_feel(x, o, steps_per_quarter=1.5)
    with pytest.raises(DatasetError, match="no hits"):
        fit_groove_feel(np.zeros_like(x), o * 0)
    feel = fit_groove_feel(x, o)
    saved = feel.save(tmp_path / "feel.json")
    back = read_feel(saved)
    assert back.drum_map == feel.drum_map and np.allclose(back.offset_mean, feel.offset_mean, atol=1e-6)
    assert np.array_equal(back.counts, feel.counts)
    data = json.loads(saved.read_text())
    data["velocity_sd"] = data["velocity_sd"][:3]
    (tmp_path / "bad.json").write_text(json.dumps(data))
    with pytest.raises(DatasetError, match="velocity_sd"):
        read_feel(tmp_path / "bad.json")
    (tmp_path / "text.json").write_text("not json")
    with pytest.raises(DatasetError, match="unreadable"):
        read_feel(tmp_path / "text.json")
    with pytest.raises(DatasetError, match="not a groove feel"):
        GrooveFeel.from_dict({"format": "other"})


def test_default_feel_is_the_shared_grooves(grooves_dir: Path, tmp_path: Path) -> None:
    """The shipped feel re-estimated from ../shared/data/grooves; and what it says of real drumming."""
    build_groove_dataset(grooves_dir, tmp_path / "ds")
    fresh = feel_from_dataset(tmp_path / "ds", split=None)
    shipped = default_feel()
    for name in ("velocity_mean", "velocity_sd", "offset_mean", "offset_sd"):
        assert np.allclose(getattr(shipped, name), getattr(fresh, name), atol=1e-6), name
    assert np.array_equal(shipped.counts, fresh.counts) and shipped.counts.sum() > 5000
    # swung grooves in the corpus: the 2nd 16th of a beat is late, the 4th early (towards the triplet)
    late = np.average(shipped.offset_mean[:, 1], weights=shipped.counts[:, 1])
    early = np.average(shipped.offset_mean[:, 3], weights=shipped.counts[:, 3])
    on_beat = np.average(shipped.offset_mean[:, 0], weights=shipped.counts[:, 0])
    assert late > 0.05 and early < -0.1 and abs(on_beat) < 0.02


def test_humanize_a_real_groove(grooves_dir: Path, tmp_path: Path) -> None:
    """A real groove quantised at one velocity comes back with its hits, new velocities and timing."""
    groove = read_midi(grooves_dir / "stdlib__50srock__50sRock.mid")
    x, _ = groove.patterns()
    straight = np.where(x > 0, 100 / 127, 0).astype(np.float32)
    write_midi(tmp_path / "straight.mid", straight, bpm=groove.bpm)
    feel = default_feel()
    result = humanize_midi(tmp_path / "straight.mid", tmp_path / "played.mid", feel=feel, seed=0)
    assert result.n_hits == int((x > 0).sum()) and result.time_signature == (4, 4) and result.bpm == groove.bpm
    played = read_midi(tmp_path / "played.mid")
    v, o, _ = played.patterns_and_offsets()
    assert np.array_equal(v > 0, x > 0)
    assert len(np.unique(v[v > 0])) > 10 and np.count_nonzero(o) > 0.5 * (x > 0).sum()
    expect_v, expect_o = feel.humanize(straight, seed=0)
    assert np.allclose(v, np.rint(expect_v * 127) / 127, atol=1e-6)
    expect_o[0, 0] = np.maximum(expect_o[0, 0], 0)  # nothing is played before the file's first tick
    assert np.allclose(o, expect_o, atol=0.5 / 120 + 1e-6)  # within half a tick of 120 per step
    ticks = [m.time for m in mido.MidiFile(str(tmp_path / "played.mid")).tracks[1]]
    assert sum(ticks) > 0
    with pytest.raises(ParameterError, match="--overwrite"):
        humanize_midi(tmp_path / "straight.mid", tmp_path / "played.mid", feel=feel)
    with pytest.raises(ParameterError, match="input"):
        humanize_midi(tmp_path / "straight.mid", tmp_path / "straight.mid", feel=feel, overwrite=True)
    empty = tmp_path / "empty.mid"
    patterns_to_midi(np.zeros((1, 16, 9), np.float32)).save(str(empty))
    with pytest.raises(DatasetError, match="no drum hits"):
        humanize_midi(empty, tmp_path / "out.mid", feel=feel)
    assert not (tmp_path / "out.mid").exists()
    assert load_feel(None).source == feel.source
    with pytest.raises(ParameterError, match="--from"):
        load_feel(tmp_path / "absent")


def test_evaluate_feel_baselines() -> None:
    """On the bars it was fitted on, the feel of a one-value-per-cell corpus is exact; the baselines are not."""
    x, o = _grooves()
    x[:, 0::4, 0], o[:, 0::4, 0] = 0.7, 0.0  # one value per cell
    x[:, [4, 12], 1], o[:, [4, 12], 1] = 0, 0
    feel = fit_groove_feel(x, o)
    ev = evaluate_feel(feel, x, x, o, np.full(len(x), 120.0), seed=0)
    assert ev.velocity_mae == pytest.approx(0, abs=1e-6) and ev.offset_mae_ms == pytest.approx(0, abs=1e-4)
    hits = x > 0
    assert ev.velocity_mae_baseline_mean == pytest.approx(float(np.abs(x[hits].mean() - x[hits]).mean()), rel=1e-6)
    # a 16th at 120 BPM is 125 ms: half the hats are 0.3 step late
    assert ev.offset_mae_ms_baseline_zero == pytest.approx(float(np.abs(o[hits]).mean()) * 125, rel=1e-6)
    assert ev.offset_mae_ms_baseline_zero > 5 and ev.n_test_hits == int(hits.sum())
