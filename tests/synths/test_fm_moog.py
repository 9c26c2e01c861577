"""``fm_moog`` (seed 000 set B): FM sidebands at carrier ± k modulator, bounded ladder."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import jv

from timbrespace.synths import get_sound_model
from timbrespace.synths.fm_moog import fm_sidebands

from ._synths_measure import magnitude_spectrum

SR = 44100


@pytest.fixture(scope="module")
def model():
    return get_sound_model("fm_moog")


def test_bessel_expansion_equals_direct_fm_below_nyquist():
    # Naive oscillator sin(wc t + I sin(wm t)) where no sideband reaches Nyquist.
    t = np.arange(4096) / SR
    fc, fm, index = 1500.0, 300.0, 3.0
    direct = np.sin(2 * np.pi * fc * t + index * np.sin(2 * np.pi * fm * t))
    freqs, amps = fm_sidebands(np.array([fc]), np.array([fm]), np.array([index]), sample_rate=SR)
    expanded = (amps[0][:, None] * np.sin(2 * np.pi * freqs[0][:, None] * t)).sum(axis=0)
    np.testing.assert_allclose(expanded, direct, atol=1e-6)


@pytest.mark.parametrize(("ratio", "index"), [(0.2, 1.0), (0.3, 2.5)])
def test_sidebands_at_carrier_plus_k_modulator_with_bessel_levels(model, ratio, index):
    f0 = 1500.0
    y = model.render(
        # spread 0: the three carriers coincide; cutoff high, no resonance: nearly flat.
        {
            "f0_hz": f0,
            "spread": 0.0,
            "ratio": ratio,
            "index": index,
            "cutoff_hz": 18000.0,
            "resonance": 0.0,
        },
        sample_rate=SR,
        duration_s=1.0,
    )[0]
    freqs, mag = magnitude_spectrum(y, SR)
    fm = ratio * f0
    ks = np.arange(-3, 4)
    # Ladder response at each sideband (4 TPT poles at the pre-warped cutoff, no feedback).
    g = np.tan(np.pi * 18000.0 / SR)
    side = f0 + ks * fm
    w = np.tan(np.pi * side / SR) / g
    ladder = (1 / np.sqrt(1 + w**2)) ** 4
    measured = np.array([mag[np.argmin(np.abs(freqs - f))] for f in side])
    expected = np.abs(jv(ks, index)) * ladder
    strong = expected > 0.05 * expected.max()
    np.testing.assert_allclose(
        measured[strong] / measured[strong].max(),
        expected[strong] / expected[strong].max(),
        atol=0.03,
    )
    # Between sidebands: nothing.
    between = f0 + (ks[:-1] + 0.5) * fm
    assert np.max([mag[np.argmin(np.abs(freqs - f))] for f in between]) < 1e-3 * mag.max()


def test_three_carriers_spread_by_j(model):
    f0, j = 1500.0, 2.0
    y = model.render(
        {"f0_hz": f0, "spread": j, "index": 0.0, "cutoff_hz": 18000.0, "resonance": 0.0},
        sample_rate=SR,
        duration_s=1.0,
    )[0]
    freqs, mag = magnitude_spectrum(y, SR)
    top = np.sort(freqs[np.argsort(mag)[-40:]])
    for carrier in (f0 * (1 - j / 10), f0, f0 * (1 + j / 10)):
        assert np.min(np.abs(top - carrier)) < 2.0


def test_seed_grid_extremes_bounded_and_normalised(model):
    # Seed grid corners: index up to 28, resonance 1..10 (self-oscillating), cutoff sr/200..sr/20.
    params = {
        "spread": [1.0, 4.5, 4.5, 1.0],
        "ratio": [0.1, 0.35, 0.1, 0.35],
        "index": [0.0, 28.0, 28.0, 0.0],
        "cutoff_hz": [220.5, 2205.0, 220.5, 2205.0],
        "resonance": [1.0, 10.0, 10.0, 1.0],
    }
    audio = model.render(params, sample_rate=SR, duration_s=0.2)
    assert np.isfinite(audio).all()
    np.testing.assert_allclose(np.abs(audio).max(axis=1), 0.9, rtol=1e-6)
