"""``sine_bank`` against a naive sum of ``np.sin`` (float64)."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.synths._oscillators import sine_bank


def _naive(freqs, amps, phases, decay, sample_rate, n_samples):
    t = np.arange(n_samples) / sample_rate
    out = np.zeros((freqs.shape[0], n_samples))
    for i in range(freqs.shape[0]):
        for f, a, p in zip(freqs[i], amps[i], phases[i], strict=True):
            out[i] += a * np.sin(2 * np.pi * f * t + p)
        out[i] *= np.exp(-decay[i] * t)
    return out


@pytest.mark.parametrize("n_samples", [1, 7, 1000, 22050])
def test_matches_naive_sum_with_phases_and_decay(n_samples):
    rng = np.random.default_rng(0)
    freqs = rng.uniform(20, 11000, (5, 13))
    amps = rng.uniform(0, 1, (5, 13)) * (rng.uniform(size=(5, 13)) > 0.3)
    phases = rng.uniform(-np.pi, np.pi, (5, 13))
    decay = rng.uniform(0, 20, 5)
    got = sine_bank(
        freqs, amps, sample_rate=22050, n_samples=n_samples, phases_rad=phases, decay_per_s=decay
    )
    want = _naive(freqs, amps, phases, decay, 22050, n_samples)
    assert got.shape == (5, n_samples) and got.dtype == np.float32
    # float32 sines and product: error relative to the sum of amplitudes ~ 1e-6.
    np.testing.assert_allclose(got, want, atol=2e-6 * amps.sum(axis=1).max())


def test_long_render_keeps_phase_accuracy():
    # 60 s at 44.1 kHz of a high partial: float64 phase reduction keeps the error tiny.
    sr, n = 44100, 60 * 44100
    f = np.array([[9876.54321]])
    got = sine_bank(f, np.ones((1, 1)), sample_rate=sr, n_samples=n)[0, -1000:]
    t = np.arange(n - 1000, n) / sr
    np.testing.assert_allclose(got, np.sin(2 * np.pi * f[0, 0] * t), atol=2e-6)


def test_silent_rows_and_empty_bank():
    out = sine_bank(
        np.array([[100.0], [200.0]]), np.array([[0.0], [1.0]]), sample_rate=8000, n_samples=50
    )
    assert np.all(out[0] == 0) and np.abs(out[1]).max() > 0.5
    assert sine_bank(np.zeros((3, 0)), np.zeros((3, 0)), sample_rate=8000, n_samples=10).shape == (
        3,
        10,
    )
