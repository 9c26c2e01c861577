"""Seed-002 preprocessing, invertible: dB STFT (512, 64) with per-item min–max.

Forward (as the seed): mono 22050 Hz, 0.74 s (16317 samples, zero-padded/trimmed),
STFT ``n_fft=1024``, ``hop_length=256``, Hann, centred → (513, 64) magnitudes; dB
``20 log10(max(|X|, 1e-5))`` clipped at ``top_db=80`` below the item's peak (absolute
reference, so the stored max keeps the level); the Nyquist row (bin 512) is dropped →
(512, 64); per-item min–max to [0, 1], each item's ``min_db``/``max_db`` stored.

Inverse (the seed's bug fixed): undo min–max, dB → amplitude, **re-insert the Nyquist
row** (at the item's floor, ``min_db``: a band-limited note has nothing there) to get
back (513, 64), then Griffin-Lim with the *correct* ``n_fft=1024`` (the seed passed the
(512, 64) array to Griffin-Lim, which infers ``n_fft = 2·(512−1) = 1022``, so every bin
was read at the wrong frequency and the frame hop was mismatched to its window).
A silent item (``max_db == min_db``) maps to zeros, not NaN (another seed fault).
"""

from __future__ import annotations

from dataclasses import dataclass

import librosa
import numpy as np

from timbrespace.errors import ParameterError

__all__ = [
    "TimbrePreprocessing",
    "Spectrograms",
    "to_spectrogram",
    "from_spectrogram",
    "magnitude_stft",
    "spectrogram_magnitudes",
]

_AMIN = 1e-5


@dataclass(frozen=True)
class TimbrePreprocessing:
    """Parameters of the seed-002 representation.

    Parameters
    ----------
    sample_rate : int
        Hz (22050).
    n_samples : int
        Samples per note (16317 = 0.74 s).
    n_fft : int
        STFT size (1024) → 513 bins, the last (Nyquist) dropped.
    hop_length : int
        256 → 64 frames for 16317 samples (centred).
    top_db : float
        Dynamic range kept below each item's peak, dB (80).
    n_iter : int
        Griffin-Lim iterations for the inverse.
    """

    sample_rate: int = 22050
    n_samples: int = 16317
    n_fft: int = 1024
    hop_length: int = 256
    top_db: float = 80.0
    n_iter: int = 64

    @property
    def n_bins(self) -> int:
        """Rows kept (n_fft // 2: the Nyquist row is dropped)."""
        return self.n_fft // 2

    @property
    def n_frames(self) -> int:
        return 1 + self.n_samples // self.hop_length

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_bins, self.n_frames)


@dataclass(frozen=True)
class Spectrograms:
    """Normalised dB spectrograms and the per-item statistics that invert them.

    Parameters
    ----------
    x : np.ndarray [shape=(n_items, n_fft // 2, n_frames), dtype=float32]
        In [0, 1].
    min_db, max_db : np.ndarray [shape=(n_items,), dtype=float32]
        Each item's dB range before min–max.
    """

    x: np.ndarray
    min_db: np.ndarray
    max_db: np.ndarray


def _check_audio(audio: np.ndarray, config: TimbrePreprocessing) -> np.ndarray:
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim == 1:
        y = y[None]
    if y.ndim != 2:
        raise ParameterError(f"audio has shape {np.shape(audio)}: expected (n_samples,) or (n_items, n_samples)")
    out = np.zeros((y.shape[0], config.n_samples), dtype=np.float32)
    m = min(config.n_samples, y.shape[1])
    out[:, :m] = y[:, :m]
    return out


def magnitude_stft(audio: np.ndarray, config: TimbrePreprocessing | None = None) -> np.ndarray:
    """Full STFT magnitudes ``(n_items, n_fft // 2 + 1, n_frames)`` float32 (with Nyquist)."""
    config = config or TimbrePreprocessing()
    y = _check_audio(audio, config)
    return np.abs(librosa.stft(y, n_fft=config.n_fft, hop_length=config.hop_length)).astype(np.float32)


