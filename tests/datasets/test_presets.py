"""Preset configs: item counts from the design, seed levels, renderable settings."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.datasets import list_presets, load_dataset_config, preset_path
from timbrespace.datasets.design import build_design, build_metadata
from timbrespace.synths import get_sound_model

EXPECTED = {
    "seed000-richness": 10_000,
    "seed000-additive-bandpass": 20_000,
    "seed000-fm-moog": 44_800,
    "seed001-additive": 21_780,
    "seed003-pop": 625,
}


@pytest.mark.parametrize(("name", "n_items"), sorted(EXPECTED.items()))
def test_preset_item_counts_from_design(name: str, n_items: int) -> None:
    config = load_dataset_config(preset_path(name))
    design = build_design(config)
    assert config.n_items == design.n_items == n_items
    meta, factors = build_metadata(config, design)
    assert len(meta) == n_items and meta["item_id"].is_unique and meta["audio_path"].is_unique
    # every factor level appears equally often in a full grid
    for spec in factors:
        counts = np.bincount(meta[f"{spec.name}_code"])
        assert counts.size == spec.n_levels and np.all(counts == n_items // spec.n_levels)
    # the last two settings render to finite, non-silent audio (seed 000 set A starts with a silent
    # 0 Hz partial, as in the seed)
    params = {**config.fixed, **{k: design.values[-2:, j] for j, k in enumerate(design.names)}}
    audio = get_sound_model(config.sound_model).render(
        params,
        sample_rate=config.sample_rate,
        duration_s=min(config.render_duration_s, 0.3),
        seed=0,
    )
    assert np.all(np.isfinite(audio)) and np.abs(audio).max() > 1e-3


def test_preset_list_and_seed_levels() -> None:
    assert set(EXPECTED) <= set(list_presets())
    fm = build_metadata(
        *(lambda c: (c, build_design(c)))(load_dataset_config(preset_path("seed000-fm-moog")))
    )[1]
    levels = {f.name: f.values for f in fm}
    np.testing.assert_allclose(levels["spread"], np.arange(1, 5, 0.5))
    np.testing.assert_allclose(levels["ratio"], np.arange(0.1, 0.4, 0.05))
    np.testing.assert_allclose(levels["index"], np.arange(0, 30, 4))
    np.testing.assert_allclose(levels["cutoff_hz"], np.arange(1, 11) * 44100 / 200)
