"""``fit``: train a VAE on arrays with a Lightning ``Trainer`` (CPU by default).

Layout of ``out_dir`` (DESIGN.md, "On disk")::

    out_dir/checkpoints/last/   model.safetensors, model.json, training_state.{safetensors,json}
    out_dir/checkpoints/best/   model.safetensors, model.json (best monitored loss)
    out_dir/logs/tensorboard/   TensorBoard event files
    out_dir/logs/csv/           metrics.csv
    out_dir/history.json        one record per epoch
    out_dir/train_config.json
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import signal
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger
from lightning.pytorch.utilities.exceptions import SIGTERMException

from timbrespace.errors import ConfigError, Interrupted, ParameterError
from timbrespace.models import VAE, VAEConfig, build_model
from timbrespace.models.config import WEAK_OBJECTIVES
from timbrespace.training.batches import ItemBatches
from timbrespace.training.checkpoint import (
    load_checkpoint,
    load_model_config,
    load_tensors,
    read_checkpoint_json,
    write_checkpoint_folder,
)
from timbrespace.training.config import EpochRecord, TrainConfig, TrainResult
from timbrespace.training.interrupt import StopOnSignal, catch_signals
from timbrespace.training.linear import linear_start
from timbrespace.training.module import PairSource, Supervision, TrainingArrays, VAEModule
from timbrespace.training.progress import EpochBar
from timbrespace.training.refine import FeatureScale, refine_decoder
from timbrespace.training.schedules import make_beta_schedule
from timbrespace.utils.atomic import atomic_write_json, atomic_write_text

__all__ = ["fit", "find_last_checkpoint"]

log = logging.getLogger(__name__)


def _as_inputs(x: Any, name: str, config: VAEConfig) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    if x.ndim < 1 or x.shape[1:] != config.item_shape:
        raise ParameterError(
            f"{name} has shape {x.shape}; expected (n_items, {', '.join(map(str, config.item_shape))}) "
            "to match the model's input_shape"
        )
    if x.shape[0] == 0:
        raise ParameterError(f"{name} is empty (0 items)")
    _check_values(x, name, config)
    return x


# Beyond these, a model that sees the features as they are (no shift head, which scales by the
# training range itself) meets activations and log-variances that overflow in the first steps:
# dB features without normalisation (about -80..+20) gave "loss is nan at step 1". Such a
# model standardises its inputs (VAEConfig.input_offset / input_scale).
_MAX_ABS, _MAX_SD = 100.0, 10.0


def _with_standardisation(model_config: VAEConfig, x_train: np.ndarray) -> VAEConfig:
    """Fill a Gaussian non-shift model's unset ``input_offset``/``input_scale`` with the training
    items' mean and sd when the features are far from unit scale; otherwise the config as it is."""
    if model_config.shift is not None or model_config.likelihood != "gaussian" or model_config.input_scale is not None:
        return model_config
    x = np.asarray(x_train, dtype=np.float64)
    if not np.isfinite(x).all():
        return model_config  # refused by _check_values
    sd = float(x.std())
    if float(np.abs(x).max()) <= _MAX_ABS and sd <= _MAX_SD:
        return model_config
    log.info("features span %.4g..%.4g (sd %.3g): the model standardises them (mean %.4g, sd %.3g)",
                float(x.min()), float(x.max()), sd, float(x.mean()), sd)
    return dataclasses.replace(model_config, input_offset=float(x.mean()), input_scale=sd if sd > 0 else 1.0)


def _check_values(x: np.ndarray, name: str, config: VAEConfig) -> None:
    """Refuse, before training, inputs that this likelihood cannot fit, naming the fix."""
    finite = np.isfinite(x)
    if not finite.all():
        raise ParameterError(f"{name} holds {int((~finite).sum())} NaN or infinite values: recompute the features")
    if config.likelihood == "hvo":
        _check_hvo_values(x, name)
        return
    low, high = float(x.min()), float(x.max())
    if config.likelihood in ("bernoulli", "hit_velocity") and (low < 0.0 or high > 1.0):
        raise ParameterError(f"{name} spans {low:.4g}..{high:.4g}; likelihood={config.likelihood!r} needs values "
                             "in [0, 1]: normalise the features to [0, 1] (normalization minmax_item) "
                             "or use likelihood gaussian")


