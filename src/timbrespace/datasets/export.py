"""Exports of a dataset to the seeds' and the field's formats.

- ``seed000-npz``: the ``.npz`` files of seed 000. ``ToyRichnessGenerator.py`` wrote
  ``Spectrums`` (1024 x N: dB magnitude of the first 4096 samples, Hann window, first
  1024 bins; 2048 x N with the phase stacked below) and ``labels`` (factors x N);
  ``CreateImgs.py`` wrote ``images`` (1025 x N magnitude of one frame, 2050 x N with
  phase, or 1024 x N MDCT of the first 2048 samples) and ``labels``. 1025 bins is a
  2048-point FFT (the seed's notes say 4096, its files hold 1025 rows): we keep the
  files' shape, one rectangular 2048-sample frame. Unlike the
  seed, the dB spectrum has a floor (``-120 dB``) and every item is kept.
  ``ToyRichnessGenerator.py`` saved four variants of its dB spectra beside each other
  (``--variant``, :func:`seed000_variant`): dB shifted to start at 0 (``*-db-pos.npz``),
  that divided by its maximum (``*-db-norm.npz``), linear magnitude (``*-lin.npz``) and
  that divided by its maximum (``*-lin-norm.npz``); ``db`` is our floored dB itself.
- ``nsynth``: NSynth's layout as its dataset ships it (:func:`export_nsynth`):
  ``audio/<instrument_str>-<pitch:03d>-<velocity:03d>.wav``, 16 kHz mono 16-bit PCM, 4 s,
  and ``examples.json`` keyed by note name with exactly NSynth's fields.
- ``nsynth-json``: ``examples.json`` keyed by our item ids with every factor (and its
  code) beside NSynth's ``note``/``note_str``/``sample_rate``, the audio as the dataset
  keeps it under ``audio/``.
- ``hf-audiofolder`` (alias ``audiofolder``): split folders with ``metadata.jsonl``
  (:mod:`timbrespace.datasets.audiofolder`); ``datasets.load_dataset("audiofolder",
  data_dir=...)`` loads it with its splits.

Audio files are hard-linked into the export folder when possible, copied otherwise.
Nothing existing is replaced without ``overwrite``, and with it only an earlier export:
a ``.npz`` holding seed 000's keys, a folder marked by ``.timbrespace-export.json``
(:data:`~timbrespace.datasets.audiofolder.EXPORT_MARKER`); never a file or folder that is
not one, nor the dataset or a folder holding it.
"""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
from pathlib import Path
from typing import Literal

import numpy as np

from timbrespace.datasets.audiofolder import (
    export_hf_audiofolder,
    export_markers,
    write_export_marker,
)
from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.utils.atomic import atomic_path, atomic_write_text
from timbrespace.utils.outputs import check_output_folder, clear_folder
from timbrespace.utils.paths import safe_name

__all__ = [
    "EXPORT_FORMATS",
    "SEED000_REPRESENTATIONS",
    "SEED000_VARIANTS",
    "SEED000_FILES",
    "export_dataset",
    "export_seed000_npz",
    "export_nsynth",
    "export_nsynth_json",
    "nsynth_family",
    "NSYNTH_FAMILIES",
    "NSYNTH_SOURCES",
    "NSYNTH_QUALITIES",
    "seed000_features",
    "seed000_variant",
    "mdct_frame",
]

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("seed000-npz", "nsynth", "nsynth-json", "hf-audiofolder")
_FORMAT_ALIASES = {"audiofolder": "hf-audiofolder"}
Seed000Variant = Literal["db", "db_shifted", "db_normalised", "linear", "linear_normalised"]
SEED000_VARIANTS: tuple[str, ...] = ("db", "db_shifted", "db_normalised", "linear", "linear_normalised")
#: ``ToyRichnessGenerator.py``'s file names (without, with phase); ``db`` (ours) follows them.
SEED000_FILES: dict[str, tuple[str, str]] = {
    "db": ("toy-spectral-richness-v2-db.npz", "toy-spectral-richness-v2-db-phase.npz"),
    "db_shifted": ("toy-spectral-richness-v2-db-pos.npz", "toy-spectral-richness-v2-db-phase-pos.npz"),
    "db_normalised": ("toy-spectral-richness-v2-db-norm.npz", "toy-spectral-richness-v2-db-phase-norm.npz"),
    "linear": ("toy-spectral-richness-v2-lin.npz", "toy-spectral-richness-v2-phase-lin.npz"),
    "linear_normalised": ("toy-spectral-richness-v2-lin-norm.npz",
                          "toy-spectral-richness-v2-lin-phase-norm.npz"),
}
Seed000Representation = Literal["richness", "richness_phase", "spectrum", "spectrum_phase", "mdct"]
SEED000_REPRESENTATIONS: tuple[str, ...] = (
    "richness",
    "richness_phase",
    "spectrum",
    "spectrum_phase",
    "mdct",
)
_N_FFT = 4096
_N_MDCT = 2048
_DB_FLOOR = -120.0


