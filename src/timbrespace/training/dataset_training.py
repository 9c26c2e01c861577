"""Train on a stored :class:`~timbrespace.datasets.Dataset` feature set (what ``timbrespace train`` runs).

Loads the ``train`` and ``valid`` splits of ``features/<name>.zarr``, trains with
:func:`~timbrespace.training.fit`, then encodes every item and writes
``out_dir/latents.npz`` (``latents`` ``(n_items, latent_dim)`` posterior means,
``logvar``, integer ``factors`` ``(n_items, n_factors)``, ``split`` labels and
``factor_names``) for the metrics and the report.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from timbrespace.errors import DatasetError, ParameterError
from timbrespace.models import VAEConfig
from timbrespace.training.config import TrainConfig, TrainResult
from timbrespace.training.inference import encode_array
from timbrespace.utils.atomic import atomic_path

if TYPE_CHECKING:
    from timbrespace.datasets.dataset import Dataset

__all__ = ["DatasetTrainResult", "train_on_dataset", "feature_shape", "condition_classes_for"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DatasetTrainResult:
    """What :func:`train_on_dataset` returns: the fit result and where the latents went."""

    train: TrainResult
    latents_path: Path
    factor_names: tuple[str, ...]
    condition_factors: tuple[str, ...]


def feature_shape(dataset: Dataset, features: str) -> tuple[int, ...]:
    """Shape of one item of feature set ``features`` (the model's ``input_shape``)."""
    return tuple(int(s) for s in dataset.load_features(features, [0]).shape[1:])


def condition_classes_for(
    dataset: Dataset, factors: tuple[str, ...] | list[str]
) -> tuple[int, ...]:
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


def train_on_dataset(
    dataset: Dataset,
    *,
    features: str,
    model_config: VAEConfig,
    train_config: TrainConfig,
    out_dir: str | Path,
    condition_factors: tuple[str, ...] = (),
    resume: bool = False,
    encode_batch_size: int = 1024,
) -> DatasetTrainResult:
    """Train ``model_config`` on the dataset's features and store the latents of every item.

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
        Training settings.
    out_dir : path-like
        Run folder.
    condition_factors : tuple of str
        Factors whose integer codes condition a conditional VAE.
    resume : bool
        Continue from ``out_dir/checkpoints/last``.
    encode_batch_size : int
        Items per forward pass when encoding the whole dataset.

    Raises
    ------
    DatasetError
        Without a ``train`` split.
    ParameterError
        If the config does not match the features or the condition factors.
    """
    from timbrespace.training.fitting import fit

    shape = feature_shape(dataset, features)
    if tuple(model_config.input_shape) != shape:
        raise ParameterError(
            f"model input_shape={model_config.input_shape} but features {features!r} have items of {shape}"
        )
    condition_factors = tuple(condition_factors)
    if condition_factors:
        classes = condition_classes_for(dataset, condition_factors)
        if model_config.condition_classes != classes:
            raise ParameterError(
                f"condition_classes={model_config.condition_classes} but factors {condition_factors} have {classes} levels"
            )
    elif model_config.is_conditional:
        raise ParameterError("the model is conditional: name its condition_factors")
    names = dataset.factor_names
    codes = dataset.factor_codes
    cond_cols = [names.index(name) for name in condition_factors]
    train_idx = dataset.split_indices("train")
    try:
        valid_idx: np.ndarray | None = dataset.split_indices("valid")
    except DatasetError:
        valid_idx = None
    if train_idx.size == 0:
        raise DatasetError(f"{dataset.root}: the train split is empty")
    x_train = dataset.load_features(features, train_idx)
    x_valid = (
        dataset.load_features(features, valid_idx)
        if valid_idx is not None and valid_idx.size
        else None
    )
    c_train = codes[train_idx][:, cond_cols] if cond_cols else None
    c_valid = codes[valid_idx][:, cond_cols] if cond_cols and x_valid is not None else None
    log.info(
        "training %s on %d items (%d valid) of %s",
        model_config.objective,
        len(train_idx),
        0 if x_valid is None else len(x_valid),
        features,
    )
    result = fit(
        model_config,
        train_config,
        x_train,
        x_valid,
        out_dir=out_dir,
        c_train=c_train,
        c_valid=c_valid,
        resume=resume,
    )
    del x_train, x_valid
    latents_path = Path(out_dir) / "latents.npz"
    if not result.is_global_zero:  # a data-parallel worker: rank 0 encodes and writes
        return DatasetTrainResult(
            train=result,
            latents_path=latents_path,
            factor_names=tuple(names),
            condition_factors=condition_factors,
        )
    all_x = dataset.load_features(features)
    mu, logvar = encode_array(
        result.model,
        all_x,
        codes[:, cond_cols] if cond_cols else None,
        batch_size=encode_batch_size,
        return_logvar=True,
    )
    split = (
        dataset.metadata["split"].astype(str).to_numpy()
        if "split" in dataset.metadata
        else np.array([])
    )
    with atomic_path(latents_path) as tmp, open(tmp, "wb") as fh:
        np.savez(
            fh,
            latents=mu,
            logvar=logvar,
            factors=codes,
            split=split.astype("U"),
            factor_names=np.array(names, dtype="U"),
        )
    return DatasetTrainResult(
        train=result,
        latents_path=latents_path,
        factor_names=tuple(names),
        condition_factors=condition_factors,
    )
