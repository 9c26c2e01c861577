"""Held-out quality of a groove model: hit F1 against a baseline, prior samples' validity.

Quality is measured on held-out bars as hit reconstruction (encode to ``mu``, decode,
threshold the hit probabilities) against a baseline that draws every cell from the
training set's per-(step, voice) hit rate, and against the "mode" baseline that plays
every cell hit in more than half of the training bars. Scores are pooled over all cells
(:func:`timbrespace.metrics.hit_scores`). The hit threshold is calibrated on the
validation split (the F1-maximising value on a 0.05 grid) unless fixed; seed 004 used 0.3.
A model that predicts micro-timing too (``hvo``, GrooVAE's H, V, O) reads each bar's
offsets beside its velocities (:func:`model_inputs`); its offset and velocity errors are
measured beside the feel's (:func:`timbrespace.experiments.drums_feel.evaluate_feel`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch

from timbrespace.errors import DatasetError
from timbrespace.metrics import HitScores, hit_scores
from timbrespace.models import VAE, VAEConfig
from timbrespace.training import encode_array, eval_mode

__all__ = ["GrooveEvaluation", "SEED_THRESHOLD", "evaluate_groove_model", "model_inputs", "predict_hits",
           "predict_offsets"]

SEED_THRESHOLD = 0.3
"""Hit threshold of seed 004."""


@dataclass(frozen=True)
class GrooveEvaluation:
    """Held-out quality of a groove model (see the module docstring).

    Attributes
    ----------
    threshold : float
        Hit threshold used (calibrated or given).
    n_test : int
    test_hit_density : float
        Fraction of test cells with a hit.
    model, model_at_seed_threshold : HitScores
        Reconstruction of the test bars at ``threshold`` and at seed 004's 0.3.
    baseline_sampled : HitScores
        Cells drawn from the training hit rate per (step, voice), averaged over draws.
    baseline_mode : HitScores
        Cells hit in more than half of the training bars.
    velocity_mae : float or None
        Mean absolute velocity error on true hits (models with velocities).
    sample_valid_fraction : float
        Prior samples with at least one hit and not all hits.
    sample_hit_density : float
    n_samples : int
    latent_plane_dims : tuple of int
        The two latents with the highest mean KL on the training bars (the click plane).
    kl_per_dim : tuple of float
        Mean KL per latent on the training bars, nats.
    """

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

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)


def model_inputs(model: VAE | VAEConfig, patterns: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
    """What the model reads of bars: velocities, the hits ``x > 0``, or velocities and offsets.

    Parameters
    ----------
    model : VAE or VAEConfig
        A groove model or its config: ``hit_velocity`` reads the velocities, ``bernoulli``
        (hits only) the hits, ``hvo`` the velocities and the offsets.
    patterns : np.ndarray [shape=(n, n_steps, n_voices)]
        Velocities in [0, 1] (0: no hit).
    offsets : np.ndarray [shape=(n, n_steps, n_voices)], optional
        Each hit's micro-timing offset in steps, in [-0.5, 0.5]; needed by ``hvo`` only.

    Returns
    -------
    np.ndarray [shape=(n, *model.config.item_shape), dtype=float32]

    Raises
    ------
    DatasetError
        An ``hvo`` model without ``offsets`` (a dataset ingested before offsets were kept).
    """
    x = np.asarray(patterns, dtype=np.float32)
    likelihood = (model.config if isinstance(model, VAE) else model).likelihood
    if likelihood == "hvo":
        if offsets is None:
            raise DatasetError("the model predicts micro-timing (outputs hvo) and reads each bar's offsets, which "
                               "this groove data lacks (ingested by an older timbrespace: run `timbrespace drums "
                               "ingest` again)")
        return np.stack([x, np.where(x > 0, np.asarray(offsets, np.float32), 0.0)], axis=1).astype(np.float32)
    return x if likelihood == "hit_velocity" else (x > 0).astype(np.float32)


@torch.no_grad()
def predict_hits(model: VAE, patterns: np.ndarray,
                 offsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """Reconstruct through ``mu``: ``(hit probabilities, velocities or None, mu)``, numpy float32.

    Parameters
    ----------
    model : VAE
        A groove model (``bernoulli``, ``hit_velocity`` or ``hvo`` likelihood).
    patterns : np.ndarray [shape=(n, n_steps, n_voices)]
        Velocities in [0, 1].
    offsets : np.ndarray [shape=(n, n_steps, n_voices)], optional
        Offsets in steps (read by an ``hvo`` model, see :func:`model_inputs`).
    """
    mu = encode_array(model, model_inputs(model, patterns, offsets))
    with eval_mode(model):
        probs, velocities = model.hits_and_velocities(torch.from_numpy(mu))
    return probs.numpy(), None if velocities is None else velocities.numpy(), mu


@torch.no_grad()
def predict_offsets(model: VAE, mu: np.ndarray) -> np.ndarray | None:
    """The micro-timing offsets an ``hvo`` model decodes at ``mu``; None for a model without offsets.

    Parameters
    ----------
    model : VAE
    mu : np.ndarray [shape=(n, latent_dim)]

    Returns
    -------
    np.ndarray [shape=(n, n_steps, n_voices), dtype=float32] or None
        Offsets in steps, in (-0.5, 0.5), for every cell (played where there is a hit).
    """
    if model.config.likelihood != "hvo":
        return None
    with eval_mode(model):
        return model.offsets(torch.from_numpy(np.asarray(mu, np.float32))).numpy()


def _calibrate(probs: np.ndarray, hits: np.ndarray) -> float:
    grid = np.round(np.arange(0.05, 0.951, 0.05), 2)
    scores = [hit_scores(hits, probs > t).f1 for t in grid]
    return float(grid[int(np.argmax(scores))])


def evaluate_groove_model(model: VAE, x_train: np.ndarray, x_test: np.ndarray, *,
                          x_valid: np.ndarray | None = None, threshold: float | None = None,
                          n_samples: int = 256, n_baseline_draws: int = 20, seed: int = 0,
                          offsets_train: np.ndarray | None = None, offsets_test: np.ndarray | None = None,
                          offsets_valid: np.ndarray | None = None) -> GrooveEvaluation:
    """Held-out hit reconstruction vs the per-step hit-rate baseline, and prior samples' validity.

    Parameters
    ----------
    model : VAE
        A groove model.
    x_train, x_test, x_valid : np.ndarray [shape=(n, n_steps, n_voices)]
        Velocities in [0, 1].
    threshold : float, optional
        Hit threshold; default: calibrated on ``x_valid`` (or ``x_train`` if none).
    n_samples : int
        Prior samples drawn to check validity (a valid groove has at least one hit and
        is not all hits).
    n_baseline_draws : int
        Baseline draws averaged.
    seed : int
    offsets_train, offsets_test, offsets_valid : np.ndarray [shape=(n, n_steps, n_voices)], optional
        The bars' micro-timing offsets in steps, read by an ``hvo`` model.

    Returns
    -------
    GrooveEvaluation

    Raises
    ------
    DatasetError
        No test bars; an ``hvo`` model without offsets.
    """
    if len(x_test) == 0:
        raise DatasetError("no test bars to evaluate on")
    calib, offsets_calib = x_train, offsets_train
    if x_valid is not None and len(x_valid) > 0:
        calib, offsets_calib = x_valid, offsets_valid
    if threshold is None:
        threshold = _calibrate(predict_hits(model, calib, offsets_calib)[0], calib > 0)
    test_hits = x_test > 0
    probs, vel, _ = predict_hits(model, x_test, offsets_test)
    rates = (x_train > 0).mean(axis=0)
    rng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
    draws = [hit_scores(test_hits, rng.random(x_test.shape) < rates) for _ in range(n_baseline_draws)]
    sampled = HitScores(*(float(np.mean([getattr(d, f) for d in draws])) for f in ("f1", "precision", "recall", "accuracy")))
    mode = hit_scores(test_hits, np.broadcast_to(rates > 0.5, x_test.shape))
    vel_mae = None
    if vel is not None and test_hits.any():
        vel_mae = float(np.mean(np.abs(vel[test_hits] - x_test[test_hits])))
    with torch.no_grad(), eval_mode(model):
        z = torch.randn((n_samples, model.config.latent_dim), generator=torch.Generator().manual_seed(seed))
        s_probs = model.hits_and_velocities(z)[0].numpy()
    s_hits = (s_probs > threshold).reshape(n_samples, -1)
    valid = s_hits.any(axis=1) & ~s_hits.all(axis=1)
    mu, logvar = encode_array(model, model_inputs(model, x_train, offsets_train), return_logvar=True)
    kl_dim = (0.5 * (mu.astype(np.float64) ** 2 + np.exp(logvar) - logvar - 1.0)).mean(axis=0)
    top = np.argsort(-kl_dim, kind="stable")[:2].tolist()
    plane = (int(top[0]), int(top[1] if len(top) > 1 else top[0]))
    return GrooveEvaluation(
        threshold=float(threshold), n_test=len(x_test), test_hit_density=float(test_hits.mean()),
        model=hit_scores(test_hits, probs > threshold), model_at_seed_threshold=hit_scores(test_hits, probs > SEED_THRESHOLD),
        baseline_sampled=sampled, baseline_mode=mode, velocity_mae=vel_mae,
        sample_valid_fraction=float(valid.mean()), sample_hit_density=float(s_hits.mean()), n_samples=n_samples,
        latent_plane_dims=plane, kl_per_dim=tuple(float(v) for v in kl_dim),
    )
