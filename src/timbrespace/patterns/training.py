"""Training and held-out evaluation of groove VAEs; the run folder.

Quality is measured on held-out bars as hit reconstruction (encode to ``mu``, decode,
threshold the hit probabilities) against a baseline that draws every cell from the
training set's per-(step, voice) hit rate. Scores are pooled over all cells of all bars
("micro" F1). Because drum grids are sparse (~15 % hits), accuracy is high for any
sparse guess; F1 is the informative number. The hit threshold is calibrated on the
validation split (the F1-maximising value on a 0.05 grid) unless fixed; seed 004 used 0.3.

A run folder::

    RUN/
      config.yaml                model + training config, dataset path, drum map, grid
      metrics.json               GrooveEvaluation + final losses
      history.json               per-epoch losses
      checkpoints/model.safetensors, checkpoints/model.json
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import torch
import yaml

from timbrespace.errors import ConfigError, DatasetError, TrainingError
from timbrespace.patterns.dataset import load_patterns
from timbrespace.patterns.model import (
    GrooveVAE,
    GrooveVAEConfig,
    build_groove_model,
    save_groove_model,
)
from timbrespace.utils.atomic import atomic_write_json, atomic_write_text

__all__ = ["GrooveTrainConfig", "HitScores", "GrooveEvaluation", "train_groove_vae", "hit_scores",
           "evaluate_groove_vae", "train_groove_run", "predict_hit_probs", "SEED_THRESHOLD"]

logger = logging.getLogger(__name__)

SEED_THRESHOLD = 0.3
"""Hit threshold of seed 004."""


@dataclass(frozen=True)
class GrooveTrainConfig:
    """Training options.

    Parameters
    ----------
    epochs : int
    batch_size : int
    lr : float
        Adam learning rate (seed 004: 1e-3).
    beta : float
        Weight of the KL term after warm-up (seed 004: 4).
    warmup_epochs : int
        β rises linearly from 0 to ``beta`` over these epochs.
    seed : int
        Seeds initialisation, shuffling and the reparameterisation noise.
    threshold : float or None
        Hit threshold; None calibrates it on the validation split.
    keep_best : bool
        Return the weights of the epoch with the lowest validation loss (after warm-up),
        not the last ones (needs a validation split).
    """

    epochs: int = 300
    batch_size: int = 64
    lr: float = 1e-3
    beta: float = 1.0
    warmup_epochs: int = 50
    seed: int = 0
    threshold: float | None = None
    keep_best: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ConfigError(f"epochs={self.epochs} and batch_size={self.batch_size} must be >= 1")
        if not (self.lr > 0 and self.beta >= 0 and self.warmup_epochs >= 0):
            raise ConfigError(f"lr={self.lr} must be > 0, beta={self.beta} and warmup_epochs={self.warmup_epochs} >= 0")
        if self.threshold is not None and not 0 < self.threshold < 1:
            raise ConfigError(f"threshold={self.threshold} must be in (0, 1)")


@dataclass(frozen=True)
class HitScores:
    """Pooled hit detection scores over all cells."""

    f1: float
    precision: float
    recall: float
    accuracy: float


@dataclass(frozen=True)
class GrooveEvaluation:
    """Held-out quality of a groove model (see module docstring)."""

    threshold: float
    n_test: int
    test_hit_density: float
    model: HitScores
    model_at_seed_threshold: HitScores
    baseline_sampled: HitScores
    baseline_mode: HitScores
    velocity_mae: float | None
    sample_valid_fraction: float
    sample_hit_density: float
    n_samples: int
    latent_plane_dims: tuple[int, int] = (0, 1)
    kl_per_dim: tuple[float, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def hit_scores(true_hits: np.ndarray, pred_hits: np.ndarray) -> HitScores:
    """Pooled F1, precision, recall and accuracy of boolean hit grids of the same shape."""
    t = np.asarray(true_hits, bool).ravel()
    p = np.asarray(pred_hits, bool).ravel()
    tp = float(np.sum(t & p))
    fp = float(np.sum(~t & p))
    fn = float(np.sum(t & ~p))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0
    return HitScores(f1, precision, recall, float(np.mean(t == p)) if t.size else 1.0)


def train_groove_vae(x_train: np.ndarray, model_config: GrooveVAEConfig, train_config: GrooveTrainConfig, *,
                     x_valid: np.ndarray | None = None) -> tuple[GrooveVAE, list[dict[str, float]]]:
    """Fit a groove VAE with Adam; deterministic for a given ``train_config.seed`` (CPU).

    Parameters
    ----------
    x_train, x_valid : np.ndarray [shape=(n, n_steps, n_voices), dtype=float32]
        Velocities in [0, 1].

    Returns
    -------
    model : GrooveVAE (eval mode)
    history : list of dict
        One record per epoch: ``epoch``, ``beta``, ``loss``, ``recon``, ``kl`` and, with
        ``x_valid``, ``valid_loss``/``valid_recon``.

    Raises
    ------
    TrainingError
        The loss becomes NaN or infinite.
    """
    tc = train_config
    if len(x_train) == 0:
        raise DatasetError("no training bars")
    model = build_groove_model(model_config, seed=tc.seed)
    gen = torch.Generator().manual_seed(tc.seed)
    xt = torch.as_tensor(np.asarray(x_train, np.float32))
    xv = torch.as_tensor(np.asarray(x_valid, np.float32)) if x_valid is not None and len(x_valid) else None
    opt = torch.optim.Adam(model.parameters(), lr=tc.lr)
    history: list[dict[str, float]] = []
    best: tuple[float, int, dict[str, torch.Tensor]] | None = None
    for epoch in range(tc.epochs):
        beta = tc.beta * min(1.0, (epoch + 1) / tc.warmup_epochs) if tc.warmup_epochs else tc.beta
        model.train()
        totals = np.zeros(3)
        order = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(xt), tc.batch_size):
            xb = xt[order[start:start + tc.batch_size]]
            terms = model.loss(xb, model(xb, generator=gen), beta=beta)
            if not torch.isfinite(terms.loss):
                raise TrainingError(f"loss became {terms.loss.item()} at epoch {epoch}")
            opt.zero_grad()
            terms.loss.backward()
            opt.step()
            totals += np.array([terms.loss.item(), terms.recon.item(), terms.kl.item()]) * len(xb)
        record = {"epoch": epoch, "beta": beta, **dict(zip(("loss", "recon", "kl"), (totals / len(xt)).tolist(), strict=True))}
        if xv is not None:
            model.eval()
            with torch.no_grad():
                vt = model.loss(xv, model(xv), beta=beta)
            record.update(valid_loss=vt.loss.item(), valid_recon=vt.recon.item())
            if tc.keep_best and epoch + 1 >= tc.warmup_epochs and (best is None or vt.loss.item() < best[0]):
                best = (vt.loss.item(), epoch, {k: v.detach().clone() for k, v in model.state_dict().items()})
        history.append(record)
        if epoch % 50 == 0 or epoch == tc.epochs - 1:
            logger.info("epoch %d: %s", epoch, {k: round(v, 3) for k, v in record.items() if k != "epoch"})
    if best is not None:
        model.load_state_dict(best[2])
        logger.info("kept epoch %d (lowest validation loss %.3f)", best[1], best[0])
    return model.eval(), history


def predict_hit_probs(model: GrooveVAE, x: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Reconstruct through ``mu``: ``(hit probabilities, velocities or None, mu)``, all numpy float32."""
    with torch.no_grad():
        xt = torch.as_tensor(np.asarray(x, np.float32))
        mu, _ = model.encode(xt)
        logits, vel = model.decode(mu)
    return (torch.sigmoid(logits).numpy(), None if vel is None else vel.numpy(), mu.numpy())


