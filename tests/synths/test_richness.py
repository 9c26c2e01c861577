"""``harmonic_richness`` (seed 000): partial amplitudes 1/n, newest at gain/n, up to sr/4."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.synths import get_sound_model

from ._synths_measure import cents, magnitude_spectrum, pyin_median_hz

SR = 44100


@pytest.fixture(scope="module")
def model():
    return get_sound_model("harmonic_richness")


@pytest.mark.parametrize(("n_harmonics", "last_gain"), [(1, 1.0), (5, 0.3), (12, 0.75), (30, 0.0)])
def test_measured_partial_amplitudes_are_one_over_n(model, n_harmonics, last_gain):
    f0 = 220.0
    y = model.render(
        {"f0_hz": f0, "n_harmonics": n_harmonics, "last_gain": last_gain},
        sample_rate=SR,
        duration_s=1.0,
    )[0]
    _, mag = magnitude_spectrum(y, SR, window=None)  # 1 s, integer f0: exact bins
    n = np.arange(1, 41)
    measured = mag[(n * 220).astype(int)]
    expected = np.where(n < n_harmonics, 1.0 / n, np.where(n == n_harmonics, last_gain / n, 0.0))
    scale = measured[0] / expected[0]
    np.testing.assert_allclose(measured / scale, expected, atol=1e-4)


def test_partials_stop_at_a_quarter_of_the_sample_rate(model):
    y = model.render({"f0_hz": 220.0, "n_harmonics": 80}, sample_rate=SR, duration_s=1.0)[0]
    freqs, mag = magnitude_spectrum(y, SR, window=None)
    level_db = 20 * np.log10(mag / mag.max() + 1e-12)
    assert level_db[11000] > -40  # partial 50 at 11 kHz sounds (seed: 50 partials)
    assert level_db[freqs > SR / 4 + 10].max() < -100


def test_levels_comparable_across_items_and_bounded(model):
    audio = model.render(
        {"n_harmonics": [1, 10, 50], "last_gain": [1.0, 1.0, 1.0]}, sample_rate=SR, duration_s=0.5
    )
    # Same f0: one scale factor, so the fundamental has the same level in every item.
    fundamentals = [np.abs(np.fft.rfft(y))[110] for y in audio]
    np.testing.assert_allclose(fundamentals, fundamentals[0], rtol=1e-4)
    assert np.abs(audio).max() <= 1.0


def test_pitch_is_f0(model):
    y = model.render({"f0_hz": 110.0, "n_harmonics": 8}, sample_rate=22050, duration_s=0.5)[0]
    assert abs(cents(pyin_median_hz(y, 22050, fmin=60, fmax=500), 110.0)) < 10
