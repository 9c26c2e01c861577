"""``soundfont`` notes (FluidSynth): pitch measured with pYIN, effects, clean errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from timbrespace.errors import AudioError, ParameterError
from timbrespace.synths import get_sound_model
from timbrespace.synths.soundfont import EFFECTS, Soundfont

from ._synths_measure import cents, pyin_median_hz

SR = 22050

pytest.importorskip("tinysoundfont", reason="the tinysoundfont wheel is not installed (make install)")


@pytest.fixture(scope="module")
def model():
    return get_sound_model("soundfont")


@pytest.mark.parametrize(("program", "pitch"), [(27, 64), (27, 76), (0, 69), (40, 81), (73, 72)])
def test_note_at_requested_midi_pitch(model, program, pitch):
    y = model.render({"program": program, "pitch": pitch}, sample_rate=SR, duration_s=0.6)[0]
    expected = 440.0 * 2 ** ((pitch - 69) / 12)
    measured = pyin_median_hz(y[: int(0.45 * SR)], SR, fmin=expected / 1.5, fmax=expected * 1.5)
    assert abs(cents(measured, expected)) < 25  # real instruments: tuned within a quarter-semitone


def test_velocity_changes_level_before_normalisation(model):
    loud = model.note(27, 64, 120, sample_rate=SR, n_samples=SR // 2)
    soft = model.note(27, 64, 30, sample_rate=SR, n_samples=SR // 2)
    assert np.sqrt(np.mean(loud**2)) > 2 * np.sqrt(np.mean(soft**2))


def test_note_is_released_after_three_quarters(model):
    y = model.note(0, 60, 100, sample_rate=SR, n_samples=SR)
    held = np.sqrt(np.mean(y[int(0.6 * SR) : int(0.75 * SR)] ** 2))
    released = np.sqrt(np.mean(y[int(0.95 * SR) :] ** 2))
    assert released < 0.5 * held


def test_items_independent_of_batch(model):
    params = {
        "pitch": [64, 70, 64],
        "effect": ["none", "chorus", "distortion"],
        "magnitude": [0, 50, 100],
    }
    whole = model.render(params, sample_rate=SR, duration_s=0.3)
    last = model.render(
        {k: v[2:] for k, v in params.items()}, sample_rate=SR, duration_s=0.3, item_index=[2]
    )
    np.testing.assert_array_equal(whole[2], last[0])


@pytest.mark.parametrize("effect", [e for e in EFFECTS if e != "none"])
def test_effect_magnitude_zero_is_clean_and_hundred_changes_the_note(model, effect):
    params = {
        "pitch": [64, 64, 64],
        "effect": ["none", effect, effect],
        "magnitude": [0.0, 0.0, 100.0],
    }
    clean, zero, full = model.render(params, sample_rate=SR, duration_s=0.3)
    np.testing.assert_array_equal(zero, clean)
    assert np.sqrt(np.mean((full - clean) ** 2)) > 0.01


def test_missing_soundfont_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(AudioError, match="not found"):
        Soundfont(tmp_path / "nope.sf2").render({}, duration_s=0.1)
    monkeypatch.setenv("TIMBRESPACE_SOUNDFONT", str(tmp_path / "missing.sf2"))
    with pytest.raises(AudioError, match="TIMBRESPACE_SOUNDFONT"):
        Soundfont().render({}, duration_s=0.1)


def test_missing_tinysoundfont_is_a_clear_error(monkeypatch):
    import sys

    from timbrespace.synths import _sf2

    _sf2._cached.cache_clear()
    monkeypatch.setitem(sys.modules, "tinysoundfont", None)  # import raises ImportError
    with pytest.raises(AudioError, match="tinysoundfont"):
        Soundfont().render({}, duration_s=0.1)
    _sf2._cached.cache_clear()


def test_a_note_does_not_depend_on_the_notes_before_it(model):
    first = model.note(27, 64, 90, sample_rate=SR, n_samples=SR // 2)
    model.note(40, 80, 127, sample_rate=SR, n_samples=SR // 4)
    model.note(0, 40, 10, sample_rate=SR, n_samples=SR // 8)
    np.testing.assert_array_equal(model.note(27, 64, 90, sample_rate=SR, n_samples=SR // 2), first)


def test_bundled_soundfont_is_the_fallback(monkeypatch):
    import pretty_midi

    from timbrespace.synths import soundfont

    monkeypatch.delenv("TIMBRESPACE_SOUNDFONT", raising=False)
    monkeypatch.setattr(soundfont, "SYSTEM_SOUNDFONT", Path("/nonexistent/FluidR3_GM.sf2"))
    assert soundfont.default_soundfont() == Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"


def test_unknown_effect_suggests_closest(model):
    with pytest.raises(ParameterError, match="did you mean 'reverb'"):
        model.render({"effect": "reverv"})


@pytest.mark.needs_data
def test_notes_match_the_real_fluidr3_notes_in_shared_data(model, notes_dir):
    """Our render of (program, pitch, velocity) has the spectrum of the recorded note."""
    import json

    import soundfile as sf
    from scipy import signal

    from timbrespace.synths.soundfont import SYSTEM_SOUNDFONT

    if model.soundfont_path != SYSTEM_SOUNDFONT:
        pytest.skip("shared notes were rendered from FluidR3_GM")
    examples = json.loads((notes_dir / "examples.json").read_text())
    instruments = sorted({e["instrument_str"] for e in examples.values()})

    def spectrum_db(y: np.ndarray, sr: int) -> np.ndarray:
        _, p = signal.welch(y[: int(0.7 * sr)], fs=sr, nperseg=2048)
        return 10 * np.log10(p[:600] + 1e-12)  # 0..6.5 kHz

    real, ours = {}, {}
    for name in instruments:
        entry = examples[f"{name}-070-100"]
        y, sr = sf.read(notes_dir / "audio" / f"{name}-070-100.wav")
        real[name] = spectrum_db(y, sr)
        note = model.note(
            entry["program"], entry["pitch"], entry["velocity"], sample_rate=sr, n_samples=len(y)
        )
        ours[name] = spectrum_db(note, sr)
    corr = np.array(
        [[np.corrcoef(real[a], ours[b])[0, 1] for b in instruments] for a in instruments]
    )
    # The shared notes came from FluidSynth; TinySoundFont plays the same samples with its
    # own filter and modulator handling (nylon guitar: 0.969, the others above 0.995).
    assert np.diag(corr).min() > 0.95
    off_diagonal = corr[~np.eye(len(instruments), dtype=bool)]
    assert off_diagonal.max() < 0.9  # the oracle tells instruments apart
