"""New grooves from a trained drums run: prior samples, a point of the 2-D click plane, interpolations.

Decoded hit probabilities become hits above the run's threshold (calibrated at training,
seed 004 used 0.3); a hit's velocity is the decoder's velocity output, or 0.8 for a
hits-only model, and a model that predicts micro-timing (``outputs: hvo``, GrooVAE's O)
gives each hit its offset (:func:`decode_grooves`). The click plane (seed 004: a click in a
window maps to z ∈ [−4, 4]²) is spanned by the two most informative latents (highest mean
KL on the training set); the other latents stay at 0, the prior mean.

Each kind of groove has its latents (:func:`prior_latents`, :func:`plane_latents`,
:func:`interpolation_latents`) and a shortcut that decodes them to patterns alone
(:func:`sample_grooves`, :func:`groove_at`, :func:`interpolate_grooves`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from timbrespace.conventions import check_steps
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments.drums_eval import model_inputs, predict_offsets
from timbrespace.experiments.drums_run import GrooveRun
from timbrespace.generation import interpolate, sample_prior
from timbrespace.patterns.midi import read_midi
from timbrespace.training import encode_array

__all__ = ["DEFAULT_VELOCITY", "Grooves", "decode_grooves", "decode_latents", "prior_latents", "plane_latents",
           "interpolation_latents", "sample_grooves", "groove_at", "encode_midi", "interpolate_grooves"]

DEFAULT_VELOCITY = 0.8
"""Velocity given to hits of a model trained without velocities."""


@dataclass(frozen=True)
class Grooves:
    """Decoded one-bar grooves.

    Attributes
    ----------
    patterns : np.ndarray [shape=(n, n_steps, n_voices), dtype=float32]
        Velocities in [1/127, 1] at the hits, 0 elsewhere.
    offsets : np.ndarray [shape=(n, n_steps, n_voices), dtype=float32] or None
        Each hit's micro-timing offset in steps, in (-0.5, 0.5), 0 where no hit (what
        ``patterns_to_midi(..., offsets=)`` and ``render_patterns(..., offsets=)`` play);
        None for a model that does not predict them (on the grid).
    """

    patterns: np.ndarray
    offsets: np.ndarray | None


@torch.no_grad()
def decode_grooves(run: GrooveRun, z: np.ndarray) -> Grooves:
    """Decode latents to grooves: hits, their velocities and (``hvo`` models) their offsets.

    Parameters
    ----------
    run : GrooveRun
    z : np.ndarray [shape=(n, latent_dim)]

    Returns
    -------
    Grooves

    Raises
    ------
    ParameterError
        ``z`` of the wrong shape.
    """
    z = np.asarray(z, np.float32)
    latent_dim = run.model.config.latent_dim
    if z.ndim != 2 or z.shape[1] != latent_dim:
        raise ParameterError(f"z shape {z.shape} must be (n, {latent_dim})")
    probs, velocities = run.model.eval().hits_and_velocities(torch.from_numpy(z))
    hits = probs.numpy() > run.threshold
    v = (np.full(hits.shape, DEFAULT_VELOCITY, np.float32) if velocities is None
         else np.clip(velocities.numpy(), 1 / 127, 1.0))
    offsets = predict_offsets(run.model, z)
    return Grooves(np.where(hits, v, 0.0).astype(np.float32),
                   None if offsets is None else np.where(hits, offsets, 0.0).astype(np.float32))


def decode_latents(run: GrooveRun, z: np.ndarray) -> np.ndarray:
    """Decode latents to patterns: the ``patterns`` of :func:`decode_grooves`, without the offsets.

    Takes the parameters of :func:`decode_grooves` and raises its errors.

    Returns
    -------
    np.ndarray [shape=(n, n_steps, n_voices), dtype=float32]
        Velocities in [1/127, 1] where the hit probability is above the threshold, 0 elsewhere.
    """
    return decode_grooves(run, z).patterns


def prior_latents(run: GrooveRun, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` draws ``z ~ N(0, I)`` (seeded), shape ``(n, latent_dim)``.

    Raises
    ------
    ParameterError
        ``n < 1``.
    """
    if n < 1:
        raise ParameterError(f"n={n} must be >= 1")
    return sample_prior(run.model.config.latent_dim, n, seed=seed)