def to_spectrogram(audio: np.ndarray, config: TimbrePreprocessing | None = None) -> Spectrograms:
    """Audio → normalised (n_items, 512, 64) dB spectrograms with stored min/max.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,) or (n_items, n_samples), dtype=float32]
        Mono at ``config.sample_rate``; padded/trimmed to ``config.n_samples``.
    config : TimbrePreprocessing, optional

    Returns
    -------
    Spectrograms

    References
    ----------
    Seed 002 preprocessing (SEEDS.md).
    """
    config = config or TimbrePreprocessing()
    mag = magnitude_stft(audio, config)
    db = 20.0 * np.log10(np.maximum(mag, _AMIN))
    peak = db.max(axis=(1, 2), keepdims=True)
    db = np.maximum(db, peak - config.top_db)[:, : config.n_bins, :]
    min_db = db.min(axis=(1, 2))
    max_db = db.max(axis=(1, 2))
    span = (max_db - min_db)[:, None, None]
    x = np.where(span > 0, (db - min_db[:, None, None]) / np.where(span > 0, span, 1.0), 0.0)
    return Spectrograms(x=x.astype(np.float32), min_db=min_db.astype(np.float32), max_db=max_db.astype(np.float32))


def spectrogram_magnitudes(spec: Spectrograms, config: TimbrePreprocessing | None = None) -> np.ndarray:
    """Undo min–max and dB, re-insert Nyquist → ``(n_items, n_fft // 2 + 1, n_frames)`` magnitudes.

    The re-inserted Nyquist row is at each item's floor (``min_db``); a silent item
    (``max_db == min_db``) gives all zeros.
    """
    config = config or TimbrePreprocessing()
    x = np.asarray(spec.x, dtype=np.float64)
    if x.ndim == 2:
        x = x[None]
    if x.ndim != 3 or x.shape[1] != config.n_bins:
        raise ParameterError(f"spectrograms have shape {np.shape(spec.x)}: expected (n_items, {config.n_bins}, n_frames)")
    min_db = np.asarray(spec.min_db, dtype=np.float64).reshape(-1, 1, 1)
    max_db = np.asarray(spec.max_db, dtype=np.float64).reshape(-1, 1, 1)
    db = np.clip(x, 0.0, 1.0) * (max_db - min_db) + min_db
    nyquist = np.broadcast_to(min_db, (x.shape[0], 1, x.shape[2]))
    full_db = np.concatenate([db, nyquist], axis=1)
    mag = librosa.db_to_amplitude(full_db)
    silent = (max_db <= min_db).reshape(-1)
    mag[silent] = 0.0
    return mag.astype(np.float32)


def from_spectrogram(spec: Spectrograms, config: TimbrePreprocessing | None = None, *, seed: int = 0) -> np.ndarray:
    """Normalised spectrograms → audio via Griffin-Lim with the correct ``n_fft``.

    Parameters
    ----------
    spec : Spectrograms
        ``x`` of shape (n_items, 512, n_frames) in [0, 1] (values outside are clipped)
        and the items' ``min_db``/``max_db``.
    config : TimbrePreprocessing, optional
    seed : int
        Griffin-Lim's random initial phase (``random_state``).

    Returns
    -------
    np.ndarray [shape=(n_items, config.n_samples), dtype=float32]

    References
    ----------
    D. Griffin and J. Lim, "Signal estimation from modified short-time Fourier
    transform", IEEE TASSP 32(2), 1984. Seed 002 (inversion fault fixed).
    """
    config = config or TimbrePreprocessing()
    mag = spectrogram_magnitudes(spec, config)
    y = librosa.griffinlim(
        mag, n_iter=config.n_iter, hop_length=config.hop_length, n_fft=config.n_fft,
        length=config.n_samples, random_state=np.random.default_rng(seed),
    )
    return np.asarray(y, dtype=np.float32).reshape(mag.shape[0], config.n_samples)
