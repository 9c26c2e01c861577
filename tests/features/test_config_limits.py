"""FeatureConfig's limits (issue 32): mel bands that n_fft resolves, window names scipy knows."""

from __future__ import annotations

import pytest

from timbrespace.errors import ParameterError
from timbrespace.features import FeatureConfig, FeatureConfigError


def test_more_mel_bands_than_fft_bins_is_refused() -> None:
    FeatureConfig(kind="mel", n_fft=256, n_mels=129)  # n_fft // 2 + 1 bins: the most allowed
    with pytest.raises(FeatureConfigError, match=r"n_mels=100000 exceeds the n_fft // 2 \+ 1 = 129"):
        FeatureConfig(kind="mel", n_fft=256, n_mels=100000)


def test_empty_mel_filters_are_refused_at_the_sample_rate() -> None:
    FeatureConfig(kind="mel", n_fft=1024, n_mels=128).check_audio(16000, 16000)
    with pytest.raises(ParameterError, match="n_mels=128 leaves 13 mel filters empty"):
        FeatureConfig(kind="mel", n_fft=256, n_mels=128).check_audio(16000, 16000)


@pytest.mark.parametrize("window", ["hann", "hamming", "blackmanharris", "boxcar"])
def test_known_windows_pass(window: str) -> None:
    assert FeatureConfig(kind="stft", window=window).window == window


def test_unknown_window_is_refused_by_name() -> None:
    with pytest.raises(FeatureConfigError, match="window='blackmanharrisXYZ' is not a window"):
        FeatureConfig(kind="stft", window="blackmanharrisXYZ")
    with pytest.raises(FeatureConfigError, match="window='kaiser'"):  # needs a parameter a name cannot carry
        FeatureConfig(kind="mel", window="kaiser")
