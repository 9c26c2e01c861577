"""Build a seed-002 folder of descriptor-processed notes from clean notes.

Output layout (seed 002, ``audio/GROUP/DESCRIPTOR/MAGNITUDE/FILE``)::

    FOLDER/
      audio/FilterFX/Bright/0/1-0.wav      clean note, pitch E4 (MIDI 64)
      audio/FilterFX/Bright/25/1-0.wav     Bright at magnitude 25
      ...
      audio/DistortionFX/Crunch/100/1-22.wav   Crunch at 100, pitch D6 (MIDI 86)
      build.json                           source, descriptors, chains, magnitudes, pitches

File ``1-N.wav``: N = 0..22 is MIDI pitch 64 + N. Audio is mono float32 WAV at 22050 Hz,
0.74 s (16317 samples, the seed's length), written atomically. Magnitude 0 is the clean
note, repeated under each descriptor as in the seed. ``timbrespace ingest FOLDER --out
DATASET`` (layout ``seed002``) reads it back with factors descriptor, magnitude, pitch.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import librosa
import numpy as np

from timbrespace.datasets.dataset import write_audio_file
from timbrespace.errors import AudioError, DatasetError, ParameterError
from timbrespace.timbre.effects import (
    DESCRIPTORS,
    apply_descriptor,
    check_descriptor,
    check_magnitude,
)
from timbrespace.utils.atomic import atomic_write_json
from timbrespace.utils.audio import read_mono
from timbrespace.utils.paths import safe_name

__all__ = [
    "BuildResult",
    "GM_PROGRAMS",
    "SEED002_SAMPLE_RATE",
    "SEED002_N_SAMPLES",
    "SEED002_PITCHES",
    "SEED002_MAGNITUDES",
    "build_timbre_folder",
    "load_clean_notes",
    "parse_pitch",
    "seed002_relpath",
]

logger = logging.getLogger(__name__)

SEED002_SAMPLE_RATE = 22050
#: 0.74 s at 22050 Hz, the seed's note length.
SEED002_N_SAMPLES = 16317
#: MIDI pitches E4..D6; file ``1-N.wav`` holds pitch ``64 + N``.
SEED002_PITCHES: tuple[int, ...] = tuple(range(64, 87))
SEED002_MAGNITUDES: tuple[int, ...] = (0, 25, 50, 75, 100)


def parse_pitch(value: str | int, *, allowed: tuple[int, int] = (64, 86)) -> int:
    """MIDI number (``"69"``) or note name (``"A4"``, ``"C#5"``) → MIDI number.

    Raises
    ------
    ParameterError
        Unparseable, or outside ``allowed`` (inclusive); the message gives the range
        as numbers and names.
    """
    lo, hi = allowed
    rng = f"MIDI {lo}..{hi} ({librosa.midi_to_note(lo)}..{librosa.midi_to_note(hi)})"
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        midi = int(text)
    else:
        try:
            midi = int(round(float(librosa.note_to_midi(text))))
        except (librosa.ParameterError, ValueError, TypeError):
            raise ParameterError(f"pitch={value!r} is not a MIDI number or note name: allowed {rng}") from None
    if not lo <= midi <= hi:
        raise ParameterError(f"pitch={value!r} is out of range: allowed {rng}")
    return midi


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_timbre_folder` wrote.

    Parameters
    ----------
    root : str
        The output folder.
    n_files : int
        WAV files written (descriptors × magnitudes × pitches).
    descriptors, magnitudes, pitches : tuple
        The grid.
    source : str
        Notes folder or ``"soundfont"``.
    """

    root: str
    n_files: int
    descriptors: tuple[str, ...]
    magnitudes: tuple[int, ...]
    pitches: tuple[int, ...]
    source: str


def seed002_relpath(descriptor: str, magnitude: int, pitch: int) -> str:
    """Relative path of one note in the seed-002 layout (``audio/FilterFX/Bright/25/1-3.wav``)."""
    name = check_descriptor(descriptor)
    if pitch not in SEED002_PITCHES:
        raise ParameterError(f"pitch={pitch} is out of range: allowed MIDI 64..86 (E4..D6)")
    return f"audio/{DESCRIPTORS[name].group}/{name}/{int(magnitude)}/1-{pitch - SEED002_PITCHES[0]}.wav"


def _fit_length(y: np.ndarray, n_samples: int) -> np.ndarray:
    out = np.zeros(n_samples, dtype=np.float32)
    m = min(n_samples, y.shape[-1])
    out[:m] = y[:m]
    return out