def _calibrate(probs: np.ndarray, hits: np.ndarray) -> float:
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    scores = [hit_scores(hits, probs > t).f1 for t in grid]
    return float(grid[int(np.argmax(scores))])


def evaluate_groove_vae(model: GrooveVAE, x_train: np.ndarray, x_test: np.ndarray, *,
                        x_valid: np.ndarray | None = None, threshold: float | None = None,
                        n_samples: int = 256, n_baseline_draws: int = 20, seed: int = 0) -> GrooveEvaluation:
    """Held-out hit reconstruction vs the per-step hit-rate baseline, and prior samples' validity.

    Parameters
    ----------
    model : GrooveVAE
    x_train, x_test, x_valid : np.ndarray [shape=(n, n_steps, n_voices)]
    threshold : float, optional
        Hit threshold; default: calibrated on ``x_valid`` (or ``x_train`` if none).
    n_samples : int
        Prior samples drawn to check validity (a valid groove has at least one hit and
        is not all hits).
    n_baseline_draws : int
        Baseline draws averaged.
    seed : int

    Returns
    -------
    GrooveEvaluation
    """
    if len(x_test) == 0:
        raise DatasetError("no test bars to evaluate on")
    calib = x_valid if x_valid is not None and len(x_valid) else x_train
    if threshold is None:
        probs_c, _, _ = predict_hit_probs(model, calib)
        threshold = _calibrate(probs_c, calib > 0)
    test_hits = x_test > 0
    probs, vel, _ = predict_hit_probs(model, x_test)
    pred = probs > threshold
    rates = (x_train > 0).mean(axis=0)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
    draws = [hit_scores(test_hits, rng.random(x_test.shape) < rates) for _ in range(n_baseline_draws)]
    sampled = HitScores(*(float(np.mean([getattr(d, f) for d in draws])) for f in ("f1", "precision", "recall", "accuracy")))
    mode = hit_scores(test_hits, np.broadcast_to(rates > 0.5, x_test.shape))
    vel_mae = None
    if vel is not None and test_hits.any():
        vel_mae = float(np.mean(np.abs(vel[test_hits] - x_test[test_hits])))
    # prior samples
    with torch.no_grad():
        z = torch.randn((n_samples, model.config.latent_dim), generator=torch.Generator().manual_seed(seed))
        s_logits, _ = model.decode(z)
    s_hits = (torch.sigmoid(s_logits).numpy() > threshold).reshape(n_samples, -1)
    valid = s_hits.any(axis=1) & ~s_hits.all(axis=1)
    _, _, mu_train = predict_hit_probs(model, x_train)
    with torch.no_grad():
        _, logvar = model.encode(torch.as_tensor(np.asarray(x_train, np.float32)))
    kl_dim = (-0.5 * (1 + logvar.numpy() - mu_train**2 - np.exp(logvar.numpy()))).mean(axis=0)
    top = np.argsort(-kl_dim, kind="stable")[:2].tolist()
    plane = (int(top[0]), int(top[1] if len(top) > 1 else top[0]))
    return GrooveEvaluation(
        threshold=float(threshold), n_test=len(x_test), test_hit_density=float(test_hits.mean()),
        model=hit_scores(test_hits, pred), model_at_seed_threshold=hit_scores(test_hits, probs > SEED_THRESHOLD),
        baseline_sampled=sampled, baseline_mode=mode, velocity_mae=vel_mae,
        sample_valid_fraction=float(valid.mean()), sample_hit_density=float(s_hits.mean()), n_samples=n_samples,
        latent_plane_dims=plane, kl_per_dim=tuple(float(v) for v in kl_dim),
    )


