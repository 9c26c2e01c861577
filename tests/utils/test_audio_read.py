"""read_mono: truncated files are refused, long files are read only up to the cap."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from timbrespace.errors import AudioError
from timbrespace.utils.audio import read_mono

SR = 8000


def _wav(path, n=SR):
    sf.write(path, (0.5 * np.sin(2 * np.pi * 440 * np.arange(n) / SR)).astype(np.float32), SR, subtype="PCM_16")
    return path


def test_whole_file_round_trip(tmp_path):
    y, sr = read_mono(_wav(tmp_path / "a.wav"))
    assert sr == SR and y.shape == (SR,) and abs(np.abs(y).max() - 0.5) < 1e-3


def test_truncated_wav_is_refused_naming_the_file(tmp_path):
    path = _wav(tmp_path / "cut.wav")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # header still announces SR frames
    with pytest.raises(AudioError, match=r"cut\.wav: truncated: its header announces 16000 bytes"):
        read_mono(path)


def test_max_duration_reads_only_the_start(tmp_path):
    path = _wav(tmp_path / "long.wav", n=10 * SR)
    y, _ = read_mono(path, max_duration_s=0.25)
    assert y.shape == (SR // 4,)
    full, _ = read_mono(path)
    np.testing.assert_array_equal(y, full[: SR // 4])
