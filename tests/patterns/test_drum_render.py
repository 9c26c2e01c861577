"""Kits (Hydrogen drumkit.xml, GM soundfont) and rendering: timing to the sample, layers, no clipping."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from timbrespace.errors import AudioError, DatasetError, ParameterError
from timbrespace.patterns.kits import SoundfontKit, find_kit, load_hydrogen_kit
from timbrespace.patterns.render import render_patterns, step_onsets_samples, write_wav

SR = 8000

KIT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit">
 <name>Test</name>
 <instrumentList>
  <instrument><id>0</id><name>Kick</name><volume>1</volume><gain>1</gain><midiOutNote>36</midiOutNote>
   <layer><filename>soft.wav</filename><min>0</min><max>0.5</max><gain>1</gain><pitch>0</pitch></layer>
   <layer><filename>loud.wav</filename><min>0.5</min><max>1</max><gain>1</gain><pitch>0</pitch></layer>
  </instrument>
  <instrument><id>1</id><name>Snare</name><volume>0.5</volume><midiOutNote>38</midiOutNote>
   <instrumentComponent><layer><filename>loud.wav</filename><min>0</min><max>1</max></layer></instrumentComponent>
  </instrument>
  <instrument><id>2</id><name>Ghost</name><midiOutNote>42</midiOutNote>
   <layer><filename>missing.wav</filename><min>0</min><max>1</max></layer>
  </instrument>
 </instrumentList>
</drumkit_info>
"""


@pytest.fixture()
def test_kit(tmp_path: Path) -> Path:
    root = tmp_path / "TestKit"
    root.mkdir()
    impulse = np.zeros(200, np.float32)
    impulse[0] = 1.0
    sf.write(root / "loud.wav", impulse, SR, subtype="FLOAT")
    sf.write(
        root / "soft.wav", -0.5 * impulse, SR, subtype="FLOAT"
    )  # negative: tells the layers apart
    (root / "drumkit.xml").write_text(KIT_XML)
    return root


def test_hydrogen_kit_layers(test_kit: Path) -> None:
    kit = load_hydrogen_kit(test_kit)
    assert kit.name == "Test" and [i.name for i in kit.instruments] == [
        "Kick",
        "Snare",
    ]  # Ghost has no sample
    kick = kit.instruments[0]
    assert (
        kick.layer_for(0.3).path.name == "soft.wav" and kick.layer_for(0.9).path.name == "loud.wav"
    )
    inst = kit.voice_instruments("magenta9")
    assert inst[0].name == "Kick" and inst[1].name == "Snare" and inst[2] is None


def test_render_timing_velocity_layers(test_kit: Path) -> None:
    kit = load_hydrogen_kit(test_kit)
    p = np.zeros((2, 16, 9), np.float32)
    p[0, 0, 0] = 0.25  # soft layer, negative impulse × 0.25
    p[0, 5, 0] = 1.0  # loud layer
    p[1, 3, 1] = 1.0  # snare, volume 0.5
    y = render_patterns(p, kit, bpm=120.0, sample_rate=SR, tail_s=0.5, peak_db=0.0)
    step = SR * 60 / 120 / 4  # 1000 samples per 16th at 120 BPM
    assert len(y) == int(32 * step + 0.5 * SR)
    nz = np.flatnonzero(y)
    assert nz.tolist() == [0, 5000, 19000]
    assert (
        y[0] == pytest.approx(-0.125)
        and y[5000] == pytest.approx(1.0)
        and y[19000] == pytest.approx(0.5)
    )
    # swing moves odd steps only
    sw = render_patterns(p, kit, bpm=120.0, sample_rate=SR, swing=1 / 3, peak_db=0.0)
    assert np.flatnonzero(sw).tolist() == [0, 5333, 19333]


def test_onsets_exact_over_many_bars() -> None:
    on = step_onsets_samples(16 * 100, bpm=120.0, sample_rate=44100)
    assert on[16 * 100 - 1] == round((16 * 100 - 1) * 44100 * 60 / 120 / 4)
    on97 = step_onsets_samples(16 * 1000 + 1, bpm=97.0, sample_rate=44100)
    assert on97[-1] == round(16 * 1000 * 44100 * 60 / (97 * 4))  # no drift after 1000 bars
    with pytest.raises(ParameterError, match="swing"):
        step_onsets_samples(4, bpm=120, swing=0.5)
    with pytest.raises(ParameterError, match="bpm"):
        step_onsets_samples(4, bpm=0)


