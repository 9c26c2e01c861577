"""Seed 002's spectrograms as a FeatureConfig: the same arrays as the seed's own
preprocessing (re-implemented here, with librosa, as the oracle), an inverse at the right
``n_fft``, and the dataset path (``compute_dataset_features``) equal to ``extract``."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf

from timbrespace.errors import ParameterError
from timbrespace.experiments.timbre_run import SEED002_FEATURES
from timbrespace.features import FeatureConfig, extract, invert, linear_magnitude
from timbrespace.metrics import spectral_convergence

SR = 22050
N = 16317


def note(midi: int, n_samples: int = SR, level: float = 0.3) -> np.ndarray:
    t = np.arange(n_samples) / SR
    f0 = 440.0 * 2.0 ** ((midi - 69) / 12)
    y = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, 13) if k * f0 < SR / 2)
    return (level * y * np.exp(-3.0 * t)).astype(np.float32)


def seed002_oracle(audio: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The seed's preprocessing as timbrespace.timbre.preprocess did it before it became a FeatureConfig."""
    y = np.zeros((audio.shape[0], N), np.float32)
    m = min(N, audio.shape[1])
    y[:, :m] = audio[:, :m]
    mag = np.abs(librosa.stft(y, n_fft=1024, hop_length=256)).astype(np.float32)
    db = 20.0 * np.log10(np.maximum(mag, 1e-5))
    peak = db.max(axis=(1, 2), keepdims=True)
    db = np.maximum(db, peak - 80.0)[:, :512, :]
    lo, hi = db.min(axis=(1, 2)), db.max(axis=(1, 2))
    span = (hi - lo)[:, None, None]
    x = np.where(span > 0, (db - lo[:, None, None]) / np.where(span > 0, span, 1.0), 0.0)
    return x.astype(np.float32), lo, hi


def magnitude(audio: np.ndarray) -> np.ndarray:
    return np.abs(librosa.stft(np.asarray(audio, np.float32), n_fft=1024, hop_length=256))


def test_same_arrays_as_the_seed_preprocessing() -> None:
    # longer than 16317 samples (trimmed), shorter (padded), quieter (level kept in the stats)
    audio = [note(64), note(79, n_samples=12000), note(64) * 0.1]
    padded = np.zeros((3, SR), np.float32)
    for k, y in enumerate(audio):
        padded[k, : len(y)] = y
    res = extract(padded, SEED002_FEATURES, sample_rate=SR)
    x, lo, hi = seed002_oracle(padded)
    assert res.features.shape == x.shape == (3, 512, 64)
    # float32 STFTs (torch here, librosa there) differ by < 0.005 dB of the 80 dB range
    np.testing.assert_allclose(res.features, x, atol=5e-5)
    assert np.median(np.abs(res.features - x)) < 1e-6
    norm = res.sidecar["normalization"]
    np.testing.assert_allclose(norm["item_min"], lo, atol=1e-4)
    np.testing.assert_allclose(norm["item_max"], hi, atol=1e-4)
    assert res.sidecar["n_samples"] == N
    assert abs((hi[0] - hi[2]) - 20.0) < 0.05  # ×0.1 is −20 dB: the stats keep the level
    np.testing.assert_allclose(hi - lo, 80.0, atol=1e-3)  # top_db clip reaches the floor


def test_silent_item_is_zeros_not_nan() -> None:
    res = extract(np.zeros((1, N), np.float32), SEED002_FEATURES, sample_rate=SR)
    assert np.all(res.features == 0)
    y = invert(res.features, res, method="griffinlim", n_iter=4)
    assert np.all(np.isfinite(y)) and np.max(np.abs(y)) < 1e-3


def test_linear_magnitude_matches_the_stft_and_undoes_min_max() -> None:
    y = note(70)
    res = extract(y, SEED002_FEATURES, sample_rate=SR)
    mag = linear_magnitude(res.features, res)
    ref = magnitude(y[:N])
    assert mag.shape == ref[None].shape == (1, 513, 64)  # n_fft // 2 + 1 rows again
    keep = 20 * np.log10(np.maximum(ref[:512], 1e-5)) > res.sidecar["normalization"]["item_min"][0] + 1
    np.testing.assert_allclose(mag[0, :512][keep], ref[:512][keep], rtol=1e-3)
    half = np.full((1, 512, 64), 0.5, np.float32)
    mid = linear_magnitude(half, res, item_min=[-60.0], item_max=[0.0])
    np.testing.assert_allclose(mid[0, :512], 10 ** (-30 / 20), rtol=1e-5)  # 0.5 of −60..0 dB = −30 dB
    assert np.all(mid[0, 512] == 0)  # the dropped Nyquist row comes back empty
    two = extract(np.stack([y, y * 0.1]), SEED002_FEATURES, sample_rate=SR)
    second = linear_magnitude(two.features[1:], two, indices=[1])  # the stored range of item 1
    np.testing.assert_allclose(second, linear_magnitude(two.features, two)[1:], rtol=1e-6)
    with pytest.raises(ParameterError, match="pass indices"):
        linear_magnitude(two.features[1:], two)
    with pytest.raises(ParameterError, match="multi-frame stft"):
        linear_magnitude(np.zeros((1, 2, 3)), extract(y, FeatureConfig(kind="mdct"), sample_rate=SR))


def test_round_trip_beats_the_seed_inverse(notes_dir) -> None:
    y, _ = sf.read(notes_dir / "audio" / "clean_electric_guitar-076-100.wav", dtype="float32")
    res = extract(y, SEED002_FEATURES, sample_rate=SR)
    ours = invert(res.features, res, method="griffinlim", n_iter=48, seed=0)
    assert ours.shape == (1, N)
    ref = magnitude(y[:N])[None]
    sc_ours = spectral_convergence(ref, magnitude(ours))[0]
    # the seed: Griffin-Lim on the 512-row array, so n_fft was inferred as 2 * (512 - 1) = 1022
    seed_mag = linear_magnitude(res.features, res)[0, :512]
    seed_y = librosa.griffinlim(seed_mag, n_iter=48, hop_length=256, length=N, random_state=0)
    sc_seed = spectral_convergence(ref, magnitude(seed_y)[None])[0]
    assert sc_ours < 0.08, sc_ours
    assert sc_seed > 2.5 * sc_ours, (sc_ours, sc_seed)
    again = extract(ours, SEED002_FEATURES, sample_rate=SR)
    assert abs(again.sidecar["normalization"]["item_max"][0] - res.sidecar["normalization"]["item_max"][0]) < 1.0


def test_dataset_features_equal_extract(notes_dataset) -> None:
    from timbrespace.features import compute_dataset_features

    ds = notes_dataset  # 10 real notes of 22050 samples: trimmed to 16317
    name = compute_dataset_features(ds, SEED002_FEATURES, name="seed002", batch_size=4)
    stored = ds.load_features(name)
    direct = extract(ds.load_audio(), SEED002_FEATURES, sample_rate=SR)
    np.testing.assert_allclose(stored, direct.features, atol=1e-6)
    side = ds.feature_sidecar(name)
    np.testing.assert_allclose(side["normalization"]["item_max"], direct.sidecar["normalization"]["item_max"], atol=1e-5)
    assert side["n_samples"] == N and side["shape"] == [512, 64]


def test_n_samples_must_be_positive() -> None:
    with pytest.raises(ValueError, match="n_samples=0 must be a positive integer"):
        FeatureConfig(n_samples=0)
