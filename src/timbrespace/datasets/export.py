"""Exports of a dataset to the seeds' and the field's formats.

- ``seed000-npz``: the ``.npz`` files of seed 000. ``ToyRichnessGenerator.py`` wrote
  ``Spectrums`` (1024 x N: dB magnitude of the first 4096 samples, Hann window, first
  1024 bins; 2048 x N with the phase stacked below) and ``labels`` (factors x N);
  ``CreateImgs.py`` wrote ``images`` (1025 x N magnitude of one frame, 2050 x N with
  phase, or 1024 x N MDCT of the first 2048 samples) and ``labels``. 1025 bins is a
  2048-point FFT (the seed's notes say 4096, its files hold 1025 rows): we keep the
  files' shape, one rectangular 2048-sample frame. Unlike the
  seed, the dB spectrum has a floor (``-120 dB``) and every item is kept.
- ``nsynth-json``: ``examples.json`` keyed by note name, as NSynth, with the audio under
  ``audio/<note_str>.wav``.
- ``audiofolder``: ``metadata.csv`` with a ``file_name`` column (Hugging Face
  ``datasets`` loads the folder with ``load_dataset("audiofolder", data_dir=...)``).

Audio files are hard-linked into the export folder when possible, copied otherwise.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Literal

import numpy as np

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.utils.atomic import atomic_path, atomic_write_text

__all__ = [
    "EXPORT_FORMATS",
    "SEED000_REPRESENTATIONS",
    "export_dataset",
    "export_seed000_npz",
    "export_nsynth_json",
    "export_audiofolder",
    "seed000_features",
    "mdct_frame",
]

log = logging.getLogger(__name__)

EXPORT_FORMATS = ("seed000-npz", "nsynth-json", "audiofolder")
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


def export_seed000_npz(
    dataset: Dataset,
    out: str | os.PathLike[str],
    *,
    representation: Seed000Representation = "spectrum",
    batch_size: int = 256,
) -> Path:
    """Write seed 000's ``.npz`` (features x N and labels x N), streaming the audio.

    Returns
    -------
    pathlib.Path
        The ``.npz`` file: keys ``Spectrums``/``labels`` (``richness*``) or
        ``images``/``labels``, plus ``label_names`` (factor names, in row order).
    """
    _need_audio(dataset)
    out = Path(out)
    if out.suffix != ".npz":
        out = out.with_suffix(".npz")
    n = len(dataset)
    first = seed000_features(dataset.load_audio([0]), representation)
    matrix = np.empty((first.shape[1], n), dtype=np.float32)
    for start in range(0, n, batch_size):
        idx = np.arange(start, min(n, start + batch_size))
        matrix[:, idx] = seed000_features(dataset.load_audio(idx), representation).T
    key = "Spectrums" if representation.startswith("richness") else "images"
    with atomic_path(out) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(
                fh,
                **{
                    key: matrix,
                    "labels": _labels(dataset),
                    "label_names": np.array(dataset.factor_names),
                },
            )
    return out


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


def export_nsynth_json(dataset: Dataset, out: str | os.PathLike[str]) -> Path:
    """NSynth layout: ``examples.json`` keyed by note name + ``audio/<note_str>.wav``.

    Each record holds ``note``, ``note_str``, ``sample_rate``, ``split``, every factor's
    value and ``<factor>_code``.
    """
    _need_audio(dataset)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
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


def export_audiofolder(dataset: Dataset, out: str | os.PathLike[str]) -> Path:
    """Hugging Face ``audiofolder``: ``metadata.csv`` with ``file_name`` beside the audio."""
    _need_audio(dataset)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    meta = dataset.metadata.copy()
    names = meta["audio_path"].astype(str).tolist()
    if not _same_folder(out, dataset.root):
        _link_audio(dataset, out, names)
    meta.insert(0, "file_name", names)
    meta = meta.drop(columns=["audio_path"])
    with atomic_path(out / "metadata.csv") as tmp:
        meta.to_csv(tmp, index=False)
    return out / "metadata.csv"


def export_dataset(
    dataset: Dataset | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    format: str,
    representation: Seed000Representation = "spectrum",
) -> Path:
    """Export ``dataset`` in one of :data:`EXPORT_FORMATS`; returns the main file written.

    Raises
    ------
    ParameterError
        Unknown format or representation.
    DatasetError
        The dataset keeps no audio.
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    if format == "seed000-npz":
        return export_seed000_npz(ds, out, representation=representation)
    if format == "nsynth-json":
        return export_nsynth_json(ds, out)
    if format == "audiofolder":
        return export_audiofolder(ds, out)
    raise ParameterError(f"export format={format!r} is not one of {', '.join(EXPORT_FORMATS)}")