def mdct_frame(x: np.ndarray) -> np.ndarray:
    """MDCT of one sine-windowed frame per row.

    Parameters
    ----------
    x : np.ndarray [shape=(n_items, 2 M)]

    Returns
    -------
    np.ndarray [shape=(n_items, M), dtype=float64]
        ``X[k] = sum_n w[n] x[n] cos(pi/M (n + 1/2 + M/2)(k + 1/2))`` with the sine window
        ``w[n] = sin(pi (n + 1/2) / 2M)`` (Princen-Bradley).
    """
    x = np.asarray(x, dtype=np.float64)
    two_m = x.shape[-1]
    if two_m % 2:
        raise ParameterError(f"mdct frame length {two_m} must be even")
    m = two_m // 2
    n = np.arange(two_m)[:, None]
    k = np.arange(m)[None, :]
    window = np.sin(np.pi * (np.arange(two_m) + 0.5) / two_m)
    basis = np.cos(np.pi / m * (n + 0.5 + m / 2) * (k + 0.5))
    return (x * window) @ basis


def seed000_features(audio: np.ndarray, representation: Seed000Representation) -> np.ndarray:
    """Seed 000's single-frame features of each item.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_items, n_samples)]
        Zero-padded to 4096 samples when shorter.
    representation : {"richness", "richness_phase", "spectrum", "spectrum_phase", "mdct"}
        ``richness``: dB magnitude, Hann window, first 1024 bins (``Spectrums``);
        ``richness_phase``: and the phase below (2048 rows); ``spectrum``: magnitude of
        the 1025 bins of the first 2048 samples (``images``); ``spectrum_phase``: and the phase (2050); ``mdct``:
        1024 MDCT coefficients of the first 2048 samples.

    Returns
    -------
    np.ndarray [shape=(n_items, n_features), dtype=float32]
    """
    if representation not in SEED000_REPRESENTATIONS:
        raise ParameterError(
            f"representation={representation!r} is not one of {', '.join(SEED000_REPRESENTATIONS)}"
        )
    audio = np.asarray(audio, dtype=np.float64)
    if audio.shape[1] < _N_FFT:
        audio = np.pad(audio, ((0, 0), (0, _N_FFT - audio.shape[1])))
    if representation == "mdct":
        return mdct_frame(audio[:, :_N_MDCT]).astype(np.float32)
    if representation.startswith("richness"):
        spectrum = np.fft.rfft(audio[:, :_N_FFT] * np.hanning(_N_FFT), axis=1)[:, :1024]
        magnitude = 20.0 * np.log10(np.maximum(np.abs(spectrum), 10.0 ** (_DB_FLOOR / 20.0)))
    else:
        spectrum = np.fft.rfft(audio[:, :_N_MDCT], axis=1)
        magnitude = np.abs(spectrum)
    parts = [magnitude, np.angle(spectrum)] if representation.endswith("phase") else [magnitude]
    return np.concatenate(parts, axis=1).astype(np.float32)


