"""Measurements of rendered audio used as test oracles (pitch, peaks, envelopes)."""

from __future__ import annotations

import numpy as np


def cents(measured_hz: float, expected_hz: float) -> float:
    """Interval from ``expected_hz`` to ``measured_hz`` in cents."""
    return float(1200.0 * np.log2(measured_hz / expected_hz))


def pyin_median_hz(y: np.ndarray, sample_rate: int, fmin: float, fmax: float) -> float:
    """Median voiced f0 of ``y`` measured with librosa's pYIN."""
    import librosa

    f0, voiced, _ = librosa.pyin(
        y.astype(np.float64), fmin=fmin, fmax=fmax, sr=sample_rate, frame_length=2048
    )
    voiced_f0 = f0[voiced & np.isfinite(f0)]
    assert voiced_f0.size > 0, "pyin found no voiced frame"
    return float(np.median(voiced_f0))


def magnitude_spectrum(y: np.ndarray, sample_rate: int, *, window: str | None = "hann"):
    """One-sided magnitude spectrum ``(freqs_hz, mag)`` of the whole signal."""
    from scipy.signal import get_window

    n = y.shape[-1]
    w = np.ones(n) if window is None else get_window(window, n)
    mag = np.abs(np.fft.rfft(y * w, axis=-1))
    freqs = np.fft.rfftfreq(y.shape[-1], 1.0 / sample_rate)
    return freqs, mag


def peak_frequency(freqs: np.ndarray, mag: np.ndarray, near_hz: float, width_hz: float) -> float:
    """Frequency of the largest peak within ``near_hz ± width_hz``, parabolically interpolated."""
    lo, hi = np.searchsorted(freqs, [near_hz - width_hz, near_hz + width_hz])
    k = lo + int(np.argmax(mag[lo:hi]))
    a, b, c = np.log(mag[k - 1 : k + 2] + 1e-30)
    offset = 0.5 * (a - c) / (a - 2 * b + c) if (a - 2 * b + c) != 0 else 0.0
    return float(freqs[k] + offset * (freqs[1] - freqs[0]))


def filter_response_db(filtered: np.ndarray, reference: np.ndarray, sample_rate: int, n_fft: int):
    """Averaged magnitude response ``|Y|/|X|`` in dB from input/output noise (Welch-like)."""
    from scipy import signal

    f, pxy = signal.csd(reference, filtered, fs=sample_rate, nperseg=n_fft)
    _, pxx = signal.welch(reference, fs=sample_rate, nperseg=n_fft)
    return f, 20.0 * np.log10(np.abs(pxy) / pxx + 1e-30)
