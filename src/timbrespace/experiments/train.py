"""Train one VAE on a stored dataset feature set (:func:`fit_dataset`), and the model
names and helpers that ``train``, ``run`` and ``sweep`` share.

:func:`fit_dataset` trains with :func:`~timbrespace.training.fit` on the ``train`` split
(pairs and few labels from the factor table where the objective or the training
config asks), records the encoder before its first step (``latents_at_init.npz``) and
writes every item's latents (``latents.npz``). :func:`model_config_for` picks a model
config from a name (:data:`MODELS`) and the features' shape.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from timbrespace.datasets import Dataset, PairSampler
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments.runs import LATENTS_NAME, write_latents
from timbrespace.features import FeatureSidecar
from timbrespace.models import VAEConfig
from timbrespace.models.config import WEAK_OBJECTIVES, canonical_objective
from timbrespace.training import TrainConfig, TrainResult, encode_array
from timbrespace.utils.atomic import atomic_path

__all__ = [
    "MODELS",
    "DatasetFit",
    "condition_classes_for",
    "feature_shape",
    "fit_dataset",
    "model_config_for",
    "open_features",
]

log = logging.getLogger(__name__)

MODELS: dict[str, str] = {
    "beta_vae": "beta_vae",
    "annealed": "annealed",
    "tcvae": "tcvae",
    "factorvae": "factorvae",
    "ada_gvae": "ada_gvae",
    "ada_mlvae": "ada_mlvae",
    "cvae": "beta_vae",
}
"""Model names of ``train`` and ``sweep`` and the objective each trains (``cvae``: a
β-VAE conditioned on factors). An objective's other name
(:data:`~timbrespace.models.config.OBJECTIVE_ALIASES`, ``annealed_vae``) is accepted with
a warning (:func:`~timbrespace.models.config.canonical_objective`)."""


INIT_LATENTS = "latents_at_init.npz"


def supervision_for(dataset: Dataset, train_idx: np.ndarray, model_config: VAEConfig,
                    train_config: TrainConfig) -> dict[str, Any]:
    """The keyword arguments of :func:`~timbrespace.training.fit` that a weak or few-label
    objective needs, drawn from the dataset's factor table.

    Weak objectives (``ada_gvae``, ``ada_mlvae``) get ``pairs``: a
    :class:`~timbrespace.datasets.PairSampler` of the training items sharing all factors
    but ``train_config.pair_k``; ``labelled_fraction > 0`` gets the training items'
    ``factors_train`` and ``factor_levels``; anything else nothing.

    Raises
    ------
    DatasetError
        If the factor table has no such pairs.
    """
    codes = dataset.factor_codes[train_idx]
    if model_config.objective in WEAK_OBJECTIVES:
        return {"pairs": PairSampler(codes, k=train_config.pair_k)}
    if train_config.labelled_fraction > 0:
        return {"factors_train": codes, "factor_levels": [f.n_levels for f in dataset.factors]}
    return {}


def latents_at_init(x: np.ndarray, path: Path) -> Any:
    """A Lightning callback that saves the encoder's means of every item of ``x`` to ``path``
    (``mu``) before the first optimiser step; a resumed run keeps the file it wrote then."""
    import lightning as L

    class LatentsAtInit(L.Callback):
        def on_train_start(self, trainer: Any, pl_module: Any) -> None:
            if pl_module.global_step_count == 0 and trainer.is_global_zero:
                mu = encode_array(pl_module.model, x)
                with atomic_path(path) as tmp, open(tmp, "wb") as fh:
                    np.savez(fh, mu=mu)

    return LatentsAtInit()


def open_features(dataset: Dataset | str | Path, features: str | None) -> tuple[Dataset, str]:
    """Open a dataset and pick its feature set (the only one when ``features`` is ``None``).

    Raises
    ------
    DatasetError
        Missing dataset, or no single feature set to default to.
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    if features is None:
        names = ds.feature_names()
        if len(names) != 1:
            raise DatasetError(
                f"{ds.root}: choose the features among: {', '.join(names) or 'none (run features)'}"
            )
        features = names[0]
    return ds, features


