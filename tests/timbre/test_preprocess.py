"""Seed-002 representation: shapes, stored min/max, and an inverse with the right n_fft."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf

from timbrespace.metrics import spectral_convergence
from timbrespace.timbre.preprocess import (
    Spectrograms,
    TimbrePreprocessing,
    from_spectrogram,
    magnitude_stft,
    spectrogram_magnitudes,
    to_spectrogram,
)

from .conftest import harmonic_note

CFG = TimbrePreprocessing(n_iter=48)


def test_shape_range_and_stats():
    y = np.stack([harmonic_note(64), harmonic_note(64) * 0.1])
    spec = to_spectrogram(y, CFG)
    assert spec.x.shape == (2, 512, 64) and CFG.shape == (512, 64)
    assert spec.x.min() == 0.0 and spec.x.max() == 1.0
    assert np.allclose(spec.max_db - spec.min_db, 80.0, atol=1e-3)  # top_db clip reaches the floor
    assert abs((spec.max_db[0] - spec.max_db[1]) - 20.0) < 0.01  # level kept: ×0.1 is −20 dB


def test_silent_item_gives_zeros_not_nan():
    spec = to_spectrogram(np.zeros((1, 16317), np.float32), CFG)
    assert np.all(spec.x == 0) and np.all(np.isfinite(spec.x))
    assert np.all(from_spectrogram(spec, CFG) == 0)


def test_magnitudes_reinsert_nyquist_and_match_stft():
    y = harmonic_note(70)
    spec = to_spectrogram(y, CFG)
    mag = spectrogram_magnitudes(spec, CFG)
    ref = magnitude_stft(y, CFG)
    assert mag.shape == ref.shape == (1, 513, 64)  # n_fft // 2 + 1 rows again
    keep = 20 * np.log10(np.maximum(ref[:, :512], 1e-5)) > spec.min_db[0] + 1
    np.testing.assert_allclose(mag[:, :512][keep], ref[:, :512][keep], rtol=1e-3)


def test_round_trip_beats_the_seed_inverse(notes_dir):
    y, _ = sf.read(notes_dir / "audio" / "clean_electric_guitar-076-100.wav", dtype="float32")
    y = y[:16317]
    spec = to_spectrogram(y, CFG)
    ours = from_spectrogram(spec, CFG, seed=0)
    assert ours.shape == (1, 16317)
    ref = magnitude_stft(y, CFG)
    sc_ours = spectral_convergence(ref, magnitude_stft(ours, CFG))[0]
    # the seed: Griffin-Lim on the 512-row array, so n_fft was inferred as 2 * (512 - 1) = 1022
    seed_mag = spectrogram_magnitudes(spec, CFG)[0, :512]
    seed_y = librosa.griffinlim(seed_mag, n_iter=48, hop_length=256, length=16317, random_state=0)
    sc_seed = spectral_convergence(ref, magnitude_stft(seed_y, CFG))[0]
    assert sc_ours < 0.08, sc_ours
    assert sc_seed > 2.5 * sc_ours, (sc_ours, sc_seed)


def test_min_max_inverse_is_exact():
    spec = to_spectrogram(harmonic_note(66), CFG)
    again = to_spectrogram(from_spectrogram(spec, CFG), CFG)
    assert abs(float(again.max_db[0] - spec.max_db[0])) < 1.0  # level survives Griffin-Lim
    x = np.full((1, 512, 64), 0.5, np.float32)
    mag = spectrogram_magnitudes(Spectrograms(x, np.array([-60.0]), np.array([0.0])), CFG)
    np.testing.assert_allclose(
        mag[0, :512], 10 ** (-30 / 20), rtol=1e-5
    )  # 0.5 of −60..0 dB = −30 dB
    np.testing.assert_allclose(mag[0, 512], 10 ** (-60 / 20), rtol=1e-5)  # Nyquist at the floor


def test_agrees_with_timbrespace_features():
    features = pytest.importorskip("timbrespace.features")
    y = np.stack([harmonic_note(64)[:16317], harmonic_note(79)[:16317] * 0.3])
    cfg = features.FeatureConfig(
        kind="stft",
        n_fft=1024,
        hop_length=256,
        output="db",
        top_db=80.0,
        n_bins=512,
        normalization="minmax_item",
    )
    theirs = features.extract(y, cfg, sample_rate=22050).features
    ours = to_spectrogram(y, CFG).x
    assert theirs.shape == ours.shape == (2, 512, 64)
    np.testing.assert_allclose(ours, theirs, atol=1e-4)