def test_never_clips(test_kit: Path, tmp_path: Path) -> None:
    kit = load_hydrogen_kit(test_kit)
    p = np.ones((1, 16, 9), np.float32)  # every voice on every step; kick + snare stack to 1.5
    y = render_patterns(p, kit, bpm=480.0, sample_rate=SR)
    assert np.abs(y).max() == pytest.approx(10 ** (-1 / 20), rel=1e-6)
    write_wav(tmp_path / "a.wav", y, SR)
    back, sr = sf.read(tmp_path / "a.wav")
    assert sr == SR and np.abs(back).max() <= 1.0
    with pytest.raises(AudioError, match="clip"):
        write_wav(tmp_path / "b.wav", y * 2, SR)
    with pytest.raises(ParameterError, match="peak_db"):
        render_patterns(p, kit, peak_db=3.0)


def test_real_kits(drumkits_dir: Path) -> None:
    p = np.zeros((1, 16, 9), np.float32)
    p[0, ::4, 0] = 1.0
    p[0, [4, 12], 1] = 0.9
    p[0, ::2, 2] = 0.7
    for name, n_instruments in (("Audiophob", 14), ("TR808EmulationKit", 16)):
        kit = find_kit(drumkits_dir / name)
        assert len(kit.instruments) == n_instruments
        names = [None if i is None else i.name for i in kit.voice_instruments("magenta9")]
        assert None not in names and "kick" in names[0].lower() and "snare" in names[1].lower()
        assert "clos" in names[2].lower() and "open" in names[3].lower()
        y = render_patterns(p, kit, bpm=120.0, sample_rate=22050)
        assert y.dtype == np.float32 and np.abs(y).max() <= 10 ** (-1 / 20) + 1e-6
        # the first kick starts exactly at sample 0 and the first snare at step 4 = 0.5 s
        assert (
            np.abs(y[:10]).max() > 1e-4
            and np.abs(y[int(0.5 * 22050) - 50 : int(0.5 * 22050)]).max()
            < np.abs(y[int(0.5 * 22050) : int(0.5 * 22050) + 200]).max()
        )
    # TR-808 notes are distinct: mapped by GM note
    tr = find_kit(drumkits_dir / "TR808EmulationKit")
    assert [i.midi_note for i in tr.voice_instruments("seed8")][:5] == [36, 38, 39, 46, 42]


def test_soundfont_timing() -> None:
    pytest.importorskip("tinysoundfont", reason="the tinysoundfont wheel is not installed (make install)")
    kit = find_kit("soundfont")
    assert isinstance(kit, SoundfontKit)
    sr = 22050

    def first_sound(step: int) -> int:
        p = np.zeros((1, 16, 9), np.float32)
        p[0, step, 2] = 1.0  # one closed hat
        y = render_patterns(p, kit, bpm=120.0, sample_rate=sr, tail_s=0.2)
        assert 0.01 < np.abs(y).max() <= 10 ** (-1 / 20) + 1e-6
        return int(np.flatnonzero(np.abs(y) > 1e-4)[0])

    base = first_sound(0)
    assert base < 0.005 * sr  # sounds within 5 ms of its step
    for step in (5, 11):
        # sample-accurate: a 16th at 120 BPM is exactly 2756.25 samples at 22050 Hz
        assert first_sound(step) - base == round(step * sr * 60 / 120 / 4)


def test_find_kit_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, test_kit: Path) -> None:
    with pytest.raises(ParameterError, match="kit='nokit'") as info:
        find_kit("nokit", kit_dirs=[tmp_path])
    assert f"searched {tmp_path}, " in str(info.value) and "/usr/share/hydrogen/data/drumkits" in str(info.value)
    assert find_kit("TestKit", kit_dirs=[test_kit.parent]).name == "Test"  # --kits DIR
    monkeypatch.setenv("TIMBRESPACE_DRUMKITS", str(test_kit.parent))
    assert find_kit("testkit").name == "Test"
    with pytest.raises(ParameterError, match="soundfont file"):
        find_kit(tmp_path / "x.sf2")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "drumkit.xml").write_text("<drumkit_info><name>x</name")
    with pytest.raises(DatasetError, match="malformed"):
        load_hydrogen_kit(tmp_path / "bad")
    with pytest.raises(DatasetError, match="no drumkit.xml"):
        load_hydrogen_kit(tmp_path)
