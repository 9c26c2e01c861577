"""The sound-model interface: parameters declared as data, vectorised batch rendering.

A sound model declares its :class:`Parameter` s (name, range, scale, unit, doc) and
renders a whole batch at once from one array per parameter. Per-item randomness comes
from ``(seed, item_index)`` so that rendering 256 items in one batch gives exactly what
8 batches of 32 give (the torchsynth habit; DSGenerator's fault was a seed reset on every
call).
"""

from __future__ import annotations

import difflib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar, Literal

import numpy as np
from numpy.typing import ArrayLike

from timbrespace.errors import ParameterError
from timbrespace.utils.limits import MAX_SAMPLE_RATE_HZ, check_sample_rate  # noqa: F401 (re-exported)

__all__ = ["Parameter", "SoundModel", "Scale", "closest_name", "check_render_args"]

Scale = Literal["linear", "log", "exp2"]


def closest_name(name: str, names: list[str] | tuple[str, ...]) -> str:
    """Return ``" (did you mean 'x'?)"`` for the closest of ``names``, or ``""``."""
    match = difflib.get_close_matches(name, list(names), n=1, cutoff=0.5)
    return f" (did you mean {match[0]!r}?)" if match else ""


@dataclass(frozen=True)
class Parameter:
    """A sound-model parameter declared as data.

    Parameters
    ----------
    name : str
        Identifier with a unit suffix where it has one (``f0_hz``, ``decay_per_s``).
    minimum, maximum : float
        Allowed closed range, in ``unit``.
    default : float
        Value used when a render call does not give the parameter.
    unit : str
        Physical unit (``"Hz"``, ``"dB/octave"``, ``"1/s"``), ``""`` if dimensionless.
    scale : {"linear", "log", "exp2"}
        How a normalised value ``u`` in [0, 1] maps to the range: ``linear``
        ``min + u (max - min)``; ``log`` geometric ``min (max/min)^u``; ``exp2`` linear in
        the exponent itself, the physical quantity being ``2**value`` (DSGenerator's
        ``_exp`` parameters such as ``rate_exp``).
    doc : str
        One line saying what the parameter does.
    choices : tuple of str, optional
        For a categorical parameter: the labels, whose integer codes ``0..len-1`` are the
        parameter's values (``minimum=0``, ``maximum=len-1``).
    integer : bool
        Values must be whole numbers (e.g. a number of partials).

    Examples
    --------
    >>> from timbrespace.synths import Parameter
    >>> p = Parameter("cutoff_hz", 20.0, 20000.0, 1000.0, unit="Hz", scale="log")
    >>> p.from_unit([0.0, 0.5, 1.0]).round(1).tolist()
    [20.0, 632.5, 20000.0]
    >>> p.range_text()
    '20..20000 Hz'
    """

    name: str
    minimum: float
    maximum: float
    default: float
    unit: str = ""
    scale: Scale = "linear"
    doc: str = ""
    choices: tuple[str, ...] | None = None
    integer: bool = False

    def __post_init__(self) -> None:
        if not self.minimum <= self.default <= self.maximum:
            raise ParameterError(
                f"parameter {self.name!r}: default {self.default} outside {self.minimum}..{self.maximum}"
            )
        if self.scale == "log" and self.minimum <= 0:
            raise ParameterError(f"parameter {self.name!r}: log scale needs minimum > 0")

    @property
    def is_categorical(self) -> bool:
        return self.choices is not None

    def range_text(self) -> str:
        """Human-readable allowed range, e.g. ``20..5000 Hz`` or ``one of all, odd, even``."""
        if self.choices is not None:
            return "one of " + ", ".join(f"{i}={c}" for i, c in enumerate(self.choices))
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.minimum:g}..{self.maximum:g}{unit}"

    def from_unit(self, u: ArrayLike) -> np.ndarray:
        """Map normalised values ``u`` in [0, 1] onto the parameter's range (see ``scale``)."""
        u = np.asarray(u, dtype=np.float64)
        if self.scale == "log":
            values = self.minimum * (self.maximum / self.minimum) ** u
        else:
            values = self.minimum + u * (self.maximum - self.minimum)
        if self.integer or self.choices is not None:
            values = np.round(values)
        return values

    def to_unit(self, values: ArrayLike) -> np.ndarray:
        """Inverse of :meth:`from_unit`."""
        v = np.asarray(values, dtype=np.float64)
        if self.maximum == self.minimum:
            return np.zeros_like(v)
        if self.scale == "log":
            return np.log(v / self.minimum) / np.log(self.maximum / self.minimum)
        return (v - self.minimum) / (self.maximum - self.minimum)

    def coerce(self, values: ArrayLike) -> np.ndarray:
        """Convert labels to codes for categorical parameters, then validate the range.

        Raises
        ------
        ParameterError
            On NaN/inf, values outside ``minimum..maximum``, unknown labels, or non-integer
            values of an integer parameter. The message names the parameter, the first bad
            value and the allowed range with its unit.
        """
        arr = np.asarray(values)
        if self.choices is not None and arr.dtype.kind in "US O".replace(" ", ""):
            flat = arr.reshape(-1)
            codes = np.empty(flat.shape, dtype=np.float64)
            for i, label in enumerate(flat):
                label = str(label)
                if label in self.choices:
                    codes[i] = self.choices.index(label)
                else:
                    try:
                        codes[i] = float(label)
                    except ValueError:
                        raise ParameterError(
                            f"{self.name}={label!r} is not allowed: {self.range_text()}"
                            f"{closest_name(label, self.choices)}"
                        ) from None
            arr = codes.reshape(arr.shape)
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError):
            bad_value = next((v for v in arr.reshape(-1) if not _is_number(v)), arr.dtype)
            raise ParameterError(f"{self.name}={str(bad_value)!r} is not a number: allowed {self.range_text()}") from None
        bad = ~np.isfinite(arr)
        if bad.any():
            raise ParameterError(f"{self.name}={arr[bad].flat[0]} is not a finite number")
        # A tiny tolerance so that values computed by spacing formulas hit the end points.
        tol = 1e-9 * max(1.0, abs(self.maximum), abs(self.minimum))
        out = (arr < self.minimum - tol) | (arr > self.maximum + tol)
        if out.any():
            raise ParameterError(
                f"{self.name}={arr[out].flat[0]:g} is out of range: allowed {self.range_text()}"
            )
        if self.integer or self.choices is not None:
            if not np.allclose(arr, np.round(arr)):
                raise ParameterError(f"{self.name} must be a whole number, got {arr[arr != np.round(arr)].flat[0]:g}")
            arr = np.round(arr)
        return np.clip(arr, self.minimum, self.maximum)

    def to_dict(self) -> dict[str, object]:
        return {
            "name": self.name,
            "minimum": self.minimum,
            "maximum": self.maximum,
            "default": self.default,
            "unit": self.unit,
            "scale": self.scale,
            "doc": self.doc,
            "choices": list(self.choices) if self.choices is not None else None,
            "integer": self.integer,
        }


