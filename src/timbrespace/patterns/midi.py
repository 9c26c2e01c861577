"""MIDI ↔ drum pattern arrays.

A pattern is ``np.ndarray [shape=(n_bars, n_steps, n_voices), dtype=float32]`` of
velocities in [0, 1] (0 = no hit, MIDI velocity / 127 otherwise), one row per grid step,
one column per voice of a :class:`~timbrespace.patterns.drum_maps.DrumMap`.

Reading quantises by *beats*, not seconds: a note's position is its tick count divided by
the file's ticks per quarter note, so tempo changes cannot move a note off its step (seed
004 converted seconds at an assumed tempo and played 120 BPM grooves at ~96). Each note
goes to the nearest step; a note that rounds past the end of a bar lands on step 0 of the
next one. Bars follow the time signatures written in the file: ``steps_per_bar`` is the
resolution of a 4/4 bar, so a 3/4 or 6/8 bar has ``3/4 · steps_per_bar`` steps. A bar
whose length is not a whole number of steps (e.g. 5/16 at 16 steps per 4/4 bar) is
reported in :attr:`MidiGroove.skipped`, never stretched or cut. Only the drum channel
(index 9, "channel 10") is read.

Reading also keeps each hit's micro-timing (GrooVAE's offset matrix O, Gillick et al.
2019): ``offsets[step, voice]`` is the kept note's distance from its step, in steps, in
[-0.5, 0.5] (``position - round(position)``; 0 where there is no hit). With the velocities
(V) and the hits ``pattern > 0`` (H) it is the groove as played, not only as quantised.
Where several notes fall in one cell the loudest is kept (the first of equals), with its
offset.

Writing puts every hit on its step (integer ticks) with tempo ``bpm`` (MIDI stores
microseconds per quarter note as an integer, so 120 BPM is exactly 500000 µs), moved by
``swing`` (odd steps, counted across bars, ``round(swing · ticks_per_step)`` ticks late:
the delay :func:`~timbrespace.patterns.render.render_patterns` gives the audio) and by the
pattern's ``offsets`` where given (``round(offset · ticks_per_step)`` ticks). Velocities
are quantised to MIDI's 1..127: ``round(v * 127)``, at least 1 for any ``v > 0``;
:func:`quantize_velocity` applies the same rounding, so ``read(write(p)) ==
quantize_velocity(p)`` exactly when no hit is moved, and a hit moved by its offset is
read back with the offset to within half a tick.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import mido
import numpy as np

from timbrespace.conventions import check_swing
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.patterns.drum_maps import DrumMap, get_drum_map
from timbrespace.utils.atomic import atomic_path

__all__ = [
    "DRUM_CHANNEL",
    "GrooveBar",
    "MidiGroove",
    "read_midi",
    "midi_to_patterns",
    "patterns_to_midi",
    "write_midi",
    "write_midi_file",
    "quantize_velocity",
    "steps_in_bar",
    "check_offsets",
    "MAX_OFFSET_STEPS",
]

logger = logging.getLogger(__name__)

DRUM_CHANNEL = 9
"""0-based MIDI channel of General MIDI percussion ("channel 10")."""

MAX_BARS_PER_FILE = 10_000
"""Most bars one file may span (about 5.5 hours of 4/4 at 120 BPM): a few bytes of MIDI can
announce a gap of millions of ticks, whose empty bars would take minutes and gigabytes."""

MAX_OFFSET_STEPS = 0.5
"""Largest micro-timing offset of a hit, a fraction of a step: a note is read onto its nearest step."""


@dataclass(frozen=True)
class GrooveBar:
    """One bar of a MIDI file on the step grid.

    Parameters
    ----------
    index : int
        Bar number in the file, from 0.
    time_signature : tuple of (int, int)
        ``(numerator, denominator)``.
    pattern : np.ndarray [shape=(n_steps, n_voices), dtype=float32]
        Velocities in [0, 1].
    offsets : np.ndarray [shape=(n_steps, n_voices), dtype=float32] or None
        Each hit's distance from its step, in steps, in [-0.5, 0.5]; 0 where no hit.
        None: not known (a bar built by hand).
    """

    index: int
    time_signature: tuple[int, int]
    pattern: np.ndarray
    offsets: np.ndarray | None = None


@dataclass(frozen=True)
class MidiGroove:
    """The drum part of one MIDI file, bar by bar.

    Parameters
    ----------
    path : str
    drum_map : str
        Name of the drum map used.
    steps_per_quarter : float
        Grid resolution (``steps_per_bar / 4``).
    bpm : float
        Tempo at the start of the file (informative; the grid does not depend on it).
    bars : tuple of GrooveBar
        Every bar from the first to the last, in every meter that fits the grid.
    skipped : tuple of str
        One line per bar that could not be put on the grid, with the reason.
    n_notes : int
        Drum note-ons read.
    n_unmapped : int
        Notes whose GM key the drum map drops.
    mean_offset_steps : float
        Mean absolute distance of the notes to their step (0 = perfectly on the grid;
        humanised or swung grooves give 0.1..0.3).
    """

    path: str
    drum_map: str
    steps_per_quarter: float
    bpm: float
    bars: tuple[GrooveBar, ...]
    skipped: tuple[str, ...] = field(default=())
    n_notes: int = 0
    n_unmapped: int = 0
    mean_offset_steps: float = 0.0

    def patterns(self, time_signature: tuple[int, int] | None = (4, 4)) -> tuple[np.ndarray, np.ndarray]:
        """Bars of one meter stacked into an array.

        Parameters
        ----------
        time_signature : tuple of (int, int) or None
            Meter to keep (default 4/4). None keeps every bar, which requires every bar
            to have the same number of steps.

        Returns
        -------
        patterns : np.ndarray [shape=(n_bars, n_steps, n_voices), dtype=float32]
        bar_indices : np.ndarray [shape=(n_bars,), dtype=int64]

        Raises
        ------
        ParameterError
            With ``time_signature=None`` when the bars have different lengths.
        """
        patterns, _, indices = self.patterns_and_offsets(time_signature)
        return patterns, indices

    def patterns_and_offsets(self, time_signature: tuple[int, int] | None = (4, 4)
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Bars of one meter stacked, with their micro-timing offsets (GrooVAE's V and O).

        Parameters
        ----------
        time_signature : tuple of (int, int) or None
            As in :meth:`patterns`.

        Returns
        -------
        patterns : np.ndarray [shape=(n_bars, n_steps, n_voices), dtype=float32]
            Velocities in [0, 1].
        offsets : np.ndarray [shape=(n_bars, n_steps, n_voices), dtype=float32]
            Steps, in [-0.5, 0.5]; 0 where no hit (and for a bar without offsets).
        bar_indices : np.ndarray [shape=(n_bars,), dtype=int64]

        Raises
        ------
        ParameterError
            With ``time_signature=None`` when the bars have different lengths.
        """
        bars = [b for b in self.bars if time_signature is None or b.time_signature == tuple(time_signature)]
        n_voices = get_drum_map(self.drum_map).n_voices
        if not bars:
            n_steps = steps_in_bar(self.steps_per_quarter, time_signature or (4, 4)) or 0
            empty = np.zeros((0, n_steps, n_voices), np.float32)
            return empty, empty.copy(), np.zeros(0, np.int64)
        lengths = {b.pattern.shape[0] for b in bars}
        if len(lengths) > 1:
            raise ParameterError(f"{self.path}: bars have {sorted(lengths)} steps; pick one time_signature")
        offsets = [np.zeros_like(b.pattern) if b.offsets is None else b.offsets for b in bars]
        return (np.stack([b.pattern for b in bars]).astype(np.float32), np.stack(offsets).astype(np.float32),
                np.array([b.index for b in bars], np.int64))


