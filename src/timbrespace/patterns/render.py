"""Patterns → audio, played on a drum kit at an exact tempo.

Step ``i`` (counted across bars) starts at sample ``round(i · L)`` with
``L = sample_rate · 60 / (bpm · steps_per_quarter)`` computed in exact rational
arithmetic, so timing never drifts over many bars (seed 004 played 120 BPM at ~96).
Swing delays every second step of each pair by ``swing · L``; a hit's micro-timing
offset (in steps, :func:`~timbrespace.patterns.midi.read_midi`'s) moves it by
``round(offset · L)`` samples more (never before sample 0). The mix gets a static gain
so that its peak is at most ``10 ** (peak_db / 20)`` (−1 dBFS by default): it never clips,
and a quiet mix is left as it is.
"""

from __future__ import annotations

import io
import logging
from fractions import Fraction
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile as sf

from timbrespace.conventions import check_swing
from timbrespace.errors import AudioError, ParameterError
from timbrespace.patterns.drum_maps import DrumMap, get_drum_map
from timbrespace.patterns.kits import DrumKit, SoundfontKit
from timbrespace.patterns.midi import check_offsets
from timbrespace.utils.atomic import atomic_write_bytes

__all__ = ["step_onsets_samples", "render_patterns", "write_wav"]

logger = logging.getLogger(__name__)


def _flatten(patterns: np.ndarray, n_voices: int) -> np.ndarray:
    p = np.asarray(patterns, dtype=np.float32)
    if p.ndim == 2:
        p = p[None]
    if p.ndim != 3 or p.shape[2] != n_voices:
        raise ParameterError(f"patterns shape {np.shape(patterns)} must be (n_bars, n_steps, {n_voices})")
    if not np.isfinite(p).all():
        raise ParameterError("patterns contain NaN or infinite values")
    return np.clip(p, 0.0, 1.0).reshape(-1, n_voices)


def step_onsets_samples(n_steps: int, *, bpm: float, steps_per_quarter: float = 4, sample_rate: int = 44100,
                        swing: float = 0.0) -> np.ndarray:
    """Start sample of each step.

    Parameters
    ----------
    n_steps : int
    bpm : float
        Quarter notes per minute.
    steps_per_quarter : float
        4 for sixteenth notes.
    sample_rate : int
        Hz.
    swing : float
        In 0..0.45 (:data:`timbrespace.conventions.MAX_SWING`): delay of odd steps as a
        fraction of a step (1/3 ≈ triplet swing).

    Returns
    -------
    np.ndarray [shape=(n_steps,), dtype=int64]
    """
    if not 1.0 <= bpm <= 1000.0:
        raise ParameterError(f"bpm={bpm} is out of range: allowed 1..1000")
    check_swing(swing)
    step = Fraction(sample_rate) * 60 / (Fraction(bpm).limit_denominator(1_000_000)
                                          * Fraction(steps_per_quarter).limit_denominator(10_000))
    shift = Fraction(swing).limit_denominator(10_000) * step
    return np.array([round(i * step + (shift if i % 2 else 0)) for i in range(n_steps)], dtype=np.int64)


def render_patterns(patterns: np.ndarray, kit: DrumKit | SoundfontKit, *, bpm: float = 120.0,
                    drum_map: str | DrumMap = "magenta9", steps_per_quarter: float = 4, sample_rate: int = 44100,
                    swing: float = 0.0, tail_s: float = 1.0, peak_db: float = -1.0,
                    offsets: np.ndarray | None = None) -> np.ndarray:
    """Play patterns on a kit.

    Parameters
    ----------
    patterns : np.ndarray [shape=(n_bars, n_steps, n_voices) or (n_steps, n_voices)]
        Velocities in [0, 1].
    kit : DrumKit or SoundfontKit
        A Hydrogen kit (velocity picks the layer and scales it) or a GM soundfont's
        percussion bank (TinySoundFont, no reverb or chorus).
    bpm, steps_per_quarter, sample_rate, swing
        See :func:`step_onsets_samples`.
    drum_map : {"magenta9", "seed8"} or DrumMap
    tail_s : float
        Seconds kept after the last step for the decays.
    peak_db : float
        Peak ceiling in dBFS (≤ 0); louder mixes are scaled down to it.
    offsets : np.ndarray [shape=patterns.shape], optional
        Micro-timing of each hit, in steps in [-0.5, 0.5].

    Returns
    -------
    np.ndarray [shape=(n_samples,), dtype=float32]
        Mono, peak ≤ ``10 ** (peak_db / 20)``.

    Raises
    ------
    ParameterError
        Bad shape, tempo, swing, offsets or ``peak_db > 0``.
    """
    dmap = get_drum_map(drum_map)
    if peak_db > 0:
        raise ParameterError(f"peak_db={peak_db} must be <= 0 dBFS")
    flat = _flatten(patterns, dmap.n_voices)
    o = check_offsets(offsets, np.shape(patterns))
    onsets = step_onsets_samples(len(flat), bpm=bpm, steps_per_quarter=steps_per_quarter,
                                 sample_rate=sample_rate, swing=swing)
    step_len = sample_rate * 60.0 / (bpm * steps_per_quarter)
    hit_onsets = np.repeat(onsets[:, None], dmap.n_voices, axis=1)
    if o is not None:
        hit_onsets = np.maximum(0, hit_onsets + np.rint(o.reshape(-1, dmap.n_voices) * step_len).astype(np.int64))
    n_samples = int(round(len(flat) * step_len + tail_s * sample_rate))
    if isinstance(kit, SoundfontKit):
        mix = _render_soundfont(flat, hit_onsets, kit, dmap, sample_rate, n_samples, int(step_len))
    else:
        mix = _render_samples(flat, hit_onsets, kit, dmap, sample_rate, n_samples)
    ceiling = 10 ** (peak_db / 20)
    peak = float(np.max(np.abs(mix))) if mix.size else 0.0
    if peak > ceiling:
        mix *= ceiling / peak
    return mix.astype(np.float32)


