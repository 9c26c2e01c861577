"""The Lightning module that trains a :class:`~timbrespace.models.VAE`.

Manual optimisation for every objective (FactorVAE needs two optimisers; one code path
keeps the NaN check, the β schedule and the step count identical for all). Randomness
comes from explicit ``torch.Generator`` objects whose states go into the checkpoint.
The items are held in memory (:class:`TrainingArrays`); a Lightning batch is a list of
minibatches of item indices (:class:`~timbrespace.training.batches.ItemBatches`: on one
process a whole epoch, so Lightning's per-batch machinery runs once per epoch). At the
end of each epoch the module records an :class:`EpochRecord`, writes the ``last``
(and, on improvement, ``best``) checkpoint and applies early stopping.

Under data-parallel training (Lightning's ``ddp`` on several devices) every process
trains on its shard; the epoch sums are added over the processes before the record is
made, so every process keeps the same history and takes the same stopping decision,
and only the global-zero process writes checkpoints.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import lightning as L
import numpy as np
import torch

from timbrespace.errors import TrainingError
from timbrespace.models import VAE
from timbrespace.models.losses import label_loss
from timbrespace.training.checkpoint import (
    optimizer_state_from_flat,
    optimizer_state_to_flat,
    write_checkpoint_folder,
)
from timbrespace.training.config import EpochRecord, TrainConfig
from timbrespace.training.schedules import BetaSchedule

__all__ = ["PairSource", "Supervision", "TrainingArrays", "VAEModule"]

log = logging.getLogger(__name__)

_VAL_SEED_OFFSET = 0x5A17
_PAIR_SEED_OFFSET = 0x9A1F


class PairSource(Protocol):
    """Draws pairs of training items for weak supervision (e.g. ``datasets.PairSampler``)."""

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` pairs ``(first, second)`` of row indices into the training items."""
        ...


@dataclass(frozen=True)
class Supervision:
    """What a weakly or partly supervised objective knows beyond the items.

    Attributes
    ----------
    pairs : PairSource, optional
        Pairs of training items sharing all factors but k (``ada_gvae``/``ada_mlvae``).
    label_rows : torch.Tensor [shape=(n_labelled,), dtype=int64], optional
        Training items whose factors are known (few-label semi-supervision).
    label_codes : torch.Tensor [shape=(n_labelled, n_factors), dtype=int64], optional
    label_levels : torch.Tensor [shape=(n_factors,), dtype=int64], optional
        Levels of each factor.
    label_weight : float
        Weight of the few-label term.
    """

    pairs: PairSource | None = None
    label_rows: torch.Tensor | None = None
    label_codes: torch.Tensor | None = None
    label_levels: torch.Tensor | None = None
    label_weight: float = 0.0


@dataclass(frozen=True)
class TrainingArrays:
    """The items a module trains and validates on, as tensors (moved to its device at fit start).

    Attributes
    ----------
    x_train : torch.Tensor [shape=(n_train, *input_shape), dtype=float32]
    c_train : torch.Tensor [shape=(n_train, n_conditions), dtype=int64] or None
    x_valid : torch.Tensor [shape=(n_valid, *input_shape)] or None
    c_valid : torch.Tensor [shape=(n_valid, n_conditions)] or None
    """

    x_train: torch.Tensor
    c_train: torch.Tensor | None = None
    x_valid: torch.Tensor | None = None
    c_valid: torch.Tensor | None = None

    def to(self, device: torch.device) -> TrainingArrays:
        """The same arrays on ``device``."""
        return TrainingArrays(*(None if t is None else t.to(device) for t in
                                (self.x_train, self.c_train, self.x_valid, self.c_valid)))


