"""``check_number_fields`` and the one ``from_dict``/``from_json`` of the dataclass configs: a value of the
wrong kind, an unknown key, text that is not JSON, said as such for every config; and the one line a
pydantic config's ValidationError becomes (``format_validation_error``)."""

from __future__ import annotations

from typing import Annotated, ClassVar, Literal

import pytest
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from timbrespace.errors import ConfigError
from timbrespace.models import VAEConfig
from timbrespace.models.ddsp import AudioDecoderConfig
from timbrespace.training import TrainConfig
from timbrespace.utils.fields import check_number_fields, format_validation_error


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


class _Band(BaseModel):
    model_config = ConfigDict(extra="forbid")
    extra_keys: ClassVar[tuple[str, ...]] = ("centre_hz",)  # read by a before-validator

    low_hz: float = Field(20.0, gt=0)
    kind: Literal["peak", "shelf"] = "peak"


class _Filter(BaseModel):
    model_config = ConfigDict(extra="forbid")

    n_taps: int = Field(16, ge=1)
    bands: dict[str, _Band] = {}
    shelf: Annotated[_Band | None, "a note"] = None

    @model_validator(mode="after")
    def _odd(self) -> _Filter:
        if self.n_taps % 2 == 0:
            raise ValueError(f"n_taps={self.n_taps} must be odd")
        return self


def _line(data: dict, source: str = "f.yaml", model: type[BaseModel] | None = _Filter) -> str:
    with pytest.raises(ValidationError) as info:
        _Filter.model_validate(data)
    return format_validation_error(info.value, source, model=model)


@pytest.mark.parametrize(("data", "line"), [
    ({"n_taps": 0}, "f.yaml: n_taps=0 must be >= 1"),
    ({"n_taps": "many"}, "f.yaml: n_taps='many' must be an integer"),
    ({"bands": {"lo": {"low_hz": -2.5}}}, "f.yaml: bands.lo.low_hz=-2.5 must be > 0"),
    ({"n_taps": 4}, "f.yaml: n_taps=4 must be odd"),  # our message, as it is
    ({"bands": {"lo": {"kind": "notch"}}}, "f.yaml: bands.lo.kind='notch' is not allowed: 'peak' or 'shelf'"),
    ({"bands": {"lo": {"high_hz": 3}}}, "f.yaml: bands.lo.high_hz: unknown key; allowed: low_hz, kind, centre_hz"),
    ({"shelf": {"q": 1}}, "f.yaml: shelf.q: unknown key; allowed: low_hz, kind, centre_hz"),
    ({"taps": 3}, "f.yaml: taps: unknown key; allowed: n_taps, bands, shelf"),
    ({"bands": []}, "f.yaml: bands must be a mapping, got list"),
    ({"n_taps": [1]}, "f.yaml: n_taps must be an integer, got list"),
])
def test_a_validation_error_is_one_line_naming_path_and_problem(data: dict, line: str) -> None:
    assert _line(data) == line


def test_without_a_model_or_source_the_unknown_key_is_named_alone() -> None:
    assert _line({"taps": 3}, source="", model=None) == "taps: unknown key"


def test_past_three_errors_the_line_counts_the_rest() -> None:
    line = _line({"a": 1, "b": 2, "c": 3, "d": 4, "n_taps": 0})
    assert line == ("f.yaml: n_taps=0 must be >= 1; a: unknown key; allowed: n_taps, bands, shelf; "
                    "b: unknown key; allowed: n_taps, bands, shelf [+2 more]")
    assert "\n" not in line
