"""Audio files: reading as mono float32 (resampled on request), and the one peak-safe writer.

Dataset items are stored bit-exact by :func:`encode_audio`. Everything timbrespace
decodes, inverts or renders for a listener goes through :func:`write_audio`: the file's suffix picks the format, non-finite samples are refused,
and a peak above full scale is scaled down with a warning instead of clipping.
"""

from __future__ import annotations

import io
import logging
import os
import re
from pathlib import Path

import numpy as np
import soundfile as sf

from timbrespace.errors import AudioError, ParameterError
from timbrespace.utils.limits import check_sample_rate

__all__ = ["AUDIO_FORMATS", "audio_format_for", "encode_audio", "peak_safe", "read_mono", "write_audio"]

log = logging.getLogger(__name__)

# suffix -> (libsndfile format, subtype); PCM 16 is what players expect from a WAV.
AUDIO_FORMATS: dict[str, tuple[str, str]] = {
    ".wav": ("WAV", "PCM_16"),
    ".flac": ("FLAC", "PCM_16"),
    ".ogg": ("OGG", "VORBIS"),
    ".mp3": ("MP3", "MPEG_LAYER_III"),
}
_HEADROOM = 10 ** (-0.1 / 20)  # scale over-full-scale audio to -0.1 dBFS


def audio_format_for(path: str | os.PathLike[str]) -> tuple[str, str]:
    """The (format, subtype) that :func:`write_audio` uses for ``path``'s suffix.

    Raises
    ------
    ParameterError
        If the suffix is not one of :data:`AUDIO_FORMATS` (the message lists them).
    """
    suffix = Path(path).suffix.lower()
    if suffix not in AUDIO_FORMATS:
        raise ParameterError(
            f"{path}: the suffix {suffix or '(none)'!r} picks no audio format; "
            f"use one of {', '.join(AUDIO_FORMATS)}"
        )
    return AUDIO_FORMATS[suffix]


def write_audio(
    path: str | os.PathLike[str], audio: np.ndarray, sample_rate: int, *, overwrite: bool = True
) -> Path:
    """Write mono audio atomically in the format its suffix names, never clipping.

    Parameters
    ----------
    path : path-like
        ``.wav`` (PCM 16), ``.flac`` (PCM 16), ``.ogg`` (Vorbis) or ``.mp3``.
    audio : np.ndarray [shape=(n_samples,)]
        Samples, nominally in [-1, 1]. A peak above 1 is scaled down to -0.1 dBFS and a
        warning gives the gain; nothing is clipped.
    sample_rate : int
        Hz, > 0.
    overwrite : bool
        If False, an existing file is refused.

    Returns
    -------
    pathlib.Path

    Raises
    ------
    ParameterError
        Unknown suffix, a sample rate that is not positive, a path that is a folder, or an
        existing file with ``overwrite=False``.
    AudioError
        Audio that is empty, not 1-D, or holds NaN or inf (counted in the message).
    """
    from timbrespace.utils.atomic import atomic_write_bytes

    path = Path(path)
    fmt, subtype = audio_format_for(path)
    check_sample_rate(int(sample_rate))
    if path.is_dir():
        raise ParameterError(f"{path} is a folder; give a file name ending in {', '.join(AUDIO_FORMATS)}")
    if path.exists() and not overwrite:
        raise ParameterError(f"{path} already exists; choose another name or pass --overwrite")
    y = peak_safe(audio, name=str(path))
    buf = io.BytesIO()
    sf.write(buf, y.astype(np.float32), int(sample_rate), format=fmt, subtype=subtype)
    return atomic_write_bytes(path, buf.getvalue())