def feature_shape(dataset: Dataset, features: str) -> tuple[int, ...]:
    """Shape of one item of feature set ``features`` (the model's ``input_shape``)."""
    return tuple(int(s) for s in dataset.load_features(features, [0]).shape[1:])


def condition_classes_for(dataset: Dataset, factors: Sequence[str]) -> tuple[int, ...]:
    """Number of levels of each named factor (a conditional VAE's ``condition_classes``).

    Raises
    ------
    ParameterError
        For a name that is not a factor of the dataset.
    """
    specs = {f.name: f for f in dataset.factors}
    unknown = [name for name in factors if name not in specs]
    if unknown:
        raise ParameterError(
            f"condition factors {unknown} are not factors of {dataset.root}: {', '.join(specs)}"
        )
    codes = dataset.factor_codes
    names = dataset.factor_names
    return tuple(
        max(specs[name].n_levels, int(codes[:, names.index(name)].max()) + 1, 2) for name in factors
    )


def model_config_for(
    dataset: Dataset,
    features: str,
    model: str = "beta_vae",
    *,
    condition_factors: Sequence[str] = (),
    architecture: str = "auto",
    **fields: Any,
) -> VAEConfig:
    """The :class:`~timbrespace.models.VAEConfig` of a named model on a dataset's features.

    Parameters
    ----------
    dataset : Dataset
    features : str
        Feature set; its item shape is the model's ``input_shape``.
    model : str
        One of :data:`MODELS`.
    condition_factors : sequence of str
        Factors a ``cvae`` is conditioned on (their levels give ``condition_classes``).
    architecture : {"auto", "mlp", "conv"}
        ``auto``: conv for 2-D features, MLP for 1-D.
    **fields
        Other ``VAEConfig`` fields (``latent_dim``, ``hidden_sizes``, ``beta``, ...).

    Raises
    ------
    ParameterError
        Unknown model, or ``linear_skip`` (an ICA/PCA start) with a conv architecture.
    ConfigError
        An invalid field value.
    """
    model = canonical_objective(model)
    if model not in MODELS:
        raise ParameterError(f"model={model!r} is not allowed: one of {', '.join(MODELS)}")
    shape = feature_shape(dataset, features)
    if architecture == "auto":
        architecture = "conv" if len(shape) >= 2 else "mlp"
    if fields.get("linear_skip") and architecture != "mlp":
        raise ParameterError(
            f"init ica/pca starts the linear paths of an MLP: use architecture mlp "
            f"(got {architecture} for features of shape {shape})"
        )
    classes = condition_classes_for(dataset, condition_factors) if condition_factors else ()
    return VAEConfig(
        input_shape=shape,
        objective=MODELS[model],  # type: ignore[arg-type]
        architecture=architecture,  # type: ignore[arg-type]
        condition_classes=classes,
        **fields,
    )


@dataclass(frozen=True)
class DatasetFit:
    """What :func:`fit_dataset` returns: the fit, the latents of every item and where they went."""

    train: TrainResult
    latents_path: Path
    factor_names: tuple[str, ...]
    condition_factors: tuple[str, ...]
    mu: np.ndarray | None
    logvar: np.ndarray | None


