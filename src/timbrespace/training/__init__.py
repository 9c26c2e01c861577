"""Training VAEs: Lightning module, β schedules, checkpoints (safetensors + JSON), inference helpers.

``fit`` and ``find_last_checkpoint`` are imported on first use, so that inference and
checkpoint loading do not pay Lightning's import time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from timbrespace.training.checkpoint import load_checkpoint, load_model_config, save_checkpoint
from timbrespace.training.config import EpochRecord, TrainConfig, TrainResult
from timbrespace.training.inference import decode_array, encode_array, eval_mode, reconstruct_array
from timbrespace.training.linear import linear_start
from timbrespace.training.refine import refine_decoder, spectral_loss
from timbrespace.training.schedules import (
    BetaSchedule,
    ConstantBeta,
    CyclicalBeta,
    LinearWarmup,
    make_beta_schedule,
)

if TYPE_CHECKING:
    from timbrespace.training.fitting import find_last_checkpoint, fit

__all__ = [
    "TrainConfig",
    "EpochRecord",
    "TrainResult",
    "fit",
    "find_last_checkpoint",
    "encode_array",
    "decode_array",
    "reconstruct_array",
    "eval_mode",
    "linear_start",
    "refine_decoder",
    "spectral_loss",
    "save_checkpoint",
    "load_checkpoint",
    "load_model_config",
    "BetaSchedule",
    "ConstantBeta",
    "LinearWarmup",
    "CyclicalBeta",
    "make_beta_schedule",
]


def __getattr__(name: str) -> Any:
    if name in ("fit", "find_last_checkpoint"):
        from timbrespace.training import fitting

        return getattr(fitting, name)
    raise AttributeError(f"module 'timbrespace.training' has no attribute {name!r}")
