"""Dataset configs: a sound model, a parameter space, a sampling design, splits, a seed.

A config is a YAML (or JSON) file validated by :class:`DatasetConfig` (pydantic v2,
unknown keys refused). Every value is checked against the sound model's declared
:class:`~timbrespace.synths.base.Parameter` ranges before anything is rendered.
DSGenerator's JSON (seed 003) is accepted as it is by :func:`load_dataset_config` and
translated by :mod:`timbrespace.datasets.dsgenerator`.

Example (YAML)::

    name: additive-small
    sound_model: additive
    sample_rate: 16000
    duration_s: 0.5
    fixed: {decay_per_s: 2.0}
    parameters:
      f0_hz: {min: 110, max: 880, n: 4, spacing: log}
      presence: {values: [all, odd, even]}
    sampling: {method: grid}
    splits: {train: 0.8, valid: 0.1, test: 0.1}
    seed: 0
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, ClassVar, Literal

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from timbrespace.datasets.dsgenerator import DSGeneratorSpec
from timbrespace.errors import ConfigError, ParameterError
from timbrespace.synths.base import Parameter, check_render_args
from timbrespace.synths.registry import get_sound_model
from timbrespace.utils.fields import format_validation_error
from timbrespace.utils.limits import check_seed
from timbrespace.utils.paths import safe_name
from timbrespace.utils.yaml_files import load_yaml

__all__ = [
    "DatasetConfig",
    "SweepSpec",
    "SamplingSpec",
    "VariationSpec",
    "load_dataset_config",
    "config_hash",
    "sweep_values",
    "map_unit",
]

Spacing = Literal["linear", "log", "exp2"]


#: Most values one ``start``/``stop``/``step`` sweep may expand to.
MAX_STEP_VALUES = 100_000
_STEP_KEYS = ("start", "stop", "step")


def _step_values(start: Any, stop: Any, step: Any) -> list[float]:
    """``start, start + step, ..., stop`` (both ends included), as seed 001 wrote its grids.

    Seed 001 expanded ``[start, increment, stop]`` with ``np.arange(start, stop + inc, inc)``;
    here the count is ``(stop - start) / step + 1`` exactly, so float steps neither drop
    nor add an end point, and a step that does not land on ``stop`` is refused.
    """
    numbers = {}
    for key, value in (("start", start), ("stop", stop), ("step", step)):
        if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
            raise ValueError(f"{key}={value!r} must be a finite number")
        numbers[key] = float(value)
    start, stop, step = numbers["start"], numbers["stop"], numbers["step"]
    if step == 0:
        raise ValueError("step=0 never reaches stop; give a non-zero step (negative to count down)")
    ratio = (stop - start) / step
    if ratio < -1e-9:
        raise ValueError(f"step={step:g} goes away from stop={stop:g} (start={start:g}); "
                         f"use step={-step:g}")
    n_steps = round(ratio)
    if abs(ratio - n_steps) > 1e-6 * max(1.0, abs(ratio)):
        raise ValueError(f"step={step:g} does not land on stop={stop:g} from start={start:g} "
                         f"({ratio:.6g} steps); give a step that divides {start:g}..{stop:g}")
    if n_steps + 1 > MAX_STEP_VALUES:
        raise ValueError(f"start={start:g}, stop={stop:g}, step={step:g} give {n_steps + 1:,} values, "
                         f"above the limit of {MAX_STEP_VALUES:,} per parameter")
    values = start + step * np.arange(n_steps + 1, dtype=np.float64)
    return [float(v) for v in np.round(values, 12)]


class SweepSpec(BaseModel):
    """One swept parameter: explicit ``values``, ``min``/``max``/``n`` with a spacing, or
    ``start``/``stop``/``step``.

    Spacings: ``linear`` (``np.linspace``), ``log`` (geometric, ``np.geomspace``), and
    ``exp2``: equally spaced in ``2**value`` (the physical quantity of DSGenerator's
    ``_exp`` parameters, e.g. rate = 2**rate_exp events/s), i.e.
    ``log2(linspace(2**min, 2**max, n))``. For random, Sobol and LHS designs ``n`` is
    not used: values are drawn in ``min..max`` with the same spacing, or among
    ``values``. ``start``/``stop``/``step`` is seed 001's form of a grid
    (``{start: -0.1, stop: -0.9, step: -0.1}``: both ends included, a negative step
    counts down); it is read as the ``values`` it lists, which is what the card stores.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
    #: Keys read besides the fields (by ``_expand_steps``): named among the allowed ones.
    extra_keys: ClassVar[tuple[str, ...]] = _STEP_KEYS

    @model_validator(mode="before")
    @classmethod
    def _expand_steps(cls, data: Any) -> Any:
        if not isinstance(data, dict) or ("start" not in data and "stop" not in data):
            return data  # a lone 'step' beside min/max is an unknown key there
        missing = [k for k in _STEP_KEYS if k not in data]
        if missing:
            raise ValueError(f"start/stop/step needs all three; missing {', '.join(missing)}")
        others = [k for k in ("values", "min", "max", "n", "spacing") if k in data]
        if others:
            raise ValueError(f"give either start/stop/step or {', '.join(others)}, not both")
        rest = {k: v for k, v in data.items() if k not in _STEP_KEYS}
        return {**rest, "values": _step_values(data["start"], data["stop"], data["step"])}

    values: list[float | str] | None = None
    min: float | None = None
    max: float | None = None
    n: int | None = Field(default=None, ge=1)
    spacing: Spacing = "linear"
    #: Name used in DSGenerator-style file names (DSGenerator's ``user_pname``).
    label: str | None = None
    #: Values shown in DSGenerator-style file names (``user_minval..user_maxval``), one per grid value.
    label_values: list[float] | None = None

    @model_validator(mode="after")
    def _check_shape(self) -> SweepSpec:
        if self.values is not None:
            if self.min is not None or self.max is not None or self.n is not None:
                raise ValueError("give either 'values' or 'min'/'max'/'n', not both")
            if len(self.values) == 0:
                raise ValueError("'values' is empty: an empty grid has no items")
        elif self.min is None or self.max is None:
            raise ValueError("give 'values: [...]' or both 'min' and 'max'")
        elif self.min > self.max:
            raise ValueError(f"min={self.min:g} is above max={self.max:g}")
        if self.spacing == "log" and self.values is None and self.min is not None and self.min <= 0:
            raise ValueError(f"spacing 'log' needs min > 0, got min={self.min:g}")
        return self


