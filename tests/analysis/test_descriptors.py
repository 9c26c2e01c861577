from __future__ import annotations

import numpy as np
import pytest

from timbrespace.analysis.descriptors import (
    descriptor_map,
    latent_slice,
    spectral_descriptors,
)
from timbrespace.errors import ParameterError

SR = 16000
N_FFT = 1024


def _sine(f_hz: float, amplitude: float = 0.5, n: int = 8192) -> np.ndarray:
    return amplitude * np.sin(2 * np.pi * f_hz * np.arange(n) / SR)


def test_sine_centroid_and_flatness_from_audio() -> None:
    rng = np.random.default_rng(0)
    audio = np.stack([_sine(1000.0), _sine(3000.0), 0.3 * rng.standard_normal(8192)])
    d = spectral_descriptors(audio=audio, sample_rate=SR, n_fft=N_FFT, hop_length=256)
    assert d.centroid_hz[0] == pytest.approx(1000.0, rel=0.02)
    assert d.centroid_hz[1] == pytest.approx(3000.0, rel=0.02)
    assert d.centroid_hz[2] == pytest.approx(SR / 4, rel=0.05)  # white noise: mid-band
    assert d.flatness[0] < 0.01 and d.flatness[2] > 0.4
    assert d.bandwidth_hz[0] < 200.0
    # flat spectrum over 0..8 kHz: standard deviation of a uniform law, 8000 / sqrt(12)
    assert d.bandwidth_hz[2] == pytest.approx(SR / 2 / np.sqrt(12), rel=0.05)


def test_magnitudes_match_naive_definitions() -> None:
    rng = np.random.default_rng(1)
    mags = rng.random((2, 513, 1))
    d = spectral_descriptors(magnitudes=mags, sample_rate=SR, n_fft=N_FFT)
    freqs = np.arange(513) * SR / N_FFT
    for i in range(2):
        s = mags[i, :, 0]
        centroid = np.sum(freqs * s) / np.sum(s)
        assert d.centroid_hz[i] == pytest.approx(centroid, rel=1e-12)
        assert d.bandwidth_hz[i] == pytest.approx(
            np.sqrt(np.sum(s * (freqs - centroid) ** 2) / np.sum(s)), rel=1e-12
        )
        p = s**2
        assert d.flatness[i] == pytest.approx(np.exp(np.mean(np.log(p))) / np.mean(p), rel=1e-9)


def test_loudness_tracks_gain() -> None:
    audio = np.stack([_sine(1000.0, 0.5), _sine(1000.0, 0.05)])
    d = spectral_descriptors(audio=audio, sample_rate=SR, n_fft=N_FFT)
    assert d.loudness_db[0] - d.loudness_db[1] == pytest.approx(20.0, abs=0.05)


def test_silent_item_is_nan() -> None:
    d = spectral_descriptors(magnitudes=np.zeros((1, 33)), sample_rate=SR)
    assert np.isnan(d.centroid_hz[0]) and np.isnan(d.flatness[0])
    assert d.loudness_db[0] == pytest.approx(-100.0)


def test_nyquist_dropped_spectrogram_uses_n_fft() -> None:
    mags = np.zeros((1, 512, 3))
    mags[0, 64] = 1.0  # bin 64 of n_fft 1024 at 16 kHz = 1000 Hz
    d = spectral_descriptors(magnitudes=mags, sample_rate=SR, n_fft=N_FFT)
    assert d.centroid_hz[0] == pytest.approx(1000.0)


def test_latent_slice_and_map() -> None:
    base = np.zeros(4)
    vx, vy = np.linspace(-1, 1, 3), np.linspace(-2, 2, 2)
    grid = latent_slice(base, 1, 3, vx, vy)
    assert grid.shape == (2, 3, 4)
    np.testing.assert_allclose(grid[1, 2], [0, 1, 0, 2])
    # decoded "sounds": a sine whose frequency follows the x latent
    freqs = 1000.0 + 500.0 * grid.reshape(-1, 4)[:, 1]
    audio = np.stack([_sine(f) for f in freqs])
    fig = descriptor_map(
        vx, vy, audio=audio, sample_rate=SR, n_fft=N_FFT, x_label="z1", y_label="z3"
    )
    images = [ax.get_images()[0] for ax in fig.axes if ax.get_images()]
    assert len(images) == 4
    centroid = np.asarray(images[0].get_array())
    assert centroid.shape == (2, 3)
    np.testing.assert_allclose(centroid, [[500, 1000, 1500]] * 2, rtol=0.03)
    np.testing.assert_allclose(images[0].get_extent(), [-1.5, 1.5, -4.0, 4.0])


def test_bad_inputs() -> None:
    with pytest.raises(ParameterError, match="exactly one"):
        spectral_descriptors(sample_rate=SR)
    with pytest.raises(ParameterError, match="dim_x"):
        latent_slice(np.zeros(3), 1, 1, [0], [0])
    with pytest.raises(ParameterError, match="grid needs"):
        descriptor_map([0, 1], [0, 1], magnitudes=np.ones((3, 33)), sample_rate=SR)
