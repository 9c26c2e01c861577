"""Pitch and brightness measures of notes: what the timbre run's quality figures are made of.

- :func:`measure_pitch_midi`: median pYIN f0 of a note as a (fractional) MIDI number.
- :func:`weighted_centroid_hz`: energy-weighted spectral centroid of a magnitude
  spectrogram (the brightness that Bright raises and Dark lowers).
- :func:`monotonic_trend`: whether a sequence rises (or falls) strictly, and its Spearman
  correlation with its order.

The measurements of a trained run on its held-back notes are
:func:`timbrespace.experiments.timbre_quality.measure_timbre_quality`.
"""

from __future__ import annotations

import librosa
import numpy as np
from scipy.stats import spearmanr

__all__ = ["measure_pitch_midi", "weighted_centroid_hz", "monotonic_trend", "PYIN_FMIN_HZ", "PYIN_FMAX_HZ"]

PYIN_FMIN_HZ = 200.0
PYIN_FMAX_HZ = 2000.0


def measure_pitch_midi(audio: np.ndarray, *, sample_rate: int) -> np.ndarray:
    """Median pYIN f0 of each note as a (fractional) MIDI number; NaN where unvoiced.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_items, n_samples)]
    sample_rate : int
        Hz.

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64]
        Searched between 200 and 2000 Hz (the seed-002 pitches E4..D6 and their octave
        errors); a silent note is NaN.

    References
    ----------
    M. Mauch and S. Dixon, "pYIN: a fundamental frequency estimator using probabilistic
    threshold distributions", ICASSP 2014.
    """
    out = np.full(len(audio), np.nan)
    for k, y in enumerate(np.asarray(audio, dtype=np.float32)):
        if not np.any(np.abs(y) > 1e-6):
            continue
        f0, voiced, _ = librosa.pyin(y, fmin=PYIN_FMIN_HZ, fmax=PYIN_FMAX_HZ, sr=sample_rate, frame_length=2048)
        good = voiced & np.isfinite(f0)
        if np.any(good):
            out[k] = float(librosa.hz_to_midi(np.median(f0[good])))
    return out


def weighted_centroid_hz(mag: np.ndarray, *, sample_rate: int, n_fft: int) -> np.ndarray:
    """Energy-weighted spectral centroid of magnitude spectrograms.

    Parameters
    ----------
    mag : np.ndarray [shape=(n_items, n_fft // 2 + 1, n_frames)]
        Linear STFT magnitudes.
    sample_rate : int
        Hz.
    n_fft : int

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64]
        ``sum_f,t f · |X|² / sum_f,t |X|²`` in Hz; 0 for a silent item.
    """
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft)
    power = np.asarray(mag, dtype=np.float64) ** 2
    total = power.sum(axis=(1, 2))
    return np.where(total > 0, np.einsum("f,nft->n", freqs, power) / np.maximum(total, 1e-30), 0.0)


def monotonic_trend(values: np.ndarray, sign: float) -> tuple[bool, float]:
    """Whether ``values`` strictly rise (``sign`` 1) or fall (-1), and their signed Spearman ρ.

    Returns
    -------
    strictly : bool
    rho : float
        Spearman correlation of ``values`` with their order, times ``sign`` (1: perfectly
        in the expected direction).
    """
    d = np.diff(values) * sign
    rho = spearmanr(np.arange(len(values)), values).statistic * sign
    return bool(np.all(d > 0)), float(rho)
