from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics.reconstruction import (
    feature_mse,
    log_spectral_distance,
    spectral_convergence,
)


def test_spectral_convergence_values() -> None:
    rng = np.random.default_rng(0)
    x = rng.random((3, 16, 5)) + 0.1
    y = x.copy()
    y[1] *= 1.1  # 10 % gain error -> SC exactly 0.1
    y[2] = 0.0  # silence -> SC exactly 1
    sc = spectral_convergence(x, y)
    np.testing.assert_allclose(sc, [0.0, 0.1, 1.0], atol=1e-12)
    naive = [np.linalg.norm(x[i] - y[i], "fro") / np.linalg.norm(x[i], "fro") for i in range(3)]
    np.testing.assert_allclose(sc, naive, rtol=1e-12)


def test_spectral_convergence_takes_magnitude_of_complex() -> None:
    x = np.exp(1j * np.linspace(0, 3, 40)).reshape(2, 20)
    np.testing.assert_allclose(spectral_convergence(x, np.abs(x)), 0.0, atol=1e-12)


def test_spectral_convergence_zero_reference() -> None:
    x = np.zeros((2, 4))
    y = np.vstack([np.zeros(4), np.ones(4)])
    np.testing.assert_array_equal(spectral_convergence(x, y), [0.0, np.inf])


def test_log_spectral_distance_gain() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((2, 32, 4)) + 0.5
    y = np.stack([x[0], x[1] * 10 ** (6 / 20)])  # +6 dB everywhere
    np.testing.assert_allclose(log_spectral_distance(x, y), [0.0, 6.0], atol=1e-9)
    # single-frame spectra are one frame
    np.testing.assert_allclose(log_spectral_distance(x[:, :, 0], y[:, :, 0]), [0.0, 6.0], atol=1e-9)


def test_log_spectral_distance_frame_average() -> None:
    x = np.ones((1, 8, 2))
    y = x.copy()
    y[0, :, 1] = 10.0  # frame 0: 0 dB, frame 1: 20 dB -> mean 10 dB
    assert log_spectral_distance(x, y)[0] == pytest.approx(10.0, abs=1e-12)


def test_feature_mse() -> None:
    x = np.zeros((2, 3, 4))
    y = np.stack([np.zeros((3, 4)), np.full((3, 4), 2.0)])
    np.testing.assert_allclose(feature_mse(x, y), [0.0, 4.0])


def test_shape_mismatch_raises() -> None:
    with pytest.raises(ParameterError, match="shape"):
        spectral_convergence(np.ones((2, 3)), np.ones((2, 4)))
    with pytest.raises(ParameterError):
        feature_mse(np.ones(3), np.ones(3))
    with pytest.raises(ParameterError, match="amin"):
        log_spectral_distance(np.ones((2, 3)), np.ones((2, 3)), amin=0.0)