def _over_max(x: np.ndarray) -> np.ndarray:
    peak = float(np.max(x)) if x.size else 0.0
    return x / peak if peak > 0 else x


def seed000_variant(spectrums: np.ndarray, variant: Seed000Variant, *, n_bins: int = 1024) -> np.ndarray:
    """One of seed 000's variants of its dB spectra, computed over the whole dataset.

    Parameters
    ----------
    spectrums : np.ndarray [shape=(n_rows, n_items)]
        ``Spectrums`` of the ``richness`` representations: floored dB magnitudes in the
        first ``n_bins`` rows, phases (radians) below them when ``n_rows > n_bins``.
    variant : {"db", "db_shifted", "db_normalised", "linear", "linear_normalised"}
        ``db``: as given. ``db_shifted``: ``dB - min(dB)``. ``db_normalised``: that over
        its maximum, in [0, 1]. ``linear``: ``10 ** (dB / 20)``, and the phase rows
        shifted to start at 0 and scaled to the linear maximum. ``linear_normalised``: the
        linear magnitudes over their maximum, phase rows as in ``linear``. Minima and
        maxima are over every item and bin (of the magnitude or the phase rows), as the seed's.
    n_bins : int
        Magnitude rows.

    Returns
    -------
    np.ndarray [shape=(n_rows, n_items), dtype=float32]

    Raises
    ------
    ParameterError
        Unknown variant.

    References
    ----------
    Seed 000, ``ToyRichnessGenerator.py`` (its ``specPos``, ``specDbNorm``, ``specLin``,
    ``specLinNorm``).
    """
    if variant not in SEED000_VARIANTS:
        raise ParameterError(f"variant={variant!r} is not one of {', '.join(SEED000_VARIANTS)}")
    db = np.asarray(spectrums[:n_bins], dtype=np.float64)
    phase = np.asarray(spectrums[n_bins:], dtype=np.float64)
    if variant.startswith("db"):
        magnitude = db if variant == "db" else db - db.min()
        if variant == "db_normalised":
            magnitude = _over_max(magnitude)
    else:
        linear = 10.0 ** (db / 20.0)
        if phase.size:
            phase = _over_max(phase - phase.min()) * linear.max()
        magnitude = _over_max(linear) if variant == "linear_normalised" else linear
    return np.concatenate([magnitude, phase], axis=0).astype(np.float32)


def _labels(dataset: Dataset) -> np.ndarray:
    # Physical values where numeric, codes for categorical factors: (n_factors, n_items).
    rows = []
    for k, spec in enumerate(dataset.factors):
        if spec.kind == "categorical":
            rows.append(dataset.factor_codes[:, k].astype(np.float64))
        else:
            rows.append(dataset.metadata[spec.name].to_numpy(dtype=np.float64))
    return np.stack(rows, axis=0) if rows else np.zeros((0, len(dataset)))


def _need_audio(dataset: Dataset) -> None:
    if dataset.card.audio_format is None:
        raise DatasetError(
            f"{dataset.root}: this dataset keeps no audio (audio_format none); nothing to export"
        )


def _seed000_targets(out: Path, representation: str, variant: str) -> dict[str, Path]:
    variants = list(SEED000_VARIANTS) if variant == "all" else [variant]
    phase = int(representation.endswith("phase"))
    if variant == "all" or out.is_dir():
        if out.suffix == ".npz":
            raise ParameterError(f"--out {out}: --variant all writes the seed's file names into a folder; "
                                 "give a folder, not a .npz file")
        return {v: out / SEED000_FILES[v][phase] for v in variants}
    return {variant: out if out.suffix == ".npz" else out.with_suffix(".npz")}


