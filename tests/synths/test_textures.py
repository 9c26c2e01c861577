"""``pop`` and ``drip`` textures (seed 003): event rate, irregularity, centre frequency."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.synths import get_sound_model
from timbrespace.synths.textures import event_times, jitter_fraction

from ._synths_measure import magnitude_spectrum

SR = 16000


def _onset_rate(y: np.ndarray, duration_s: float) -> float:
    import librosa

    # At most one onset per 60 ms (events are 10-40 ms long, the fastest rate here 8 /s).
    hop = 128
    onsets = librosa.onset.onset_detect(
        y=y.astype(np.float32), sr=SR, hop_length=hop, units="time", wait=int(0.06 * SR / hop)
    )
    return len(onsets) / duration_s


@pytest.mark.parametrize("name", ["pop", "drip"])
@pytest.mark.parametrize("rate_exp", [1.0, 2.0, 3.0])
def test_event_rate_from_onset_detection_within_10_percent(name, rate_exp):
    duration = 4.0
    y = get_sound_model(name).render(
        {"rate_exp": rate_exp, "irreg_exp": 0.0, "cf_exp": 0.5}, sample_rate=SR, duration_s=duration
    )[0]
    assert _onset_rate(y, duration) == pytest.approx(2.0**rate_exp, rel=0.10)


def test_irregularity_spreads_inter_onset_intervals():
    rng = np.random.default_rng(0)
    rate = 8.0
    regular = np.diff(event_times(rate, 0.0, 200.0, rng))
    irregular = np.diff(event_times(rate, 1.0, 200.0, np.random.default_rng(0)))
    np.testing.assert_allclose(regular, 1 / rate, rtol=1e-9)
    # Jitter sd s of each event: intervals have sd s*sqrt(2); s = 0.4 periods at 1.
    assert np.std(irregular) * rate == pytest.approx(0.4 * np.sqrt(2), rel=0.15)
    assert np.mean(irregular) * rate == pytest.approx(1.0, rel=0.02)
    assert jitter_fraction(0.0) == 0.0 and jitter_fraction(1.0) == pytest.approx(0.4)


@pytest.mark.parametrize("name", ["pop", "drip"])
@pytest.mark.parametrize("cf_exp", [0.0, 1.0])
def test_spectral_centre_near_cf(name, cf_exp):
    cf = 440.0 * 2**cf_exp
    y = get_sound_model(name).render(
        {"rate_exp": 3.0, "irreg_exp": 0.5, "cf_exp": cf_exp}, sample_rate=SR, duration_s=2.0
    )[0]
    freqs, mag = magnitude_spectrum(y, SR)
    power = mag**2
    if name == "pop":  # resonant band-pass: the spectral peak is at cf
        smooth = np.convolve(power, np.ones(41) / 41, mode="same")
        assert freqs[np.argmax(smooth)] == pytest.approx(cf, rel=0.05)
    else:  # one-octave rise from cf: the energy lies in [cf, 2 cf]
        band = (freqs >= 0.9 * cf) & (freqs <= 2.1 * cf)
        assert power[band].sum() / power.sum() > 0.9


@pytest.mark.parametrize("name", ["pop", "drip"])
def test_every_item_draws_its_own_event_times(name):
    model = get_sound_model(name)
    audio = model.render({"irreg_exp": [1.0, 1.0]}, sample_rate=SR, duration_s=1.0, seed=0)
    assert np.abs(audio[0] - audio[1]).max() > 0.1
    again = model.render(
        {"irreg_exp": [1.0]}, sample_rate=SR, duration_s=1.0, seed=0, item_index=[1]
    )
    np.testing.assert_array_equal(again[0], audio[1])