def _check_hvo_values(x: np.ndarray, name: str) -> None:
    """Velocities (channel 0) in [0, 1] and offsets (channel 1) in [-0.5, 0.5] steps."""
    v_low, v_high = float(x[:, 0].min()), float(x[:, 0].max())
    if v_low < 0.0 or v_high > 1.0:
        raise ParameterError(f"{name}[:, 0] (velocities) spans {v_low:.4g}..{v_high:.4g}; likelihood='hvo' needs "
                             "values in [0, 1]")
    o_max = float(np.abs(x[:, 1]).max())
    if o_max > 0.5:
        raise ParameterError(f"{name}[:, 1] (offsets) reaches {o_max:.4g} steps; likelihood='hvo' needs offsets in "
                             "[-0.5, 0.5] steps (each hit's onset minus its nearest step)")


def _as_labels(c: Any, name: str, n: int, config: VAEConfig) -> np.ndarray | None:
    if not config.is_conditional:
        if c is not None:
            raise ParameterError(
                f"{name} was given but the model is unconditional (condition_classes=())"
            )
        return None
    if c is None:
        raise ParameterError(
            f"{name} is required: the model is conditioned on {config.condition_classes}"
            + (f" and {config.condition_continuous} continuous input(s)" if config.condition_continuous else "")
        )
    if config.condition_continuous:
        return _as_conditions(c, name, n, config)
    c = np.asarray(c)
    if c.ndim == 1:
        c = c[:, None]
    k = len(config.condition_classes)
    if c.shape != (n, k) or not np.issubdtype(c.dtype, np.integer):
        raise ParameterError(
            f"{name} has shape {c.shape} dtype {c.dtype}; expected integer ({n}, {k})"
        )
    _check_label_range(c, name, config)
    return c.astype(np.int64)


def _check_label_range(labels: np.ndarray, name: str, config: VAEConfig) -> None:
    high = np.asarray(config.condition_classes)
    if (labels < 0).any() or (labels >= high).any():
        raise ParameterError(
            f"{name} holds labels outside 0..n_classes-1 for condition_classes={config.condition_classes}"
        )


def _as_conditions(c: Any, name: str, n: int, config: VAEConfig) -> np.ndarray:
    """Labels then continuous inputs, as one float32 array ``(n, n_conditions)``."""
    c = np.asarray(c, dtype=np.float64)
    if c.ndim == 1:
        c = c[:, None]
    k = len(config.condition_classes)
    if c.shape != (n, config.n_conditions) or not np.all(np.isfinite(c)):
        raise ParameterError(
            f"{name} has shape {c.shape}; expected finite ({n}, {config.n_conditions}): "
            f"{k} label column(s) then {config.condition_continuous} continuous input(s)"
        )
    labels = c[:, :k]
    if not np.array_equal(labels, np.round(labels)):
        raise ParameterError(f"{name}: the first {k} column(s) must hold integer labels")
    _check_label_range(labels, name, config)
    return c.astype(np.float32)


def _arrays(
    x_train: np.ndarray, c_train: np.ndarray | None, x_valid: np.ndarray | None, c_valid: np.ndarray | None
) -> TrainingArrays:
    def tensor(a: np.ndarray | None) -> torch.Tensor | None:
        return None if a is None else torch.from_numpy(np.ascontiguousarray(a))

    return TrainingArrays(tensor(x_train), tensor(c_train), tensor(x_valid), tensor(c_valid))  # type: ignore[arg-type]


def find_last_checkpoint(out_dir: str | Path) -> Path | None:
    """The newest complete training checkpoint under ``out_dir/checkpoints`` (or ``None``).

    Examples
    --------
    >>> import tempfile
    >>> from timbrespace.training import find_last_checkpoint
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     print(find_last_checkpoint(tmp))  # nothing trained here yet
    None
    """
    ckpt = Path(out_dir) / "checkpoints"
    for name in ("last", "last.old"):
        if (ckpt / name / "training_state.json").is_file():
            return ckpt / name
    return None


@contextlib.contextmanager
def _torch_settings(num_threads: int | None) -> Iterator[None]:
    """Set threads, deterministic algorithms and quiet Lightning; restore them afterwards."""
    threads = torch.get_num_threads()
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    pl_logger = logging.getLogger("lightning.pytorch")
    pl_level = pl_logger.level
    try:
        if num_threads is not None:
            torch.set_num_threads(num_threads)
        pl_logger.setLevel(logging.WARNING)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*treespec.*")
            warnings.filterwarnings("ignore", message=".*does not have many workers.*")
            warnings.filterwarnings("ignore", message=".*have no `val_dataloader`.*")
            yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        pl_logger.setLevel(pl_level)


