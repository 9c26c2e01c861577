"""The shared bounds (issue 32): one sample-rate and one seed validator, used everywhere."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.utils.limits import MAX_SEED, check_sample_rate, check_seed


@pytest.mark.parametrize("sample_rate", [1000, 8000, 44100, np.int64(48000), 384000])
def test_sample_rates_in_range_pass(sample_rate: int) -> None:
    assert check_sample_rate(sample_rate) == int(sample_rate)


@pytest.mark.parametrize(
    ("sample_rate", "match"),
    [(0, "sample_rate=0 must be a positive integer"), (44100.0, "must be a positive integer"),
     (True, "must be a positive integer"), (999, "sample_rate=999 Hz is out of range: allowed 1000..384000 Hz"),
     (2_000_000_000, "out of range")],
)
def test_sample_rates_out_of_range_are_refused(sample_rate: object, match: str) -> None:
    with pytest.raises(ParameterError, match=match):
        check_sample_rate(sample_rate)


def test_seeds() -> None:
    assert check_seed(0) == 0 and check_seed(MAX_SEED - 1) == MAX_SEED - 1
    for bad in (-1, MAX_SEED, 99999999999999999999999):
        with pytest.raises(ParameterError, match=r"allowed 0 <= seed < 2\*\*32"):
            check_seed(bad)
    with pytest.raises(ParameterError, match="--seed=1.5 must be an integer"):
        check_seed(1.5, "--seed")


def test_every_config_uses_them() -> None:
    from timbrespace.datasets import DatasetConfig
    from timbrespace.experiments import load_experiment_config
    from timbrespace.synths.base import check_render_args
    from timbrespace.training import TrainConfig

    with pytest.raises(ConfigError, match="seed=-1 is out of range"):
        TrainConfig(seed=-1)
    with pytest.raises(ConfigError, match="seed"):
        load_experiment_config(None, {"seed": 2**40})
    with pytest.raises(ValueError, match=r"seed=4294967296 is out of range"):
        DatasetConfig(name="x", sound_model="additive", sample_rate=8000, duration_s=0.1, seed=2**32,
                      parameters={"f0_hz": {"min": 110, "max": 220, "n": 2}})
    with pytest.raises(ParameterError, match="sample_rate=500 Hz is out of range"):
        check_render_args(500, 1.0)
