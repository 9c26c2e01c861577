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

Notes are written in one of two layouts: ``labelled`` (ours: file names carry the
request) or ``seed002`` (the seed's ``singlesample/{generated,original}/0.wav`` and
``interpolated_samples/{generated,original}/K.wav``, 24-bit PCM). Neither replaces an
existing file without ``overwrite``.
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
    "generated_paths",
    "interpolation_paths",
    "check_targets",
    "check_layout",
    "LAYOUTS",
    "MIN_STEPS",
    "MAX_STEPS",
]

MIN_STEPS = MIN_INTERPOLATION_STEPS
MAX_STEPS = MAX_INTERPOLATION_STEPS
Latent = Literal["prior", "encode"]
#: File layouts of the notes written: ours (names carry the request) and seed 002's.
Layout = Literal["labelled", "seed002"]
LAYOUTS = ("labelled", "seed002")
SEED002_SINGLE = "singlesample"
SEED002_INTERPOLATED = "interpolated_samples"
SEED002_SUBTYPE = "PCM_24"  # the seed's sf.write(..., subtype='PCM_24')


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


def write_clip(path: Path, audio: np.ndarray, sample_rate: int, *, subtype: str | None = None) -> Path:
    """Write one decoded or inverted clip, peak-safe (no NaN/inf, never above full scale).

    Float WAV by default; ``subtype`` forces a libsndfile subtype (``"PCM_24"``).
    """
    return write_audio_file(path, peak_safe(audio, name=str(path)), sample_rate, subtype=subtype)


def check_layout(layout: str) -> Layout:
    """``layout`` if it is one of :data:`LAYOUTS`, else :class:`ParameterError`."""
    if layout not in LAYOUTS:
        raise ParameterError(f"--layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    return layout  # type: ignore[return-value]


def generated_paths(out_dir: str | Path, descriptor: str, magnitude: float, pitch: int, *,
                    layout: Layout = "labelled") -> tuple[Path, Path]:
    """Where :func:`write_generated` writes the generated note and its original.

    ``labelled``: ``generated_<D>-<M>-<note>.wav`` and ``original_<...>.wav`` in
    ``out_dir``; ``seed002``: seed 002's ``singlesample/generated/0.wav`` and
    ``singlesample/original/0.wav`` under ``out_dir`` (its ``generate_single_sample.py``).
    """
    out_dir = Path(out_dir)
    if check_layout(layout) == "seed002":
        return out_dir / SEED002_SINGLE / "generated" / "0.wav", out_dir / SEED002_SINGLE / "original" / "0.wav"
    label = note_label(descriptor, magnitude, pitch)
    return out_dir / f"generated_{label}.wav", out_dir / f"original_{label}.wav"


def interpolation_paths(out_dir: str | Path, steps: int, start: tuple[str, float, int], end: tuple[str, float, int],
                        *, layout: Layout = "labelled") -> list[Path]:
    """Where :func:`write_interpolation` writes: the steps, then the start and end originals.

    ``labelled``: ``linear/step_KK.wav``, ``spherical/step_KK.wav``,
    ``original_start_<label>.wav``, ``original_end_<label>.wav``; ``seed002``: seed 002's
    ``interpolated_samples/generated/K.wav`` (the linear path, the seed's only one) and
    ``interpolated_samples/original/0.wav`` (start), ``1.wav`` (end).
    """
    out_dir = Path(out_dir)
    if check_layout(layout) == "seed002":
        folder = out_dir / SEED002_INTERPOLATED
        return ([folder / "generated" / f"{k}.wav" for k in range(steps)]
                + [folder / "original" / "0.wav", folder / "original" / "1.wav"])
    return ([out_dir / mode / f"step_{k:02d}.wav" for mode in ("linear", "spherical") for k in range(steps)]
            + [out_dir / f"original_start_{note_label(*start)}.wav", out_dir / f"original_end_{note_label(*end)}.wav"])


def check_targets(out_dir: str | Path, paths: list[Path], *, overwrite: bool) -> None:
    """Refuse to write ``paths`` over existing files (without ``overwrite``) or folders.

    Raises
    ------
    ParameterError
        ``out_dir`` or a folder on the way is a file; a target is a folder; a target
        exists and ``overwrite`` is false.
    """
    out_dir = Path(out_dir)
    for path in paths:
        for folder in (out_dir, *[p for p in path.parents if out_dir in p.parents]):
            if folder.exists() and not folder.is_dir():
                raise ParameterError(f"--out: {folder} is a file, not a folder; choose another --out")
        if path.is_dir():
            raise ParameterError(f"{path} is a folder; choose another --out")
        if (path.exists() or path.is_symlink()) and not overwrite:
            raise ParameterError(f"{path} exists; choose another --out or pass --overwrite to replace it")


def _write_all(out_dir: Path, clips: list[tuple[Path, np.ndarray]], sample_rate: int, *, layout: Layout,
               overwrite: bool, steps_in: tuple[Path, ...] = ()) -> list[Path]:
    check_targets(out_dir, [p for p, _ in clips], overwrite=overwrite)
    subtype = SEED002_SUBTYPE if layout == "seed002" else None
    written = [write_clip(path, y, sample_rate, subtype=subtype) for path, y in clips]
    if overwrite:  # steps of a longer earlier interpolation would pass for this one's
        keep = set(written)
        pattern = "step_*.wav" if layout == "labelled" else "*.wav"
        for folder in steps_in:
            for stale in folder.glob(pattern):
                if stale not in keep and stale.stem.removeprefix("step_").isdigit():
                    stale.unlink()
    return written


def write_generated(note: GeneratedNote, out_dir: str | Path, *, layout: Layout = "labelled",
                    overwrite: bool = False) -> tuple[Path, Path]:
    """Write the generated note and its original (atomic), where :func:`generated_paths` says.

    ``labelled`` writes float WAV; ``seed002`` 24-bit PCM as the seed's script did.

    Raises
    ------
    ParameterError
        A target exists (without ``overwrite``) or is a folder; nothing is written then.
    """
    gen, orig = generated_paths(out_dir, note.descriptor, note.magnitude, note.pitch, layout=layout)
    written = _write_all(Path(out_dir), [(gen, note.audio), (orig, note.original)], note.sample_rate,
                         layout=layout, overwrite=overwrite)
    return written[0], written[1]


def write_interpolation(interp: Interpolation, out_dir: str | Path, *, layout: Layout = "labelled",
                        overwrite: bool = False) -> list[Path]:
    """Write every step and both originals (atomic), where :func:`interpolation_paths` says.

    ``seed002`` writes the linear path only (24-bit PCM), as the seed did. With
    ``overwrite``, numbered steps of an earlier, longer interpolation in the step
    folders are removed, so the folder holds this one's steps only.

    Raises
    ------
    ParameterError
        A target exists (without ``overwrite``) or is a folder; nothing is written then.
    """
    out_dir = Path(out_dir)
    steps = len(interp.t)
    paths = interpolation_paths(out_dir, steps, interp.start, interp.end, layout=layout)
    if layout == "seed002":
        audio = [*interp.linear, *interp.originals]
        folders: tuple[Path, ...] = (out_dir / SEED002_INTERPOLATED / "generated",)
    else:
        audio = [*interp.linear, *interp.spherical, *interp.originals]
        folders = (out_dir / "linear", out_dir / "spherical")
    return _write_all(out_dir, list(zip(paths, audio, strict=True)), interp.sample_rate, layout=layout,
                      overwrite=overwrite, steps_in=folders)