def sample_grooves(run: GrooveRun, n: int, *, seed: int = 0) -> np.ndarray:
    """``n`` grooves from the prior ``z ~ N(0, I)`` (seeded); shape ``(n, n_steps, n_voices)``.

    Raises
    ------
    ParameterError
        ``n < 1``.
    """
    return decode_latents(run, prior_latents(run, n, seed=seed))


def plane_latents(run: GrooveRun, x: float, y: float) -> np.ndarray:
    """The latents ``(1, latent_dim)`` of point ``(x, y)`` of the click plane, the other latents at 0.

    Raises
    ------
    ParameterError
        A coordinate that is not finite.
    """
    if not (np.isfinite(x) and np.isfinite(y)):
        raise ParameterError(f"--at {x} {y}: coordinates must be finite")
    z = np.zeros((1, run.model.config.latent_dim), np.float32)
    dx, dy = run.latent_plane_dims
    z[0, dx] = x
    if dy != dx:
        z[0, dy] = y
    return z


def groove_at(run: GrooveRun, x: float, y: float) -> np.ndarray:
    """The groove at point ``(x, y)`` of the click plane (seed 004: x, y in [−4, 4]); ``(n_steps, n_voices)``.

    Raises
    ------
    ParameterError
        A coordinate that is not finite.
    """
    return decode_latents(run, plane_latents(run, x, y))[0]


def encode_midi(run: GrooveRun, path: str | Path, *, bar: int = 0) -> np.ndarray:
    """``mu`` ``(latent_dim,)`` of one bar of a MIDI file (bar of the run's meter, counted from 0).

    An ``hvo`` model reads the bar's micro-timing too.

    Raises
    ------
    ParameterError
        The file has no such bar in the run's meter and grid.
    DatasetError
        The file is unreadable or holds no drum hit (nothing on MIDI channel 10 that
        the run's drum map plays).
    """
    groove = read_midi(path, drum_map=run.drum_map, steps_per_bar=int(round(run.steps_per_quarter * 4)))
    patterns, offsets, _ = groove.patterns_and_offsets(run.time_signature)
    if not np.any(patterns > 0):
        raise DatasetError(f"{Path(path).name}: no drum hits (no note on MIDI channel 10 that the "
                           f"{run.drum_map} drum map plays); choose a drum groove")
    if not 0 <= bar < len(patterns):
        raise ParameterError(f"{Path(path).name}: bar={bar} not available; it has {len(patterns)} "
                             f"{run.time_signature[0]}/{run.time_signature[1]} bars")
    n_steps = run.model.config.input_shape[0]
    if patterns.shape[1] != n_steps:
        raise ParameterError(f"{Path(path).name}: {patterns.shape[1]} steps per bar, model expects {n_steps}")
    return encode_array(run.model, model_inputs(run.model, patterns[bar:bar + 1], offsets[bar:bar + 1]))[0]


def interpolation_latents(run: GrooveRun, a: str | Path, b: str | Path, *, steps: int = 5,
                          bar_a: int = 0, bar_b: int = 0) -> np.ndarray:
    """Latents ``(steps, latent_dim)`` on the line from a bar of ``a`` to a bar of ``b``, end points included.

    Raises
    ------
    ParameterError
        ``steps`` outside 2..16 or a bar the files do not have.
    """
    check_steps(steps)
    za, zb = encode_midi(run, a, bar=bar_a), encode_midi(run, b, bar=bar_b)
    return interpolate(za, zb, steps, "lerp")


def interpolate_grooves(run: GrooveRun, a: str | Path, b: str | Path, *, steps: int = 5,
                        bar_a: int = 0, bar_b: int = 0) -> np.ndarray:
    """Linear interpolation in latent space between bars of two MIDI files.

    Returns
    -------
    np.ndarray [shape=(steps, n_steps, n_voices)]
        From (the reconstruction of) ``a`` to ``b``, end points included.

    Raises
    ------
    ParameterError
        ``steps`` outside 2..16 or a bar the files do not have.
    """
    return decode_latents(run, interpolation_latents(run, a, b, steps=steps, bar_a=bar_a, bar_b=bar_b))