class SamplingSpec(BaseModel):
    """How the parameter space is sampled.

    ``grid``: Cartesian product of every sweep (first parameter varies slowest).
    ``random``: ``n`` uniform draws; ``sobol`` / ``lhs``: ``n`` points of a scrambled
    Sobol sequence / Latin hypercube (``scipy.stats.qmc``). Continuous factors of
    non-grid designs get integer codes from ``n_bins`` equal-count bins.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    method: Literal["grid", "random", "sobol", "lhs"] = "grid"
    n: int | None = Field(default=None, ge=1)
    n_bins: int = Field(default=10, ge=2)


class VariationSpec(BaseModel):
    """Render ``sound_duration_s`` once per setting and cut it into ``chunk_s`` pieces.

    DSGenerator's scheme (seed 003): ``floor(sound_duration_s / chunk_s)`` consecutive
    variations per parameter setting, numbered in the metadata column ``variation``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    sound_duration_s: float = Field(gt=0)
    chunk_s: float = Field(gt=0)


class DatasetConfig(BaseModel):
    """A dataset made by a sound model over a parameter space.

    Parameters
    ----------
    name : str
    sound_model : str
        Registered sound model (``timbrespace synths`` lists them).
    sample_rate : int
        Hz.
    duration_s : float, optional
        Seconds per item (default: the model's default, or ``variations.chunk_s``).
    fixed : dict of str to float or str
        Parameters held constant (categorical ones accept labels).
    parameters : dict of str to SweepSpec
        Swept parameters; they are the dataset's factors, in this order.
    sampling : SamplingSpec
    variations : VariationSpec, optional
    splits : dict of str to float
        Split fractions, summing to 1.
    seed : int
        Global seed, ``0 <= seed < 2**32``: item ``i`` renders with ``(seed, i)``.
    audio_format : {"wav", "flac", "none"}
        ``none`` keeps metadata only (features computed elsewhere).
    naming : {"index", "dsgenerator"}
        ``index``: ``audio/000123.wav``; ``dsgenerator``:
        ``audio/{sound}--{param}-{value:05.2f}--...--v-{NNN}.wav`` (seed 003).
    dsgenerator : DSGeneratorSpec, optional
        Set when the config is DSGenerator's (seed 003): its ``soundname`` and fixed
        parameters in file names, and its ``recordFormat`` records beside the audio.

    Raises
    ------
    pydantic.ValidationError
        On construction with bad values; :func:`load_dataset_config` turns it into a
        :class:`~timbrespace.errors.ConfigError` naming the file and field.

    Examples
    --------
    >>> from timbrespace.datasets import DatasetConfig
    >>> config = DatasetConfig(name="tiny", sound_model="additive", sample_rate=8000,
    ...                        duration_s=0.1, fixed={"n_partials": 10},
    ...                        parameters={"f0_hz": {"min": 220, "max": 440, "n": 3},
    ...                                    "presence": {"values": ["all", "odd"]}})
    >>> list(config.parameters), config.sampling.method, config.splits
    (['f0_hz', 'presence'], 'grid', {...})
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    sound_model: str
    sample_rate: int = Field(gt=0)
    duration_s: float | None = Field(default=None, gt=0)
    fixed: dict[str, float | str] = Field(default_factory=dict)
    parameters: dict[str, SweepSpec]
    sampling: SamplingSpec = Field(default_factory=SamplingSpec)
    variations: VariationSpec | None = None
    splits: dict[str, float] = Field(
        default_factory=lambda: {"train": 0.8, "valid": 0.1, "test": 0.1}
    )
    seed: int = 0
    audio_format: Literal["wav", "flac", "none"] = "wav"
    naming: Literal["index", "dsgenerator"] = "index"
    dsgenerator: DSGeneratorSpec | None = None

    @field_validator("seed")
    @classmethod
    def _seed_in_range(cls, seed: int) -> int:
        return check_seed(seed)

    @model_validator(mode="after")
    def _check_against_model(self) -> DatasetConfig:
        try:
            model = get_sound_model(self.sound_model)
        except ParameterError as exc:
            raise ValueError(f"sound_model: {exc}") from None
        if not self.parameters:
            raise ValueError("parameters: no swept parameter (an empty grid has no items)")
        overlap = sorted(set(self.parameters) & set(self.fixed))
        if overlap:
            raise ValueError(f"parameters and fixed both set {', '.join(overlap)}")
        for key, value in self.fixed.items():
            try:
                model.parameter(key).coerce([value])
            except ParameterError as exc:
                raise ValueError(f"fixed.{key}: {exc}") from None
        if self.sampling.method == "grid":
            if self.sampling.n is not None:
                raise ValueError("sampling.n: a grid's size is the product of the sweeps; remove n")
            for key, sweep in self.parameters.items():
                if sweep.values is None and sweep.n is None:
                    raise ValueError(
                        f"parameters.{key}.n: a grid needs n (number of values) with min/max"
                    )
        elif self.sampling.n is None:
            raise ValueError(
                f"sampling.n: method {self.sampling.method!r} needs n (number of items)"
            )
        for key, sweep in self.parameters.items():
            try:
                param = model.parameter(key)
            except ParameterError as exc:
                raise ValueError(f"parameters.{key}: {exc}") from None
            self._check_sweep(key, sweep, param)
        try:
            check_render_args(self.sample_rate, self.item_duration_s)
        except ParameterError as exc:
            raise ValueError(str(exc)) from None
        self._check_variations()
        self._check_file_names()
        total = sum(self.splits.values())
        if not self.splits or abs(total - 1.0) > 1e-6 or any(v < 0 for v in self.splits.values()):
            raise ValueError(f"splits: fractions {self.splits} must be non-negative and sum to 1")
        return self

    def _check_sweep(self, key: str, sweep: SweepSpec, param: Parameter) -> None:
        """A sweep's values or range in the parameter's range; a grid's values distinct, one label each."""
        try:
            if sweep.values is not None:
                param.coerce(np.asarray(sweep.values))
            else:
                param.coerce(np.array([sweep.min, sweep.max], dtype=np.float64))
                if self.sampling.method == "grid":
                    grid = sweep_values(sweep, param)
                    if np.unique(grid).size < grid.size:
                        raise ValueError(
                            f"parameters.{key}: n={sweep.n} whole-number values in "
                            f"{sweep.min:g}..{sweep.max:g} repeat; use n <= {int(sweep.max - sweep.min) + 1}"
                        )
        except ParameterError as exc:
            raise ValueError(f"parameters.{key}: {exc}") from None
        if sweep.label_values is not None and self.sampling.method == "grid":
            n = len(sweep.values) if sweep.values is not None else sweep.n
            if len(sweep.label_values) != n:
                raise ValueError(
                    f"parameters.{key}.label_values: {len(sweep.label_values)} values for {n} grid points"
                )

    def _check_variations(self) -> None:
        """Variations: each item is one chunk of a sound at least one chunk long."""
        if self.variations is None:
            return
        if (
            self.duration_s is not None
            and abs(self.duration_s - self.variations.chunk_s) > 1e-9
        ):
            raise ValueError(
                f"duration_s={self.duration_s:g} differs from variations.chunk_s={self.variations.chunk_s:g}; "
                "leave duration_s out (each item is one chunk)"
            )
        if self.n_variations < 1:
            raise ValueError(
                f"variations: sound_duration_s={self.variations.sound_duration_s:g} is shorter than "
                f"chunk_s={self.variations.chunk_s:g}"
            )

    def _check_file_names(self) -> None:
        """Names in DSGenerator-style file names stay one file name each (no '..', '/', '\\');
        the DSGenerator spec sweeps the parameters and writes records beside audio."""
        for key, sweep in self.parameters.items():
            if sweep.label is not None:
                safe_name(sweep.label, what=f"parameters.{key}.label")
        if self.dsgenerator is None:
            return
        safe_name(self.dsgenerator.soundname, what="dsgenerator.soundname")
        for k, fixed in enumerate(self.dsgenerator.fixed):
            safe_name(fixed.name, what=f"dsgenerator.fixed[{k}].name")
        swept = [p.parameter for p in self.dsgenerator.params]
        if swept != list(self.parameters):
            raise ValueError(
                f"dsgenerator.params cover {swept}, parameters are {list(self.parameters)}"
            )
        if self.dsgenerator.record_format is not None and self.audio_format == "none":
            raise ValueError(
                f"recordFormat {self.dsgenerator.record_format!r} writes records beside audio "
                "files; audio_format 'none' keeps none"
            )

    # ------------------------------------------------------------------ derived sizes
    @property
    def item_duration_s(self) -> float:
        """Seconds per item (``variations.chunk_s``, ``duration_s`` or the model default)."""
        if self.variations is not None:
            return self.variations.chunk_s
        if self.duration_s is not None:
            return self.duration_s
        return float(get_sound_model(self.sound_model).default_duration_s)

    @property
    def n_samples(self) -> int:
        """Samples per item."""
        return int(round(self.item_duration_s * self.sample_rate))

    @property
    def n_variations(self) -> int:
        """Items per parameter setting (1 without ``variations``)."""
        if self.variations is None:
            return 1
        long_samples = int(round(self.variations.sound_duration_s * self.sample_rate))
        return long_samples // self.n_samples

    @property
    def render_duration_s(self) -> float:
        """Seconds rendered per setting (the long sound with variations)."""
        if self.variations is None:
            return self.item_duration_s
        return self.n_variations * self.n_samples / self.sample_rate

    @property
    def n_settings(self) -> int:
        """Number of parameter settings in the design (without variations)."""
        if self.sampling.method != "grid":
            return int(self.sampling.n or 0)
        n = 1
        for sweep in self.parameters.values():
            n *= len(sweep.values) if sweep.values is not None else int(sweep.n or 0)
        return n

    @property
    def n_items(self) -> int:
        """Number of items the dataset will hold."""
        return self.n_settings * self.n_variations

    def to_json_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (what the card stores; no ``dsgenerator`` key unless set)."""
        return self.model_dump(mode="json", exclude={"dsgenerator"} if self.dsgenerator is None else None)


def config_hash(config: DatasetConfig) -> str:
    """SHA-256 of the config's canonical JSON (first 16 hex digits)."""
    text = json.dumps(config.to_json_dict(), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def map_unit(u: np.ndarray, sweep: SweepSpec, param: Parameter) -> np.ndarray:
    """Map unit-cube coordinates ``u`` in [0, 1) onto a sweep's values.

    Returns float64 values in the parameter's unit (categorical: codes).
    """
    u = np.clip(np.asarray(u, dtype=np.float64), 0.0, 1.0)
    if sweep.values is not None:
        levels = param.coerce(np.asarray(sweep.values))
        idx = np.minimum((u * levels.size).astype(np.int64), levels.size - 1)
        return levels[idx]
    lo, hi = float(sweep.min), float(sweep.max)  # type: ignore[arg-type]
    if sweep.spacing == "log":
        values = lo * (hi / lo) ** u
    elif sweep.spacing == "exp2":
        values = np.log2(2.0**lo + u * (2.0**hi - 2.0**lo))
    else:
        values = lo + u * (hi - lo)
    if param.integer or param.is_categorical:
        values = np.round(values)
    return param.coerce(values)


def sweep_values(sweep: SweepSpec, param: Parameter) -> np.ndarray:
    """The grid values of a sweep, float64 in the parameter's unit (categorical: codes)."""
    if sweep.values is not None:
        return param.coerce(np.asarray(sweep.values))
    n = int(sweep.n or 1)
    if n == 1:
        return param.coerce(np.array([sweep.min], dtype=np.float64))
    return map_unit(np.linspace(0.0, 1.0, n), sweep, param)


# ---------------------------------------------------------------------- loading
def config_from_dict(data: dict[str, Any], *, source: str = "<config>") -> DatasetConfig:
    """Validate a config dict (ours or DSGenerator's) into a :class:`DatasetConfig`.

    Raises
    ------
    ConfigError
        Naming ``source``, the field and what is allowed.
    """
    if not isinstance(data, dict):
        raise ConfigError(
            f"{source}: a dataset config must be a mapping, got {type(data).__name__}"
        )
    from timbrespace.datasets.dsgenerator import dsgenerator_to_config, is_dsgenerator_config

    if is_dsgenerator_config(data):
        data = dsgenerator_to_config(data, source=source)
    try:
        return DatasetConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, f"{source}: invalid dataset config", model=DatasetConfig)) from None


def load_dataset_config(path: str | Path) -> DatasetConfig:
    """Read a dataset config from YAML or JSON (ours or DSGenerator's, seed 003).

    Parameters
    ----------
    path : path-like
        ``.yaml``/``.yml``/``.json`` file.

    Returns
    -------
    DatasetConfig

    Raises
    ------
    ConfigError
        Missing or unparsable file, unknown keys, bad values (file, field and allowed
        values named).

    Examples
    --------
    >>> from timbrespace.datasets import load_dataset_config, preset_path
    >>> config = load_dataset_config(preset_path("seed001-additive"))
    >>> config.sound_model, config.sample_rate, list(config.parameters)[:2]
    ('additive', 8000, ['f0_hz', 'slope_db_per_octave'])
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"{path}: dataset config not found")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a text file (invalid UTF-8 at byte {exc.start}); "
                          "a dataset config is YAML or JSON text") from None
    try:
        data = json.loads(text) if path.suffix.lower() == ".json" else load_yaml(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: cannot parse ({exc})") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
        raise ConfigError(f"{path}: cannot parse YAML{where} ({problem})") from None
    return config_from_dict(data, source=str(path))