def export_seed000_npz(
    dataset: Dataset,
    out: str | os.PathLike[str],
    *,
    representation: Seed000Representation = "spectrum",
    variant: Seed000Variant | Literal["all"] = "db",
    overwrite: bool = False,
    batch_size: int = 256,
) -> Path:
    """Write seed 000's ``.npz`` (features x N and labels x N), streaming the audio.

    Parameters
    ----------
    dataset : Dataset
        With audio.
    out : path-like
        The ``.npz`` file (suffix added when missing), or a folder: then the file takes
        the seed's name (:data:`SEED000_FILES`), as every file of ``variant="all"`` does.
    representation : {"richness", "richness_phase", "spectrum", "spectrum_phase", "mdct"}
        See :func:`seed000_features`.
    variant : {"db", "db_shifted", "db_normalised", "linear", "linear_normalised", "all"}
        ``richness`` representations only: which of seed 000's variants
        (:func:`seed000_variant`); ``all`` writes the five.
    overwrite : bool
        Replace existing files.

    Returns
    -------
    pathlib.Path
        The ``.npz`` file (the folder for ``all``): keys ``Spectrums``/``labels``
        (``richness*``) or ``images``/``labels``, plus ``label_names`` (factor names, in
        row order).

    Raises
    ------
    ParameterError
        Unknown variant, a variant other than ``db`` for a representation that is not
        ``richness*``, or ``all`` with a ``.npz`` file.
    DatasetError
        A file exists and ``overwrite`` is false; the dataset keeps no audio.
    """
    if variant != "all" and variant not in SEED000_VARIANTS:
        raise ParameterError(f"variant={variant!r} is not one of {', '.join(SEED000_VARIANTS)}, all")
    if variant != "db" and not representation.startswith("richness"):
        raise ParameterError(f"--variant {variant}: seed 000's variants are of its dB spectra, "
                             f"representation richness or richness_phase, not {representation!r}")
    targets = _seed000_targets(Path(out), representation, variant)
    for path in targets.values():
        if path.exists() or path.is_symlink():
            if not overwrite:
                raise DatasetError(f"{path} already exists; choose another --out or pass --overwrite")
            if not _is_seed000_npz(path):
                raise DatasetError(f"--out {path} exists and is not a seed000-npz export (no labels and "
                                   "Spectrums or images arrays); nothing there is replaced: choose another --out")
    _need_audio(dataset)
    n = len(dataset)
    first = seed000_features(dataset.load_audio([0]), representation)
    matrix = np.empty((first.shape[1], n), dtype=np.float32)
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(n, start + batch_size))
        matrix[:, idx] = seed000_features(dataset.load_audio(idx), representation).T
    key = "Spectrums" if representation.startswith("richness") else "images"
    labels = _labels(dataset)
    for name, path in targets.items():
        values = seed000_variant(matrix, name) if key == "Spectrums" else matrix  # type: ignore[arg-type]
        with atomic_path(path) as tmp:
            with open(tmp, "wb") as fh:
                np.savez(fh, **{key: values, "labels": labels,
                                "label_names": np.array(dataset.factor_names)})
    return Path(out) if variant == "all" else next(iter(targets.values()))


def _is_seed000_npz(path: Path) -> bool:
    """``path`` is a ``.npz`` this export wrote: ``labels`` beside ``Spectrums`` or ``images``."""
    if path.is_symlink() or not path.is_file():
        return False
    try:
        with np.load(path, allow_pickle=False) as npz:
            keys = set(npz.files)
    except (OSError, ValueError):
        return False
    return "labels" in keys and bool(keys & {"Spectrums", "images"})


def _link_audio(dataset: Dataset, out: Path, names: list[str]) -> None:
    for i, name in enumerate(names):
        src = dataset.audio_path(i)
        dst = out / name
        if dst.exists():
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
        except OSError:
            with atomic_path(dst) as tmp:
                shutil.copyfile(src, tmp)


def _same_folder(a: Path, b: Path) -> bool:
    return a.resolve() == b.resolve()


