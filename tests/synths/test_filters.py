"""Biquad and Moog ladder responses measured with white noise through the filter code."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from timbrespace.synths._filters import bandpass_coefficients, biquad, moog_ladder

from ._synths_measure import filter_response_db

SR = 22050


@pytest.fixture(scope="module")
def noise():
    return np.random.default_rng(0).standard_normal((4, 4 * SR))


def test_biquad_matches_scipy_lfilter_row_by_row(noise):
    b, a = bandpass_coefficients(
        np.array([200.0, 1000.0, 3000.0, 9000.0]), np.array([0.7, 2, 10, 1]), sample_rate=SR
    )
    out = biquad(noise, b, a)
    for i in range(4):
        np.testing.assert_allclose(
            out[i], signal.lfilter(b[i], a[i], noise[i]), rtol=1e-12, atol=1e-12
        )


@pytest.mark.parametrize(
    ("centre", "q"), [(300.0, 2.0), (1000.0, 5.0), (4000.0, 1.0), (8000.0, 10.0)]
)
def test_bandpass_peak_and_minus_3db_band_match_centre_and_q(noise, centre, q):
    b, a = bandpass_coefficients(np.array([centre]), np.array([q]), sample_rate=SR)
    y = biquad(noise[:1], b, a)[0]
    f, h_db = filter_response_db(y, noise[0], SR, n_fft=8192)
    peak = f[np.argmax(h_db)]
    assert peak == pytest.approx(centre, rel=0.05)
    assert h_db.max() == pytest.approx(0.0, abs=0.5)
    band = f[h_db > h_db.max() - 3.0]
    # RBJ band-pass: -3 dB edges at centre * 2**(±BW/2), Q = centre / (f_hi - f_lo) in
    # the bilinear-warped sense; geometric centre of the measured band within 5 %.
    assert np.sqrt(band.min() * band.max()) == pytest.approx(centre, rel=0.05)


@pytest.mark.parametrize("cutoff", [300.0, 1000.0, 3000.0])
def test_moog_resonant_peak_at_cutoff(noise, cutoff):
    x = 1e-3 * noise[:1]  # small: the tanh stays linear
    y = moog_ladder(x, np.array([cutoff]), np.array([0.95]), sample_rate=SR)[0]
    f, h_db = filter_response_db(y, x[0], SR, n_fft=8192)
    assert f[np.argmax(h_db)] == pytest.approx(cutoff, rel=0.05)
    assert h_db.max() - h_db[1] > 20.0  # a real resonance, not a plain low-pass


@pytest.mark.parametrize("cutoff", [500.0, 2000.0])
def test_moog_without_resonance_is_four_poles_at_cutoff(noise, cutoff):
    x = 1e-3 * noise[:1]
    y = moog_ladder(x, np.array([cutoff]), np.array([0.0]), sample_rate=SR)[0]
    f, h_db = filter_response_db(y, x[0], SR, n_fft=8192)
    # Four one-pole sections at cutoff: -12 dB at cutoff, -3 dB at cutoff sqrt(2**(1/4) - 1).
    assert np.interp(cutoff, f, h_db) == pytest.approx(-12.0, abs=0.5)
    minus3 = f[np.argmax(h_db < -3.0)]
    assert minus3 == pytest.approx(cutoff * np.sqrt(2**0.25 - 1), rel=0.05)


@pytest.mark.parametrize("resonance", [1.1, 4.0, 10.0])
def test_moog_self_oscillation_stays_bounded(noise, resonance):
    y = moog_ladder(
        3.0 * noise[:2], np.array([100.0, 9000.0]), np.full(2, resonance), sample_rate=SR
    )
    assert np.isfinite(y).all()
    # tanh bounds the ladder input by 1; a TPT one-pole then stays within 1 while
    # G = g / (1 + g) <= 1/2 (cutoff <= sr/4) and within a few units above.
    assert np.abs(y[0]).max() <= 1.0 + 1e-9
    assert np.abs(y[1]).max() < 4.0
    # Self-oscillation: silence in, a tone at the cutoff out after a tiny kick.
    kick = np.zeros((1, SR))
    kick[0, 0] = 1e-3
    tone = moog_ladder(kick, np.array([1000.0]), np.array([resonance]), sample_rate=SR)[0]
    tail = tone[SR // 2 :]
    assert np.abs(tail).max() > 0.05
    f = np.fft.rfftfreq(tail.size, 1 / SR)
    assert f[np.argmax(np.abs(np.fft.rfft(tail)))] == pytest.approx(1000.0, rel=0.1)
