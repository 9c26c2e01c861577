"""Audio files: read as mono float32 (resampled on request), encode deterministic bytes."""

from __future__ import annotations

import io
import os

import numpy as np
import soundfile as sf
from scipy.io import wavfile

from timbrespace.errors import AudioError

__all__ = ["encode_audio", "read_mono"]


def read_mono(path: str | os.PathLike[str], *, sample_rate: int | None = None) -> tuple[np.ndarray, int]:
    """Read an audio file, mix it to mono and optionally resample it.

    Parameters
    ----------
    path : path-like
        Any format libsndfile reads (WAV, FLAC, OGG, AIFF, MP3 with libsndfile ≥ 1.1).
    sample_rate : int, optional
        Resample to this rate in Hz (``librosa.resample``); default: keep the file's.

    Returns
    -------
    y : np.ndarray [shape=(n_samples,), dtype=float32]
    sample_rate : int
        Hz.

    Raises
    ------
    AudioError
        Unreadable or corrupt file, no samples, or non-finite samples (the path is named).
    """
    try:
        y, sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(f"{path}: cannot read audio ({type(exc).__name__}: {str(exc)[:120]})") from None
    y = y.mean(axis=1) if y.shape[1] > 1 else y[:, 0]
    if y.size == 0:
        raise AudioError(f"{path}: no samples")
    if not np.all(np.isfinite(y)):
        raise AudioError(f"{path}: non-finite samples")
    if sample_rate is not None and sr != sample_rate:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=sample_rate).astype(np.float32)
        sr = sample_rate
    return np.ascontiguousarray(y, dtype=np.float32), int(sr)


def encode_audio(audio: np.ndarray, sample_rate: int, suffix: str) -> bytes:
    """Encode one mono item as float32 WAV or 24-bit FLAC, the same bytes on every run.

    libsndfile's float WAV carries a PEAK chunk stamped with the wall-clock time, so two
    runs would differ; scipy's WAV writer has no such chunk. No clipping is applied.
    """
    buf = io.BytesIO()
    if suffix.lower() == ".flac":
        sf.write(buf, np.asarray(audio, np.float32), sample_rate, format="FLAC", subtype="PCM_24")
    else:
        wavfile.write(buf, sample_rate, np.asarray(audio, np.float32))
    return buf.getvalue()
