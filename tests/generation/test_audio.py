"""A recording's features as the feature store computed the dataset's (generation/audio.py)."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import AudioError, ParameterError
from timbrespace.features import FeatureConfig, FeatureSidecar, compute_dataset_features
from timbrespace.generation.audio import SILENCE_PEAK, audio_features, fit_audio, read_audio_bytes


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory):
    from timbrespace.datasets import DatasetConfig, generate_dataset

    config = DatasetConfig(name="tiny", sound_model="additive", sample_rate=8000, duration_s=0.1, seed=2,
                           parameters={"f0_hz": {"min": 110, "max": 880, "n": 3, "spacing": "log"},
                                       "decay_per_s": {"min": 1, "max": 8, "n": 2}},
                           splits={"train": 0.5, "valid": 0.25, "test": 0.25})
    return generate_dataset(config, tmp_path_factory.mktemp("data") / "ds", workers=1, progress=False)


@pytest.mark.parametrize(
    "features",
    [
        FeatureConfig(kind="stft", n_fft=256, hop_length=64, output="db", normalization="minmax_item"),
        FeatureConfig(kind="stft", n_fft=256, hop_length=128, output="db", normalization="standardize"),
        FeatureConfig(kind="mel", n_fft=256, hop_length=64, n_mels=32, output="db", normalization="none"),
    ],
    ids=["stft-minmax-item", "stft-standardize", "mel-none"],
)
def test_features_of_audio_are_the_stored_ones(tiny_dataset, features):
    name = compute_dataset_features(tiny_dataset, features, name=f"f_{features.normalization}", progress=False)
    sidecar = FeatureSidecar.from_dict(tiny_dataset.feature_sidecar(name))
    stored = tiny_dataset.load_features(name)
    mine = audio_features(tiny_dataset.load_audio(), sidecar)
    np.testing.assert_allclose(mine, stored, atol=1e-5)


def _sidecar(tiny_dataset) -> FeatureSidecar:
    cfg = FeatureConfig(kind="stft", n_fft=256, hop_length=64, output="db", normalization="minmax_item")
    name = compute_dataset_features(tiny_dataset, cfg, name="f_minmax_item", progress=False)
    return FeatureSidecar.from_dict(tiny_dataset.feature_sidecar(name))


def test_fit_audio_says_what_it_changed(tiny_dataset):
    sidecar = _sidecar(tiny_dataset)
    y = tiny_dataset.load_audio([0])[0]
    same, notes = fit_audio(y, 8000, sidecar, name="a")
    assert notes == [] and np.array_equal(same, y)
    longer, notes = fit_audio(np.concatenate([y, y]), 8000, sidecar, name="a")
    assert np.array_equal(longer, y) and "trimmed" in notes[0]
    shorter, notes = fit_audio(y[:300], 8000, sidecar, name="a")
    assert np.array_equal(shorter[:300], y[:300]) and not shorter[300:].any() and "zero-padded" in notes[0]
    t = np.arange(1600) / 16000
    resampled, notes = fit_audio(np.sin(2 * np.pi * 440 * t).astype(np.float32), 16000, sidecar, name="a")
    assert resampled.shape == (800,) and "resampled from 16000 Hz" in notes[0]


@pytest.mark.parametrize(
    ("y", "sample_rate", "error", "needle"),
    [
        (np.zeros(800, np.float32), 8000, AudioError, "silent"),
        (np.full(800, SILENCE_PEAK / 2, np.float32), 8000, AudioError, "silent"),
        (np.full(800, np.nan, np.float32), 8000, AudioError, "NaN"),
        (np.zeros(0, np.float32), 8000, AudioError, "one channel"),
        (np.ones(800, np.float32), 0, ParameterError, "sample_rate=0"),
    ],
)
def test_fit_audio_refuses(tiny_dataset, y, sample_rate, error, needle):
    with pytest.raises(error, match=needle):
        fit_audio(y, sample_rate, _sidecar(tiny_dataset), name="a")


def test_read_audio_bytes():
    import io

    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, np.stack([np.full(100, 0.5), np.full(100, 0.25)], axis=1), 8000, format="WAV", subtype="FLOAT")
    y, sr = read_audio_bytes(buf.getvalue())
    assert sr == 8000 and y.shape == (100,) and np.allclose(y, 0.375)
    with pytest.raises(AudioError, match="upload: not audio"):
        read_audio_bytes(b"plain text")