def fit(
    model_config: VAEConfig,
    train_config: TrainConfig,
    x_train: np.ndarray,
    x_valid: np.ndarray | None = None,
    *,
    out_dir: str | Path,
    c_train: np.ndarray | None = None,
    c_valid: np.ndarray | None = None,
    resume: bool = False,
    callbacks: Sequence[L.Callback] = (),
    pairs: PairSource | None = None,
    factors_train: np.ndarray | None = None,
    factor_levels: Sequence[int] | None = None,
    feature_scale: FeatureScale | None = None,
) -> TrainResult:
    """Train a VAE on arrays and leave checkpoints and logs in ``out_dir``.

    Parameters
    ----------
    model_config : VAEConfig
        The model; for ``tcvae`` an unset ``dataset_size`` is filled with ``len(x_train)``.
    train_config : TrainConfig
        Optimiser, β schedule, stopping, seed.
    x_train : np.ndarray [shape=(n_train, *item_shape), dtype=float32]
        Training items (features).
    x_valid : np.ndarray [shape=(n_valid, *item_shape)], optional
        Validation items; the monitored loss for early stopping and ``best``.
    out_dir : path-like
        Run folder (see the module docstring for its layout).
    c_train, c_valid : np.ndarray [shape=(n, n_conditions)], optional
        Conditions of a conditional VAE (required exactly when it is one): integer labels
        (one column per ``condition_classes`` entry), then, for a model with
        ``condition_continuous`` inputs, those float values (the whole array float).
    resume : bool
        Continue from ``out_dir/checkpoints/last`` when it exists (weights, optimiser,
        β schedule, RNG states, history). A resumed run gives the same weights as an
        uninterrupted one.
    callbacks : sequence of lightning.Callback
        Extra Lightning callbacks (e.g. one that scores MIG after every epoch, as
        ``benchmarks/train.py`` does). ``pl_module.model`` is the VAE being trained.
    pairs : PairSource, optional
        Weak supervision (objective ``ada_gvae``/``ada_mlvae``, required there): draws
        pairs of rows of ``x_train`` that share all factors but k, e.g.
        ``timbrespace.datasets.PairSampler(codes_train, k)``.
    factors_train : np.ndarray [shape=(n_train, n_factors), dtype=int], optional
        Factor codes of the training items, for ``train_config.labelled_fraction`` > 0.
    factor_levels : sequence of int, optional
        Levels of each factor (default: the largest code + 1).
    feature_scale : {"db", "magnitude"}, optional
        How the features relate to linear magnitude (``FeatureConfig.magnitude_scale``);
        required when ``train_config.refine_epochs`` > 0. The refined decoder is saved in
        ``checkpoints/last`` (its ``training_state.json`` records the stage under
        ``"refine"``); ``checkpoints/best`` keeps the best epoch of the VAE training.

    Returns
    -------
    TrainResult
        The trained model (eval mode, CPU), the per-epoch history and checkpoint paths.

    Raises
    ------
    TrainingError
        If a loss becomes NaN or infinite; the message names the step, and the last good
        checkpoint is left untouched.
    Interrupted
        On SIGINT (Ctrl-C) or SIGTERM, after the batch it came in
        (:mod:`timbrespace.training.interrupt`): ``checkpoints/last`` holds the last
        completed epoch, and ``resume`` continues from it to the same weights.
    ParameterError
        If the arrays do not match the model config, or ``refine_epochs`` > 0 without a
        ``feature_scale``.
    ConfigError
        If ``resume`` finds a checkpoint of a different model config, or ``init`` is
        ``ica``/``pca`` for a model without ``linear_skip``.

    Notes
    -----
    Same inputs and ``seed`` give identical weights and history: the weights are
    initialised under ``seed`` (global RNG forked and restored), the items are shuffled
    with their own generator (:mod:`timbrespace.training.batches`, the same order a
    shuffling ``DataLoader`` draws) and the reparameterisation noise comes from another;
    Lightning runs with ``deterministic=True``; the global deterministic flag and thread
    count are restored on exit.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from timbrespace.models import VAEConfig
    >>> from timbrespace.training import TrainConfig, encode_array, fit
    >>> x = np.random.default_rng(0).random((50, 16), dtype=np.float32)
    >>> model_config = VAEConfig(input_shape=(16,), latent_dim=2, hidden_sizes=(8,))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     result = fit(model_config, TrainConfig(epochs=2, batch_size=16), x[:40], x[40:],
    ...                  out_dir=tmp)
    ...     print(result.checkpoint_path.relative_to(tmp).as_posix())
    checkpoints/last
    >>> len(result.history), result.stop_reason, result.history[-1].val_loss is not None
    (2, 'max_epochs', True)
    >>> encode_array(result.model, x).shape
    (50, 2)
    """
    if model_config.objective == "tcvae" and model_config.dataset_size is None:
        model_config = dataclasses.replace(model_config, dataset_size=int(np.shape(x_train)[0]))
    model_config = _with_input_range(model_config, x_train)
    model_config = _with_standardisation(model_config, x_train)
    x_train = _as_inputs(x_train, "x_train", model_config)
    _check_refinement(model_config, train_config, feature_scale)
    supervision = _supervision(model_config, train_config, len(x_train), pairs, factors_train, factor_levels)
    c_train = _as_labels(c_train, "c_train", x_train.shape[0], model_config)
    if x_valid is not None:
        x_valid = _as_inputs(x_valid, "x_valid", model_config)
        c_valid = _as_labels(c_valid, "c_valid", x_valid.shape[0], model_config)
    out_dir = Path(out_dir)
    checkpoint_dir = out_dir / "checkpoints"
    train_config = train_config.fitted_warmup(len(x_train))
    schedule = make_beta_schedule(
        train_config.beta_schedule,
        model_config.beta,
        warmup_steps=train_config.warmup_steps,
        cycle_steps=train_config.cycle_steps,
        cycle_ratio=train_config.cycle_ratio,
        beta_start=train_config.beta_start,
    )
    loader_generator = torch.Generator().manual_seed(train_config.seed)
    resume_state: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None
    last = find_last_checkpoint(out_dir) if resume else None
    if last is not None:
        model, tensors, meta = _resume_from(last, model_config)
        schedule.load_state_dict(meta["schedule"])
        loader_generator.set_state(tensors["rng.loader"])
        resume_state = (tensors, meta)
        if meta["epoch"] >= train_config.epochs or meta.get("stop_reason"):
            with _torch_settings(train_config.num_threads), catch_signals() as signals:
                signals.epoch, signals.immediate = meta["epoch"], True
                _refine(model, train_config, x_train, c_train, checkpoint_dir, feature_scale)
            return _result(
                model,
                [EpochRecord.from_dict(r) for r in meta["history"]],
                checkpoint_dir,
                meta.get("stop_reason") or "max_epochs",
            )
    else:
        model = _new_model(model_config, train_config, x_train)
    start_epoch = resume_state[1]["epoch"] if resume_state is not None else 0

    module = VAEModule(
        model,
        train_config,
        schedule,
        _arrays(x_train, c_train, x_valid, c_valid),
        checkpoint_dir=checkpoint_dir,
        loader_generator=loader_generator,
        resume=resume_state,
        supervision=supervision,
    )
    world = lambda: (module.global_rank, module.trainer.world_size)  # noqa: E731  # known once fitting
    train_batches = ItemBatches(len(x_train), train_config.batch_size, generator=loader_generator, world=world)
    valid_batches = None if x_valid is None else ItemBatches(len(x_valid), train_config.batch_size, world=world)
    atomic_write_text(out_dir / "train_config.json", train_config.to_json() + "\n")
    with _torch_settings(train_config.num_threads), catch_signals() as signals:
        signals.epoch = start_epoch
        trainer = _trainer(train_config, out_dir, train_config.epochs - start_epoch,
                           [*callbacks, StopOnSignal(signals)])
        try:
            trainer.fit(module, train_batches, valid_batches)
        except SIGTERMException:  # Lightning's own: SystemExit(0) when its check came before ours
            raise Interrupted(signal.SIGTERM, module.epoch) from None
        signals.check()  # a signal after the last batch: the last checkpoint is saved
        signals.immediate = True  # the refinement saves once, at its end
        model = module.model.cpu().eval()
        _refine(model, train_config, x_train, c_train, checkpoint_dir, feature_scale, write=trainer.is_global_zero)
    if trainer.is_global_zero:
        atomic_write_json(out_dir / "history.json", [r.to_dict() for r in module.history])
    return _result(
        model, module.history, checkpoint_dir, module.stop_reason, global_rank=trainer.global_rank
    )


