"""``check_number_fields``: a value of the wrong kind in a dataclass config, said as such."""

from __future__ import annotations

import pytest

from timbrespace.errors import ConfigError
from timbrespace.models import VAEConfig
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