class VAEModule(L.LightningModule):
    """Lightning wrapper: one optimiser step per minibatch, epoch records, checkpoints.

    Parameters
    ----------
    model : VAE
        The model to train (updated in place).
    train_config : TrainConfig
        Optimiser, schedule, stopping and seed settings.
    schedule : BetaSchedule
        β per step (its step count is part of the checkpoint).
    data : TrainingArrays
        The items; batches index into them.
    checkpoint_dir : pathlib.Path
        Where ``last/`` and ``best/`` go.
    loader_generator : torch.Generator
        The generator that shuffles the training items (its state is checkpointed).
    resume : tuple of (dict, dict), optional
        ``(tensors, meta)`` of a training checkpoint to continue from.
    supervision : Supervision, optional
        Pairs (weak supervision) or labelled items (few labels).
    """

    def __init__(
        self,
        model: VAE,
        train_config: TrainConfig,
        schedule: BetaSchedule,
        data: TrainingArrays,
        *,
        checkpoint_dir: Path,
        loader_generator: torch.Generator,
        resume: tuple[dict[str, torch.Tensor], dict[str, Any]] | None = None,
        supervision: Supervision | None = None,
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.model = model
        self.train_config = train_config
        self.schedule = schedule
        self.data = data
        self.checkpoint_dir = checkpoint_dir
        self.loader_generator = loader_generator
        self._resume = resume
        meta = resume[1] if resume is not None else {}
        self.history: list[EpochRecord] = [
            EpochRecord.from_dict(r) for r in meta.get("history", [])
        ]
        self.epoch = int(meta.get("epoch", 0))
        self.global_step_count = int(meta.get("global_step", 0))
        best = meta.get("best_loss")
        self.best_loss = math.inf if best is None else float(best)
        self.epochs_without_improvement = int(meta.get("epochs_without_improvement", 0))
        self.stop_reason = "max_epochs"
        self.elapsed_s = float(meta.get("elapsed_s", 0.0))
        self._start_time = time.monotonic()
        self.noise_generator: torch.Generator | None = None
        self._sums: dict[str, torch.Tensor | float] = {}
        self._minibatch = 0
        self.supervision = supervision or Supervision()
        self.pair_rng = np.random.default_rng(train_config.seed + _PAIR_SEED_OFFSET)
        if "pair_rng" in meta:
            self.pair_rng.bit_generator.state = meta["pair_rng"]

    # ------------------------------------------------------------------ setup
    def configure_optimizers(self) -> Any:
        cfg = self.train_config
        params: list[Any] = self.model.vae_parameters()
        linear = self.model.linear_parameters()
        if cfg.linear_lr is not None and linear:
            ids = {id(p) for p in linear}
            params = [
                {"params": [p for p in params if id(p) not in ids]},
                {"params": linear, "lr": cfg.linear_lr},
            ]
        # foreach: the same arithmetic as the per-tensor loop (identical weights), 2x faster on the CPU
        optimizers = [torch.optim.Adam(params, lr=cfg.lr, weight_decay=cfg.weight_decay, foreach=True)]
        if self.model.discriminator is not None:
            optimizers.append(
                torch.optim.Adam(
                    self.model.discriminator.parameters(), lr=cfg.discriminator_lr, betas=(0.5, 0.9), foreach=True
                )
            )
        if self._resume is not None:
            tensors, meta = self._resume
            for i, opt in enumerate(optimizers):
                opt.load_state_dict(
                    optimizer_state_from_flat(tensors, meta["optimizers"][i], f"optimizer{i}")
                )
        return optimizers

    def on_fit_start(self) -> None:
        # One noise stream per process; a single process keeps the seed's own stream.
        self.noise_generator = torch.Generator(device=self.device).manual_seed(
            self.train_config.seed + self.global_rank
        )
        if self._resume is not None:
            self.noise_generator.set_state(self._resume[0]["rng.noise"].cpu())
        self.data = self.data.to(self.device)
        self._start_time = time.monotonic()

    # ------------------------------------------------------------------ steps
    @staticmethod
    def _gather(x: torch.Tensor, c: torch.Tensor | None, idx: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        # index_select: the same rows as x[idx], a few times faster for a minibatch
        return torch.index_select(x, 0, idx), (None if c is None else torch.index_select(c, 0, idx))

    def _accumulate(self, prefix: str, terms: Any, n: int) -> None:
        for name in ("loss", "recon", "kl"):
            key = f"{prefix}_{name}"
            self._sums[key] = self._sums.get(key, 0.0) + getattr(terms, name).detach() * n
        self._sums[f"{prefix}_n"] = self._sums.get(f"{prefix}_n", 0.0) + n

    def _mean(self, prefix: str, name: str) -> float | None:
        n = self._sums.get(f"{prefix}_n", 0.0)
        if not n:
            return None
        return float(self._sums[f"{prefix}_{name}"]) / float(n)

    def _sync_sums(self) -> None:
        """Add the epoch sums over the data-parallel processes (a no-op on one)."""
        if self.trainer.world_size <= 1 or not self._sums:
            return
        keys = sorted(self._sums)
        local = torch.tensor([float(self._sums[k]) for k in keys], dtype=torch.float64)
        total = self.trainer.strategy.reduce(local.to(self.device), reduce_op="sum")
        self._sums = dict(zip(keys, total.cpu().tolist(), strict=True))

    def _check_finite(self, value: torch.Tensor, what: str, batch_idx: int) -> None:
        if not torch.isfinite(value).all():
            last = self.checkpoint_dir / "last"
            kept = (
                f"last good checkpoint kept at {last}"
                if last.exists()
                else "no checkpoint was written yet"
            )
            raise TrainingError(
                f"{what} is {float(value.detach())} at step {self.global_step_count} (epoch {self.epoch}, batch {batch_idx}); "
                f"training stopped, {kept}. Check the inputs for NaN/inf, or lower lr / beta."
            )

    def on_train_epoch_start(self) -> None:
        self._sums = {}
        self._minibatch = 0

    def training_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        """One optimiser step per minibatch of item indices in ``batch``."""
        optimizers = self.optimizers()
        optimizers = optimizers if isinstance(optimizers, list) else [optimizers]
        for idx in batch:
            x, c = self._gather(self.data.x_train, self.data.c_train, idx)
            self._train_minibatch(x, c, optimizers, self._minibatch)
            self._minibatch += 1

    def _warmup(self, beta: float) -> float:
        """Fraction of the β warm-up reached (1 without a warm-up or at β 0)."""
        target = float(self.model.config.beta)
        return min(1.0, beta / target) if target > 0 else 1.0

    def _objective(self, x: torch.Tensor, c: torch.Tensor | None, beta: float) -> tuple[Any, Any]:
        """The minibatch's loss terms (and the model output, ``None`` for pairs)."""
        sup = self.supervision
        gen = self.noise_generator
        if sup.pairs is not None:  # weak supervision: this step's pairs replace the minibatch
            first, second = sup.pairs.sample(x.shape[0], self.pair_rng)
            x1 = torch.index_select(self.data.x_train, 0, torch.as_tensor(first, device=self.device))
            x2 = torch.index_select(self.data.x_train, 0, torch.as_tensor(second, device=self.device))
            return self.model.pair_loss(x1, x2, beta=beta, generator=gen), None
        out = self.model(x, c, generator=gen)
        terms = self.model.loss(x, out, beta=beta, step=self.global_step_count,
                                warmup=self._warmup(beta), generator=gen)
        if sup.label_rows is not None and sup.label_weight > 0:
            assert sup.label_codes is not None and sup.label_levels is not None
            pick = torch.randint(len(sup.label_rows), (min(x.shape[0], len(sup.label_rows)),), generator=gen,
                                 device=self.device)
            xl = torch.index_select(self.data.x_train, 0, sup.label_rows[pick])
            mu, _ = self.model.encode(xl)
            supervised = label_loss(mu, sup.label_codes[pick], sup.label_levels).mean()
            terms = dataclasses.replace(terms, loss=terms.loss + sup.label_weight * supervised)
        return terms, out

    def _train_minibatch(self, x: torch.Tensor, c: torch.Tensor | None, optimizers: list[Any],
                         batch_idx: int) -> None:
        opt = optimizers[0]
        beta = self.schedule.value
        terms, out = self._objective(x, c, beta)
        self._check_finite(terms.loss, "loss", batch_idx)
        if terms.calibration is not None:  # e.g. a harmonic decoder's f0 offset, from this batch
            self.model.calibrate(*terms.calibration)
        opt.zero_grad()
        self.manual_backward(terms.loss)
        if self.train_config.gradient_clip_norm is not None:
            torch.nn.utils.clip_grad_norm_(
                self.model.vae_parameters(), self.train_config.gradient_clip_norm
            )
        opt.step()
        metrics = {"train/loss_step": terms.loss.detach(), "train/beta": beta}
        if self.model.discriminator is not None and out is not None:
            d_opt = optimizers[1]
            d_loss = self.model.discriminator_loss(out.z.detach(), generator=self.noise_generator)
            self._check_finite(d_loss, "discriminator loss", batch_idx)
            d_opt.zero_grad()
            self.manual_backward(d_loss)
            d_opt.step()
            metrics["train/discriminator_loss_step"] = d_loss.detach()
        if terms.tc is not None:
            metrics["train/tc_step"] = terms.tc.detach()
        self._accumulate("train", terms, x.shape[0])
        self.schedule.step()
        self.global_step_count += 1
        if self.global_step_count % self.train_config.log_every_n_steps == 0:
            self._log({k: float(v) for k, v in metrics.items()})

    def on_validation_epoch_start(self) -> None:
        self._val_generator = torch.Generator(device=self.device).manual_seed(
            self.train_config.seed + _VAL_SEED_OFFSET
        )
        for key in [k for k in self._sums if k.startswith("val_")]:
            del self._sums[key]

    def validation_step(self, batch: list[torch.Tensor], batch_idx: int) -> None:
        assert self.data.x_valid is not None  # fit gives no validation batches without items
        for idx in batch:
            x, c = self._gather(self.data.x_valid, self.data.c_valid, idx)
            out = self.model(x, c, generator=self._val_generator)
            beta = self.schedule.value
            terms = self.model.loss(x, out, beta=beta, step=self.global_step_count, warmup=self._warmup(beta),
                                    generator=self._val_generator)
            self._accumulate("val", terms, x.shape[0])

    # ------------------------------------------------------------------ epoch end
    def on_train_epoch_end(self) -> None:
        self._sync_sums()
        record = EpochRecord(
            epoch=self.epoch,
            train_loss=self._mean("train", "loss") or 0.0,
            train_recon=self._mean("train", "recon") or 0.0,
            train_kl=self._mean("train", "kl") or 0.0,
            val_loss=self._mean("val", "loss"),
            val_recon=self._mean("val", "recon"),
            val_kl=self._mean("val", "kl"),
            beta=self.schedule.value,
        )
        if record.val_loss is not None and not math.isfinite(record.val_loss):
            raise TrainingError(
                f"validation loss is {record.val_loss} at epoch {self.epoch} (step {self.global_step_count}); "
                f"training stopped, last good checkpoint kept in {self.checkpoint_dir}"
            )
        # The last step of an epoch can leave non-finite weights behind a finite loss: never save those.
        if not self._parameters_finite():
            bad = [name for name, p in self.model.named_parameters() if not torch.isfinite(p).all()]
            raise TrainingError(
                f"parameters {bad[:3]} became non-finite at step {self.global_step_count} (epoch {self.epoch}); "
                f"training stopped, last good checkpoint kept in {self.checkpoint_dir}. Lower lr or clip gradients."
            )
        self.history.append(record)
        self.epoch += 1
        monitored = record.val_loss if record.val_loss is not None else record.train_loss
        improved = monitored < self.best_loss - self.train_config.min_delta
        if improved:
            self.best_loss = monitored
            self.epochs_without_improvement = 0
            if self.trainer.is_global_zero:
                write_checkpoint_folder(self.checkpoint_dir / "best", self.model)
        else:
            self.epochs_without_improvement += 1
        if record.epoch < self.train_config.best_from_epoch:
            # not comparable with later epochs (e.g. a smaller β during a warm-up): start afresh
            self.best_loss = math.inf
            self.epochs_without_improvement = 0
        elapsed = self.elapsed_s + time.monotonic() - self._start_time
        patience = self.train_config.early_stopping_patience
        if patience is not None and self.epochs_without_improvement >= patience:
            self.stop_reason = "early_stopping"
            self.trainer.should_stop = True
        elif self._any_process(
            self.train_config.max_time_s is not None and elapsed >= self.train_config.max_time_s
        ):
            self.stop_reason = "max_time"
            self.trainer.should_stop = True
        if self.trainer.is_global_zero:
            self._save_last(elapsed, model_from=self.checkpoint_dir / "best" if improved else None)
        self._log({f"epoch/{k}": v for k, v in record.to_dict().items() if v is not None})
        log.debug("%s", record)  # key=value, rounded (EpochRecord.__str__)

    def _parameters_finite(self) -> bool:
        """Whether every weight is finite, in one pass: a float64 sum of float32 weights is
        finite exactly when no weight is NaN or infinite (it cannot overflow)."""
        with torch.no_grad():
            total = sum(p.sum(dtype=torch.float64) for p in self.model.parameters())
        return bool(torch.isfinite(torch.as_tensor(total)))

    def _any_process(self, decision: bool) -> bool:
        """``decision`` taken by any data-parallel process (clocks differ between them)."""
        if self.trainer.world_size <= 1:
            return decision
        return bool(self.trainer.strategy.reduce_boolean_decision(decision, all=False))

    def _save_last(self, elapsed_s: float, model_from: Path | None = None) -> None:
        tensors: dict[str, torch.Tensor] = {
            "rng.noise": self.noise_generator.get_state()
            if self.noise_generator is not None
            else torch.empty(0),
            "rng.loader": self.loader_generator.get_state(),
        }
        optimizer_meta = []
        for i, opt in enumerate(self.trainer.optimizers):
            opt_tensors, meta = optimizer_state_to_flat(opt.state_dict(), f"optimizer{i}")
            tensors.update(opt_tensors)
            optimizer_meta.append(meta)
        meta_all = {
            "epoch": self.epoch,
            "global_step": self.global_step_count,
            "history": [r.to_dict() for r in self.history],
            "schedule": self.schedule.state_dict(),
            "optimizers": optimizer_meta,
            "best_loss": self.best_loss if math.isfinite(self.best_loss) else None,
            "epochs_without_improvement": self.epochs_without_improvement,
            "stop_reason": self.stop_reason if self.trainer.should_stop else None,
            "elapsed_s": elapsed_s,
            "train_config": self.train_config.to_dict(),
            "pair_rng": self.pair_rng.bit_generator.state,
        }
        write_checkpoint_folder(
            self.checkpoint_dir / "last", self.model, state_tensors=tensors, state_meta=meta_all,
            model_from=model_from,
        )

    def _log(self, metrics: dict[str, float]) -> None:
        for logger in self.loggers:
            logger.log_metrics(metrics, step=self.global_step_count)
