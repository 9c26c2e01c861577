"""New grooves from a trained run: prior samples, a point of the 2-D click plane, interpolations.

Decoded hit probabilities become hits above the run's threshold (calibrated at training,
seed 004 used 0.3); a hit's velocity is the decoder's velocity output, or 0.8 for a
hits-only model. The click plane (seed 004: a click in a window maps to z ∈ [−4, 4]²) is
spanned by the two most informative latents (highest mean KL on the training set); the
other latents stay at 0, the prior mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.patterns.midi import read_midi
from timbrespace.patterns.model import GrooveVAE, load_groove_model

__all__ = ["GrooveRun", "load_groove_run", "decode_latents", "sample_grooves", "groove_at",
           "encode_midi", "interpolate_grooves", "DEFAULT_VELOCITY"]

DEFAULT_VELOCITY = 0.8
"""Velocity given to hits of a model trained without velocities."""


@dataclass(frozen=True)
class GrooveRun:
    """A trained groove model and the grid it was trained on."""

    model: GrooveVAE
    drum_map: str
    steps_per_quarter: float
    time_signature: tuple[int, int]
    threshold: float
    latent_plane_dims: tuple[int, int]


def load_groove_run(run: str | Path) -> GrooveRun:
    """Open ``RUN/checkpoints`` written by :func:`~timbrespace.patterns.training.train_groove_run`.

    Raises
    ------
    ConfigError
        Not a groove run.
    """
    run = Path(run)
    if not (run / "checkpoints" / "model.json").is_file():
        raise ConfigError(f"{run}: not a groove run (no checkpoints/model.json); train one with `timbrespace drums train`")
    model, extra = load_groove_model(run / "checkpoints")
    try:
        ts = extra["time_signature"]
        plane = extra.get("latent_plane_dims", [0, 1])
        return GrooveRun(model, str(extra["drum_map"]), float(extra["steps_per_quarter"]),  # type: ignore[arg-type]
                         (int(ts[0]), int(ts[1])), float(extra["threshold"]),  # type: ignore[index, arg-type]
                         (int(plane[0]), int(plane[1])))  # type: ignore[index]
    except (KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{run}/checkpoints/model.json lacks the groove grid ({exc})") from None


def decode_latents(run: GrooveRun, z: np.ndarray) -> np.ndarray:
    """Decode latents to patterns.

    Parameters
    ----------
    z : np.ndarray [shape=(n, latent_dim)]

    Returns
    -------
    np.ndarray [shape=(n, n_steps, n_voices), dtype=float32]
        Velocities in [0, 1], 0 where the hit probability is ≤ the threshold.
    """
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[1] != run.model.config.latent_dim:
        raise ParameterError(f"z shape {z.shape} must be (n, {run.model.config.latent_dim})")
    with torch.no_grad():
        logits, vel = run.model.decode(torch.as_tensor(z))
    hits = torch.sigmoid(logits).numpy() > run.threshold
    v = np.full(hits.shape, DEFAULT_VELOCITY, np.float32) if vel is None else np.clip(vel.numpy(), 1 / 127, 1.0)
    return np.where(hits, v, 0.0).astype(np.float32)


def sample_grooves(run: GrooveRun, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` grooves from the prior ``z ~ N(0, I)`` (seeded); shape ``(n, n_steps, n_voices)``."""
    if n < 1:
        raise ParameterError(f"n={n} must be >= 1")
    z = torch.randn((n, run.model.config.latent_dim), generator=torch.Generator().manual_seed(seed)).numpy()
    return decode_latents(run, z)


def groove_at(run: GrooveRun, x: float, y: float) -> np.ndarray:
    """The groove at point ``(x, y)`` of the click plane (seed 004: x, y in [−4, 4]); ``(n_steps, n_voices)``."""
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ParameterError(f"--at {x} {y}: coordinates must be finite")
    z = np.zeros((1, run.model.config.latent_dim), np.float32)
    dx, dy = run.latent_plane_dims
    z[0, dx] = x
    if dy != dx:
        z[0, dy] = y
    return decode_latents(run, z)[0]


def encode_midi(run: GrooveRun, path: str | Path, *, bar: int = 0) -> np.ndarray:
    """``mu`` ``(latent_dim,)`` of one bar of a MIDI file (bar of the run's meter, counted from 0).

    Raises
    ------
    ParameterError
        The file has no such bar in the run's meter and grid.
    """
    groove = read_midi(path, drum_map=run.drum_map, steps_per_bar=int(round(run.steps_per_quarter * 4)))
    patterns, _ = groove.patterns(run.time_signature)
    if not 0 <= bar < len(patterns):
        raise ParameterError(f"{Path(path).name}: bar={bar} not available; it has {len(patterns)} "
                             f"{run.time_signature[0]}/{run.time_signature[1]} bars")
    if patterns.shape[1] != run.model.config.n_steps:
        raise ParameterError(f"{Path(path).name}: {patterns.shape[1]} steps per bar, model expects {run.model.config.n_steps}")
    with torch.no_grad():
        mu, _ = run.model.encode(torch.as_tensor(patterns[bar:bar + 1]))
    return mu.numpy()[0]


def interpolate_grooves(run: GrooveRun, a: str | Path, b: str | Path, *, steps: int = 5,
                        bar_a: int = 0, bar_b: int = 0) -> np.ndarray:
    """Linear interpolation in latent space between bars of two MIDI files.

    Returns
    -------
    np.ndarray [shape=(steps, n_steps, n_voices)]
        From (the reconstruction of) ``a`` to ``b``, end points included.
    """
    if steps < 2:
        raise ParameterError(f"steps={steps} must be >= 2 (end points included)")
    za, zb = encode_midi(run, a, bar=bar_a), encode_midi(run, b, bar=bar_b)
    t = np.linspace(0.0, 1.0, steps, dtype=np.float32)[:, None]
    return decode_latents(run, (1 - t) * za[None] + t * zb[None])