def _check_refinement(model_config: VAEConfig, train_config: TrainConfig, feature_scale: FeatureScale | None) -> None:
    """The decoder refinement needs the features' scale; an f0 curve trained in it needs the refinement.

    Raises
    ------
    ParameterError
        ``refine_epochs`` > 0 without ``feature_scale`` 'db' or 'magnitude'.
    ConfigError
        ``shift.f0_curve_stage='refinement'`` without ``refine_epochs``.
    """
    if train_config.refine_epochs and feature_scale not in ("db", "magnitude"):
        raise ParameterError(f"refine_epochs={train_config.refine_epochs} needs feature_scale 'db' or 'magnitude' "
                             f"(features in dB or linear magnitude without normalisation); got {feature_scale!r}")
    shift = model_config.shift
    if shift is not None and shift.f0_curve_stage == "refinement" and not train_config.refine_epochs:
        raise ConfigError("shift.f0_curve_stage='refinement' trains the f0 curve in the decoder refinement only: "
                          "set refine_epochs > 0")


def _new_model(model_config: VAEConfig, train_config: TrainConfig, x_train: np.ndarray) -> VAE:
    """The model built under ``train_config.seed``; with ``init`` ica/pca, its linear skip started
    from the training items as the model sees them (standardised, unless it shifts)."""
    model = build_model(model_config, seed=train_config.seed)
    if train_config.init != "random":
        seen = x_train if model_config.input_scale is None or model_config.shift is not None else (
            (x_train - model_config.input_offset) / model_config.input_scale).astype(np.float32)
        linear_start(model, seen, train_config.init, seed=train_config.seed)
    return model


