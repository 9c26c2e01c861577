"""Measures of sound (metrics/audio.py): naive re-implementations and analytic cases."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics.audio import (
    MRSTFT_FFT_SIZES,
    MRSTFT_HOP_LENGTHS,
    MRSTFT_WIN_LENGTHS,
    a_weighted_loudness_db,
    audio_measures,
    audio_spectral_convergence,
    f0_error_cents,
    loudness_error_db,
    multi_resolution_stft_distance,
)

SR = 16000


def _tone(f0_hz: float, n: int = SR, sr: int = SR, n_partials: int = 4) -> np.ndarray:
    t = np.arange(n) / sr
    return sum(np.sin(2 * np.pi * k * f0_hz * t) / k for k in range(1, n_partials + 1)) * 0.3


def _naive_magnitude(y: np.ndarray, n_fft: int, hop: int, win: int, eps: float) -> np.ndarray:
    """Framed rfft of the reflect-padded signal, periodic Hann of ``win`` centred in ``n_fft``."""
    padded = np.pad(y, n_fft // 2, mode="reflect")
    window = np.zeros(n_fft)
    left = (n_fft - win) // 2
    window[left:left + win] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(win) / win)
    n_frames = 1 + (len(padded) - n_fft) // hop
    frames = np.stack([padded[t * hop:t * hop + n_fft] * window for t in range(n_frames)], axis=1)
    spec = np.fft.rfft(frames, axis=0)
    return np.sqrt(np.maximum(np.abs(spec) ** 2, eps))


def _naive_mrstft(x: np.ndarray, y: np.ndarray, eps: float = 1e-8) -> float:
    losses = []
    for n_fft, hop, win in zip(MRSTFT_FFT_SIZES, MRSTFT_HOP_LENGTHS, MRSTFT_WIN_LENGTHS, strict=True):
        s, s_hat = _naive_magnitude(x, n_fft, hop, win, eps), _naive_magnitude(y, n_fft, hop, win, eps)
        sc = np.linalg.norm(s - s_hat) / np.linalg.norm(s)
        losses.append(sc + np.mean(np.abs(np.log(s) - np.log(s_hat))))
    return float(np.mean(losses))


def test_mrstft_matches_naive_reimplementation() -> None:
    rng = np.random.default_rng(0)
    x = np.stack([_tone(220.0, 6000), rng.normal(size=6000) * 0.1])
    y = x + rng.normal(size=x.shape) * 0.05
    got = multi_resolution_stft_distance(x, y)
    want = [_naive_mrstft(x[k], y[k]) for k in range(2)]
    np.testing.assert_allclose(got, want, rtol=1e-9)


def test_mrstft_identical_is_zero_and_scaled_copy_is_analytic() -> None:
    x = _tone(330.0, 8000)
    assert multi_resolution_stft_distance(x, x)[0] == 0.0
    g = 0.5
    # with eps below every squared magnitude, SC of g·S against S is |1 - g| and the log term |log g|
    got = multi_resolution_stft_distance(x, g * x, eps=1e-30)[0]
    assert got == pytest.approx(abs(1 - g) + abs(np.log(g)), rel=1e-6)


def test_audio_spectral_convergence_of_a_scaled_copy() -> None:
    x = np.stack([_tone(220.0, 8000), _tone(440.0, 8000)])
    np.testing.assert_allclose(audio_spectral_convergence(x, x), 0.0)
    np.testing.assert_allclose(audio_spectral_convergence(x, 0.8 * x), 0.2, rtol=1e-9)


def test_f0_error_of_a_tone_a_semitone_off() -> None:
    ref = _tone(220.0)
    est = _tone(220.0 * 2 ** (100 / 1200))
    assert f0_error_cents(ref, est, sample_rate=SR)[0] == pytest.approx(100.0, abs=10.0)
    assert f0_error_cents(ref, ref, sample_rate=SR)[0] == pytest.approx(0.0, abs=1e-9)


def test_f0_search_stops_at_nyquist() -> None:
    sr = 4000
    ref = _tone(200.0, sr, sr, n_partials=2)
    assert f0_error_cents(ref, ref * 0.5, sample_rate=sr)[0] == pytest.approx(0.0, abs=1e-9)


def test_f0_error_is_nan_for_noise() -> None:
    noise = np.random.default_rng(1).normal(size=SR) * 0.1
    assert np.isnan(f0_error_cents(noise, noise * 0.5, sample_rate=SR)[0])
    assert np.isnan(f0_error_cents(_tone(220.0), np.zeros(SR), sample_rate=SR)[0])


def test_loudness_of_white_noise_and_of_a_gain() -> None:
    rng = np.random.default_rng(2)
    noise = rng.uniform(-1, 1, size=SR)
    # DDSP's ref_db: white noise of amplitude 1 at n_fft 2048 is about 0 dB
    assert abs(np.mean(a_weighted_loudness_db(noise, sample_rate=SR))) < 3.0
    frames = a_weighted_loudness_db(noise, sample_rate=SR)
    assert frames.shape == (1, int(np.ceil(SR / (SR // 250))))
    g = 0.5
    err = loudness_error_db(noise, g * noise, sample_rate=SR)[0]
    # every bin but DC (weighted -inf, floored in both) and a few near the floor moves by 20 log10 g
    assert err == pytest.approx(-20 * np.log10(g), rel=1e-3)
    assert loudness_error_db(noise, noise, sample_rate=SR)[0] == 0.0


def test_audio_measures_block() -> None:
    x = np.stack([_tone(220.0), np.random.default_rng(3).normal(size=SR) * 0.1])
    m = audio_measures(x, x * 0.9, sample_rate=SR).to_dict()
    assert m["f0_items_voiced"] == 1 and m["f0_error_cents_per_item"][1] is None
    assert "f0_note" in m
    assert m["mrstft"] > 0 and len(m["mrstft_per_item"]) == 2
    # bins floored at -range_db in both do not move: at most the gain in dB
    assert 0 < m["loudness_error_db"] <= -20 * np.log10(0.9) + 1e-9


@pytest.mark.parametrize(
    ("call", "needle"),
    [
        (lambda: multi_resolution_stft_distance(np.zeros(4000), np.zeros(3000)), "shape"),
        (lambda: multi_resolution_stft_distance(np.zeros(500), np.zeros(500)), "too short"),
        (lambda: multi_resolution_stft_distance(np.full(4000, np.nan), np.zeros(4000)), "finite"),
        (lambda: multi_resolution_stft_distance(np.zeros(4000), np.zeros(4000), fft_sizes=(512,)), "one entry"),
        (lambda: audio_spectral_convergence(np.zeros(4000), np.zeros(4000), hop_length=0), "hop_length=0"),
        (lambda: f0_error_cents(np.zeros(4000), np.zeros(4000), sample_rate=SR, fmin_hz=500, fmax_hz=100), "fmin_hz"),
        (lambda: a_weighted_loudness_db(np.zeros(4000), sample_rate=0), "sample_rate=0"),
    ],
)
def test_bad_arguments(call, needle: str) -> None:
    with pytest.raises(ParameterError, match=needle):
        call()
