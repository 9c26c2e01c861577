"""The explorer's values: decode options and clips (WAV encoding that never clips)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import soundfile as sf

from timbrespace.errors import ParameterError
from timbrespace.explore.types import Clip, Option, wav_bytes


def test_option_checks_choices_and_ranges():
    number = Option("bpm", "tempo", 120.0, min=40.0, max=300.0, step=1.0, unit=" BPM")
    assert number.check(90) == 90.0 and isinstance(number.check(90), float)
    for bad, message in ((30, "allowed 40..300 BPM"), (float("nan"), "finite number"), ("fast", "finite number"),
                         (True, "finite number")):
        with pytest.raises(ParameterError, match=message):
            number.check(bad)
    choice = Option("kit", "kit", "soundfont", values=("soundfont", "TR808EmulationKit"))
    assert choice.check("tr808emulationkit") == "TR808EmulationKit"
    with pytest.raises(ParameterError, match="one of soundfont, TR808EmulationKit"):
        choice.check("909")
    whole = Option("bars", "bars", 2, min=1, max=8, step=1)
    assert whole.check(3.0) == 3 and isinstance(whole.check(3.0), int)
    with pytest.raises(ParameterError, match="whole number"):
        whole.check(2.5)


def test_wav_bytes_round_trip_and_never_clips():
    y = (0.5 * np.sin(np.linspace(0, 100, 4000))).astype(np.float32)
    back, sr = sf.read(io.BytesIO(wav_bytes(y, 16000)), dtype="float32")
    assert sr == 16000 and back.shape == y.shape
    np.testing.assert_allclose(back, y, atol=1 / 32768 + 1e-6)
    loud, _ = sf.read(io.BytesIO(wav_bytes(3.0 * y, 16000)), dtype="float32")
    assert np.max(np.abs(loud)) == pytest.approx(10 ** (-1 / 20), abs=1e-4)  # scaled to -1 dBFS
    np.testing.assert_allclose(loud / np.max(np.abs(loud)), y / np.max(np.abs(y)), atol=1e-3)
    clip = Clip(3.0 * y, 16000)  # its RMS is the delivered (scaled) audio's
    assert clip.rms == pytest.approx(float(np.sqrt(np.mean(loud.astype(np.float64) ** 2))), rel=1e-3)
