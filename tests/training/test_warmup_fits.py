"""The β a run trains at is the β its config says: a warm-up longer than training is scaled."""

from __future__ import annotations

import logging
import math
from importlib import resources
from pathlib import Path

import numpy as np
import pytest
import yaml

from timbrespace.models import VAEConfig
from timbrespace.training import TrainConfig, fit

NOTES_ITEMS = 276  # ../shared/data/notes, the dataset of the configs without a dataset section


def test_long_warmup_is_scaled_and_beta_reaches_its_value(tmp_path: Path, caplog) -> None:
    x = np.random.default_rng(0).uniform(0, 1, size=(64, 8)).astype(np.float32)
    model = VAEConfig(input_shape=(8,), latent_dim=2, hidden_sizes=(16,), beta=4.0)
    config = TrainConfig(epochs=3, batch_size=16, beta_schedule="linear", warmup_steps=1000)  # 12 steps
    with caplog.at_level(logging.WARNING):
        result = fit(model, config, x, out_dir=tmp_path)
    assert result.history[-1].beta == pytest.approx(4.0)
    lines = [r.getMessage() for r in caplog.records if "warmup_steps=1000" in r.getMessage()]
    assert len(lines) == 1 and "scaled to 6 steps" in lines[0]


def test_short_warmup_is_kept() -> None:
    config = TrainConfig(epochs=3, batch_size=16, beta_schedule="linear", warmup_steps=11)
    assert config.fitted_warmup(64) is config
    assert TrainConfig(epochs=3, batch_size=16, warmup_steps=5000).fitted_warmup(64).warmup_steps == 5000  # constant


def _n_train(data: dict) -> int:
    dataset = data.get("dataset")
    if not dataset:
        n = NOTES_ITEMS
        splits = {"train": 0.8}
    else:
        assert dataset.get("sampling", {}).get("method", "grid") == "grid"
        n = math.prod(int(p["n"]) for p in dataset["parameters"].values())
        splits = dataset.get("splits", {"train": 0.8})
    return int(n * splits["train"])


@pytest.mark.parametrize("name", sorted(p.name for p in resources.files("timbrespace.experiments.configs").iterdir()
                                        if p.name.endswith(".yaml")))
def test_every_shipped_config_reaches_its_beta(name: str) -> None:
    data = yaml.safe_load(resources.files("timbrespace.experiments.configs").joinpath(name).read_text())
    training = data.get("training", {})
    config = TrainConfig(**{k: v for k, v in training.items() if k in TrainConfig.__dataclass_fields__})
    if config.beta_schedule != "linear":
        return
    n_train = _n_train(data)
    total = config.epochs * config.steps_per_epoch(n_train)
    assert config.warmup_steps < total, f"{name}: warm-up {config.warmup_steps} of {total} steps"
    assert config.fitted_warmup(n_train) is config
