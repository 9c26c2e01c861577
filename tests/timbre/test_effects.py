"""Descriptor effect chains: catalogue, determinism, and measured direction of change."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf

from timbrespace.errors import ParameterError
from timbrespace.timbre.effects import DESCRIPTORS, GROUPS, PEAK_LIMIT, apply_descriptor

from .conftest import SR, harmonic_note

SEED_DESCRIPTORS = (
    "Bright Crunch Crush Dark Dirt Fat Fluttery Fuzz Jittery Punch Resonant Sharp "
    "Shimmery Smooth Soft Stuttering Thin Tight WahWah"
).split()
MAGNITUDES = (0, 25, 50, 75, 100)


def centroid_hz(y: np.ndarray) -> float:
    power = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)) ** 2
    freqs = librosa.fft_frequencies(sr=SR, n_fft=1024)
    return float(np.sum(freqs[:, None] * power) / np.sum(power))


def test_catalogue_is_the_seed_list():
    assert sorted(DESCRIPTORS) == sorted(SEED_DESCRIPTORS)
    assert {d.group for d in DESCRIPTORS.values()} == set(GROUPS)
    assert all(d.chain for d in DESCRIPTORS.values())


@pytest.mark.parametrize("name", SEED_DESCRIPTORS)
def test_chain_zero_is_clean_deterministic_and_peak_safe(name):
    decay = np.exp(-10.0 * np.arange(8000) / SR).astype(np.float32)  # so that Tight's gate closes
    y = harmonic_note(70, n_samples=8000) * decay * 3.0  # peak above 1: must come out scaled
    assert np.array_equal(apply_descriptor(y, name, 0, sample_rate=SR), y)
    a = apply_descriptor(y, name, 75, sample_rate=SR)
    b = apply_descriptor(y, name, 75, sample_rate=SR)
    assert np.array_equal(a, b)
    assert a.shape == y.shape and a.dtype == np.float32
    assert np.max(np.abs(a)) <= PEAK_LIMIT + 1e-6
    assert not np.allclose(
        a / np.max(np.abs(a)), y / np.max(np.abs(y)), atol=1e-3
    )  # it does something


def test_batch_equals_items():
    y = np.stack([harmonic_note(64, n_samples=4000), harmonic_note(80, n_samples=4000)])
    batch = apply_descriptor(y, "WahWah", 60, sample_rate=SR)
    for k in range(2):
        np.testing.assert_array_equal(
            batch[k], apply_descriptor(y[k], "WahWah", 60, sample_rate=SR)
        )


@pytest.mark.parametrize(("name", "sign"), [("Bright", 1), ("Dark", -1), ("Thin", 1), ("Fat", -1)])
def test_filter_descriptors_move_centroid_monotonically(name, sign):
    y = harmonic_note(70, n_samples=16317)
    cents = [centroid_hz(apply_descriptor(y, name, m, sample_rate=SR)) for m in MAGNITUDES]
    assert np.all(np.diff(cents) * sign > 0), cents
    assert abs(cents[-1] - cents[0]) > 100.0


def test_bright_dark_on_real_guitar(notes_dir):
    y, sr = sf.read(notes_dir / "audio" / "clean_electric_guitar-070-100.wav", dtype="float32")
    bright = [
        centroid_hz(apply_descriptor(y[:16317], "Bright", m, sample_rate=sr)) for m in MAGNITUDES
    ]
    dark = [centroid_hz(apply_descriptor(y[:16317], "Dark", m, sample_rate=sr)) for m in MAGNITUDES]
    assert np.all(np.diff(bright) > 0) and bright[-1] > 1.15 * bright[0], bright
    assert np.all(np.diff(dark) < 0) and dark[-1] < 0.85 * dark[0], dark


def test_distortion_adds_harmonics_and_crush_noise():
    y = np.sin(2 * np.pi * 440 * np.arange(8000) / SR).astype(np.float32) * 0.5
    assert centroid_hz(apply_descriptor(y, "Fuzz", 100, sample_rate=SR)) > 2 * centroid_hz(y)
    crushed = apply_descriptor(y, "Crush", 100, sample_rate=SR)  # 4 bits: at most 2**4 + 1 levels
    assert (
        len(np.unique(crushed))
        <= 17
        < len(np.unique(apply_descriptor(y, "Crush", 25, sample_rate=SR)))
    )


def test_stuttering_gates_at_8_hz():
    y = np.ones(SR, dtype=np.float32) * 0.5
    out = apply_descriptor(y, "Stuttering", 100, sample_rate=SR)
    env = np.abs(out)
    assert env[int(0.03 * SR)] == pytest.approx(0.5, abs=1e-3)  # open half of the 1/8 s period
    assert env[int(0.09 * SR)] < 1e-3  # closed half


def test_errors_list_allowed_values():
    y = np.zeros(100, np.float32)
    with pytest.raises(ParameterError, match="Bright, Crunch"):
        apply_descriptor(y, "Sparkly", 50, sample_rate=SR)
    with pytest.raises(ParameterError, match="0..100"):
        apply_descriptor(y, "Bright", 150, sample_rate=SR)
    assert apply_descriptor(y + 0.1, "bright", 50, sample_rate=SR).shape == (
        100,
    )  # case-insensitive
