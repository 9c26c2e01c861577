"""The values the explorer passes around: clips, decode options, latent labels, items, paths, exports."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf

from timbrespace.errors import ParameterError

__all__ = ["Clip", "Encoding", "ExportPart", "ItemTable", "LatentInfo", "Option", "PathResult", "peak_safe", "wav_bytes"]

_PEAK_CEILING = 10 ** (-1.0 / 20)  # -1 dBFS


def peak_safe(audio: np.ndarray) -> np.ndarray:
    """``audio`` as float32, scaled down to −1 dBFS if its peak is above that (never clipped).

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,)]

    Returns
    -------
    np.ndarray [shape=(n_samples,), dtype=float32]
    """
    y = np.asarray(audio, dtype=np.float32).reshape(-1)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return y * np.float32(_PEAK_CEILING / peak) if peak > _PEAK_CEILING else y


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """Mono 16-bit PCM WAV of :func:`peak_safe` ``(audio)``.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,), dtype=float32]
    sample_rate : int
        Hz.

    Returns
    -------
    bytes
        A complete RIFF/WAVE file.
    """
    buf = io.BytesIO()
    sf.write(buf, peak_safe(audio), int(sample_rate), format="WAV", subtype="PCM_16")
    return buf.getvalue()


@dataclass(frozen=True)
class Clip:
    """A decoded sound.

    Attributes
    ----------
    audio : np.ndarray [shape=(n_samples,), dtype=float32]
        Mono.
    sample_rate : int
        Hz.
    pattern : np.ndarray [shape=(n_steps, n_voices) or (n_bars, n_steps, n_voices), dtype=float32] or None
        A drum run's groove (velocities in [0, 1]): one bar (looped in ``audio``), or the
        bars of a path played one after the other.
    step_starts_s : tuple of float
        Where each step of a path starts in ``audio`` (seconds); empty for one clip.
    clipped_fraction : float
        Fraction of the decoded feature values that lay outside the stored range and were
        brought into it (:func:`~timbrespace.explore.limits.soft_limit`) before inversion;
        0 for runs that decode to no features (grooves). Above a few per cent the point is
        off what the model learnt and the sound means little.
    """

    audio: np.ndarray
    sample_rate: int
    pattern: np.ndarray | None = None
    step_starts_s: tuple[float, ...] = ()
    clipped_fraction: float = 0.0

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def rms(self) -> float:
        """Root mean square of the samples as delivered (:func:`peak_safe`; linear, full scale 1)."""
        y = peak_safe(self.audio)
        return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0

    def wav(self) -> bytes:
        """The clip as a WAV file (see :func:`wav_bytes`)."""
        return wav_bytes(self.audio, self.sample_rate)


@dataclass(frozen=True)
class Option:
    """A decode option a run kind takes beside ``z`` (a drum kit, a descriptor, a tempo).

    A choice has ``values`` (and optional display ``labels``); a number has ``min``,
    ``max`` and ``step``. The page draws one control per option.
    """

    name: str
    label: str
    default: Any
    values: tuple[Any, ...] | None = None
    labels: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    unit: str = ""

    def check(self, value: Any) -> Any:
        """``value`` converted to the option's type.

        Raises
        ------
        ParameterError
            Not one of ``values``, or not a finite number in ``[min, max]``.
        """
        if self.values is not None:
            for allowed in self.values:
                if value == allowed or (isinstance(allowed, str) and str(value).lower() == allowed.lower()):
                    return allowed
            shown = ", ".join(str(v) for v in self.values[:20]) + (", …" if len(self.values) > 20 else "")
            raise ParameterError(f"{self.name}={value!r} is not allowed: one of {shown}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ParameterError(f"{self.name}={value!r} must be a finite number in {self.min:g}..{self.max:g}{self.unit}")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ParameterError(f"{self.name}={value!r} is out of range: allowed {self.min:g}..{self.max:g}{self.unit}")
        if isinstance(self.default, int) and value != int(value):
            raise ParameterError(f"{self.name}={value!r} must be a whole number in {self.min:g}..{self.max:g}")
        return type(self.default)(value)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "label": self.label, "default": self.default, "unit": self.unit}
        if self.values is not None:
            out["values"] = list(self.values)
            out["labels"] = list(self.labels) if self.labels is not None else [str(v) for v in self.values]
        else:
            out.update(min=self.min, max=self.max, step=self.step)
        return out


@dataclass(frozen=True)
class LatentInfo:
    """What the page labels a latent's slider with.

    Attributes
    ----------
    index : int
    kl_nats : float
        Mean KL of the posterior to the prior over the items. A latent is listed when it
        is active (:func:`timbrespace.metrics.active_latents`: Var(mu) over the items > 0.01).
    best_factor : str
        The factor this latent shares the most normalised mutual information with.
    mig : float
        This latent's gap for its best factor: its MI minus the largest MI of any other
        latent, over the factor's entropy, floored at 0. It equals the factor's MIG
        when this latent is the factor's most informative one, and is 0 otherwise.
    range : tuple of float
        Items' smallest and largest mean, widened by 10 % on each side.
    """

    index: int
    kl_nats: float
    best_factor: str
    mig: float
    range: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "kl_nats": round(self.kl_nats, 6), "best_factor": self.best_factor,
                "mig": round(self.mig, 6), "range": [round(v, 6) for v in self.range]}


@dataclass(frozen=True)
class ItemTable:
    """The dataset's items as the explorer shows them.

    Attributes
    ----------
    ids : list of str
    latents : np.ndarray [shape=(n_items, latent_dim), dtype=float32]
        Posterior means ``mu``.
    factors : pandas.DataFrame
        One column per factor, in physical units or labels.
    split : list of str
    """

    ids: list[str]
    latents: np.ndarray
    factors: pd.DataFrame
    split: list[str]

    def to_dict(self) -> dict[str, Any]:
        factors = {}
        for name in self.factors.columns:
            col = self.factors[name]
            factors[name] = [_jsonable(v) for v in col.tolist()]
        return {"ids": self.ids, "latents": np.round(self.latents.astype(np.float64), 5).tolist(),
                "factors": factors, "split": self.split}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return round(float(v), 6) if math.isfinite(v) else None
    return v if isinstance(v, (int, str, bool)) or v is None else str(v)


@dataclass(frozen=True)
class PathResult:
    """Linear and spherical paths between two items, decoded.

    Attributes
    ----------
    a, b : int
        Item indices of the end points.
    t : np.ndarray [shape=(steps,)]
    z : dict of str to np.ndarray [shape=(steps, latent_dim)]
        ``"lerp"`` and ``"slerp"``.
    clips : dict of str to Clip
        The steps played one after the other.
    """

    a: int
    b: int
    t: np.ndarray
    z: dict[str, np.ndarray]
    clips: dict[str, Clip]


@dataclass(frozen=True)
class Encoding:
    """A recording encoded by a run (``POST /api/encode``).

    Attributes
    ----------
    z : np.ndarray [shape=(latent_dim,), dtype=float32]
        The encoder's posterior mean: decode it to hear the reconstruction.
    clipped_fraction : float
        Fraction of the recording's features outside the range of the stored features
        (the range :func:`~timbrespace.explore.limits.feature_range` gives; 0 when it is
        unknown, and for per-item min-max features, which span [0, 1] by construction).
        Above a few per cent the recording is unlike anything the model was trained on.
    notes : tuple of str
        What was done to the recording to match the run's features (resampled, trimmed,
        zero-padded).
    options : dict of str to float
        Decode options measured in the recording, to pass with ``z`` to ``/api/decode``:
        for a DDSP decoder with a tuning head, ``tuning_cents`` and ``tuning_stiffness``
        (its partials' tuning beyond what ``z`` gives); empty otherwise.
    """

    z: np.ndarray
    clipped_fraction: float = 0.0
    notes: tuple[str, ...] = ()
    options: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"z": np.round(self.z.astype(np.float64), 6).tolist(),
                "clipped_fraction": round(float(self.clipped_fraction), 6), "notes": list(self.notes),
                "options": {k: float(v) for k, v in self.options.items()}}


@dataclass(frozen=True)
class ExportPart:
    """A module to export and what a user needs to run it outside Python.

    Attributes
    ----------
    module : torch.nn.Module
        In eval mode; its ``forward`` takes ``example_inputs``.
    example_inputs : tuple of torch.Tensor
        Batch dimension first (exported as dynamic).
    input_names, output_names : tuple of str
    metadata : dict
        JSON-able: run kind, part, shapes, and the feature config (sidecar) that turns the
        decoder's output back into sound.
    """

    module: Any
    example_inputs: tuple[Any, ...]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)
