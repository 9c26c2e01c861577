"""``timbrespace train``: one named model on a dataset's features, as a run folder.

:func:`train_dataset` picks the model from its name (:data:`~timbrespace.experiments.train.MODELS`)
and the features' shape, trains it (:func:`~timbrespace.experiments.train.fit_dataset`)
and evaluates it as ``run`` does (:func:`~timbrespace.experiments.pipeline.evaluate_run`),
so a ``train`` run has the layout every kind shares::

    RUN/
      run.json          the run card (kind "train")
      config.yaml       the resolved config: features (of the feature set), model, training,
                        evaluation, with dataset_path and features_name
      metrics.json      the run's scores (MIG, DCI, at init, linear baselines, resynthesis)
                        and the training summary
      report.html       the run report
      latents.npz, latents_at_init.npz, checkpoints/, logs/, history.json, train_config.json

A conditional model (``cvae``) sees the factors it is conditioned on: its latents are
scored (MIG) but it gets no ``config.yaml`` or report, which evaluate unconditional
encoders.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timbrespace.datasets import Dataset
from timbrespace.errors import ParameterError
from timbrespace.experiments.config import ExperimentConfig
from timbrespace.experiments.pipeline import evaluate_run, write_resolved_config
from timbrespace.experiments.runs import after_training, write_run_card
from timbrespace.experiments.train import (
    MODELS,
    DatasetFit,
    fit_dataset,
    model_config_for,
    open_features,
)
from timbrespace.features import FeatureSidecar
from timbrespace.metrics import RepresentationScores, evaluate_representation
from timbrespace.models import VAEConfig
from timbrespace.models.config import canonical_objective
from timbrespace.training import TrainConfig
from timbrespace.utils.atomic import atomic_write_json
from timbrespace.utils.outputs import RUN_MARKERS, output_folder

__all__ = ["TrainRunResult", "train_dataset"]


@dataclass(frozen=True)
class TrainRunResult:
    """What :func:`train_dataset` returns.

    Attributes
    ----------
    run_dir : Path
    model : str
        The model name (one of :data:`MODELS`).
    features : str
    fitted : DatasetFit
    scores : RepresentationScores or None
        ``None`` in a data-parallel worker (rank 0 scores and writes).
    """

    run_dir: Path
    model: str
    features: str
    fitted: DatasetFit
    scores: RepresentationScores | None

    def summary(self) -> dict[str, Any]:
        """The run in a few numbers: what ``timbrespace train`` prints (JSON-able)."""
        train = self.fitted.train
        last = train.history[-1] if train.history else None
        out: dict[str, Any] = {
            "run": str(self.run_dir),
            "model": self.model,
            "features": self.features,
            "epochs": len(train.history),
            "stop_reason": train.stop_reason,
            "train_loss": None if last is None else last.train_loss,
            "val_loss": None if last is None else last.val_loss,
            "checkpoint": str(train.checkpoint_path),
            "latents": str(self.fitted.latents_path),
        }
        if self.scores is not None:
            out["mig"] = None if self.scores.mig is None else self.scores.mig.score
            out["n_active_latents"] = self.scores.n_active
        return out


def train_dataset(
    dataset: Dataset | str | Path,
    *,
    out_dir: str | Path,
    features: str | None = None,
    model: str = "beta_vae",
    model_options: Mapping[str, Any] | None = None,
    condition: Sequence[str] | None = None,
    train_config: TrainConfig | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> TrainRunResult:
    """Train a named model on a dataset's features, score it and write the run folder.

    Parameters
    ----------
    dataset : Dataset or path-like
        Dataset with stored features and known factors.
    out_dir : path-like
        Run folder (see the module docstring).
    features : str, optional
        Feature set name (default: the only one).
    model : str
        One of :data:`MODELS`.
    model_options : mapping, optional
        ``VAEConfig`` fields and ``architecture`` (``auto``: conv for 2-D features), as
        :func:`model_config_for`. ``linear_skip`` follows ``train_config.init``.
    condition : sequence of str, optional
        ``cvae``: the factors to condition on (default all); refused for other models.
    train_config : TrainConfig, optional
        Training settings (default ``TrainConfig()``).
    resume : bool
        Continue from ``out_dir/checkpoints/last``.
    overwrite : bool
        Replace the run already in ``out_dir`` (refused otherwise, unless ``resume``);
        a folder that is not a run, or the dataset, is never replaced.

    Returns
    -------
    TrainRunResult
        ``.summary()`` is what ``timbrespace train`` prints.

    Raises
    ------
    ParameterError, ConfigError
        Bad model name, options or condition factors, before any file is written.
    DatasetError
        Missing dataset, features or ``train`` split; ``out_dir`` holding a run (and
        neither ``resume`` nor ``overwrite``) or anything else; another writer on it.
    TrainingError
        A diverging run.
    EvaluationError
        Scoring after training failed; the trained model and the run's config are kept.
    """
    train_config = train_config or TrainConfig()
    model = canonical_objective(model)
    if model not in MODELS:
        raise ParameterError(f"model={model!r} is not allowed: one of {', '.join(MODELS)}")
    ds, features = open_features(dataset, features)
    if model == "cvae":
        condition_factors = tuple(condition) if condition else tuple(ds.factor_names)
    elif condition:
        raise ParameterError("condition factors only apply to model cvae")
    else:
        condition_factors = ()
    model_config = model_config_for(
        ds, features, model, condition_factors=condition_factors,
        linear_skip=train_config.init != "random", **dict(model_options or {}),
    )
    if train_config.refine_epochs and FeatureSidecar.from_dict(ds.feature_sidecar(features)).config.magnitude_scale is None:
        raise ParameterError(f"refine_epochs={train_config.refine_epochs} refines the decoder on linear magnitudes: "
                             f"features {features!r} must be in dB or magnitude without normalisation")
    if os.environ.get("LOCAL_RANK", "0") != "0":  # a data-parallel rank Lightning's launcher re-ran:
        return _train_locked(ds, features, model, model_config, train_config, condition_factors, out_dir, resume)
    with output_folder(out_dir, marker=RUN_MARKERS, what="run", command="train", overwrite=overwrite,
                       inputs=[ds.root], reuse=resume):  # rank 0 checks, locks and clears the folder
        return _train_locked(ds, features, model, model_config, train_config, condition_factors, out_dir, resume)


def write_evaluable_config(run_dir: str | Path, ds: Dataset, features: str, model_config: VAEConfig,
                           train_config: TrainConfig, *, name: str) -> None:
    """``RUN/config.yaml`` of a trained model, as ``evaluate``, ``encode`` and ``explore`` read it.

    The config evaluates on one process (``train_config.json`` keeps a data-parallel run's
    settings). ``train`` writes it before scoring; ``benchmark`` beside each job's run.
    """
    sidecar = FeatureSidecar.from_dict(ds.feature_sidecar(features))
    one_process = dataclasses.replace(train_config, devices=1, strategy="auto")
    config = ExperimentConfig(name=name, seed=train_config.seed, features=sidecar.config, model=model_config,
                              training=one_process)
    write_resolved_config(config, run_dir, ds.root, features_name=features)


def _train_locked(ds: Dataset, features: str, model: str, model_config: VAEConfig, train_config: TrainConfig,
                  condition_factors: tuple[str, ...], out_dir: str | Path, resume: bool) -> TrainRunResult:
    """Fit, then score: :func:`train_dataset` once validated, with the run folder locked."""
    fitted = fit_dataset(ds, features=features, model_config=model_config, train_config=train_config,
                         out_dir=out_dir, condition_factors=condition_factors, resume=resume)
    run_dir = Path(out_dir)
    if fitted.mu is None:
        return TrainRunResult(run_dir, model, features, fitted, None)
    write_run_card(run_dir, "train", dataset=ds.root)
    if model_config.is_conditional:
        with after_training(run_dir, evaluable=False):
            scores = evaluate_representation(
                fitted.mu, ds.factor_codes, logvar=fitted.logvar, factor_names=ds.factor_names,
                factor_levels=[f.n_levels for f in ds.factors], metrics=("mig",),
            )
        result = TrainRunResult(run_dir, model, features, fitted, scores)
        atomic_write_json(run_dir / "metrics.json", {**scores.to_dict(), **result.summary()})
        return result
    write_evaluable_config(run_dir, ds, features, fitted.train.model.config, train_config, name=f"train-{model}")
    with after_training(run_dir):
        evaluation = evaluate_run(run_dir, progress=train_config.enable_progress_bar)
    result = TrainRunResult(run_dir, model, features, fitted, evaluation.scores)
    atomic_write_json(run_dir / "metrics.json", {**evaluation.metrics, **result.summary()})
    return result
