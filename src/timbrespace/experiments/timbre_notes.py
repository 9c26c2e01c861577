"""Generate a note by (descriptor, magnitude, pitch) and interpolate between two notes.

Mirrors seed 002's ``generate`` and ``interpolate`` scripts on a trained
:class:`~timbrespace.experiments.timbre_run.TimbreRun`:

- **generate**: decode ``z`` with the condition of the request — ``latent="prior"``
  uses ``z = 0`` (the prior's mode: a conditional *generation*), ``latent="encode"`` uses
  the encoder's ``mu`` of the original note (a reconstruction, as the seed did); undo the
  min–max with the original's stored dB range and invert with Griffin-Lim at the right
  ``n_fft`` (:func:`timbrespace.features.invert`). The original note is returned beside it.
- **interpolate**: endpoints ``z`` are the encoder means of the two originals; ``steps``
  points ``t = 0..1``; ``z`` moves linearly or spherically (slerp,
  :func:`timbrespace.generation.slerp`), the condition and the dB range linearly (as
  the seed interpolated min/max).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import librosa
import numpy as np

from timbrespace.conventions import MAX_INTERPOLATION_STEPS, MIN_INTERPOLATION_STEPS, check_steps
from timbrespace.datasets.dataset import write_audio_file
from timbrespace.errors import ParameterError
from timbrespace.experiments.timbre_run import TimbreRun
from timbrespace.generation import lerp, slerp
from timbrespace.timbre.build import parse_pitch
from timbrespace.utils.audio import peak_safe
from timbrespace.utils.paths import safe_name

__all__ = [
    "GeneratedNote",
    "Interpolation",
    "generate_note",
    "interpolate_notes",
    "write_generated",
    "write_interpolation",
    "MIN_STEPS",
    "MAX_STEPS",
]

MIN_STEPS = MIN_INTERPOLATION_STEPS
MAX_STEPS = MAX_INTERPOLATION_STEPS
Latent = Literal["prior", "encode"]


@dataclass(frozen=True)
class GeneratedNote:
    """A generated note and its original.

    Parameters
    ----------
    descriptor : str
    magnitude : float
    pitch : int
        MIDI.
    audio, original : np.ndarray [shape=(n_samples,), dtype=float32]
    x : np.ndarray [shape=(n_bins, n_frames), dtype=float32]
        Decoded normalised spectrogram.
    sample_rate : int
    """

    descriptor: str
    magnitude: float
    pitch: int
    audio: np.ndarray
    original: np.ndarray
    x: np.ndarray
    sample_rate: int


@dataclass(frozen=True)
class Interpolation:
    """Interpolated notes between two (descriptor, magnitude, pitch) points.

    Parameters
    ----------
    t : np.ndarray [shape=(steps,)]
    linear, spherical : np.ndarray [shape=(steps, n_samples), dtype=float32]
    originals : np.ndarray [shape=(2, n_samples), dtype=float32]
        Start and end originals.
    start, end : tuple of (str, float, int)
    sample_rate : int
    """

    t: np.ndarray
    linear: np.ndarray
    spherical: np.ndarray
    originals: np.ndarray
    start: tuple[str, float, int]
    end: tuple[str, float, int]
    sample_rate: int


def check_request(run: TimbreRun, descriptor: str, magnitude: float | str, pitch: str | int) -> tuple[str, float, int]:
    """Canonical (descriptor, magnitude, MIDI pitch) of a request the run can answer.

    Raises
    ------
    ParameterError
        A value outside what the run knows (allowed values listed).
    """
    lower = {d.lower(): d for d in run.descriptors}
    if str(descriptor).lower() not in lower:
        raise ParameterError(f"descriptor={descriptor!r} is not in this run: allowed {', '.join(run.descriptors)}")
    name = lower[str(descriptor).lower()]
    try:
        mag = float(magnitude)
    except (TypeError, ValueError):
        mag = float("nan")
    if mag not in run.magnitudes:
        raise ParameterError(f"magnitude={magnitude!r} is not in this run: allowed {', '.join(f'{m:g}' for m in run.magnitudes)}")
    midi = parse_pitch(pitch, allowed=(min(run.pitches), max(run.pitches)))
    return name, mag, midi


def generate_note(run: TimbreRun, descriptor: str, magnitude: float | str, pitch: str | int, *,
                  latent: Latent = "prior", seed: int = 0) -> GeneratedNote:
    """Generate one note from a trained run.

    Parameters
    ----------
    run : TimbreRun
    descriptor : str
        One of ``run.descriptors`` (case-insensitive).
    magnitude : float
        One of ``run.magnitudes``.
    pitch : int or str
        MIDI number or note name within the run's pitches.
    latent : {"prior", "encode"}
        ``z = 0`` or the encoder mean of the original.
    seed : int
        Griffin-Lim initial phase.

    Returns
    -------
    GeneratedNote

    Raises
    ------
    ParameterError
        A value outside what the run knows (allowed values listed).
    """
    if latent not in ("prior", "encode"):
        raise ParameterError(f"latent={latent!r} is unknown: allowed prior, encode")
    name, mag, midi = check_request(run, descriptor, magnitude, pitch)
    row = np.array([run.find(name, mag, midi)])
    cond = run.conditions([name], [mag], [midi])
    latent_dim = run.require_model().config.latent_dim
    z = run.encode(row) if latent == "encode" else np.zeros((1, latent_dim), np.float32)
    x = run.decode(z, cond)
    audio = run.to_audio(x, *run.stats_of(row), seed=seed)[0]
    return GeneratedNote(name, mag, midi, audio, run.original_audio(row)[0], x[0], run.sample_rate)


def interpolate_notes(run: TimbreRun, start: tuple[str, float | str, str | int], end: tuple[str, float | str, str | int],
                      steps: int, *, seed: int = 0) -> Interpolation:
    """Interpolate between two originals, linearly and spherically in ``z``.

    Parameters
    ----------
    run : TimbreRun
    start, end : tuple (descriptor, magnitude, pitch)
    steps : int
        2..16 points including both endpoints.
    seed : int
        Griffin-Lim initial phase.

    Returns
    -------
    Interpolation

    Raises
    ------
    ParameterError
        ``steps`` outside 2..16, or a label not in the run.
    """
    check_steps(steps)
    a = check_request(run, *start)
    b = check_request(run, *end)
    rows = np.array([run.find(*a), run.find(*b)])
    z = run.encode(rows)
    cond = run.conditions([a[0], b[0]], [a[1], b[1]], [a[2], b[2]])
    min_db, max_db = run.stats_of(rows)
    t = np.linspace(0.0, 1.0, int(steps))
    min_t = (1 - t) * min_db[0] + t * min_db[1]
    max_t = (1 - t) * max_db[0] + t * max_db[1]
    outputs = {}
    for mode, z_t in (("linear", lerp(z[0], z[1], t)), ("spherical", slerp(z[0], z[1], t))):
        outputs[mode] = run.to_audio(run.decode_between(z_t, cond[0], cond[1], t), min_t, max_t, seed=seed)
    return Interpolation(t, outputs["linear"], outputs["spherical"], run.original_audio(rows), a, b, run.sample_rate)


def note_label(descriptor: str, magnitude: float, pitch: int) -> str:
    """``Bright-75-E5``: descriptor, magnitude and note name (ASCII) of a request; a file name."""
    return safe_name(f"{descriptor}-{magnitude:g}-{librosa.midi_to_note(pitch, unicode=False)}", what="descriptor")


def write_clip(path: Path, audio: np.ndarray, sample_rate: int) -> Path:
    """Write one decoded or inverted clip as float WAV, peak-safe (no NaN/inf, never above full scale)."""
    return write_audio_file(path, peak_safe(audio, name=str(path)), sample_rate)


def write_generated(note: GeneratedNote, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``generated_<D>-<M>-<note>.wav`` and ``original_<...>.wav`` (float WAV, atomic)."""
    out_dir = Path(out_dir)
    label = note_label(note.descriptor, note.magnitude, note.pitch)
    gen = write_clip(out_dir / f"generated_{label}.wav", note.audio, note.sample_rate)
    orig = write_clip(out_dir / f"original_{label}.wav", note.original, note.sample_rate)
    return gen, orig


def write_interpolation(interp: Interpolation, out_dir: str | Path) -> list[Path]:
    """Write ``linear/step_KK.wav``, ``spherical/step_KK.wav`` and both originals."""
    out_dir = Path(out_dir)
    paths = []
    for mode in ("linear", "spherical"):
        for k, y in enumerate(getattr(interp, mode)):
            paths.append(write_clip(out_dir / mode / f"step_{k:02d}.wav", y, interp.sample_rate))
    paths.append(write_clip(out_dir / f"original_start_{note_label(*interp.start)}.wav", interp.originals[0],
                                  interp.sample_rate))
    paths.append(write_clip(out_dir / f"original_end_{note_label(*interp.end)}.wav", interp.originals[1],
                                  interp.sample_rate))
    return paths