def steps_in_bar(steps_per_quarter: float, time_signature: Sequence[int]) -> int | None:
    """Steps in one bar of ``time_signature``, or None if not a whole number."""
    num, den = int(time_signature[0]), int(time_signature[1])
    steps = Fraction(steps_per_quarter).limit_denominator(10_000) * 4 * num / den
    return int(steps) if steps.denominator == 1 and steps > 0 else None


def quantize_velocity(patterns: np.ndarray) -> np.ndarray:
    """Round velocities in [0, 1] to MIDI's grid: ``round(v·127)/127``, ≥ 1/127 if v > 0.

    Returns
    -------
    np.ndarray, float32, same shape.
    """
    v = np.clip(np.asarray(patterns, dtype=np.float64), 0.0, 1.0)
    midi_v = np.where(v > 0, np.clip(np.round(v * 127), 1, 127), 0)
    return (midi_v / 127).astype(np.float32)


def _check_steps_per_bar(steps_per_bar: int) -> float:
    if int(steps_per_bar) != steps_per_bar or steps_per_bar < 1:
        raise ParameterError(f"steps_per_bar={steps_per_bar} must be a positive integer (steps in a 4/4 bar)")
    return steps_per_bar / 4


def read_midi(path: str | Path, *, drum_map: str | DrumMap = "magenta9", steps_per_bar: int = 16) -> MidiGroove:
    """Read the drum part of a Standard MIDI File onto a step grid.

    Parameters
    ----------
    path : path-like
        ``.mid`` file (type 0 or 1).
    drum_map : {"magenta9", "seed8"} or DrumMap
    steps_per_bar : int
        Steps in a 4/4 bar (16 = sixteenth notes; seed 004 used 64).

    Returns
    -------
    MidiGroove

    Raises
    ------
    DatasetError
        If the file cannot be parsed, or spans more than :data:`MAX_BARS_PER_FILE` bars
        (the message names the file).
    ParameterError
        If ``steps_per_bar`` is not a positive integer.
    """
    spq = _check_steps_per_bar(steps_per_bar)
    dmap = get_drum_map(drum_map)
    path = Path(path)
    mf = _open_midi(path)
    tpb = mf.ticks_per_beat
    meters, tempo_us, onsets, end_tick = _scan_events(mf)
    if 0 not in meters:
        meters[0] = (4, 4)
    changes = sorted(meters.items())
    lookup = dmap.lookup_table()
    onsets.sort()
    n_unmapped = int(sum(lookup[n] < 0 for _, n, _ in onsets))
    last_onset = max((t for t, _, _ in onsets), default=-1)
    end_tick = max(end_tick, last_onset + 1)

    _check_bar_count(path, changes, end_tick, tpb)
    bars: list[GrooveBar] = []
    skipped: list[str] = []
    offsets: list[float] = []
    bar_number = 0
    pending: list[tuple[int, int, int, float]] = []  # notes that rounded past their segment's end, with offset
    for k, (t0, meter) in enumerate(changes):
        t1 = changes[k + 1][0] if k + 1 < len(changes) else end_tick
        if t1 <= t0:
            continue
        bar_ticks = Fraction(tpb * 4 * meter[0], meter[1])
        n_bars = math.ceil(Fraction(t1 - t0) / bar_ticks)
        n_steps = steps_in_bar(spq, meter)
        seg_notes = [(*o, None) for o in onsets if t0 <= o[0] < t1] + pending
        pending = []
        if n_steps is None:
            skipped.extend(
                f"bar {bar_number + b}: {meter[0]}/{meter[1]} is not a whole number of steps at "
                f"{steps_per_bar} steps per 4/4 bar" for b in range(n_bars))
            bar_number += n_bars
            continue
        ticks_per_step = Fraction(tpb) / Fraction(spq).limit_denominator(10_000)
        grid = np.zeros((n_bars, n_steps, dmap.n_voices), np.float32)
        grid_offsets = np.zeros_like(grid)
        grid_velocity = np.zeros(grid.shape, np.int64)  # MIDI velocities, so that equal notes compare equal
        for tick, note, vel, carried in seg_notes:
            pos = Fraction(max(tick, t0) - t0) / ticks_per_step
            step = round(pos)
            offset = float(pos - step) if carried is None else carried
            if carried is None:
                offsets.append(abs(offset))
            voice = lookup[note]
            if voice < 0:
                continue
            bar, within = divmod(step, n_steps)
            if bar >= n_bars:
                if k + 1 < len(changes):
                    pending.append((t1, note, vel, offset))
                continue
            if vel > grid_velocity[bar, within, voice]:
                grid_velocity[bar, within, voice] = vel
                grid[bar, within, voice] = vel / 127
                grid_offsets[bar, within, voice] = offset
        for b in range(n_bars):
            bars.append(GrooveBar(bar_number + b, (int(meter[0]), int(meter[1])), grid[b], grid_offsets[b]))
        bar_number += n_bars

    bpm = mido.tempo2bpm(tempo_us) if tempo_us else 120.0
    if skipped:
        logger.info("%s: %d bar(s) skipped (%s)", path.name, len(skipped), skipped[0])
    return MidiGroove(
        path=str(path), drum_map=dmap.name, steps_per_quarter=spq, bpm=float(bpm), bars=tuple(bars),
        skipped=tuple(skipped), n_notes=len(onsets), n_unmapped=n_unmapped,
        mean_offset_steps=float(np.mean(offsets)) if offsets else 0.0,
    )


