"""Experiment configs: the shipped ones validate; bad YAML and bad values name the field."""

from __future__ import annotations

import pytest

from timbrespace.errors import ConfigError
from timbrespace.experiments import builtin_experiments, load_experiment_config


def test_default_config_is_shipped_and_valid():
    from timbrespace.datasets import DatasetConfig
    from timbrespace.features import FeatureConfig
    from timbrespace.models import VAEConfig
    from timbrespace.training import TrainConfig

    cfg = load_experiment_config()
    assert cfg.name == "additive-4factor"
    ds = cfg.dataset
    assert isinstance(ds, DatasetConfig) and isinstance(cfg.features, FeatureConfig)
    assert isinstance(cfg.model, VAEConfig) and cfg.model.input_shape is None  # from the features
    assert isinstance(cfg.training, TrainConfig) and cfg.training.seed == cfg.seed == ds.seed
    assert set(ds.parameters) == {"f0_hz", "slope_db_per_octave", "inharmonicity", "decay_per_s"}
    for spec in ds.parameters.values():
        assert (spec.n or len(spec.values or [])) >= 5
    lo, hi = ds.parameters["f0_hz"].min, ds.parameters["f0_hz"].max
    assert (lo, hi) == (100, 1000)


@pytest.mark.parametrize("name", sorted(builtin_experiments()))
def test_every_builtin_validates(name):
    cfg = load_experiment_config(name)
    assert cfg.features.kind in {"stft", "cqt", "nsgt", "mel", "mdct"} and cfg.model.beta > 0
    assert cfg.model.latent_dim >= 1 and cfg.training.epochs >= 1


def test_overrides_apply():
    cfg = load_experiment_config(overrides={"training.epochs": 3, "model.beta": 8.0})
    assert cfg.training.epochs == 3 and cfg.model.beta == 8.0


def test_invalid_yaml_names_line(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\nmodel: [unclosed\n")
    with pytest.raises(ConfigError, match=r"bad.yaml: invalid YAML at line \d+"):
        load_experiment_config(path)


def test_unknown_field_and_out_of_range_are_named(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text("name: x\nevaluation: {n_bins: 1}\n")
    with pytest.raises(ConfigError, match=r"evaluation.n_bins=1 must be >= 2"):
        load_experiment_config(path)
    path.write_text("name: x\nmodle: {}\n")
    with pytest.raises(ConfigError, match="modle: unknown key; allowed: name, seed, dataset, features, model"):
        load_experiment_config(path)


def test_out_of_range_synth_value_names_field_and_range(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(
        "name: x\ndataset:\n  sound_model: additive\n  sample_rate: 8000\n  duration_s: 0.2\n"
        "  parameters:\n    f0_hz: {values: [-5, 100]}\n"
    )
    with pytest.raises(ConfigError, match=r"c.yaml: dataset: .*f0_hz.*-5.*20\.\.5000 Hz"):
        load_experiment_config(path)


def test_missing_config_lists_builtins(tmp_path):
    with pytest.raises(ConfigError, match="additive-4factor"):
        load_experiment_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("features: {hop_length: 0}", r"c.yaml: features: hop_length=0 must be a positive integer$"),
        ("features: {kind: stft, hopp: 3}", r"c.yaml: features: hopp: unknown key; allowed: kind, n_fft"),
        ("model: {architecture: rnn}", r"c.yaml: model: architecture='rnn' is not allowed: one of mlp, conv, gru, shift$"),
        ("model: {input_shape: [65, 32]}", r"c.yaml: model: input_shape is filled in from the features"),
        ("training: {epochs: 0}", r"c.yaml: training: epochs=0 must be a positive integer$"),
        ("training: {beta: 4}", r"c.yaml: training: beta belongs to the model \(model.beta\)"),
        ("training: {init: ica}", r"c.yaml: training.init='ica' starts the model's linear paths"),
        ("training: {devices: 2}", r"c.yaml: training.devices=2: `timbrespace run` trains on one device"),
    ],
)
def test_every_section_is_validated_once_at_load_in_one_line(tmp_path, section, message):
    """Sections are the library's own config classes; a bad value fails at load, naming
    the file and the field (β lives on the model only)."""
    path = tmp_path / "c.yaml"
    path.write_text(f"name: x\n{section}\n")
    with pytest.raises(ConfigError, match=message) as info:
        load_experiment_config(path)
    assert "\n" not in str(info.value)


def test_the_resolved_config_round_trips(tmp_path):
    import yaml

    from timbrespace.experiments.config import ExperimentConfig

    cfg = load_experiment_config()
    dumped = cfg.model_dump(mode="json")
    assert "input_shape" not in dumped["model"] and dumped["training"]["seed"] == 0
    again = ExperimentConfig.model_validate(yaml.safe_load(yaml.safe_dump(dumped)))
    assert again.model == cfg.model and again.training == cfg.training
    assert again.features == cfg.features and again.dataset == cfg.dataset