def export_nsynth_json(dataset: Dataset, out: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """NSynth layout: ``examples.json`` keyed by note name + ``audio/<note_str>.wav``.

    Each record holds ``note``, ``note_str``, ``sample_rate``, ``split``, every factor's
    value and ``<factor>_code``. Into the dataset's own folder (with ``overwrite``) only
    ``examples.json`` is written, pointing at its audio. Elsewhere ``overwrite`` replaces
    only an earlier export (:data:`~timbrespace.datasets.audiofolder.EXPORT_MARKER`).

    Raises
    ------
    DatasetError
        ``out`` exists, is not empty and ``overwrite`` is false; ``out`` holds something
        that is not an export, or holds the dataset; the dataset keeps no audio.
    """
    out = Path(out)
    into_dataset = out.exists() and _same_folder(out, dataset.root)
    if into_dataset:
        if not overwrite:
            raise DatasetError(f"{out} already exists and is not empty; choose another --out or pass --overwrite")
    else:
        check_output_folder(out, marker=export_markers(out), what="export", overwrite=overwrite,
                            inputs=[dataset.root])
    _need_audio(dataset)
    for i in range(len(dataset)):  # file names come from the metadata: checked before anything is written
        dataset.audio_path(i)
    out.mkdir(parents=True, exist_ok=True)
    if not into_dataset:  # first: a folder an interrupted export left is still one to replace
        write_export_marker(out, "nsynth-json", dataset)
    meta = dataset.metadata
    examples: dict[str, dict[str, object]] = {}
    names = []
    for i, row in enumerate(meta.itertuples(index=False)):
        rel = str(row.audio_path)
        note_str = Path(rel).stem
        names.append(rel if _same_folder(out, dataset.root) else f"audio/{Path(rel).name}")
        record: dict[str, object] = {
            "note": i,
            "note_str": note_str,
            "sample_rate": dataset.sample_rate,
            "split": str(row.split),
            "audio_path": names[-1],
        }
        for spec in dataset.factors:
            value = getattr(row, spec.name)
            record[spec.name] = value.item() if isinstance(value, np.generic) else value
            record[f"{spec.name}_code"] = int(getattr(row, f"{spec.name}_code"))
        examples[note_str] = record
    if not _same_folder(out, dataset.root):
        _link_audio(dataset, out, names)
    atomic_write_text(out / "examples.json", json.dumps(examples, indent=1, sort_keys=True) + "\n")
    return out / "examples.json"


#: NSynth's ``instrument_family_str`` values, in the order of their ``instrument_family`` ids.
NSYNTH_FAMILIES: tuple[str, ...] = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ",
                                    "reed", "string", "synth_lead", "vocal")
#: NSynth's ``instrument_source_str`` values, in the order of their ids.
NSYNTH_SOURCES: tuple[str, ...] = ("acoustic", "electronic", "synthetic")
#: NSynth's note qualities, in the order of the ``qualities`` list.
NSYNTH_QUALITIES: tuple[str, ...] = ("bright", "dark", "distortion", "fast_decay", "long_release",
                                     "multiphonic", "nonlinear_env", "percussive", "reverb", "tempo-synced")
NSYNTH_SAMPLE_RATE = 16000
NSYNTH_N_SAMPLES = 4 * NSYNTH_SAMPLE_RATE
# Family by the first word found in the instrument's name; the order matters
# (``harpsichord`` is a keyboard, ``contrabass`` a string, ``bassoon`` and ``english_horn`` reeds, before bass and brass).
_FAMILY_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("keyboard", ("piano", "keyboard", "clavi", "harpsichord")),
    ("string", ("violin", "viola", "cello", "contrabass", "string", "harp", "fiddle", "pizzicato")),
    ("reed", ("sax", "oboe", "clarinet", "bassoon", "english_horn", "reed", "accordion", "harmonica",
              "bandoneon")),
    ("bass", ("bass",)),
    ("brass", ("trumpet", "trombone", "tuba", "horn", "brass", "cornet")),
    ("flute", ("flute", "piccolo", "recorder", "whistle", "ocarina", "pipe")),
    ("guitar", ("guitar",)),
    ("mallet", ("mallet", "marimba", "xylophone", "vibraphone", "glockenspiel", "celesta", "bell",
                "kalimba", "steel_drum")),
    ("organ", ("organ",)),
    ("vocal", ("voice", "vocal", "choir", "aah", "ooh")),
    ("synth_lead", ("synth", "lead")),
)
_PITCH_FACTORS = ("pitch", "midi_pitch", "pitch_midi", "midi_note", "note_midi")
_VELOCITY_FACTORS = ("velocity", "midi_velocity")
_INSTRUMENT_FACTORS = ("instrument_str", "instrument", "instrument_name")