def _open_midi(path: Path) -> mido.MidiFile:
    """The parsed file, refused (:class:`DatasetError` naming it) when unreadable, type 2 or SMPTE-timed."""
    try:
        mf = mido.MidiFile(str(path))
    except Exception as exc:  # mido raises OSError, EOFError, ValueError, KeyError, IndexError
        raise DatasetError(f"{path.name}: unreadable MIDI file ({type(exc).__name__}: {exc})") from None
    if mf.type == 2:
        raise DatasetError(f"{path.name}: MIDI type 2 (independent sequences) is not supported")
    tpb = mf.ticks_per_beat
    if not tpb or tpb <= 0:
        raise DatasetError(f"{path.name}: ticks_per_beat={tpb} (SMPTE timing is not supported)")
    return mf


def _scan_events(mf: mido.MidiFile) -> tuple[dict[int, tuple[int, int]], int | None, list[tuple[int, int, int]], int]:
    """``(meters, tempo_us, onsets, end_tick)`` of all tracks, in absolute ticks.

    ``meters`` maps each time-signature change's tick to ``(numerator, denominator)``;
    ``tempo_us`` is the first tempo set at tick 0 (None without one); ``onsets`` are the drum
    channel's note-ons ``(tick, note, velocity)`` in file order; ``end_tick`` is the longest
    track's last tick.
    """
    meters: dict[int, tuple[int, int]] = {}
    tempo_us: int | None = None
    onsets: list[tuple[int, int, int]] = []
    end_tick = 0
    for track in mf.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "time_signature":
                meters[tick] = (msg.numerator, msg.denominator)
            elif msg.type == "set_tempo" and tick == 0 and tempo_us is None:
                tempo_us = msg.tempo
            elif msg.type == "note_on" and msg.channel == DRUM_CHANNEL and msg.velocity > 0:
                onsets.append((tick, msg.note, msg.velocity))
        end_tick = max(end_tick, tick)
    return meters, tempo_us, onsets, end_tick