def fit_dataset(
    dataset: Dataset,
    *,
    features: str,
    model_config: VAEConfig,
    train_config: TrainConfig,
    out_dir: str | Path,
    condition_factors: Sequence[str] = (),
    resume: bool = False,
    encode_batch_size: int = 1024,
) -> DatasetFit:
    """Train ``model_config`` on the dataset's features and store the latents of every item.

    Loads the ``train`` and ``valid`` splits of ``features/<name>.zarr``, trains with
    :func:`~timbrespace.training.fit`, then encodes every item and writes
    ``out_dir/latents.npz`` (:func:`~timbrespace.experiments.runs.write_latents`: ``mu``,
    ``logvar``, ``factor_codes``, ``factor_names``, ``split``, ``item_id``).

    Parameters
    ----------
    dataset : Dataset
        Opened dataset with a ``train`` split (and optionally ``valid``).
    features : str
        Feature set name (``features/<name>.zarr``).
    model_config : VAEConfig
        Its ``input_shape`` must equal :func:`feature_shape`; a conditional model's
        ``condition_classes`` must equal :func:`condition_classes_for` of ``condition_factors``.
    train_config : TrainConfig
    out_dir : path-like
        Run folder.
    condition_factors : sequence of str
        Factors whose integer codes condition a conditional VAE.
    resume : bool
        Continue from ``out_dir/checkpoints/last``.
    encode_batch_size : int
        Items per forward pass when encoding the whole dataset.

    Returns
    -------
    DatasetFit
        ``mu`` and ``logvar`` are ``None`` in a data-parallel worker (rank 0 encodes).

    Raises
    ------
    DatasetError
        Without a (non-empty) ``train`` split.
    ParameterError
        If the config does not match the features or the condition factors.
    """
    from timbrespace.training import fit

    condition_factors = tuple(condition_factors)
    _check_model_fits(dataset, features, model_config, condition_factors)
    names = dataset.factor_names
    codes = dataset.factor_codes
    cond_cols = [names.index(name) for name in condition_factors]
    train_idx, valid_idx = _train_valid(dataset)
    x_valid = dataset.load_features(features, valid_idx) if valid_idx.size else None
    labels = (lambda rows: codes[rows][:, cond_cols]) if cond_cols else (lambda rows: None)
    log.info("training %s on %d items (%d valid) of %s", model_config.objective, len(train_idx),
             len(valid_idx), features)
    result = fit(
        model_config,
        train_config,
        dataset.load_features(features, train_idx),
        x_valid,
        out_dir=out_dir,
        c_train=labels(train_idx),
        c_valid=labels(valid_idx) if x_valid is not None else None,
        resume=resume,
        callbacks=[] if model_config.is_conditional else [
            latents_at_init(dataset.load_features(features), Path(out_dir) / INIT_LATENTS)],
        **supervision_for(dataset, train_idx, model_config, train_config),
        feature_scale=FeatureSidecar.from_dict(dataset.feature_sidecar(features)).config.magnitude_scale,
    )
    latents_path = Path(out_dir) / LATENTS_NAME
    done = DatasetFit(result, latents_path, tuple(names), condition_factors, None, None)
    if not result.is_global_zero:  # a data-parallel worker: rank 0 encodes and writes
        return done
    mu, logvar = encode_array(
        result.model,
        dataset.load_features(features),
        codes[:, cond_cols] if cond_cols else None,
        batch_size=encode_batch_size,
        return_logvar=True,
    )
    write_latents(out_dir, mu, logvar, dataset)
    return DatasetFit(result, latents_path, tuple(names), condition_factors, mu, logvar)


def _check_model_fits(dataset: Dataset, features: str, model_config: VAEConfig,
                      condition_factors: tuple[str, ...]) -> None:
    shape = feature_shape(dataset, features)
    if tuple(model_config.input_shape) != shape:
        raise ParameterError(
            f"model input_shape={model_config.input_shape} but features {features!r} have items of {shape}"
        )
    if condition_factors:
        classes = condition_classes_for(dataset, condition_factors)
        if model_config.condition_classes != classes:
            raise ParameterError(
                f"condition_classes={model_config.condition_classes} but factors {condition_factors} "
                f"have {classes} levels"
            )
    elif model_config.is_conditional:
        raise ParameterError("the model is conditional: name its condition_factors")


def _train_valid(dataset: Dataset) -> tuple[np.ndarray, np.ndarray]:
    train_idx = dataset.split_indices("train")
    if train_idx.size == 0:
        raise DatasetError(f"{dataset.root}: the train split is empty")
    try:
        valid_idx = dataset.split_indices("valid")
    except DatasetError:
        valid_idx = np.zeros(0, dtype=np.int64)
    return train_idx, valid_idx
