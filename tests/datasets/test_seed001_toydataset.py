"""Seed 001's grid as its code wrote it: start/stop/step sweeps and the seed001-toydataset presets.

The seed expanded ``{name: [start, increment, stop]}`` with
``np.arange(start, stop + inc, inc)`` and a Cartesian product; the oracles here are
those expansions (computed in the test) and its render formula
(:func:`tests.synths.test_additive_seed001.seed_render`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from tests.cli_run import run_cli
from tests.synths.test_additive_seed001 import seed_render
from timbrespace.datasets import load_dataset_config, preset_path
from timbrespace.datasets.config import SweepSpec
from timbrespace.datasets.design import build_design, build_metadata
from timbrespace.errors import ConfigError
from timbrespace.synths import get_sound_model

# the seed's generateParameterSpace: [start, increment, stop]
SEED_GRID = {
    "f0_hz": (100, 100, 1000),
    "slope": (-0.1, -0.1, -0.9),
    "presence": (0, 1, 1),
    "inharmonicity": (0, 0.1, 1),
    "decay_per_s": (0, 1, 10),
}


def _arange(start, inc, stop):
    return np.arange(start, stop + inc, inc)


def test_start_stop_step_is_the_seeds_inclusive_arange():
    for start, inc, stop in SEED_GRID.values():
        sweep = SweepSpec.model_validate({"start": start, "stop": stop, "step": inc})
        np.testing.assert_allclose(sweep.values, _arange(start, inc, stop), atol=1e-12)
    # float steps land on both ends without noise (the seed's arange could add one past stop)
    assert SweepSpec.model_validate({"start": 0, "stop": 0.3, "step": 0.1}).values == [0.0, 0.1, 0.2, 0.3]
    assert SweepSpec.model_validate({"start": 2, "stop": 2, "step": 1}).values == [2.0]


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"start": 0, "stop": 1, "step": 0}, "step=0 never reaches stop"),
        ({"start": 0, "stop": 1, "step": 0.3}, "step=0.3 does not land on stop=1"),
        ({"start": -0.1, "stop": -0.9, "step": 0.1}, "step=0.1 goes away from stop=-0.9"),
        ({"start": 0, "stop": 1}, "missing step"),
        ({"start": 0, "stop": 1, "step": 0.5, "n": 3}, "give either start/stop/step or n"),
        ({"start": 0, "stop": 1e9, "step": 1}, "above the limit"),
        ({"start": "a", "stop": 1, "step": 1}, "start='a' must be a finite number"),
    ],
)
def test_start_stop_step_refusals(spec, message):
    with pytest.raises(ValueError, match=message):
        SweepSpec.model_validate(spec)


def test_preset_is_the_seeds_grid():
    config = load_dataset_config(preset_path("seed001-toydataset"))
    assert config.sound_model == "additive_seed001" and config.sample_rate == 8000
    assert config.n_items == 21_780
    for name, (start, inc, stop) in SEED_GRID.items():
        np.testing.assert_allclose(config.parameters[name].values, _arange(start, inc, stop), atol=1e-12)
    design = build_design(config)
    meta, factors = build_metadata(config, design)
    assert len(meta) == 21_780 and [f.name for f in factors] == list(SEED_GRID)
    # the seed's itertools.product order: the first parameter varies slowest
    expected = np.array(np.meshgrid(*[_arange(*v) for v in SEED_GRID.values()], indexing="ij")).reshape(5, -1).T
    np.testing.assert_allclose(design.values, expected, atol=1e-12)
    readme = load_dataset_config(preset_path("seed001-toydataset-readme"))
    assert readme.n_items == 19 * 9 * 11 * 11
    np.testing.assert_allclose(readme.parameters["f0_hz"].values, np.arange(100, 1001, 50))


def test_preset_items_render_as_the_seed():
    config = load_dataset_config(preset_path("seed001-toydataset"))
    design = build_design(config)
    rows = np.random.default_rng(0).choice(design.n_items, 12, replace=False)
    params = {**config.fixed, **{k: design.values[rows, j] for j, k in enumerate(design.names)}}
    audio = get_sound_model(config.sound_model).render(params, sample_rate=8000, duration_s=0.25, seed=0)
    for i, row in enumerate(rows):
        expected = seed_render(*design.values[row], sample_rate=8000, n_samples=2000, as_seed=False)
        np.testing.assert_allclose(audio[i], 0.9 * expected / np.abs(expected).max(), atol=2e-5)


def test_our_additive_still_refuses_the_seeds_inharmonicity(tmp_path: Path):
    text = yaml.safe_dump({"name": "x", "sound_model": "additive", "sample_rate": 8000,
                           "parameters": {"inharmonicity": {"start": 0, "stop": 1, "step": 0.1}}})
    (tmp_path / "c.yaml").write_text(text)
    with pytest.raises(ConfigError, match=r"inharmonicity=0.2 is out of range: allowed 0..0.1"):
        load_dataset_config(tmp_path / "c.yaml")


@pytest.mark.long(4)
def test_cli_generate_renders_the_seeds_items(tmp_path: Path, capsys):
    """``timbrespace generate`` on the preset's model and grid form, a few values per factor."""
    preset = yaml.safe_load(preset_path("seed001-toydataset").read_text())
    preset.update(name="seed001-small", duration_s=0.25, parameters={
        "f0_hz": {"start": 100, "stop": 1000, "step": 900},
        "slope": {"start": -0.1, "stop": -0.9, "step": -0.4},
        "presence": {"start": 0, "stop": 1, "step": 1},
        "inharmonicity": {"start": 0, "stop": 1, "step": 0.5},
        "decay_per_s": {"start": 0, "stop": 10, "step": 10},
    })
    config = tmp_path / "seed001-small.yaml"
    config.write_text(yaml.safe_dump(preset))
    code, text = run_cli(["generate", str(config), "--out", str(tmp_path / "ds"), "--workers", "1",
                          "--no-progress"], capsys)
    assert code == 0, text
    from timbrespace.datasets import Dataset

    ds = Dataset(tmp_path / "ds")
    assert len(ds) == 2 * 3 * 2 * 3 * 2
    meta = ds.metadata
    for _, row in meta.iterrows():
        y, sr = sf.read(tmp_path / "ds" / row["audio_path"], dtype="float32")
        presence = ("all", "odd", "even").index(row["presence"])
        expected = seed_render(row["f0_hz"], row["slope"], presence, row["inharmonicity"], row["decay_per_s"],
                               sample_rate=sr, n_samples=y.size, as_seed=False)
        np.testing.assert_allclose(y, 0.9 * expected / np.abs(expected).max(), atol=2e-5)
    assert "seed001-toydataset" in run_cli(["generate", "--list-presets"], capsys)[1]