def load_clean_notes(
    source: str | Path,
    *,
    instrument: str = "clean_electric_guitar",
    velocity: int = 100,
    pitches: Sequence[int] = SEED002_PITCHES,
    sample_rate: int = SEED002_SAMPLE_RATE,
    n_samples: int = SEED002_N_SAMPLES,
) -> np.ndarray:
    """Clean notes, one per pitch, from a folder of notes or the ``soundfont`` sound model.

    Parameters
    ----------
    source : path-like or ``"soundfont"``
        An NSynth-like folder (``audio/*.wav`` + ``examples.json`` with ``instrument_str``,
        ``pitch``, ``velocity``), e.g. ``../shared/data/notes``; or the string
        ``"soundfont"`` to render with the registered ``soundfont`` sound model.
    instrument : str
        ``instrument_str`` to select (folder source) or GM instrument name (soundfont).
    velocity : int
        MIDI velocity to select / render.
    pitches : sequence of int
        MIDI pitches within 64..86.
    sample_rate : int
        Hz of the returned notes (resampled with librosa when the files differ).
    n_samples : int
        Length of each note (trimmed or zero-padded).

    Returns
    -------
    np.ndarray [shape=(len(pitches), n_samples), dtype=float32]

    Raises
    ------
    DatasetError
        Folder or ``examples.json`` missing, or a requested note absent (named, with
        the instruments/velocities that exist).
    ParameterError
        Pitch outside 64..86.
    """
    for p in pitches:
        if p not in SEED002_PITCHES:
            raise ParameterError(f"pitch={p} is out of range: allowed MIDI 64..86 (E4..D6)")
    if str(source) == "soundfont":
        return _soundfont_notes(instrument, velocity, pitches, sample_rate, n_samples)
    root = Path(source)
    meta_path = root / "examples.json"
    if not meta_path.is_file():
        raise DatasetError(f"{root}: no examples.json (expected an NSynth-like notes folder or 'soundfont')")
    try:
        examples = json.loads(meta_path.read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{meta_path}: unreadable JSON ({exc})") from None
    by_pitch: dict[int, str] = {}
    for stem, entry in examples.items():
        if entry.get("instrument_str") == instrument and int(entry.get("velocity", -1)) == int(velocity):
            # the stem names audio/<stem>.wav: nothing outside the notes folder is read
            by_pitch[int(entry["pitch"])] = safe_name(stem, what=f"{meta_path}: key", error=DatasetError)
    missing = [p for p in pitches if p not in by_pitch]
    if missing:
        instruments = sorted({str(e.get("instrument_str")) for e in examples.values()})
        velocities = sorted({int(e.get("velocity", -1)) for e in examples.values()
                             if e.get("instrument_str") == instrument})
        raise DatasetError(
            f"{root}: no note for instrument={instrument!r} velocity={velocity} pitch(es) {missing}; "
            f"instruments: {', '.join(instruments)}; velocities for {instrument!r}: {velocities or 'none'}"
        )
    notes = np.zeros((len(pitches), n_samples), dtype=np.float32)
    for k, p in enumerate(pitches):
        path = root / "audio" / f"{by_pitch[p]}.wav"
        try:
            y, sr = read_mono(path, sample_rate=sample_rate)
        except AudioError as exc:
            raise DatasetError(str(exc)) from None
        notes[k] = _fit_length(y, n_samples)
    return notes


#: GM programs of the instruments in ``../shared/data/notes`` (``--instrument`` for ``soundfont``).
GM_PROGRAMS: dict[str, int] = {
    "acoustic_grand_piano": 0, "nylon_guitar": 24, "clean_electric_guitar": 27,
    "violin": 40, "trumpet": 56, "flute": 73,
}


def _soundfont_notes(instrument: str, velocity: int, pitches: Sequence[int], sample_rate: int,
                     n_samples: int) -> np.ndarray:
    from timbrespace.synths import registry

    models = registry.list_sound_models()
    if "soundfont" not in models:
        raise DatasetError(
            f"source 'soundfont' needs the 'soundfont' sound model; available: {', '.join(models)}; "
            "or pass a notes folder"
        )
    if str(instrument).isdigit() and 0 <= int(instrument) <= 127:
        program = int(instrument)
    elif instrument in GM_PROGRAMS:
        program = GM_PROGRAMS[instrument]
    else:
        raise ParameterError(
            f"instrument={instrument!r} is unknown for the soundfont: allowed a GM program 0..127 "
            f"or {', '.join(GM_PROGRAMS)}"
        )
    model = registry.get_sound_model("soundfont")
    n = len(pitches)
    # Render the 1 s note of ../shared/data/notes (held 0.75 s, then released), then trim.
    audio = model.render({"program": np.full(n, program), "pitch": np.asarray(pitches),
                          "velocity": np.full(n, int(velocity))}, sample_rate=sample_rate, duration_s=1.0, seed=0)
    return np.stack([_fit_length(np.asarray(a, dtype=np.float32), n_samples) for a in audio])


def build_timbre_folder(
    source: str | Path,
    out: str | Path,
    *,
    instrument: str = "clean_electric_guitar",
    velocity: int = 100,
    descriptors: Sequence[str] | None = None,
    magnitudes: Sequence[int] = SEED002_MAGNITUDES,
    pitches: Sequence[int] = SEED002_PITCHES,
    sample_rate: int = SEED002_SAMPLE_RATE,
    n_samples: int = SEED002_N_SAMPLES,
    overwrite: bool = False,
) -> BuildResult:
    """Write the seed-002 folder: every descriptor × magnitude × pitch, plus ``build.json``.

    Parameters
    ----------
    source : path-like or ``"soundfont"``
        Clean notes (see :func:`load_clean_notes`).
    out : path-like
        Output folder; must be absent or empty unless ``overwrite`` (existing files
        with the same names are then replaced; a re-run writes identical bytes).
    instrument, velocity : str, int
        Which clean notes to use.
    descriptors : sequence of str, optional
        Default: all 19.
    magnitudes : sequence of int
        Each within 0..100 (default 0, 25, 50, 75, 100).
    pitches : sequence of int
        MIDI 64..86 (default all 23).
    sample_rate : int
        Hz (default 22050).
    n_samples : int
        Samples per note (default 16317 = 0.74 s).
    overwrite : bool

    Returns
    -------
    BuildResult

    Raises
    ------
    ParameterError
        Unknown descriptor (allowed ones listed), magnitude outside 0..100, duplicate
        values, pitch outside 64..86.
    DatasetError
        Notes missing, or ``out`` not empty without ``overwrite``.

    References
    ----------
    Seed 002 (Semantic Timbre Generation System): layout, magnitudes, pitch range.
    """
    names = tuple(check_descriptor(d) for d in (descriptors or tuple(DESCRIPTORS)))
    mags = tuple(int(check_magnitude(m)) for m in magnitudes)
    if any(float(m) != float(int(float(m))) for m in magnitudes):
        raise ParameterError(f"magnitudes={list(magnitudes)} must be integers in 0..100 (folder names)")
    pitch_list = tuple(int(p) for p in pitches)
    for label, values in (("descriptors", names), ("magnitudes", mags), ("pitches", pitch_list)):
        if len(set(values)) != len(values) or not values:
            raise ParameterError(f"{label}={list(values)} must be non-empty without duplicates")
    out = Path(out)
    if out.exists() and any(out.iterdir()) and not overwrite:
        raise DatasetError(f"{out} already exists and is not empty; choose another --out or pass --overwrite")
    clean = load_clean_notes(source, instrument=instrument, velocity=velocity, pitches=pitch_list,
                             sample_rate=sample_rate, n_samples=n_samples)
    silent = [p for p, y in zip(pitch_list, clean, strict=True) if not np.any(np.abs(y) > 1e-7)]
    if silent:
        raise DatasetError(f"clean notes at pitches {silent} are silent; cannot build from them")
    n_files = 0
    for name in names:
        for mag in mags:
            processed = apply_descriptor(clean, name, mag, sample_rate=sample_rate)
            for pitch, y in zip(pitch_list, processed, strict=True):
                write_audio_file(out / seed002_relpath(name, mag, pitch), y, sample_rate)
                n_files += 1
        logger.info("built %s (%d magnitudes × %d pitches)", name, len(mags), len(pitch_list))
    result = BuildResult(root=str(out), n_files=n_files, descriptors=names, magnitudes=mags,
                         pitches=pitch_list, source=str(source))
    atomic_write_json(out / "build.json", {
        **asdict(result),
        "instrument": instrument, "velocity": int(velocity), "sample_rate": int(sample_rate),
        "n_samples": int(n_samples), "layout": "seed002",
        "file_name": "audio/GROUP/DESCRIPTOR/MAGNITUDE/1-N.wav, N = pitch - 64",
        "chains": {n: {"group": DESCRIPTORS[n].group, "chain": DESCRIPTORS[n].chain} for n in names},
    })
    return result
