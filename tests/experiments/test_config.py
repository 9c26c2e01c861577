"""Experiment configs: the shipped ones validate; bad YAML and bad values name the field."""

from __future__ import annotations

import pytest

from timbrespace.errors import ConfigError
from timbrespace.experiments import builtin_experiments, load_experiment_config


def test_default_config_is_shipped_and_valid():
    cfg = load_experiment_config()
    assert cfg.name == "additive-4factor"
    ds = cfg.dataset_config()
    assert set(ds.parameters) == {"f0_hz", "slope_db_per_octave", "inharmonicity", "decay_per_s"}
    for spec in ds.parameters.values():
        assert (spec.n or len(spec.values or [])) >= 5
    lo, hi = ds.parameters["f0_hz"].min, ds.parameters["f0_hz"].max
    assert (lo, hi) == (100, 1000)
    cfg.feature_config()


@pytest.mark.parametrize("name", sorted(builtin_experiments()))
def test_every_builtin_validates(name):
    cfg = load_experiment_config(name)
    if cfg.dataset is not None:
        cfg.dataset_config()
    cfg.feature_config()


def test_overrides_apply():
    cfg = load_experiment_config(overrides={"training.epochs": 3, "model.beta": 8.0})
    assert cfg.training["epochs"] == 3 and cfg.model["beta"] == 8.0


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nmodel: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: invalid YAML at line \d+"):
        load_experiment_config(path)


def test_unknown_field_and_out_of_range_are_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: x\nevaluation: {n_bins: 1}\n")
    with pytest.raises(ConfigError, match=r"evaluation.n_bins: .*greater than or equal to 2"):
        load_experiment_config(path)
    path.write_text("name: x\nmodle: {}\n")
    with pytest.raises(ConfigError, match="modle"):
        load_experiment_config(path)


def test_out_of_range_synth_value_names_field_and_range(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: x\ndataset:\n  sound_model: additive\n  sample_rate: 8000\n  duration_s: 0.2\n"
        "  parameters:\n    f0_hz: {values: [-5, 100]}\n"
    )
    cfg = load_experiment_config(path)
    with pytest.raises(ConfigError, match=r"f0_hz.*-5.*20\.\.5000 Hz"):
        cfg.dataset_config(str(path))


def test_missing_config_lists_builtins(tmp_path):
    with pytest.raises(ConfigError, match="additive-4factor"):
        load_experiment_config(tmp_path / "nope.yaml")
