"""The experiment config: one YAML file describing a whole ``timbrespace run``.

An experiment composes the configs of each stage::

    name: additive-4factor
    seed: 0
    dataset:   {...}   # DatasetConfig (timbrespace.datasets), used unless --dataset is given
    features:  {...}   # FeatureConfig (timbrespace.features)
    model:     {...}   # VAEConfig fields (timbrespace.models); input_shape is filled in
    training:  {...}   # TrainConfig fields (timbrespace.training)
    evaluation: {...}  # EvaluationConfig below

The resolved config (every default made explicit) is written to ``RUN/config.yaml``.
Errors name the file, the field and what is allowed.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from timbrespace.errors import ConfigError

__all__ = [
    "EvaluationConfig",
    "ExperimentConfig",
    "load_experiment_config",
    "default_experiment_path",
    "builtin_experiments",
    "format_validation_error",
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
        as the model has latents (:func:`timbrespace.training.fit_linear_baseline`),
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
    n_iter: int = Field(32, ge=0, le=1000)
    max_items_for_projection: int = Field(2000, ge=10)
    align: Literal["ica", "pca", "none"] = "ica"
    linear_baselines: bool = True


class ExperimentConfig(BaseModel):
    """A whole experiment (see module docstring)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field("experiment", min_length=1, pattern=r"^[A-Za-z0-9_.\-]+$")
    seed: int = Field(0, ge=0)
    dataset: dict[str, Any] | None = None
    features: dict[str, Any] = Field(default_factory=dict)
    model: dict[str, Any] = Field(default_factory=dict)
    training: dict[str, Any] = Field(default_factory=dict)
    evaluation: EvaluationConfig = Field(default_factory=EvaluationConfig)

    def dataset_config(self, source: str = "<config>") -> Any:
        """The ``dataset`` section as a validated ``DatasetConfig`` (seed defaults to ours)."""
        from timbrespace.datasets import DatasetConfig

        if self.dataset is None:
            raise ConfigError(f"{source}: no 'dataset' section; give one or run with --dataset DATASET")
        data = {"seed": self.seed, "name": self.name, **self.dataset}
        try:
            return DatasetConfig.model_validate(data)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, source, prefix="dataset")) from None

    def feature_config(self, source: str = "<config>") -> Any:
        """The ``features`` section as a validated ``FeatureConfig``."""
        from timbrespace.features import FeatureConfig

        try:
            return FeatureConfig(**self.features)
        except ValidationError as exc:
            raise ConfigError(format_validation_error(exc, source, prefix="features")) from None
        except ConfigError as exc:
            raise ConfigError(f"{source}: features: {exc}") from None


def format_validation_error(exc: ValidationError, source: str, prefix: str = "") -> str:
    """One line naming the file, the field and the problem of the first error."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in ((prefix,) if prefix else ()) + tuple(err["loc"]))
    msg = err["msg"]
    value = err.get("input")
    shown = f" (got {value!r})" if value is not None and not isinstance(value, dict) else ""
    more = f" [+{len(exc.errors()) - 1} more]" if len(exc.errors()) > 1 else ""
    return f"{source}: {loc}: {msg}{shown}{more}"


def builtin_experiments() -> dict[str, Path]:
    """Experiment configs shipped with the package, by name."""
    folder = resources.files("timbrespace.experiments") / "configs"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".yaml")}


def default_experiment_path() -> Path:
    """The default experiment (``additive-4factor``), used when ``run`` gets no argument."""
    return builtin_experiments()["additive-4factor"]


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
    if path is None:
        path = default_experiment_path()
    builtins = builtin_experiments()
    p = Path(path)
    if not p.exists() and str(path) in builtins:
        p = builtins[str(path)]
    if not p.is_file():
        raise ConfigError(
            f"experiment config {path} not found (built-in: {', '.join(sorted(builtins))})"
        )
    try:
        data = yaml.safe_load(p.read_text())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{p}: invalid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{p}: expected a mapping of sections (name, dataset, features, model, training, evaluation)")
    for key, value in (overrides or {}).items():
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
        raise ConfigError(format_validation_error(exc, str(p))) from None
