"""Dataset configs: validation against the sound model, spacings, designs, presets."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from timbrespace.datasets.config import DatasetConfig, config_hash, load_dataset_config
from timbrespace.datasets.design import build_design, build_metadata
from timbrespace.errors import ConfigError


def _write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


BASE = """
name: t
sound_model: additive
sample_rate: 8000
duration_s: 0.1
parameters:
  f0_hz: {min: 100, max: 800, n: 4, spacing: log}
  presence: {values: [all, odd, even]}
"""


def test_grid_design_order_and_values(tmp_path: Path) -> None:
    config = load_dataset_config(_write(tmp_path, BASE))
    assert config.n_items == 12
    design = build_design(config)
    # first parameter varies slowest (itertools.product order); log spacing doubles f0
    np.testing.assert_allclose(design.values[::3, 0], [100, 200, 400, 800], rtol=1e-12)
    np.testing.assert_array_equal(design.values[:3, 1], [0, 1, 2])
    meta, factors = build_metadata(config, design)
    assert meta["presence"].tolist()[:3] == ["all", "odd", "even"]
    assert factors[1].values == ("all", "odd", "even") and factors[1].kind == "categorical"
    assert factors[0].unit == "Hz" and factors[0].n_levels == 4
    assert meta["item_id"].iloc[11] == "000011"
    assert meta["split"].value_counts().to_dict() == {"train": 10, "valid": 1, "test": 1}


@pytest.mark.parametrize(
    ("spacing", "expected"),
    [
        ("linear", [1.0, 2.0, 3.0]),
        ("log", [1.0, np.sqrt(3.0), 3.0]),
        ("exp2", [1.0, np.log2(5.0), 3.0]),
    ],
)
def test_spacings(spacing: str, expected: list[float]) -> None:
    config = DatasetConfig(
        name="t",
        sound_model="additive",
        sample_rate=8000,
        duration_s=0.1,
        parameters={"decay_per_s": {"min": 1, "max": 3, "n": 3, "spacing": spacing}},
    )
    np.testing.assert_allclose(build_design(config).values[:, 0], expected, rtol=1e-12)


@pytest.mark.parametrize("method", ["random", "sobol", "lhs"])
def test_random_designs_reproducible_and_binned(method: str) -> None:
    kwargs = dict(
        name="t",
        sound_model="additive",
        sample_rate=8000,
        duration_s=0.1,
        parameters={
            "f0_hz": {"min": 100, "max": 1000, "spacing": "log"},
            "decay_per_s": {"min": 0, "max": 5},
        },
        sampling={"method": method, "n": 200},
    )
    a = build_design(DatasetConfig(**kwargs))
    b = build_design(DatasetConfig(**kwargs))
    c = build_design(DatasetConfig(**{**kwargs, "seed": 1}))
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    assert a.values[:, 0].min() >= 100 and a.values[:, 0].max() <= 1000
    meta, factors = build_metadata(DatasetConfig(**kwargs), a)
    # 10 equal-count bins of 20 items each
    assert np.bincount(meta["f0_hz_code"]).tolist() == [20] * 10
    assert factors[0].n_levels == 10
    if method == "lhs":  # one point per stratum of 1/200 in each dimension
        u = np.log(a.values[:, 0] / 100) / np.log(10)
        assert np.unique(np.floor(u * 200)).size == 200


F0 = "  f0_hz: {min: 100, max: 800, n: 4, spacing: log}"
PRESENCE = "  presence: {values: [all, odd, even]}"


@pytest.mark.parametrize(
    ("old", "new", "fragment"),
    [
        (F0, "  f0_hz: {min: 10, max: 800, n: 4}", "f0_hz=10 is out of range: allowed 20..5000 Hz"),
        (F0, "  f0: {min: 100, max: 800, n: 4}", "did you mean 'f0_hz'"),
        (F0, "  f0_hz: {values: []}", "empty grid"),
        (F0, "  f0_hz: {min: 100, max: 800}", "parameters.f0_hz.n"),
        (F0, "  f0_hz: {min: 100, max: 800, n: 4, spacing: cubic}", "'linear', 'log' or 'exp2'"),
        (
            F0,
            "  f0_hz: {min: 100, max: 800, n: 4, step: 2}",
            "unknown key; allowed: values, min, max, n",
        ),
        (PRESENCE, "  presence: {values: [all, sometimes]}", "presence='sometimes' is not allowed"),
    ],
)
def test_errors_name_file_field_and_allowed(
    tmp_path: Path, old: str, new: str, fragment: str
) -> None:
    path = _write(tmp_path, BASE.replace(old, new))
    with pytest.raises(ConfigError) as err:
        load_dataset_config(path)
    assert str(path) in str(err.value)
    assert fragment in str(err.value)


def test_unknown_model_and_top_level_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown sound model 'additiv'.*did you mean 'additive'"):
        load_dataset_config(
            _write(tmp_path, BASE.replace("sound_model: additive", "sound_model: additiv"))
        )
    with pytest.raises(ConfigError, match="colour: unknown key; allowed: name, sound_model"):
        load_dataset_config(_write(tmp_path, BASE + "colour: red\n"))
    with pytest.raises(ConfigError, match="fixed.snr_db"):
        load_dataset_config(_write(tmp_path, BASE + "fixed: {snr_db: 500}\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_dataset_config(tmp_path / "nope.yaml")


def test_variations_and_hash(tmp_path: Path) -> None:
    text = (
        BASE.replace("duration_s: 0.1\n", "")
        + "variations: {sound_duration_s: 1.05, chunk_s: 0.25}\n"
    )
    config = load_dataset_config(_write(tmp_path, text))
    assert config.n_variations == 4 and config.n_items == 48 and config.n_samples == 2000
    meta, _ = build_metadata(config, build_design(config))
    assert meta["variation"].tolist()[:5] == [0, 1, 2, 3, 0]
    assert config_hash(config) == config_hash(load_dataset_config(_write(tmp_path, text, "d.yaml")))
    assert config_hash(config) != config_hash(config.model_copy(update={"seed": 3}))


def test_json_config(tmp_path: Path) -> None:
    data = {
        "name": "j",
        "sound_model": "additive",
        "sample_rate": 8000,
        "duration_s": 0.1,
        "parameters": {"decay_per_s": {"values": [0, 1, 2]}},
        "sampling": {"method": "grid"},
    }
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    assert load_dataset_config(path).n_items == 3