def train_groove_run(dataset: str | Path, out: str | Path, *, model_config: GrooveVAEConfig | None = None,
                     train_config: GrooveTrainConfig | None = None) -> GrooveEvaluation:
    """Train on a groove dataset's ``train`` split, evaluate on ``test``, write the run folder.

    ``model_config`` defaults to an MLP fitted to the dataset's grid (its ``n_steps`` and
    ``n_voices`` are always taken from the data).

    Returns
    -------
    GrooveEvaluation (also in ``RUN/metrics.json``).

    Raises
    ------
    DatasetError
        Not a groove dataset, or an empty train/test split.
    """
    import dataclasses

    from timbrespace.datasets import Dataset

    ds = Dataset(dataset)
    x_train, _ = load_patterns(ds, "train")
    x_test, _ = load_patterns(ds, "test")
    x_valid = load_patterns(ds, "valid")[0] if "valid" in set(ds.metadata["split"]) else None
    sidecar = ds.feature_sidecar("patterns")
    mc = model_config or GrooveVAEConfig()
    mc = dataclasses.replace(mc, n_steps=int(x_train.shape[1]), n_voices=int(x_train.shape[2]))
    tc = train_config or GrooveTrainConfig()
    model, history = train_groove_vae(x_train, mc, tc, x_valid=x_valid)
    ev = evaluate_groove_vae(model, x_train, x_test, x_valid=x_valid, threshold=tc.threshold, seed=tc.seed)
    out = Path(out)
    grid = {"drum_map": sidecar["drum_map"], "steps_per_quarter": sidecar["steps_per_quarter"],
            "time_signature": sidecar["time_signature"], "voice_names": sidecar["voice_names"]}
    save_groove_model(model, out / "checkpoints", extra={
        **grid, "threshold": ev.threshold, "latent_plane_dims": list(ev.latent_plane_dims),
        "train_density": float((x_train > 0).mean()),
    })
    atomic_write_text(out / "config.yaml", yaml.safe_dump({
        "dataset": str(Path(dataset).resolve()), "model": mc.to_dict(), "train": asdict(tc), **grid,
    }, sort_keys=False))
    final = {k: v for k, v in history[-1].items() if isinstance(v, float) and math.isfinite(v)}
    atomic_write_json(out / "metrics.json", {**ev.to_dict(), "final_epoch": final,
                                             "n_train": len(x_train), "n_valid": 0 if x_valid is None else len(x_valid)})
    atomic_write_json(out / "history.json", history)
    logger.debug("test hit F1 %.3f (baseline %.3f), accuracy %.3f (baseline %.3f), valid samples %.0f%%",
                ev.model.f1, ev.baseline_sampled.f1, ev.model.accuracy, ev.baseline_sampled.accuracy,
                100 * ev.sample_valid_fraction)
    return ev
