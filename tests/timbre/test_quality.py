"""The quality measures themselves, on signals with known answers."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.features import FeatureConfig, extract
from timbrespace.timbre.quality import measure_pitch_midi, monotonic_trend, weighted_centroid_hz

from .conftest import SR, harmonic_note


def test_pitch_measure_on_known_notes():
    notes = np.stack(
        [
            harmonic_note(64, n_samples=16317),
            harmonic_note(81, n_samples=16317),
            np.zeros(16317, np.float32),
        ]
    )
    midi = measure_pitch_midi(notes, sample_rate=SR)
    assert midi[0] == pytest.approx(64, abs=0.1) and midi[1] == pytest.approx(81, abs=0.1)
    assert np.isnan(midi[2])  # silence: no pitch, counted as a miss


def test_centroid_of_a_sinusoid_is_its_frequency():
    t = np.arange(16317) / SR
    y = np.sin(2 * np.pi * 1000.0 * t).astype(np.float32)
    stft = FeatureConfig(kind="stft", n_fft=1024, hop_length=256, output="magnitude", top_db=None)
    mag = extract(y, stft, sample_rate=SR).features
    assert weighted_centroid_hz(mag, sample_rate=SR, n_fft=1024)[0] == pytest.approx(
        1000.0, rel=0.01
    )


def test_monotonic_flags():
    assert monotonic_trend(np.array([1.0, 2.0, 3.0]), 1.0) == (True, pytest.approx(1.0))
    assert monotonic_trend(np.array([3.0, 2.0, 2.5]), -1.0)[0] is False