def _check_bar_count(path: Path, changes: list[tuple[int, tuple[int, int]]], end_tick: int, tpb: int) -> None:
    """Refuse a file that spans more than :data:`MAX_BARS_PER_FILE` bars, before any is built."""
    n_bars = 0
    for k, (t0, meter) in enumerate(changes):
        t1 = changes[k + 1][0] if k + 1 < len(changes) else end_tick
        if t1 > t0:
            n_bars += math.ceil(Fraction(t1 - t0) / Fraction(tpb * 4 * meter[0], meter[1]))
    if n_bars > MAX_BARS_PER_FILE:
        raise DatasetError(f"{path.name}: spans {n_bars} bars (its last event is at tick {end_tick}, "
                           f"{tpb} ticks per quarter note); at most {MAX_BARS_PER_FILE} bars per file are read")


def midi_to_patterns(path: str | Path, *, drum_map: str | DrumMap = "magenta9", steps_per_bar: int = 16,
                     time_signature: tuple[int, int] | None = (4, 4)) -> np.ndarray:
    """Every bar of one meter of a MIDI file as a pattern array.

    Returns
    -------
    np.ndarray [shape=(n_bars, n_steps, n_voices), dtype=float32]
        Velocities in [0, 1]. See :func:`read_midi`.
    """
    return read_midi(path, drum_map=drum_map, steps_per_bar=steps_per_bar).patterns(time_signature)[0]