def _refine(model: Any, train_config: TrainConfig, x_train: np.ndarray, c_train: np.ndarray | None,
            checkpoint_dir: Path, feature_scale: FeatureScale | None, *, write: bool = True) -> None:
    """Decoder refinement (:mod:`timbrespace.training.refine`) once training has ended.

    Runs unless ``checkpoints/last`` already records it (a resumed, finished run): then
    ``model``, loaded from there, is already refined. Every data-parallel process refines
    alike (same items, same seed); only ``write`` (rank 0) saves. An interruption leaves
    the unrefined ``last``, and a resume refines again from it, to the same weights.
    """
    if not train_config.refine_epochs or feature_scale is None:
        return
    last = checkpoint_dir / "last"
    meta = read_checkpoint_json(last / "training_state.json")
    if meta.get("refine"):
        return
    losses = refine_decoder(model, x_train, epochs=train_config.refine_epochs, batch_size=train_config.batch_size,
                            lr=train_config.refine_lr or train_config.lr, seed=train_config.seed,
                            scale=feature_scale, c_train=c_train, progress=train_config.enable_progress_bar)
    model.eval()
    log.info("decoder refined for %d epochs: spectral loss %.4g -> %.4g", len(losses), losses[0], losses[-1])
    if write:
        meta["refine"] = {"epochs": len(losses), "loss": losses}
        write_checkpoint_folder(last, model, state_tensors=load_tensors(last / "training_state.safetensors"),
                                state_meta=meta)


def _with_input_range(model_config: VAEConfig, x_train: Any) -> VAEConfig:
    """Fill a shift model's unset input offset and scale with the training items' minimum and range,
    and with ``shift.level`` its unset level offset and scale with the mean and sd of their peaks."""
    spec = model_config.shift
    if spec is None:
        return model_config
    filled: dict[str, float] = {}
    level = spec.level and (spec.level_offset_db is None or spec.level_scale_db is None)
    if spec.input_offset is not None and spec.input_scale is not None and not level:
        return model_config
    x = np.asarray(x_train, dtype=np.float64)
    if spec.input_offset is None or spec.input_scale is None:
        low, high = float(np.min(x)), float(np.max(x))
        filled["input_offset"] = low if spec.input_offset is None else spec.input_offset
        filled["input_scale"] = (high - low if high > low else 1.0) if spec.input_scale is None else spec.input_scale
    if level:
        peaks = x.reshape(len(x), -1).max(axis=1)
        sd = float(np.std(peaks))
        filled["level_offset_db"] = float(np.mean(peaks)) if spec.level_offset_db is None else spec.level_offset_db
        filled["level_scale_db"] = (sd if sd > 0 else 1.0) if spec.level_scale_db is None else spec.level_scale_db
    return dataclasses.replace(model_config, shift=dataclasses.replace(spec, **filled))