def peak_safe(audio: np.ndarray, *, name: str) -> np.ndarray:
    """Audio ready to write: NaN/inf refused, a peak above full scale scaled, never clipped.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,)]
        Samples, nominally in [-1, 1].
    name : str
        What is being written (a path), for the messages.

    Returns
    -------
    np.ndarray [shape=(n_samples,), dtype=float64]
        ``audio``, scaled to -0.1 dBFS when its peak is above 1 (a warning gives the gain).

    Raises
    ------
    AudioError
        Audio that is empty, not 1-D, or holds NaN or inf (counted in the message).
    """
    y = np.asarray(audio, dtype=np.float64)
    if y.ndim != 1 or y.size == 0:
        raise AudioError(f"{name}: audio must be one non-empty channel, got shape {y.shape}")
    bad = int(np.count_nonzero(~np.isfinite(y)))
    if bad:
        raise AudioError(f"{name}: {bad} of {y.size} samples are NaN or inf; nothing was written")
    peak = float(np.max(np.abs(y)))
    if peak > 1.0:
        gain = _HEADROOM / peak
        log.warning("%s: peak %.3g is above full scale; scaled by %.3g (%.1f dB) instead of clipping",
                    Path(name).name, peak, gain, 20 * np.log10(gain))
        y = y * gain
    return y


def read_mono(
    path: str | os.PathLike[str], *, sample_rate: int | None = None, max_duration_s: float | None = None
) -> tuple[np.ndarray, int]:
    """Read an audio file, mix it to mono and optionally resample it.

    Parameters
    ----------
    path : path-like
        Any format libsndfile reads (WAV, FLAC, OGG, AIFF, MP3 with libsndfile ≥ 1.1).
    sample_rate : int, optional
        Resample to this rate in Hz (``librosa.resample``); default: keep the file's.
    max_duration_s : float, optional
        Read at most this many seconds from the start (memory stays bounded whatever
        the file's length); default: the whole file.

    Returns
    -------
    y : np.ndarray [shape=(n_samples,), dtype=float32]
    sample_rate : int
        Hz.

    Raises
    ------
    AudioError
        Unreadable or corrupt file, a file whose data is shorter than its header says
        (truncated), no samples, or non-finite samples (the path is named).
    """
    try:
        info = sf.info(str(path))
        frames = info.frames
        if max_duration_s is not None:
            frames = min(frames, int(np.ceil(max_duration_s * info.samplerate)))
        y, sr = sf.read(path, frames=frames, dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(f"{path}: cannot read audio ({type(exc).__name__}: {str(exc)[:120]})") from None
    declared = _declared_data_bytes(info.extra_info)
    if declared is not None or y.shape[0] < frames:
        what = f"{declared[0]} bytes of data, the file holds {declared[1]}" if declared else (
            f"{frames} frames, {y.shape[0]} could be read")
        raise AudioError(f"{path}: truncated: its header announces {what}")
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


# libsndfile clamps a WAV's (AIFF's) data chunk to the file's length and only notes it in
# its log, e.g. "data : 32000 (should be 15978)": a truncated file reads without an error.
_SHORT_DATA = re.compile(r"^\s*(?:data|SSND)\s*:\s*(\d+)\s*\(should be (\d+)\)", re.MULTILINE)


_STREAMING_SIZE = 0xFFFFFFFF


def _declared_data_bytes(log: str) -> tuple[int, int] | None:
    """(bytes the header announces, bytes present) of a truncated data chunk, else None.

    A size of 0xFFFFFFFF is a streaming writer's "unknown length", not a truncation.
    """
    m = _SHORT_DATA.search(log or "")
    if m is None or int(m.group(1)) <= int(m.group(2)) or int(m.group(1)) == _STREAMING_SIZE:
        return None
    return int(m.group(1)), int(m.group(2))


def encode_audio(audio: np.ndarray, sample_rate: int, suffix: str) -> bytes:
    """Encode one mono item as float32 WAV or 24-bit FLAC, the same bytes on every run.

    libsndfile's float WAV carries a PEAK chunk stamped with the wall-clock time, so two
    runs would differ; scipy's WAV writer has no such chunk. No clipping is applied.
    """
    buf = io.BytesIO()
    if suffix.lower() == ".flac":
        sf.write(buf, np.asarray(audio, np.float32), sample_rate, format="FLAC", subtype="PCM_24")
    else:
        from scipy.io import wavfile  # here: scipy.io costs ~0.1 s to import (issue 29)

        wavfile.write(buf, sample_rate, np.asarray(audio, np.float32))
    return buf.getvalue()
