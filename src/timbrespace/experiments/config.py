"""The experiment config: one YAML file describing a whole ``timbrespace run``.

An experiment composes the configs of each stage, each section validated once, at
load, into the library's own config class::

    name: additive-4factor
    seed: 0
    dataset:   {...}   # DatasetConfig (timbrespace.datasets); null with run --dataset
    features:  {...}   # FeatureConfig (timbrespace.features)
    model:     {...}   # VAEConfig (timbrespace.models) without input_shape (from the features)
    training:  {...}   # TrainConfig (timbrespace.training)
    evaluation: {...}  # EvaluationConfig below

β lives in ``model.beta``; the β schedule of ``training`` rises to it. The dataset's
and the training's ``seed`` default to the experiment's. The resolved config (every
default made explicit) is written to ``RUN/config.yaml``. Errors name the file, the
field and what is allowed, in one line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    ValidationError,
    field_validator,
    model_validator,
)

from timbrespace.datasets import DatasetConfig
from timbrespace.errors import ConfigError
from timbrespace.features import FeatureConfig
from timbrespace.features.phase import MAX_N_ITER
from timbrespace.models import VAEConfig
from timbrespace.synths.base import closest_name
from timbrespace.training import TrainConfig
from timbrespace.utils.fields import format_validation_error
from timbrespace.utils.limits import check_seed
from timbrespace.utils.yaml_files import load_yaml

__all__ = [
    "EvaluationConfig",
    "ExperimentConfig",
    "load_experiment_config",
    "default_experiment_path",
    "builtin_experiments",
]


class EvaluationConfig(BaseModel):
    """How a run is measured and shown.

    Parameters
    ----------
    n_bins : int
        Histogram bins per latent for MIG (disentanglement_lib: 20).
    projection : {"pca", "tsne"}
        2-D projection of the latent means in the report.
    n_traversal_steps : int
        Values per latent in traversals, spread over ``±traversal_range`` prior std.
    traversal_range : float
        Half-width of the traversal in units of the prior's standard deviation.
    n_traversal_latents : int
        How many latents to traverse (the most informative ones first).
    n_reconstructions : int
        Test items shown as original vs reconstruction.
    inversion : str
        Phase retrieval for features without phase (see ``timbrespace.features.invert``).
    n_iter : int
        Phase-retrieval iterations.
    max_items_for_projection : int
        t-SNE/PCA subsample size (seeded).
    align : {"ica", "pca", "none"}
        Also score MIG after an unsupervised linear re-alignment of the active latents'
        means (:func:`timbrespace.analysis.align_latents`), reported as
        ``metrics.json["aligned"]`` beside the score of ``mu`` itself.
    linear_baselines : bool
        Also score PCA and FastICA of the features themselves, with as many components
        as the model has latents (:func:`timbrespace.analysis.fit_linear_baseline`),
        reported as ``metrics.json["linear_baselines"]``: the reference a VAE's MIG is
        read against.
    """

    model_config = ConfigDict(extra="forbid")

    n_bins: int = Field(20, ge=2, le=1000)
    projection: Literal["pca", "tsne"] = "pca"
    n_traversal_steps: int = Field(7, ge=2, le=32)
    traversal_range: float = Field(2.5, gt=0, le=10)
    n_traversal_latents: int = Field(4, ge=1, le=64)
    n_reconstructions: int = Field(4, ge=0, le=64)
    inversion: str = "griffinlim"
    n_iter: int = Field(32, ge=0, le=MAX_N_ITER)
    max_items_for_projection: int = Field(2000, ge=10)
    align: Literal["ica", "pca", "none"] = "ica"
    linear_baselines: bool = True


def _model_section(value: Any) -> VAEConfig:
    if isinstance(value, VAEConfig):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping of VAEConfig fields, got {type(value).__name__}")
    if "input_shape" in value:
        raise ValueError("input_shape is filled in from the features: remove it")
    return VAEConfig.from_dict(value)


def _training_section(value: Any) -> TrainConfig:
    if isinstance(value, TrainConfig):
        return value
    if not isinstance(value, dict):
        raise ValueError(f"must be a mapping of TrainConfig fields, got {type(value).__name__}")
    return TrainConfig.from_dict(value)


def _as_value_error(build: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Our ConfigError as the ValueError pydantic reports under the section's name."""

    def convert(value: Any) -> Any:
        try:
            return build(value)
        except (ConfigError, TypeError) as exc:
            raise ValueError(str(exc)) from None

    return convert


