"""Preset configs (item counts from the design) and DSGenerator's JSON (seed 003)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from timbrespace.datasets import generate_dataset, list_presets, load_dataset_config, preset_path
from timbrespace.datasets.design import build_design, build_metadata
from timbrespace.datasets.dsgenerator import dsgenerator_name
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


DSGEN = {
    "soundname": "Pop",
    "samplerate": 8000,
    "chunkSecs": 0.25,
    "soundDuration": 0.6,
    "outPath": "PopFiles",
    "recordFormat": "params",
    "params": [
        {
            "user_pname": "rate",
            "user_minval": 4,
            "user_maxval": 8,
            "user_nvals": 2,
            "user_doc": "events/s",
            "synth_pname": "rate_exp",
            "synth_minval": 2,
            "synth_maxval": 3,
            "synth_units": "natural",
        },
        {
            "user_pname": "irreg",
            "user_minval": 0,
            "user_maxval": 1,
            "user_nvals": 2,
            "user_doc": "",
            "synth_pname": "irreg_exp",
            "synth_minval": 0,
            "synth_maxval": 1,
            "synth_units": "natural",
        },
        # norm units: 0..1 maps onto cf_exp's declared range -2..4, so 1/3 -> 0 and 1/2 -> 1
        {
            "user_pname": "cf",
            "user_minval": 440,
            "user_maxval": 880,
            "user_nvals": 2,
            "user_doc": "Hz",
            "synth_pname": "cf",
            "synth_minval": 1 / 3,
            "synth_maxval": 0.5,
            "synth_units": "norm",
        },
    ],
    "fixedParams": [],
}


def test_dsgenerator_json_as_is(tmp_path: Path) -> None:
    path = tmp_path / "config_file.json"
    path.write_text(json.dumps(DSGEN))
    config = load_dataset_config(path)
    assert config.sound_model == "pop" and config.naming == "dsgenerator"
    assert list(config.parameters) == ["rate_exp", "irreg_exp", "cf_exp"]
    np.testing.assert_allclose(config.parameters["cf_exp"].values, [0.0, 1.0], atol=1e-12)
    assert config.n_variations == 2 and config.n_items == 16  # floor(0.6 / 0.25) = 2
    ds = generate_dataset(path, tmp_path / "pop", workers=1, progress=False)
    names = ds.metadata["audio_path"].tolist()
    assert names[0] == "audio/pop--rate-04.00--irreg-00.00--cf-440.00--v-000.wav"
    assert names[-1] == "audio/pop--rate-08.00--irreg-01.00--cf-880.00--v-001.wav"
    assert all(sf.info(str(ds.root / n)).frames == 2000 for n in names)
    # each setting's own random stream: two irregular settings differ (the seed reset its RNG)
    a, b = ds.load_audio([4, 6])
    assert not np.allclose(a, b)


def test_dsgenerator_errors(tmp_path: Path) -> None:
    from timbrespace.errors import ConfigError

    bad = {**DSGEN, "params": [{**DSGEN["params"][0], "synth_maxval": 9}]}
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(ConfigError, match=r"bad.json.*rate_exp=9 is out of range: allowed -2..6"):
        load_dataset_config(path)
    path.write_text(json.dumps({**DSGEN, "soundname": "Crackle"}))
    with pytest.raises(ConfigError, match="unknown sound model 'crackle'"):
        load_dataset_config(path)


def test_dsgenerator_name_format() -> None:
    assert (
        dsgenerator_name("pop", ["rate", "cf"], [2.0, 0.256], 7)
        == "pop--rate-02.00--cf-00.26--v-007"
    )


def test_dsgenerator_fixed_params_in_norm_units() -> None:
    from timbrespace.datasets.config import config_from_dict

    data = {
        **DSGEN,
        "params": DSGEN["params"][:2],
        "fixedParams": [
            {"synth_pname": "cf_exp", "synth_val": 0.5, "synth_units": "norm", "user_doc": ""}
        ],
    }
    config = config_from_dict(data)
    assert config.fixed == {"cf_exp": 1.0}  # 0.5 of -2..4
    assert config.n_items == 8
