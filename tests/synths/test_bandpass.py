"""``additive_bandpass`` (seed 000 set A): partials at (2k + j) f0 through a band-pass."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.synths import get_sound_model

from ._synths_measure import magnitude_spectrum, peak_frequency

SR = 44100


@pytest.fixture(scope="module")
def model():
    return get_sound_model("additive_bandpass")


@pytest.mark.parametrize("j", [0.1, 0.5, 0.9])
def test_partials_at_two_k_plus_j_times_f0(model, j):
    f0, n_partials = 110.0, 8
    y = model.render(
        {"f0_hz": f0, "harmonicity": j, "n_partials": n_partials, "cutoff_hz": 1000.0, "q": 0.5},
        sample_rate=SR,
        duration_s=1.0,
    )[0]
    freqs, mag = magnitude_spectrum(y, SR)
    for k in range(n_partials):
        expected = (2 * k + j) * f0
        assert peak_frequency(freqs, mag, expected, 0.4 * f0) == pytest.approx(expected, rel=0.005)
    # No partial beyond the K-th.
    beyond = (2 * n_partials + j) * f0
    assert mag[np.argmin(np.abs(freqs - beyond))] < 1e-3 * mag.max()


@pytest.mark.parametrize(("cutoff", "q"), [(441.0, 4.0), (1323.0, 8.0), (2205.0, 2.0)])
def test_band_pass_centre_emphasises_the_nearest_partial(model, cutoff, q):
    # Dense flat partials (j = 0.5, 40 partials at 110 Hz spacing 220) through the band-pass:
    # the loudest partial is the one nearest the centre.
    f0 = 110.0
    y = model.render(
        {"f0_hz": f0, "harmonicity": 0.5, "n_partials": 40, "cutoff_hz": cutoff, "q": q},
        sample_rate=SR,
        duration_s=1.0,
    )[0]
    freqs, mag = magnitude_spectrum(y, SR)
    partials = (2 * np.arange(40) + 0.5) * f0
    levels = np.array([mag[np.argmin(np.abs(freqs - p))] for p in partials])
    loudest = partials[np.argmax(levels)]
    assert abs(loudest - cutoff) <= 2 * f0 * 0.5 + 1e-9
    # Attenuation one octave above the centre matches the RBJ band-pass magnitude.
    w = (2 * np.arange(40) + 0.5) * f0 / cutoff
    rbj = 1 / np.sqrt(1 + q**2 * (w - 1 / w) ** 2)  # analog prototype, close below sr/10
    near = (partials > cutoff / 2) & (partials < 2 * cutoff)
    measured_db = 20 * np.log10(levels[near] / levels.max())
    expected_db = 20 * np.log10(rbj[near] / rbj.max())
    np.testing.assert_allclose(measured_db, expected_db, atol=1.0)


def test_seed_grid_corner_is_silent_only_where_the_seed_was(model):
    audio = model.render(
        {"harmonicity": [0.0, 0.0, 0.1], "n_partials": [1, 2, 1]}, sample_rate=SR, duration_s=0.2
    )
    assert np.abs(audio[0]).max() == 0.0  # k = 0, j = 0: a 0 Hz partial, as in the seed
    assert np.abs(audio[1]).max() == pytest.approx(0.9)
    assert np.abs(audio[2]).max() == pytest.approx(0.9)