def nsynth_family(instrument_str: str) -> str | None:
    """NSynth's family of an instrument by its name (``violin_1`` -> ``string``), or None."""
    name = instrument_str.lower()
    for family, words in _FAMILY_WORDS:
        if any(w in name for w in words):
            return family
    return None


def _first_factor(dataset: Dataset, names: tuple[str, ...]) -> str | None:
    return next((n for n in names if n in dataset.factor_names), None)


def _midi_value(value: object, *, what: str) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise DatasetError(f"{what}={value!r} is not a number; NSynth's pitch and velocity are MIDI 0-127") from None
    if not math.isfinite(number) or not 0 <= round(number) <= 127:
        raise DatasetError(f"{what}={value!r} is outside MIDI's 0-127; NSynth's pitch and velocity are MIDI numbers")
    return int(round(number))


def _nsynth_records(dataset: Dataset, *, suffix_duplicates: bool) -> list[dict[str, object]]:
    """One NSynth record per item, in item order, validated (names, MIDI ranges, unique note_str)."""
    meta = dataset.metadata
    ids = dataset.item_ids
    pitch_f = _first_factor(dataset, _PITCH_FACTORS)
    velocity_f = _first_factor(dataset, _VELOCITY_FACTORS)
    instrument_f = _first_factor(dataset, _INSTRUMENT_FACTORS)
    synthetic = dataset.card.source.get("kind") != "ingest"
    if pitch_f is None and "f0_hz" in dataset.factor_names:
        hz = meta["f0_hz"].to_numpy(dtype=np.float64)
        if np.any(~np.isfinite(hz) | (hz <= 0)):
            raise DatasetError(f"{dataset.root}: f0_hz must be positive to give NSynth's MIDI pitch")
        pitches = [_midi_value(69.0 + 12.0 * math.log2(f / 440.0), what=f"item {ids[i]}: pitch from f0_hz={f}")
                   for i, f in enumerate(hz)]
    elif pitch_f is not None:
        pitches = [_midi_value(v, what=f"item {ids[i]}: {pitch_f}") for i, v in enumerate(meta[pitch_f])]
    else:
        log.warning("no pitch factor (%s) nor f0_hz: every note gets NSynth pitch 60", ", ".join(_PITCH_FACTORS))
        pitches = [60] * len(dataset)
    if velocity_f is not None:
        velocities = [_midi_value(v, what=f"item {ids[i]}: {velocity_f}") for i, v in enumerate(meta[velocity_f])]
    else:
        log.warning("no velocity factor: every note gets NSynth velocity 100")
        velocities = [100] * len(dataset)
    if instrument_f is not None:
        instruments = [safe_name(v, what=f"item {ids[i]}: {instrument_f}", error=DatasetError)
                       for i, v in enumerate(meta[instrument_f])]
    else:
        fallback = str(dataset.card.source.get("sound_model") or dataset.name)
        instruments = [safe_name(fallback, what="instrument_str (the dataset's name)", error=DatasetError)]
        instruments *= len(dataset)
    names = [f"{inst}-{p:03d}-{v:03d}" for inst, p, v in zip(instruments, pitches, velocities, strict=True)]
    by_name: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        by_name.setdefault(name, []).append(i)
    shared = {name: idx for name, idx in by_name.items() if len(idx) > 1}
    if shared:
        if not suffix_duplicates:
            name, idx = next(iter(shared.items()))
            raise DatasetError(
                f"items {ids[idx[0]]} and {ids[idx[1]]} both map to NSynth note {name!r} "
                f"({len(shared)} note names shared by {sum(map(len, shared.values()))} items); give each a distinct "
                "instrument, pitch or velocity factor, or pass --suffix-duplicates"
            )
        for name, idx in shared.items():
            for k, i in enumerate(idx):
                names[i] = f"{name}-{k}"
        if len(set(names)) != len(names):
            raise DatasetError(f"{dataset.root}: note names stay shared after adding suffixes "
                               "(an instrument name ends like one); rename the instruments")
        log.warning("%d NSynth note names were shared: -0, -1... added to them", len(shared))
    instrument_ids = {s: k for k, s in enumerate(sorted(set(instruments)))}
    family_of = {s: nsynth_family(s) for s in instrument_ids}
    unknown = sorted(s for s, f in family_of.items() if f is None)
    if unknown:
        log.warning("instrument family unknown for %s: synth_lead written", ", ".join(unknown[:5]))
    source = NSYNTH_SOURCES[2] if synthetic else NSYNTH_SOURCES[0]
    records = []
    for i, name in enumerate(names):
        family = family_of[instruments[i]] or "synth_lead"
        records.append({
            "note": i,
            "note_str": name,
            "pitch": pitches[i],
            "velocity": velocities[i],
            "instrument": instrument_ids[instruments[i]],
            "instrument_str": instruments[i],
            "instrument_family": NSYNTH_FAMILIES.index(family),
            "instrument_family_str": family,
            "instrument_source": NSYNTH_SOURCES.index(source),
            "instrument_source_str": source,
            "qualities": [0] * len(NSYNTH_QUALITIES),
            "qualities_str": [],
            "sample_rate": NSYNTH_SAMPLE_RATE,
        })
    return records


