"""``check_number_fields`` and the one ``from_dict``/``from_json`` of the dataclass configs: a value of the
wrong kind, an unknown key, text that is not JSON, said as such for every config."""

from __future__ import annotations

import pytest

from timbrespace.errors import ConfigError
from timbrespace.models import VAEConfig
from timbrespace.models.ddsp import AudioDecoderConfig
from timbrespace.training import TrainConfig
from timbrespace.utils.fields import check_number_fields


@pytest.mark.parametrize(("data", "message"), [
    ({"latent_dim": "abc"}, "latent_dim='abc' must be an integer"),
    ({"latent_dim": 2.5}, "latent_dim=2.5 must be an integer"),
    ({"beta": True}, "beta=True must be a number"),
    ({"beta": "4"}, "beta='4' must be a number"),
    ({"dataset_size": "many"}, "dataset_size='many' must be an integer"),  # int | None
])
def test_refuses_what_is_not_a_number(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^{message}$"):
        check_number_fields(VAEConfig, data)
    with pytest.raises(ConfigError, match=f"^{message}$"):
        VAEConfig.from_dict(data)


def test_passes_numbers_none_and_other_fields() -> None:
    check_number_fields(VAEConfig, {"latent_dim": 4, "beta": 2, "output_variance": 0.5, "dataset_size": None,
                                    "latent_dim_unknown": "x", "hidden_sizes": [8], "activation": "relu"})
    check_number_fields(VAEConfig, {"latent_dim": 4.0})  # a whole float is an integer (YAML 4.0)
    assert VAEConfig.from_dict({"latent_dim": 3, "beta": 2}).beta == 2
    with pytest.raises(ConfigError, match="^lr='fast' must be a number$"):
        TrainConfig.from_dict({"lr": "fast"})


@pytest.mark.parametrize("cls, what", [(VAEConfig, "model config"), (TrainConfig, "train config")])
def test_json_that_is_not_json_is_one_config_error(cls, what):
    with pytest.raises(ConfigError, match=f"^{what} is not valid JSON: "):
        cls.from_json("{epochs: 3")


@pytest.mark.parametrize("cls, what", [(VAEConfig, "model config"), (TrainConfig, "train config"),
                                       (AudioDecoderConfig, "audio decoder")])
def test_unknown_keys_and_non_mappings_are_named(cls, what):
    with pytest.raises(ConfigError, match=rf"^unknown {what} keys \['nope'\]; allowed: "):
        cls.from_dict({"nope": 1})
    with pytest.raises(ConfigError, match=f"^{what} must be a mapping, got list$"):
        cls.from_dict([1, 2])


def test_train_config_round_trips_and_refuses_beta():
    config = TrainConfig(epochs=3, batch_size=8)
    assert TrainConfig.from_json(config.to_json()) == config
    with pytest.raises(ConfigError, match="beta belongs to the model"):
        TrainConfig.from_json('{"beta": 4}')
    with pytest.raises(ConfigError, match="epochs='3' must be an integer"):
        TrainConfig.from_dict({"epochs": "3"})
