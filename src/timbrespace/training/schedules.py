"""β schedules: objects that give β at the current optimiser step and survive a resume.

Each schedule counts optimiser steps; :meth:`BetaSchedule.step` advances it and
:attr:`BetaSchedule.value` is β now. ``state_dict``/``load_state_dict`` hold plain JSON
values, so a checkpoint resumes the schedule exactly (the RAVE habit, STYLE.md).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from typing import Any

from timbrespace.errors import ConfigError, ParameterError

__all__ = ["BetaSchedule", "ConstantBeta", "LinearWarmup", "CyclicalBeta", "make_beta_schedule"]


class BetaSchedule(ABC):
    """Base class: β as a function of the optimiser step count."""

    name: str = ""

    def __init__(self) -> None:
        self.step_count = 0

    @abstractmethod
    def value_at(self, step: int) -> float:
        """β after ``step`` optimiser steps."""

    @property
    def value(self) -> float:
        """β at the current step."""
        return self.value_at(self.step_count)

    def step(self) -> None:
        """Advance by one optimiser step."""
        self.step_count += 1

    def _params(self) -> dict[str, Any]:
        return {}

    def state_dict(self) -> dict[str, Any]:
        """JSON-able state: the schedule's name, parameters and step count."""
        return {"name": self.name, "step_count": self.step_count, **self._params()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore :meth:`state_dict` output.

        Raises
        ------
        ConfigError
            If the state belongs to another kind of schedule or another parameterisation.
        """
        if state.get("name") != self.name:
            raise ConfigError(
                f"beta schedule state is for {state.get('name')!r}, this schedule is {self.name!r}"
            )
        params = {k: v for k, v in state.items() if k not in ("name", "step_count")}
        if params != self._params():
            raise ConfigError(
                f"beta schedule state has parameters {params}, this schedule has {self._params()}"
            )
        self.step_count = int(state["step_count"])

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        return f"{type(self).__name__}({args}, step_count={self.step_count})"


class ConstantBeta(BetaSchedule):
    """β fixed at ``beta``.

    Examples
    --------
    >>> from timbrespace.training import ConstantBeta
    >>> schedule = ConstantBeta(4.0)
    >>> schedule.value_at(0), schedule.value_at(10_000)
    (4.0, 4.0)
    """

    name = "constant"

    def __init__(self, beta: float) -> None:
        super().__init__()
        self.beta = float(beta)

    def value_at(self, step: int) -> float:
        return self.beta

    def _params(self) -> dict[str, Any]:
        return {"beta": self.beta}


class LinearWarmup(BetaSchedule):
    """β rising linearly from ``beta_start`` to ``beta`` over ``warmup_steps`` steps, then constant.

    References
    ----------
    Bowman et al., "Generating sentences from a continuous space", CoNLL 2016 (KL annealing);
    seed 000's β warm-up.

    Examples
    --------
    >>> from timbrespace.training import LinearWarmup
    >>> schedule = LinearWarmup(4.0, warmup_steps=100)
    >>> [schedule.value_at(step) for step in (0, 50, 100, 200)]
    [0.0, 2.0, 4.0, 4.0]
    >>> schedule.step()  # one optimiser step; the count is saved with the checkpoint
    >>> schedule.state_dict()["step_count"], schedule.value
    (1, 0.04)
    """

    name = "linear"

    def __init__(self, beta: float, warmup_steps: int, *, beta_start: float = 0.0) -> None:
        super().__init__()
        if warmup_steps < 1:
            raise ParameterError(f"warmup_steps={warmup_steps} must be a positive integer")
        self.beta, self.warmup_steps, self.beta_start = (
            float(beta),
            int(warmup_steps),
            float(beta_start),
        )

    def value_at(self, step: int) -> float:
        frac = min(1.0, step / self.warmup_steps)
        return self.beta_start + frac * (self.beta - self.beta_start)

    def _params(self) -> dict[str, Any]:
        return {"beta": self.beta, "warmup_steps": self.warmup_steps, "beta_start": self.beta_start}


class CyclicalBeta(BetaSchedule):
    """Cyclical annealing: each cycle of ``cycle_steps`` rises linearly over ``ratio`` of it, then holds.

    References
    ----------
    Fu et al., "Cyclical annealing schedule: a simple approach to mitigating KL vanishing",
    NAACL 2019.

    Examples
    --------
    >>> from timbrespace.training import CyclicalBeta
    >>> schedule = CyclicalBeta(1.0, cycle_steps=100, ratio=0.5)
    >>> [schedule.value_at(step) for step in (0, 25, 50, 75, 100, 125)]
    [0.0, 0.5, 1.0, 1.0, 0.0, 0.5]
    """

    name = "cyclical"

    def __init__(
        self, beta: float, cycle_steps: int, *, ratio: float = 0.5, beta_start: float = 0.0
    ) -> None:
        super().__init__()
        if cycle_steps < 1:
            raise ParameterError(f"cycle_steps={cycle_steps} must be a positive integer")
        if not 0.0 < ratio <= 1.0:
            raise ParameterError(f"ratio={ratio} must be in (0, 1]")
        self.beta, self.cycle_steps = float(beta), int(cycle_steps)
        self.ratio, self.beta_start = float(ratio), float(beta_start)

    def value_at(self, step: int) -> float:
        phase = (step % self.cycle_steps) / self.cycle_steps
        frac = min(1.0, phase / self.ratio)
        return self.beta_start + frac * (self.beta - self.beta_start)

    def _params(self) -> dict[str, Any]:
        return {
            "beta": self.beta,
            "cycle_steps": self.cycle_steps,
            "ratio": self.ratio,
            "beta_start": self.beta_start,
        }


def make_beta_schedule(
    name: str,
    beta: float,
    *,
    warmup_steps: int = 1000,
    cycle_steps: int = 1000,
    cycle_ratio: float = 0.5,
    beta_start: float = 0.0,
) -> BetaSchedule:
    """Schedule by name: ``constant``, ``linear`` (warm-up) or ``cyclical``.

    Raises
    ------
    ConfigError
        For an unknown name.

    Examples
    --------
    >>> from timbrespace.training import make_beta_schedule
    >>> make_beta_schedule("linear", 4.0, warmup_steps=10)
    LinearWarmup(beta=4.0, warmup_steps=10, beta_start=0.0, step_count=0)
    >>> type(make_beta_schedule("cyclical", 1.0, cycle_steps=100)).__name__
    'CyclicalBeta'
    """
    if not math.isfinite(beta) or beta < 0:
        raise ParameterError(f"beta={beta} must be a finite number >= 0")
    if name == "constant":
        return ConstantBeta(beta)
    if name == "linear":
        return LinearWarmup(beta, warmup_steps, beta_start=beta_start)
    if name == "cyclical":
        return CyclicalBeta(beta, cycle_steps, ratio=cycle_ratio, beta_start=beta_start)
    raise ConfigError(f"beta_schedule={name!r} is not allowed: one of constant, linear, cyclical")
