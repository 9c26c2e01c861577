"""Training configuration and results: frozen dataclasses, JSON round trip."""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.utils.fields import config_from_dict, config_from_json
from timbrespace.utils.limits import check_seed

logger = logging.getLogger(__name__)

if TYPE_CHECKING:
    from timbrespace.models import VAE

__all__ = ["TrainConfig", "EpochRecord", "TrainResult"]

BETA_SCHEDULES = ("constant", "linear", "cyclical")
INIT_METHODS = ("random", "ica", "pca")


@dataclass(frozen=True)
class TrainConfig:
    """How to train a VAE.

    Parameters
    ----------
    epochs : int
        Maximum number of passes over the training set.
    batch_size : int
        Items per optimiser step.
    lr, weight_decay : float
        Adam learning rate and (L2) weight decay of the VAE.
    linear_lr : float, optional
        Learning rate of the linear paths of a ``linear_skip`` model; ``None``: ``lr``;
        0 keeps them at their start (with ``init="ica"``: the FastICA solution), so that
        only the nonlinear residual learns.
    beta_schedule : {"constant", "linear", "cyclical"}
        How β reaches the model's ``VAEConfig.beta`` (the one place β lives; see
        :mod:`timbrespace.training.schedules`).
    warmup_steps : int
        Steps of the linear warm-up.
    cycle_steps, cycle_ratio : int, float
        Period and rising fraction of the cyclical schedule.
    beta_start : float
        β at step 0 of the linear and cyclical schedules.
    early_stopping_patience : int, optional
        Stop after this many epochs without a validation loss (training loss when there
        is no validation set) better than the best by ``min_delta``. ``None``: never.
    min_delta : float
        Improvement that resets the patience counter.
    best_from_epoch : int
        Epochs (counted from 0) before this one are forgotten when they end: the ``best``
        checkpoint and the early-stopping count start afresh at this epoch, e.g. the end
        of a β warm-up, before which a loss at a smaller β is not comparable (seed 004
        kept the best epoch after its warm-up).
    seed : int
        Seeds the weight initialisation, the shuffling and the reparameterisation noise
        (``0 <= seed < 2**32``).
    pair_k : int or "random"
        Weak supervision (``ada_gvae``/``ada_mlvae``): the pairs share all factors but
        ``pair_k`` (``"random"``: k drawn from 1 .. n_factors − 1 for every pair). Each
        optimiser step draws ``batch_size`` pairs.
    labelled_fraction : float
        Few-label semi-supervision: this fraction of the training items (at least one,
        chosen under ``seed``) has known factors, and a supervised term ties latent j to
        factor j on them (Locatello et al. 2020). 0: none.
    label_weight : float
        Weight of that supervised term.
    init : {"random", "ica", "pca"}
        Weight initialisation. ``random``: PyTorch's defaults. ``ica`` / ``pca``: the
        model's linear paths (``VAEConfig(linear_skip=True)``) start at the FastICA /
        PCA solution of the training items (:func:`timbrespace.training.linear_start`,
        seeded by ``seed``); unsupervised, like the rest of training.
    refine_epochs : int
        Decoder refinement after training (:mod:`timbrespace.training.refine`): the
        encoder frozen, the decoder trained this many more epochs on the training items'
        ``mu`` with a spectral loss on linear magnitudes (RAVE's second stage, Caillon &
        Esling 2021). The latents and their scores are unchanged; the decoded sound
        improves. Needs features in dB or linear magnitude without normalisation. 0: none.
    refine_lr : float, optional
        Adam learning rate of the refinement (cosine-decayed to 0); ``None``: ``lr``.
    audio_decoder_epochs : int
        ``timbrespace run`` only: after training, train a time-domain audio decoder (DDSP,
        :mod:`timbrespace.training.audio_decoder`) this many epochs on the frozen encoder's
        ``mu`` and the items' audio; the run's resynthesis and report audio then come from
        it, with no phase retrieval. Needs a shift model on a CQT (or a linear input with
        ``shift.input_bin_hz``). 0: none.
    audio_decoder_lr : float, optional
        Adam learning rate of the audio decoder (cosine-decayed to 0); ``None``: 0.003.
    num_threads : int, optional
        torch intra-op threads during training (restored afterwards). Default 1: on a
        small shared machine more threads mostly wait (two threads on a busy 2-core
        machine made a step 12× slower); float sums, and so the trained weights, depend
        on the count. ``None``: torch's own default (``OMP_NUM_THREADS`` or the cores).
    max_time_s : float, optional
        Stop at the end of the first epoch that ends after this many seconds.
    gradient_clip_norm : float, optional
        Clip the VAE gradient's global norm.
    discriminator_lr : float
        Adam learning rate of the FactorVAE discriminator (betas 0.5, 0.9 as in Kim & Mnih).
    accelerator : str
        Lightning accelerator: ``"cpu"`` (default), ``"gpu"``, ``"auto"``.
    devices : int or str
        Lightning ``devices``: 1 (default), a count such as 4, or ``"auto"``. With more than
        one, training is data-parallel (Lightning's DDP: one process per device, launched
        by re-running the calling script or command); ``batch_size`` is per device, the
        epoch losses are averaged over all processes and only rank 0 writes files (see
        :attr:`TrainResult.is_global_zero`). Tested on CPU with two processes (gloo).
    strategy : str
        Lightning strategy: ``"auto"`` (default; ``"ddp"`` when ``devices`` is not 1) or
        ``"ddp"``. Strategies that pickle the module into spawned or forked processes
        (``ddp_spawn``, ``ddp_fork``, ``ddp_notebook``) are refused: the module holds
        ``torch.Generator`` objects, which do not pickle.
    enable_progress_bar : bool
        Lightning's progress bar.
    log_every_n_steps : int
        Step interval of the per-step TensorBoard/CSV log.

    Examples
    --------
    >>> from timbrespace.training import TrainConfig
    >>> config = TrainConfig(epochs=10, batch_size=16, beta_schedule="linear", warmup_steps=100)
    >>> config.steps_per_epoch(50)  # ceil(50 / 16)
    4
    >>> TrainConfig.from_json(config.to_json()) == config
    True
    """

    epochs: int = 50
    batch_size: int = 64
    lr: float = 1e-3
    linear_lr: float | None = None
    weight_decay: float = 0.0
    beta_schedule: str = "constant"
    warmup_steps: int = 1000
    cycle_steps: int = 1000
    cycle_ratio: float = 0.5
    beta_start: float = 0.0
    early_stopping_patience: int | None = None
    min_delta: float = 0.0
    best_from_epoch: int = 0
    seed: int = 0
    pair_k: int | str = 1
    labelled_fraction: float = 0.0
    label_weight: float = 10.0
    init: str = "random"
    refine_epochs: int = 0
    refine_lr: float | None = None
    audio_decoder_epochs: int = 0
    audio_decoder_lr: float | None = None
    num_threads: int | None = 1
    max_time_s: float | None = None
    gradient_clip_norm: float | None = None
    discriminator_lr: float = 1e-4
    accelerator: str = "cpu"
    devices: int | str = 1
    strategy: str = "auto"
    enable_progress_bar: bool = False
    log_every_n_steps: int = 50

    def __post_init__(self) -> None:
        try:
            check_seed(self.seed)
        except ParameterError as exc:
            raise ConfigError(str(exc)) from None
        for name in ("epochs", "batch_size", "warmup_steps", "cycle_steps", "log_every_n_steps"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be a positive integer")
        for name in ("lr", "discriminator_lr"):
            if not float(getattr(self, name)) > 0:
                raise ConfigError(f"{name}={getattr(self, name)} must be > 0")
        if int(self.refine_epochs) < 0:
            raise ConfigError(f"refine_epochs={self.refine_epochs} must be >= 0")
        if self.refine_lr is not None and not float(self.refine_lr) > 0:
            raise ConfigError(f"refine_lr={self.refine_lr} must be > 0 or None")
        if int(self.audio_decoder_epochs) < 0:
            raise ConfigError(f"audio_decoder_epochs={self.audio_decoder_epochs} must be >= 0")
        if self.audio_decoder_lr is not None and not float(self.audio_decoder_lr) > 0:
            raise ConfigError(f"audio_decoder_lr={self.audio_decoder_lr} must be > 0 or None")
        if self.linear_lr is not None and not float(self.linear_lr) >= 0:
            raise ConfigError(f"linear_lr={self.linear_lr} must be >= 0 or None")
        if self.weight_decay < 0 or self.min_delta < 0:
            raise ConfigError(
                f"weight_decay={self.weight_decay} and min_delta={self.min_delta} must be >= 0"
            )
        if self.beta_schedule not in BETA_SCHEDULES:
            raise ConfigError(
                f"beta_schedule={self.beta_schedule!r} is not allowed: one of {', '.join(BETA_SCHEDULES)}"
            )
        if self.init not in INIT_METHODS:
            raise ConfigError(
                f"init={self.init!r} is not allowed: one of {', '.join(INIT_METHODS)}"
            )
        if self.pair_k != "random" and not (isinstance(self.pair_k, int) and self.pair_k >= 1):
            raise ConfigError(f"pair_k={self.pair_k!r} must be a positive integer or 'random'")
        if not 0.0 <= float(self.labelled_fraction) <= 1.0:
            raise ConfigError(f"labelled_fraction={self.labelled_fraction} must be in [0, 1]")
        if not float(self.label_weight) >= 0:
            raise ConfigError(f"label_weight={self.label_weight} must be >= 0")
        if self.best_from_epoch < 0:
            raise ConfigError(f"best_from_epoch={self.best_from_epoch} must be >= 0")
        if not 0 < self.cycle_ratio <= 1:
            raise ConfigError(f"cycle_ratio={self.cycle_ratio} must be in (0, 1]")
        if self.early_stopping_patience is not None and self.early_stopping_patience < 1:
            raise ConfigError(
                f"early_stopping_patience={self.early_stopping_patience} must be >= 1 or None"
            )
        if self.num_threads is not None and self.num_threads < 1:
            raise ConfigError(f"num_threads={self.num_threads} must be >= 1 or None")
        if self.max_time_s is not None and not self.max_time_s > 0:
            raise ConfigError(f"max_time_s={self.max_time_s} must be > 0 or None")
        if any(word in str(self.strategy) for word in ("spawn", "fork", "notebook")):
            raise ConfigError(
                f"strategy={self.strategy!r} is not supported: use 'ddp' (or 'auto') for "
                "data-parallel training"
            )
        if self.gradient_clip_norm is not None and not self.gradient_clip_norm > 0:
            raise ConfigError(f"gradient_clip_norm={self.gradient_clip_norm} must be > 0 or None")

    def steps_per_epoch(self, n_train: int) -> int:
        """Optimiser steps in one epoch over ``n_train`` items (one per minibatch, the last may be short)."""
        return max(1, -(-int(n_train) // int(self.batch_size)))

    def fitted_warmup(self, n_train: int, *, warn: bool = True) -> TrainConfig:
        """This config with its β warm-up fitted inside training on ``n_train`` items.

        A linear warm-up at least as long as training (``epochs`` × steps per epoch)
        would end training before β reaches the model's β, while the config, the report
        and the history would disagree on what β was. Such a warm-up is scaled to half
        of training (a warning says so); a shorter one is returned unchanged. Other
        schedules are returned unchanged.

        Parameters
        ----------
        n_train : int
            Training items (or pairs' minibatch draws: one step per ``batch_size`` items).
        warn : bool
            Log the one warning line when the warm-up is scaled.

        Returns
        -------
        TrainConfig
            ``self``, or a copy with ``warmup_steps`` = total steps // 2 (at least 1).
        """
        total = int(self.epochs) * self.steps_per_epoch(n_train)
        if self.beta_schedule != "linear" or self.warmup_steps < total:
            return self
        fitted = max(1, total // 2)
        if warn:
            logger.warning("warmup_steps=%d is not shorter than training (%d epochs × %d steps = %d): the β warm-up "
                           "is scaled to %d steps, so β reaches its value halfway; set training.warmup_steps "
                           "below %d to choose", self.warmup_steps, self.epochs, self.steps_per_epoch(n_train),
                           total, fitted, total)
        return dataclasses.replace(self, warmup_steps=fitted)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        if isinstance(data, Mapping) and "beta" in data:
            raise ConfigError("beta belongs to the model (model.beta); the β schedule rises to it")
        return config_from_dict(cls, data, "train config")

    def to_json(self) -> str:
        """JSON text (sorted keys)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> TrainConfig:
        """Inverse of :meth:`to_json`; text that is not JSON is a :class:`ConfigError`."""
        return config_from_json(cls, text, "train config")


@dataclass(frozen=True)
class EpochRecord:
    """Batch-mean losses of one epoch (``val_*`` are ``None`` without a validation set).

    ``beta`` is the schedule's value at the end of the epoch.
    """

    epoch: int
    train_loss: float
    train_recon: float
    train_kl: float
    val_loss: float | None
    val_recon: float | None
    val_kl: float | None
    beta: float

    def to_dict(self) -> dict[str, Any]:
        """Plain dict."""
        return dataclasses.asdict(self)

    def __str__(self) -> str:
        """One log line: ``epoch=3 train_loss=12.35 ... beta=1`` (4 significant digits, no ``None``)."""
        return " ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
                        for k, v in self.to_dict().items() if v is not None)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EpochRecord:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)


@dataclass(frozen=True)
class TrainResult:
    """What :func:`~timbrespace.training.fit` returns.

    Attributes
    ----------
    model : VAE
        The model after the last epoch, in eval mode, on the CPU.
    history : tuple of EpochRecord
        One record per epoch, including epochs of an earlier run that was resumed.
    checkpoint_path : pathlib.Path
        Folder of the last checkpoint (``out_dir/checkpoints/last``).
    best_checkpoint_path : pathlib.Path
        Folder of the checkpoint with the best monitored loss (``out_dir/checkpoints/best``).
    stop_reason : str
        ``"max_epochs"``, ``"early_stopping"`` or ``"max_time"``.
    global_rank : int
        This process's rank under data-parallel training (0 otherwise). Only rank 0
        writes checkpoints and ``history.json``; code after :func:`fit` that writes
        files should check :attr:`is_global_zero`.

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np
    >>> from timbrespace.models import VAEConfig
    >>> from timbrespace.training import TrainConfig, fit
    >>> x = np.random.default_rng(0).random((20, 8), dtype=np.float32)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     result = fit(VAEConfig(input_shape=(8,), latent_dim=2, hidden_sizes=(8,)),
    ...                  TrainConfig(epochs=1, batch_size=10), x, out_dir=tmp)
    >>> result.stop_reason, result.is_global_zero, result.model.training
    ('max_epochs', True, False)
    >>> result.history[0].val_loss is None  # no validation set
    True
    """

    model: VAE
    history: tuple[EpochRecord, ...]
    checkpoint_path: Path
    best_checkpoint_path: Path
    stop_reason: str
    global_rank: int = 0

    @property
    def is_global_zero(self) -> bool:
        """True in the process that writes results (always, without data parallelism)."""
        return self.global_rank == 0