def _supervision(model_config: VAEConfig, train_config: TrainConfig, n_train: int, pairs: PairSource | None,
                 factors_train: np.ndarray | None, factor_levels: Sequence[int] | None) -> Supervision:
    """Check and assemble what a weak or few-label objective needs."""
    weak = model_config.objective in WEAK_OBJECTIVES
    if weak and pairs is None:
        raise ParameterError(f"objective={model_config.objective!r} trains on pairs: give pairs "
                             "(e.g. timbrespace.datasets.PairSampler of the training items' factor codes)")
    if pairs is not None and not weak:
        raise ParameterError(f"pairs were given but objective={model_config.objective!r} is not weakly supervised")
    if train_config.labelled_fraction <= 0:
        return Supervision(pairs=pairs)
    if weak:
        raise ParameterError("labelled_fraction > 0 (few labels) and a weakly supervised objective do not combine")
    if factors_train is None:
        raise ParameterError("labelled_fraction > 0 needs factors_train (the training items' factor codes)")
    codes = np.asarray(factors_train)
    if codes.ndim != 2 or codes.shape[0] != n_train or not np.issubdtype(codes.dtype, np.integer):
        raise ParameterError(f"factors_train has shape {codes.shape} dtype {codes.dtype}; expected integer ({n_train}, n_factors)")
    if codes.shape[1] > model_config.latent_dim:
        raise ParameterError(f"few labels tie latent j to factor j: latent_dim={model_config.latent_dim} "
                             f"is below the {codes.shape[1]} factors")
    levels = np.asarray(factor_levels if factor_levels is not None else codes.max(axis=0) + 1, dtype=np.int64)
    rng = np.random.default_rng(train_config.seed)
    n_labelled = max(1, int(round(train_config.labelled_fraction * n_train)))
    rows = np.sort(rng.choice(n_train, n_labelled, replace=False))
    return Supervision(label_rows=torch.from_numpy(rows), label_codes=torch.from_numpy(codes[rows].astype(np.int64)),
                       label_levels=torch.from_numpy(levels), label_weight=float(train_config.label_weight))


def _resume_from(last: Path, model_config: VAEConfig) -> tuple[Any, dict[str, torch.Tensor], dict[str, Any]]:
    """The model, training-state tensors and metadata of checkpoint folder ``last``."""
    saved = load_model_config(last)
    if saved != model_config:
        raise ConfigError(f"cannot resume {last}: it holds a different model config ({saved}) than requested")
    model = load_checkpoint(last).train()
    tensors = load_tensors(last / "training_state.safetensors")
    meta = read_checkpoint_json(last / "training_state.json")
    missing = [k for k in ("epoch", "history", "schedule") if k not in meta]
    if missing or "rng.loader" not in tensors:
        raise ConfigError(f"{last}: the training state lacks {', '.join(missing) or 'rng.loader'}; "
                          "it was edited or is from another version: train again without --resume")
    log.info("resuming %s at epoch %d", last, meta["epoch"])
    return model, tensors, meta


def _trainer(train_config: TrainConfig, out_dir: Path, max_epochs: int, callbacks: Sequence[L.Callback]) -> L.Trainer:
    """The Lightning Trainer of :func:`fit`: deterministic, logging to TensorBoard and CSV."""
    return L.Trainer(
        max_epochs=max_epochs,
        accelerator=train_config.accelerator,
        devices=train_config.devices,
        strategy=_strategy(train_config),
        deterministic=True,
        logger=[
            TensorBoardLogger(out_dir / "logs", name="tensorboard", default_hp_metric=False),
            CSVLogger(out_dir / "logs", name="csv"),
        ],
        enable_checkpointing=False,
        enable_progress_bar=False,  # our own bar over epochs (EpochBar), not Lightning's over batches
        enable_model_summary=False,
        num_sanity_val_steps=0,
        use_distributed_sampler=False,  # ItemBatches shards the items itself
        log_every_n_steps=1,  # the module logs itself, every train_config.log_every_n_steps
        default_root_dir=out_dir,
        callbacks=[*callbacks, *([EpochBar(train_config.epochs)] if train_config.enable_progress_bar else [])],
    )


def _strategy(train_config: TrainConfig) -> str:
    """Lightning strategy: ``ddp`` for an explicit device count above one under ``auto``."""
    devices = str(train_config.devices)
    if train_config.strategy == "auto" and devices.isdigit() and int(devices) > 1:
        return "ddp"
    return train_config.strategy


def _result(
    model: Any,
    history: list[EpochRecord],
    checkpoint_dir: Path,
    stop_reason: str,
    *,
    global_rank: int = 0,
) -> TrainResult:
    return TrainResult(
        model=model.cpu().eval(),
        history=tuple(history),
        checkpoint_path=checkpoint_dir / "last",
        best_checkpoint_path=checkpoint_dir / "best",
        stop_reason=stop_reason,
        global_rank=global_rank,
    )