ModelSection = Annotated[
    VAEConfig,
    BeforeValidator(_as_value_error(_model_section)),
    PlainSerializer(lambda c: {k: v for k, v in c.to_dict().items() if k != "input_shape"}),
]
TrainingSection = Annotated[
    TrainConfig,
    BeforeValidator(_as_value_error(_training_section)),
    PlainSerializer(lambda c: c.to_dict()),
]


class ExperimentConfig(BaseModel):
    """A whole experiment (see module docstring): typed sections, validated at load.

    Attributes
    ----------
    name : str
    seed : int
        The experiment's seed; the default of ``dataset.seed`` and ``training.seed``.
    dataset : DatasetConfig or None
        ``None``: the run is given a dataset (``timbrespace run --dataset``).
    features : FeatureConfig
    model : VAEConfig
        Its ``input_shape`` is ``None`` until the features are computed.
    training : TrainConfig
    evaluation : EvaluationConfig

    Raises
    ------
    pydantic.ValidationError
        On any invalid section (:func:`load_experiment_config` turns it into one
        :class:`~timbrespace.errors.ConfigError` line naming the file and the field).
    """

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    name: str = Field("experiment", min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    seed: int = 0
    dataset: DatasetConfig | None = None
    features: FeatureConfig = Field(default_factory=FeatureConfig)
    model: ModelSection = Field(default_factory=VAEConfig)
    training: TrainingSection = Field(default_factory=TrainConfig)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)

    @field_validator("seed")
    @classmethod
    def _seed_in_range(cls, seed: int) -> int:
        return check_seed(seed)

    @model_validator(mode="before")
    @classmethod
    def _experiment_defaults(cls, data: Any) -> Any:
        """The dataset's and the training's seed (and the dataset's name) default to ours."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        name, seed = data.get("name", "experiment"), data.get("seed", 0)
        if isinstance(data.get("dataset"), dict):
            data["dataset"] = {"seed": seed, "name": name, **data["dataset"]}
        training = data.get("training")
        if training is None or isinstance(training, dict):
            data["training"] = {"seed": seed, **(training or {})}
        return data

    @model_validator(mode="after")
    def _sections_agree(self) -> ExperimentConfig:
        if str(self.training.devices) != "1":
            # A data-parallel launcher re-runs the whole command in every process, which would
            # make each one generate and write the run folder; `train` handles that case.
            raise ValueError(
                f"training.devices={self.training.devices!r}: `timbrespace run` trains on one device; "
                "for data-parallel training use `timbrespace train DATASET --devices N`"
            )
        if self.training.init != "random" and not self.model.linear_skip:
            raise ValueError(
                f"training.init={self.training.init!r} starts the model's linear paths: "
                "set model.linear_skip: true (architecture mlp)"
            )
        shift = self.model.shift
        if shift is not None and shift.f0_curve_stage == "refinement" and not self.training.refine_epochs:
            raise ValueError("model.shift.f0_curve_stage='refinement' trains the f0 curve in the decoder "
                             "refinement only: set training.refine_epochs > 0")
        if self.training.refine_epochs and self.features.magnitude_scale is None:
            raise ValueError(
                f"training.refine_epochs={self.training.refine_epochs} refines the decoder on linear magnitudes: "
                "it needs features.output db or magnitude and features.normalization none"
            )
        if self.training.audio_decoder_epochs:
            linear = shift is not None and shift.input_bin_hz is not None
            if self.model.architecture != "shift" or not (linear or self.features.kind == "cqt"):
                raise ValueError(
                    f"training.audio_decoder_epochs={self.training.audio_decoder_epochs} trains an audio decoder "
                    "that reads f0 from the shift latent: it needs model.architecture shift on a CQT "
                    f"(features.kind cqt) or with model.shift.input_bin_hz, not {self.model.architecture!r} "
                    f"on {self.features.kind!r}"
                )
            if self.dataset is not None and self.dataset.audio_format == "none":
                raise ValueError(f"training.audio_decoder_epochs={self.training.audio_decoder_epochs} trains on the "
                                 "items' audio: dataset.audio_format 'none' stores none")
        return self


def builtin_experiments() -> dict[str, Path]:
    """Experiment configs shipped with the package, by name."""
    folder = resources.files("timbrespace.experiments") / "configs"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml")}


def default_experiment_path() -> Path:
    """The default experiment (``additive-4factor``), used when ``run`` gets no argument."""
    return builtin_experiments()["additive-4factor"]


def _field_names(section: type) -> list[str]:
    if dataclasses.is_dataclass(section):
        return [f.name for f in dataclasses.fields(section)]
    fields = section.model_fields  # type: ignore[attr-defined]
    return [*fields, *(f.alias for f in fields.values() if f.alias)]


_EXPLAINED = {("training", "beta")}
"""Unknown keys whose section says more than "unknown" (β lives in the model)."""


def _check_override_key(key: str) -> None:
    """Refuse an override whose section or field does not exist, naming the closest one
    (``override trainign.epochs: unknown key 'trainign' (did you mean 'training'?)``).

    Raises
    ------
    ConfigError
        Before the config is read: a typo is not a field the sections would refuse anyway.
    """
    parts = key.split(".")
    keys = list(ExperimentConfig.model_fields)
    if parts[0] not in keys:
        raise ConfigError(f"override {key}: unknown key {parts[0]!r}{closest_name(parts[0], keys)}; "
                          f"allowed: {', '.join(keys)}")
    section = {"dataset": DatasetConfig, "features": FeatureConfig, "model": VAEConfig, "training": TrainConfig,
               "evaluation": EvaluationConfig}.get(parts[0])
    if section is None or len(parts) < 2 or (parts[0], parts[1]) in _EXPLAINED:
        return
    fields = _field_names(section)
    if parts[1] not in fields:
        raise ConfigError(f"override {key}: {parts[0]} has no field {parts[1]!r}{closest_name(parts[1], fields)}; "
                          f"allowed: {', '.join(sorted(fields))}")


def load_experiment_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> ExperimentConfig:
    """Read and validate an experiment YAML (a path or a built-in name).

    Parameters
    ----------
    path : path-like or str, optional
        A YAML file, or the name of a built-in experiment. Default: ``additive-4factor``.
    overrides : dict, optional
        Dotted keys to set after reading, e.g. ``{"training.epochs": 5}``.

    Raises
    ------
    ConfigError
        Missing file, invalid YAML, unknown or out-of-range field (named, with what is allowed).
    """
    builtins = builtin_experiments()
    p = default_experiment_path() if path is None else Path(path)
    source = "built-in experiment additive-4factor" if path is None else str(p)
    if path is not None and not p.exists() and str(path) in builtins:
        p, source = builtins[str(path)], f"built-in experiment {path}"  # never the install path
    if not p.is_file():
        raise ConfigError(
            f"experiment config {path} not found (built-in: {', '.join(sorted(builtins))})"
        )
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{source}: not a text file (invalid UTF-8 at byte {exc.start}); "
                          "an experiment config is YAML text") from None
    try:
        data = load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{source}: invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: expected a mapping of sections (name, dataset, features, model, training, evaluation)")
    for key, value in (overrides or {}).items():
        _check_override_key(key)
        node = data
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {key}: {part} is not a section")
        node[leaf] = value
    try:
        return ExperimentConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, source, model=ExperimentConfig)) from None
