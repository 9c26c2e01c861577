"""FeatureConfig validation: defaults per kind and clear errors for bad values."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.features import FeatureConfig, FeatureConfigError, extract


def test_defaults_per_kind() -> None:
    stft = FeatureConfig()
    assert (stft.n_fft, stft.hop_length, stft.win_length, stft.window, stft.output) == (
        1024,
        256,
        1024,
        "hann",
        "db",
    )
    mdct = FeatureConfig(kind="mdct", n_fft=2048)
    assert (mdct.hop_length, mdct.window, mdct.output) == (1024, "sine", "real")
    cqt = FeatureConfig(kind="cqt")
    assert (cqt.hop_length, cqt.n_bins, cqt.fmin_hz) == (512, 84, 32.70)
    assert FeatureConfig(kind="nsgt").output == "complex"


def test_round_trip_through_dict() -> None:
    cfg = FeatureConfig(
        kind="mel", n_fft=2048, hop_length=512, n_mels=64, normalization="standardize"
    )
    assert FeatureConfig(**cfg.model_dump(mode="json")) == cfg


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"hop_length": 0}, "hop_length=0 must be a positive integer"),
        ({"n_fft": -4}, "n_fft=-4 must be a positive integer"),
        ({"n_fft": 512, "win_length": 1024}, "n_fft=512 is smaller than win_length=1024"),
        ({"output": "phase"}, "output='phase' is not available for kind='stft'"),
        ({"kind": "mel", "output": "complex"}, "output='complex' is not available for kind='mel'"),
        ({"kind": "wavelet"}, "kind='wavelet'"),
        ({"hop": 256}, "hop: unknown key; allowed: kind, n_fft"),
        ({"top_db": -3.0}, "top_db=-3.0 must be > 0"),
        ({"kind": "mdct", "n_fft": 1023}, "n_fft=1023 must be even"),
        ({"kind": "mdct", "hop_length": 100}, "hop_length=100 must be n_fft // 2"),
        ({"kind": "mdct", "window": "hann"}, "window='hann' is not an MDCT window"),
        ({"kind": "mel", "single_frame": True}, "single_frame=True is only available"),
        ({"n_bins": 600}, "n_bins=600 exceeds n_fft // 2 + 1 = 513"),
        ({"hop_length": 2.5}, "hop_length=2.5"),
        ({"normalization": "zscore"}, "normalization='zscore'"),
    ],
)
def test_bad_values_raise_parameter_error(kwargs: dict, fragment: str) -> None:
    with pytest.raises(ParameterError) as info:
        FeatureConfig(**kwargs)
    assert fragment in str(info.value)
    assert isinstance(info.value, ConfigError) and isinstance(info.value, FeatureConfigError)


@pytest.mark.parametrize(
    ("audio", "sample_rate", "fragment"),
    [
        (np.zeros((2, 4096), dtype=np.int16), 22050, "dtype=int16 must be floating point"),
        (np.zeros((2, 3, 4096), dtype=np.float32), 22050, "shape=(2, 3, 4096)"),
        (np.zeros((2, 0), dtype=np.float32), 22050, "has no samples"),
        (np.full((1, 4096), np.nan, dtype=np.float32), 22050, "NaN"),
        (np.zeros((1, 4096), dtype=np.float32), 0, "sample_rate=0 must be a positive integer"),
        (np.zeros((1, 4096), dtype=np.float32), 22050.0, "sample_rate=22050.0"),
    ],
)
def test_bad_audio_raises_parameter_error(
    audio: np.ndarray, sample_rate: int, fragment: str
) -> None:
    with pytest.raises(ParameterError, match=None) as info:
        extract(audio, FeatureConfig(), sample_rate=sample_rate)
    assert fragment in str(info.value)


def test_check_audio_refuses_frames_longer_than_items_and_bounds_at_nyquist() -> None:
    FeatureConfig(kind="stft", n_fft=1024).check_audio(1024, 8000)
    with pytest.raises(ParameterError, match=r"n_fft=2048 is longer than the items \(1024 samples\)"):
        FeatureConfig(kind="stft", n_fft=2048).check_audio(1024, 8000)
    FeatureConfig(kind="cqt", fmin_hz=50.0).check_audio(512, 8000)  # cqt does not use the default n_fft
    with pytest.raises(ParameterError, match="does not use n_fft"):
        FeatureConfig(kind="cqt", fmin_hz=50.0, n_fft=4096).check_audio(512, 8000)
    FeatureConfig(kind="mel", fmin_hz=3900.0, n_mels=4).check_audio(8000, 8000)  # a band that holds FFT bins
    with pytest.raises(ParameterError, match=r"fmin_hz=4000 is at or above Nyquist \(4000 Hz at 8000 Hz\)"):
        FeatureConfig(kind="mel", fmin_hz=4000.0).check_audio(8000, 8000)
    with pytest.raises(ParameterError, match=r"fmax_hz=6000 is above Nyquist"):
        FeatureConfig(kind="mel", fmax_hz=6000.0).check_audio(8000, 8000)