def check_offsets(offsets: np.ndarray | None, shape: tuple[int, ...]) -> np.ndarray | None:
    """``offsets`` as float64 of ``shape``, if they are finite and in [-0.5, 0.5] steps.

    Parameters
    ----------
    offsets : np.ndarray [shape=shape] or None
        Micro-timing of each hit, in steps.
    shape : tuple of int
        Shape of the patterns they go with.

    Returns
    -------
    np.ndarray [shape=shape, dtype=float64] or None

    Raises
    ------
    ParameterError
        Another shape, NaN/inf, or a value outside [-0.5, 0.5].
    """
    if offsets is None:
        return None
    o = np.asarray(offsets, dtype=np.float64)
    if o.ndim == len(shape) - 1:
        o = o[None]
    if o.shape != tuple(shape):
        raise ParameterError(f"offsets shape {np.shape(offsets)} must be the patterns' shape {tuple(shape)}")
    if not np.isfinite(o).all():
        raise ParameterError("offsets contain NaN or infinite values")
    if o.size and float(np.max(np.abs(o))) > MAX_OFFSET_STEPS:
        raise ParameterError(f"offsets reach {float(np.max(np.abs(o))):g} steps: allowed "
                             f"-{MAX_OFFSET_STEPS:g}..{MAX_OFFSET_STEPS:g} of a step")
    return o