def export_nsynth(
    dataset: Dataset,
    out: str | os.PathLike[str],
    *,
    overwrite: bool = False,
    suffix_duplicates: bool = False,
) -> Path:
    """NSynth's layout as its dataset ships it: ``audio/<note_str>.wav`` + ``examples.json``.

    Each note is 16 kHz mono 16-bit PCM, 4 s long (resampled with soxr, zero-padded or
    trimmed: a note is logged when the items are not 4 s), named
    ``<instrument_str>-<pitch:03d>-<velocity:03d>.wav``. ``examples.json`` holds, keyed by
    ``note_str``, NSynth's fields and only them: ``note`` (item index), ``note_str``,
    ``pitch``, ``velocity``, ``instrument`` (id of the instrument name, in sorted order),
    ``instrument_str``, ``instrument_family(_str)`` (:data:`NSYNTH_FAMILIES`),
    ``instrument_source(_str)`` (:data:`NSYNTH_SOURCES`), ``qualities`` (ten 0/1 flags,
    :data:`NSYNTH_QUALITIES`), ``qualities_str`` (the qualities set) and ``sample_rate``.

    From the factors: ``pitch`` from a MIDI pitch factor (``pitch``, ``midi_pitch``...)
    or ``f0_hz`` (nearest MIDI note), else 60; ``velocity`` from a ``velocity`` factor,
    else 100; ``instrument_str`` from an ``instrument_str``/``instrument`` factor, else
    the sound model's (or dataset's) name. The family is matched on the instrument's name
    (``violin`` -> ``string``, ``piano`` -> ``keyboard``...), else ``synth_lead``; the
    source is ``synthetic`` for generated datasets and ``acoustic`` for ingested ones;
    no quality is set.

    Parameters
    ----------
    dataset : Dataset
        With audio.
    out : path-like
        The folder; ``overwrite`` replaces only an earlier export
        (:data:`~timbrespace.datasets.audiofolder.EXPORT_MARKER`).
    overwrite : bool
    suffix_duplicates : bool
        Items that map to the same ``note_str`` get ``-0``, ``-1``... appended to it
        instead of a refusal.

    Returns
    -------
    pathlib.Path
        ``out/examples.json``.

    Raises
    ------
    DatasetError
        ``out`` holds something that is not an export (or an export, without
        ``overwrite``), or the dataset; the dataset keeps no audio; two items map to one
        note name; a pitch or velocity outside MIDI's 0-127; a name that cannot be a file name.
    """
    import soundfile as sf
    import soxr

    out = Path(out)
    replace = check_output_folder(out, marker=export_markers(out), what="export", overwrite=overwrite,
                                  inputs=[dataset.root])
    _need_audio(dataset)
    for i in range(len(dataset)):  # file names come from the metadata: checked before anything is written
        dataset.audio_path(i)
    records = _nsynth_records(dataset, suffix_duplicates=suffix_duplicates)
    duration_s = dataset.card.duration_s
    if duration_s is None or abs(duration_s - 4.0) > 1e-9:
        shown = "of varied lengths" if duration_s is None else f"{duration_s:g} s long"
        log.warning("items are %s: NSynth's notes are 4 s, so each is zero-padded or trimmed", shown)
    if replace:
        clear_folder(out)
    out.mkdir(parents=True, exist_ok=True)
    write_export_marker(out, "nsynth", dataset)  # first: a folder an interrupted export left is still one to replace
    (out / "audio").mkdir(exist_ok=True)
    for i, record in enumerate(records):
        y = dataset.load_audio([i])[0].astype(np.float64)
        if dataset.sample_rate != NSYNTH_SAMPLE_RATE:
            y = soxr.resample(y, dataset.sample_rate, NSYNTH_SAMPLE_RATE)
        note = np.zeros(NSYNTH_N_SAMPLES, dtype=np.float64)
        note[: min(len(y), NSYNTH_N_SAMPLES)] = y[:NSYNTH_N_SAMPLES]
        with atomic_path(out / "audio" / f"{record['note_str']}.wav") as tmp:
            sf.write(tmp, np.clip(note, -1.0, 1.0), NSYNTH_SAMPLE_RATE, subtype="PCM_16", format="WAV")
    examples = {str(r["note_str"]): r for r in records}
    atomic_write_text(out / "examples.json", json.dumps(examples, indent=1) + "\n")
    return out / "examples.json"


