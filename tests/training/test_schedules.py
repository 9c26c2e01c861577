"""β schedules: values at known steps and state_dict round trips."""

from __future__ import annotations

import json

import pytest

from timbrespace.errors import ConfigError
from timbrespace.training import ConstantBeta, CyclicalBeta, LinearWarmup, make_beta_schedule


def test_linear_warmup_values() -> None:
    s = LinearWarmup(4.0, 10, beta_start=1.0)
    assert [s.value_at(k) for k in (0, 5, 10, 50)] == [1.0, 2.5, 4.0, 4.0]


def test_cyclical_values_repeat_each_cycle() -> None:
    s = CyclicalBeta(2.0, 8, ratio=0.5)
    first = [s.value_at(k) for k in range(8)]
    assert first == [0.0, 0.5, 1.0, 1.5, 2.0, 2.0, 2.0, 2.0]
    assert [s.value_at(k + 16) for k in range(8)] == first


@pytest.mark.parametrize(
    "make",
    [
        lambda: ConstantBeta(3.0),
        lambda: LinearWarmup(4.0, 7),
        lambda: CyclicalBeta(2.0, 5, ratio=0.4),
    ],
)
def test_state_dict_round_trip_resumes_the_sequence(make) -> None:  # noqa: ANN001
    a = make()
    for _ in range(6):
        a.step()
    state = json.loads(json.dumps(a.state_dict()))
    b = make()
    b.load_state_dict(state)
    assert b.step_count == 6
    seq_a, seq_b = [], []
    for _ in range(10):
        seq_a.append(a.value)
        seq_b.append(b.value)
        a.step()
        b.step()
    assert seq_a == seq_b


def test_state_of_another_schedule_is_refused() -> None:
    with pytest.raises(ConfigError, match="is for 'linear'"):
        ConstantBeta(1.0).load_state_dict(LinearWarmup(1.0, 3).state_dict())
    with pytest.raises(ConfigError, match="parameters"):
        LinearWarmup(1.0, 3).load_state_dict(LinearWarmup(1.0, 4).state_dict())
    with pytest.raises(ConfigError, match="beta_schedule='cosine'"):
        make_beta_schedule("cosine", 1.0)


def test_beta_lives_on_the_model_config_only() -> None:
    """TrainConfig has no beta: the schedule rises to VAEConfig.beta; a beta in training is refused."""
    import dataclasses

    from timbrespace.errors import ConfigError
    from timbrespace.training import TrainConfig

    assert "beta" not in {f.name for f in dataclasses.fields(TrainConfig)}
    with pytest.raises(ConfigError, match=r"beta belongs to the model \(model.beta\)"):
        TrainConfig.from_dict({"epochs": 2, "beta": 4.0})