def patterns_to_midi(patterns: np.ndarray, *, drum_map: str | DrumMap = "magenta9", bpm: float = 120.0,
                     time_signature: tuple[int, int] = (4, 4), ticks_per_beat: int = 480,
                     note_length_steps: float = 0.5, swing: float = 0.0,
                     offsets: np.ndarray | None = None) -> mido.MidiFile:
    """Write patterns as a type-1 Standard MIDI File on the drum channel.

    Parameters
    ----------
    patterns : np.ndarray [shape=(n_bars, n_steps, n_voices) or (n_steps, n_voices)]
        Velocities in [0, 1]; bars are played one after the other.
    drum_map : {"magenta9", "seed8"} or DrumMap
        Voice ``k`` is written as ``drum_map.voices[k].output_note``.
    bpm : float
        Tempo in quarter notes per minute; stored as ``round(60e6 / bpm)`` µs per quarter.
    time_signature : tuple of (int, int)
        Meter of every bar; ``n_steps`` spans one bar of it.
    ticks_per_beat : int
        MIDI resolution; one step must be a whole number of ticks.
    note_length_steps : float
        Note duration in steps (drums mostly ignore note-offs); a note ends at the latest
        when the same drum is struck again.
    swing : float
        In 0..0.45 (:data:`timbrespace.conventions.MAX_SWING`): odd steps (counted across
        bars) are ``round(swing · ticks_per_step)`` ticks late, the audio's delay.
    offsets : np.ndarray [shape=patterns.shape], optional
        Micro-timing of each hit in steps, in [-0.5, 0.5] (:func:`read_midi`'s): a hit is
        ``round(offset · ticks_per_step)`` ticks from its (swung) step, never before tick 0.

    Returns
    -------
    mido.MidiFile

    Raises
    ------
    ParameterError
        Bad shape, tempo, swing or offsets, or a step that is not a whole number of ticks.
    """
    dmap = get_drum_map(drum_map)
    p = np.asarray(patterns, dtype=np.float64)
    if p.ndim == 2:
        p = p[None]
    if p.ndim != 3 or p.shape[2] != dmap.n_voices or p.shape[1] < 1:
        raise ParameterError(
            f"patterns shape {np.shape(patterns)} must be (n_bars, n_steps, {dmap.n_voices}) for drum_map={dmap.name!r}")
    if not np.isfinite(p).all():
        raise ParameterError("patterns contain NaN or infinite values")
    if not (math.isfinite(bpm) and 1.0 <= bpm <= 1000.0):
        raise ParameterError(f"bpm={bpm} is out of range: allowed 1..1000 quarter notes per minute")
    n_bars, n_steps, _ = p.shape
    bar_ticks = Fraction(ticks_per_beat * 4 * time_signature[0], time_signature[1])
    ticks_per_step = bar_ticks / n_steps
    if ticks_per_step.denominator != 1:
        raise ParameterError(
            f"{n_steps} steps per {time_signature[0]}/{time_signature[1]} bar is not a whole number of ticks "
            f"at ticks_per_beat={ticks_per_beat}")
    tps = int(ticks_per_step)
    length = max(1, int(round(tps * note_length_steps)))
    check_swing(swing)
    o = check_offsets(offsets, p.shape)
    swing_ticks = int(round(Fraction(swing).limit_denominator(10_000) * tps))
    velocity = np.rint(quantize_velocity(p).astype(np.float64) * 127).astype(int)
    notes = dmap.output_notes
    onsets: dict[tuple[int, int], int] = {}  # (note, tick) -> velocity: one drum struck twice at a tick sounds once
    for bar, step, voice in zip(*np.nonzero(velocity), strict=True):
        g = int(bar * n_steps + step)
        t = g * tps + (swing_ticks if g % 2 else 0)
        if o is not None:
            t = max(0, t + int(np.rint(o[bar, step, voice] * tps)))
        key = (int(notes[voice]), t)
        onsets[key] = max(onsets.get(key, 0), int(velocity[bar, step, voice]))
    events: list[tuple[int, int, mido.Message]] = []
    for note in sorted({n for n, _ in onsets}):
        ticks = sorted(t for n, t in onsets if n == note)
        for k, t in enumerate(ticks):
            end = t + length if k + 1 == len(ticks) else min(t + length, ticks[k + 1])
            events.append((t, 1, mido.Message("note_on", channel=DRUM_CHANNEL, note=note, velocity=onsets[note, t])))
            events.append((end, 0, mido.Message("note_off", channel=DRUM_CHANNEL, note=note, velocity=0)))
    events.sort(key=lambda e: (e[0], e[1], e[2].note))
    mf = mido.MidiFile(type=1, ticks_per_beat=ticks_per_beat)
    meta = mido.MidiTrack([
        mido.MetaMessage("time_signature", numerator=time_signature[0], denominator=time_signature[1], time=0),
        mido.MetaMessage("set_tempo", tempo=int(round(60_000_000 / bpm)), time=0),
        mido.MetaMessage("end_of_track", time=int(n_bars * bar_ticks)),
    ])
    drums = mido.MidiTrack([mido.MetaMessage("track_name", name="drums", time=0)])
    now = 0
    for t, _, msg in events:
        drums.append(msg.copy(time=t - now))
        now = t
    drums.append(mido.MetaMessage("end_of_track", time=max(0, int(n_bars * bar_ticks) - now)))
    mf.tracks.extend([meta, drums])
    return mf


def write_midi(path: str | Path, patterns: np.ndarray, **kwargs: object) -> Path:
    """Write :func:`patterns_to_midi` to ``path`` atomically; keyword arguments as there."""
    return write_midi_file(path, patterns_to_midi(patterns, **kwargs))  # type: ignore[arg-type]


def write_midi_file(path: str | Path, midi: mido.MidiFile) -> Path:
    """Save a built MIDI file to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        midi.save(str(tmp))
    return path