MAX_DURATION_S = 600.0
# Samples of one render call (all items together): 2**27 float32 samples are 512 MiB.
MAX_RENDER_SAMPLES = 2**27


def check_render_args(sample_rate: int, duration_s: float) -> int:
    """Validate ``sample_rate`` (Hz) and ``duration_s`` (s); return the sample count.

    Raises
    ------
    ParameterError
        If either is not a positive finite number, is outside its range
        (:func:`~timbrespace.utils.limits.check_sample_rate`, :data:`MAX_DURATION_S`), or
        the render would be empty.

    Examples
    --------
    >>> from timbrespace.synths import check_render_args
    >>> check_render_args(8000, 0.1)
    800
    """
    check_sample_rate(sample_rate)
    if not np.isfinite(duration_s) or duration_s <= 0:
        raise ParameterError(f"duration_s={duration_s!r} must be a positive number of seconds")
    if duration_s > MAX_DURATION_S:
        raise ParameterError(
            f"duration_s={duration_s:g} s is above the limit of {MAX_DURATION_S:g} s per item; "
            "for long textures render shorter variations (dataset 'variations')"
        )
    n_samples = int(round(float(duration_s) * int(sample_rate)))
    if n_samples < 1:
        raise ParameterError(f"duration_s={duration_s} at sample_rate={sample_rate} gives no samples")
    return n_samples


