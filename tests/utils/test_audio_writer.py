"""The one peak-safe audio writer: formats by suffix, no NaN, no clipping, clear errors."""

from __future__ import annotations

import logging

import numpy as np
import pytest
import soundfile as sf

from timbrespace.errors import AudioError, ParameterError
from timbrespace.utils.audio import write_audio

SR = 8000


def _tone(peak: float = 0.5) -> np.ndarray:
    return (peak * np.sin(2 * np.pi * 440 * np.arange(SR // 4) / SR)).astype(np.float32)


@pytest.mark.parametrize(("suffix", "fmt"), [(".wav", "WAV"), (".flac", "FLAC"), (".ogg", "OGG"), (".mp3", "MP3")])
def test_suffix_picks_the_format(tmp_path, suffix, fmt):
    path = write_audio(tmp_path / f"a{suffix}", _tone(), SR)
    info = sf.info(path)
    assert info.format == fmt and info.samplerate == SR
    y, _ = sf.read(path, dtype="float32")
    assert abs(np.sqrt(np.mean(y[:1500] ** 2)) - 0.5 / np.sqrt(2)) < 0.05


def test_unknown_suffix_is_refused_and_nothing_written(tmp_path):
    with pytest.raises(ParameterError, match="'.aiff' picks no audio format"):
        write_audio(tmp_path / "a.aiff", _tone(), SR)
    assert list(tmp_path.iterdir()) == []


def test_non_finite_audio_is_refused(tmp_path):
    y = _tone()
    y[10:15] = np.nan
    y[20] = np.inf
    with pytest.raises(AudioError, match="6 of 2000 samples are NaN or inf"):
        write_audio(tmp_path / "a.wav", y, SR)
    assert not (tmp_path / "a.wav").exists()


def test_loud_audio_is_scaled_not_clipped(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        path = write_audio(tmp_path / "a.wav", _tone(peak=4.0), SR)
    y, _ = sf.read(path, dtype="float32")
    assert 0.97 < np.max(np.abs(y)) <= 1.0
    assert "scaled by" in caplog.text
    # the shape is kept: a scaled sine, not a clipped square
    t = _tone(peak=1.0)
    assert np.corrcoef(y, t)[0, 1] > 0.999


def test_existing_file_and_folder(tmp_path):
    write_audio(tmp_path / "a.wav", _tone(), SR)
    before = (tmp_path / "a.wav").read_bytes()
    with pytest.raises(ParameterError, match="already exists"):
        write_audio(tmp_path / "a.wav", _tone(0.1), SR, overwrite=False)
    assert (tmp_path / "a.wav").read_bytes() == before
    (tmp_path / "d.wav").mkdir()
    with pytest.raises(ParameterError, match="is a folder"):
        write_audio(tmp_path / "d.wav", _tone(), SR)
    with pytest.raises(ParameterError, match="sample_rate=0"):
        write_audio(tmp_path / "b.wav", _tone(), 0)
