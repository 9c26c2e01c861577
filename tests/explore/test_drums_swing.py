"""The explorer's groove MIDI is swung as its audio (issue 31)."""

from __future__ import annotations

import io

import mido
import numpy as np
import pytest

from timbrespace.explore import open_explorable
from timbrespace.patterns.midi import DRUM_CHANNEL

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs


def _note_ons(data: bytes) -> list[int]:
    mf = mido.MidiFile(file=io.BytesIO(data))
    ticks = []
    for track in mf.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "note_on" and msg.channel == DRUM_CHANNEL and msg.velocity > 0:
                ticks.append(tick)
    return sorted(ticks)


def test_midi_swing_is_the_audio_swing(drum_run, drumkits_dir):  # noqa: ANN001
    drums = open_explorable(drum_run, kit_dirs=[drumkits_dir])
    z = np.zeros(drums.info()["latent_dim"]).tolist()
    straight = drums.decode_midi(z, bpm=120, bars=1)
    swung = drums.decode_midi(z, bpm=120, bars=1, swing=0.25)
    a, b = _note_ons(straight), _note_ons(swung)
    assert straight != swung and len(a) == len(b) > 0 and any((t // 120) % 2 for t in a)
    assert [tb - ta for ta, tb in zip(a, b, strict=True)] == [30 if (t // 120) % 2 else 0 for t in a]