class SoundModel(ABC):
    """Base class of every sound model.

    Subclasses set ``name``, ``description`` and ``parameters`` and implement
    :meth:`_render`, which receives validated float64 arrays of equal length.

    Examples
    --------
    >>> from timbrespace.synths import get_sound_model
    >>> model = get_sound_model("additive")
    >>> audio = model.render({"f0_hz": [220.0, 440.0]}, sample_rate=22050, duration_s=0.5)
    >>> audio.shape, audio.dtype
    ((2, 11025), dtype('float32'))
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    parameters: ClassVar[tuple[Parameter, ...]] = ()
    default_sample_rate: ClassVar[int] = 22050
    default_duration_s: ClassVar[float] = 1.0
    #: Source of the model (seed, paper), shown by ``timbrespace synths``.
    reference: ClassVar[str] = ""

    @classmethod
    def parameter(cls, name: str) -> Parameter:
        """Return the declared parameter ``name``.

        Raises
        ------
        ParameterError
            If the model has no such parameter (the closest name is suggested).
        """
        for p in cls.parameters:
            if p.name == name:
                return p
        names = [p.name for p in cls.parameters]
        raise ParameterError(
            f"sound model {cls.name!r} has no parameter {name!r}{closest_name(name, names)}; "
            f"parameters: {', '.join(names)}"
        )

    @classmethod
    def parameter_names(cls) -> list[str]:
        return [p.name for p in cls.parameters]

    def validate(self, params: Mapping[str, ArrayLike]) -> dict[str, np.ndarray]:
        """Check names, ranges and lengths; fill defaults; broadcast scalars.

        Returns
        -------
        dict of str to np.ndarray [shape=(n_items,), dtype=float64]
            One array per declared parameter, categorical labels turned into codes.

        Raises
        ------
        ParameterError
            Unknown name (closest suggested), value out of range (name, value, range with
            unit), arrays of unequal length.
        """
        for key in params:
            self.parameter(key)
        arrays: dict[str, np.ndarray] = {}
        lengths: dict[str, int] = {}
        for key, value in params.items():
            arr = self.parameter(key).coerce(value)
            if arr.ndim > 1:
                raise ParameterError(f"{key}: expected a scalar or 1-D array, got shape {arr.shape}")
            arrays[key] = arr
            if arr.ndim == 1:
                lengths[key] = arr.shape[0]
        if len(set(lengths.values())) > 1:
            desc = ", ".join(f"{k}: {n}" for k, n in lengths.items())
            raise ParameterError(f"parameter arrays have unequal lengths ({desc})")
        n_items = next(iter(lengths.values())) if lengths else 1
        out: dict[str, np.ndarray] = {}
        for p in self.parameters:
            value = arrays.get(p.name, np.float64(p.default))
            out[p.name] = np.broadcast_to(value, (n_items,)).astype(np.float64)
        return out

    def render(
        self,
        params: Mapping[str, ArrayLike],
        *,
        sample_rate: int | None = None,
        duration_s: float | None = None,
        seed: int = 0,
        item_index: ArrayLike | None = None,
    ) -> np.ndarray:
        """Render a batch of sounds.

        Parameters
        ----------
        params : mapping of str to array-like of shape (n_items,) or scalar
            Values in each parameter's declared unit; omitted parameters take their
            default; categorical parameters accept labels or integer codes.
        sample_rate : int, optional
            Hz (default: the model's ``default_sample_rate``).
        duration_s : float, optional
            Seconds (default: the model's ``default_duration_s``).
        seed : int
            Global seed. Item ``i``'s randomness depends on ``(seed, item_index[i])`` only.
        item_index : array-like of int, shape (n_items,), optional
            Global index of each item in its dataset (default ``0..n_items-1``).

        Returns
        -------
        np.ndarray [shape=(n_items, n_samples), dtype=float32]
            Mono audio, ``n_samples = round(duration_s * sample_rate)``, peak ≤ 1.

        Raises
        ------
        ParameterError
            Bad names, ranges, lengths, sample rate or duration.
        """
        sample_rate = self.default_sample_rate if sample_rate is None else sample_rate
        duration_s = self.default_duration_s if duration_s is None else duration_s
        n_samples = check_render_args(sample_rate, duration_s)
        values = self.validate(params)
        n_items = next(iter(values.values())).shape[0] if values else 1
        if n_items * n_samples > MAX_RENDER_SAMPLES:
            raise ParameterError(
                f"{n_items} items × {n_samples} samples is above the limit of {MAX_RENDER_SAMPLES} "
                "samples per render call; render fewer items at a time"
            )
        if item_index is None:
            index = np.arange(n_items, dtype=np.int64)
        else:
            index = np.asarray(item_index, dtype=np.int64).reshape(-1)
            if index.shape[0] != n_items:
                raise ParameterError(
                    f"item_index has {index.shape[0]} entries for {n_items} items"
                )
        audio = self._render(
            values, sample_rate=int(sample_rate), n_samples=n_samples, seed=int(seed), item_index=index
        )
        audio = np.asarray(audio, dtype=np.float32)
        if audio.shape != (n_items, n_samples):  # pragma: no cover - programming error guard
            raise RuntimeError(f"{self.name} rendered {audio.shape}, expected {(n_items, n_samples)}")
        return audio

    @abstractmethod
    def _render(
        self,
        params: dict[str, np.ndarray],
        *,
        sample_rate: int,
        n_samples: int,
        seed: int,
        item_index: np.ndarray,
    ) -> np.ndarray:
        """Render validated parameters to ``(n_items, n_samples)`` audio."""

    @classmethod
    def describe(cls) -> dict[str, object]:
        """JSON-able description: name, description, reference, parameters."""
        return {
            "name": cls.name,
            "description": cls.description,
            "reference": cls.reference,
            "default_sample_rate": cls.default_sample_rate,
            "default_duration_s": cls.default_duration_s,
            "parameters": [p.to_dict() for p in cls.parameters],
        }


def _is_number(value: object) -> bool:
    try:
        float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False
    return True