def export_dataset(
    dataset: Dataset | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    format: str,
    representation: Seed000Representation = "spectrum",
    variant: Seed000Variant | Literal["all"] = "db",
    overwrite: bool = False,
    suffix_duplicates: bool = False,
) -> Path:
    """Export ``dataset`` in one of :data:`EXPORT_FORMATS`; returns the main file written.

    Parameters
    ----------
    dataset : Dataset or path-like
    out : path-like
        File (``seed000-npz``) or folder.
    format : {"seed000-npz", "nsynth", "nsynth-json", "hf-audiofolder"}
        ``audiofolder`` is accepted for ``hf-audiofolder``.
    representation, variant
        ``seed000-npz`` only (:func:`export_seed000_npz`).
    overwrite : bool
        Replace what exists at ``out``.
    suffix_duplicates : bool
        ``nsynth`` only: suffix shared note names instead of refusing (:func:`export_nsynth`).

    Returns
    -------
    pathlib.Path
        The ``.npz`` file, ``examples.json``, or the audiofolder.

    Raises
    ------
    ParameterError
        Unknown format, representation or variant.
    DatasetError
        The dataset keeps no audio; ``out`` exists and ``overwrite`` is false; (``nsynth``)
        two items share a note name.
    """
    format = _FORMAT_ALIASES.get(format, format)
    if format not in EXPORT_FORMATS:
        raise ParameterError(f"export format={format!r} is not one of {', '.join(EXPORT_FORMATS)}")
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    if format == "seed000-npz":
        return export_seed000_npz(ds, out, representation=representation, variant=variant,
                                  overwrite=overwrite)
    if format == "nsynth":
        return export_nsynth(ds, out, overwrite=overwrite, suffix_duplicates=suffix_duplicates)
    if format == "nsynth-json":
        return export_nsynth_json(ds, out, overwrite=overwrite)
    return export_hf_audiofolder(ds, out, overwrite=overwrite)
