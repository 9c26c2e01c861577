"""The explorer's groove MIDI is swung as its audio (issue 31)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.grooves import drum_note_ons
from timbrespace.explore import open_explorable

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs


def _ticks(midi: bytes) -> list[int]:
    """The sorted ticks of the drum note-ons."""
    return [tick for tick, _, _ in drum_note_ons(midi).notes]


def test_midi_swing_is_the_audio_swing(drum_run, drumkits_dir):  # noqa: ANN001
    drums = open_explorable(drum_run, kit_dirs=[drumkits_dir])
    z = np.zeros(drums.info()["latent_dim"]).tolist()
    straight = drums.decode_midi(z, bpm=120, bars=1)
    swung = drums.decode_midi(z, bpm=120, bars=1, swing=0.25)
    a, b = _ticks(straight), _ticks(swung)
    assert straight != swung and len(a) == len(b) > 0 and any((t // 120) % 2 for t in a)
    assert [tb - ta for ta, tb in zip(a, b, strict=True)] == [30 if (t // 120) % 2 else 0 for t in a]


def test_items_play_with_their_micro_timing(drum_run, drumkits_dir):  # noqa: ANN001
    from timbrespace.patterns.kits import find_kit
    from timbrespace.patterns.render import render_patterns

    drums = open_explorable(drum_run, kit_dirs=[drumkits_dir])
    model = drums._m
    assert model.offsets is not None and model.offsets.shape == model.patterns.shape  # this dataset: on the grid
    index = 0
    on_grid, _ = drums.item_clips(index, kit="TR808EmulationKit", bpm=120, bars=2)
    offsets = np.where(model.patterns > 0, 0.25, 0.0).astype(np.float32)
    model.offsets = offsets
    played, recon = drums.item_clips(index, kit="TR808EmulationKit", bpm=120, bars=2)
    kit = find_kit(str(drumkits_dir / "TR808EmulationKit"))
    loop = np.repeat(model.patterns[index][None], 2, axis=0)
    expected = render_patterns(loop, kit, bpm=120, drum_map=model.run.drum_map, sample_rate=played.sample_rate,
                               offsets=np.repeat(offsets[index][None], 2, axis=0))
    np.testing.assert_allclose(played.audio, expected, atol=1e-6)
    assert not np.allclose(played.audio, on_grid.audio)