def _render_samples(flat: np.ndarray, onsets: np.ndarray, kit: DrumKit, dmap: DrumMap,
                    sample_rate: int, n_samples: int) -> np.ndarray:
    mix = np.zeros(n_samples, np.float64)
    instruments = kit.voice_instruments(dmap)
    for step, voice in zip(*np.nonzero(flat > 0), strict=True):
        ins = instruments[voice]
        if ins is None:
            continue
        velocity = float(flat[step, voice])
        layer = ins.layer_for(velocity)
        y = kit.sample(layer, sample_rate)
        start = int(onsets[step, voice])
        m = min(len(y), n_samples - start)
        if m > 0:
            mix[start:start + m] += velocity * layer.gain * ins.volume * ins.gain * y[:m]
    return mix


def _render_soundfont(flat: np.ndarray, onsets: np.ndarray, kit: SoundfontKit, dmap: DrumMap,
                      sample_rate: int, n_samples: int, note_len: int) -> np.ndarray:
    # A synthesiser applies events at its block boundaries, so notes played in one stream
    # would be up to a block late. Each (note, velocity) is rendered once as a one-shot
    # and mixed at its exact sample, like a sample kit (at the cost of the soundfont's
    # exclusive classes, e.g. an open hat choked by a closed one).
    notes = dmap.output_notes
    hits = list(zip(*np.nonzero(flat > 0), strict=True))
    keys = {(int(notes[v]), int(np.clip(round(float(flat[st, v]) * 127), 1, 127))) for st, v in hits}
    shots = _soundfont_one_shots(kit, sorted(keys), sample_rate, note_len)
    mix = np.zeros(n_samples, np.float64)
    for step, voice in hits:
        y = shots[(int(notes[voice]), int(np.clip(round(float(flat[step, voice]) * 127), 1, 127)))]
        start = int(onsets[step, voice])
        m = min(len(y), n_samples - start)
        if m > 0:
            mix[start:start + m] += y[:m]
    return mix


def _soundfont_one_shots(kit: SoundfontKit, keys: list[tuple[int, int]], sample_rate: int, note_len: int,
                         max_s: float = 3.0) -> dict[tuple[int, int], np.ndarray]:
    """Each (note, velocity) rendered once from a silent synthesiser, trailing silence cut.

    One-shots are cached (:func:`_one_shot`), so that rendering many grooves on one kit,
    as the explorer does, pays for each (note, velocity) once.
    """
    total = max(note_len + 64, int(max_s * sample_rate))
    mtime_ns = Path(kit.path).stat().st_mtime_ns
    return {(note, velocity): _one_shot(str(kit.path), mtime_ns, kit.preset, float(kit.gain), int(sample_rate), note,
                                        velocity, int(note_len), total) for note, velocity in keys}


@lru_cache(maxsize=1024)
def _one_shot(path: str, mtime_ns: int, preset: int, gain: float, sample_rate: int, note: int, velocity: int,
              note_len: int, total: int) -> np.ndarray:
    from timbrespace.synths._sf2 import get_player

    y = get_player(path, sample_rate).note(note, velocity, n_hold=note_len, n_total=total, preset=preset, drums=True,
                                           gain=gain)
    loud = np.flatnonzero(np.abs(y) > 1e-5)
    shot = np.ascontiguousarray(y[: loud[-1] + 1] if loud.size else y[:0], dtype=np.float32)
    shot.setflags(write=False)
    return shot


def write_wav(path: str | Path, audio: np.ndarray, sample_rate: int, *, subtype: str = "PCM_16") -> Path:
    """Write mono audio atomically as WAV (PCM 16 by default; audio must already be in [-1, 1]).

    Raises
    ------
    AudioError
        If the audio would clip, or holds NaN or inf.
    """
    y = np.asarray(audio, dtype=np.float32)
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: {int(np.count_nonzero(~np.isfinite(y)))} samples are NaN or inf; nothing was written")
    if y.size and float(np.max(np.abs(y))) > 1.0:
        raise AudioError(f"{path}: peak {float(np.max(np.abs(y))):.3f} > 1 would clip")
    buf = io.BytesIO()
    sf.write(buf, y, int(sample_rate), format="WAV", subtype=subtype)
    return atomic_write_bytes(Path(path), buf.getvalue())
