"""Latent-space operations: prior samples, linear/spherical interpolation, traversals.

Pure numpy on latents ``z`` of shape ``(..., latent_dim)``; decode the results with
:func:`~timbrespace.generation.decode_array` (features) and the feature inverse (audio).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np

from timbrespace.errors import ParameterError

__all__ = ["sample_prior", "lerp", "slerp", "interpolate", "traverse", "decode_grid"]


def sample_prior(latent_dim: int, n: int, *, seed: int) -> np.ndarray:
    """Draw ``n`` latents from the standard-normal prior ``N(0, I)``.

    Parameters
    ----------
    latent_dim : int or VAE
        Number of latents (or a model, whose ``config.latent_dim`` is used).
    n : int
        Number of samples.
    seed : int
        Seed of ``np.random.default_rng``.

    Returns
    -------
    np.ndarray [shape=(n, latent_dim), dtype=float32]
    """
    config = getattr(latent_dim, "config", None)
    dim = int(config.latent_dim) if config is not None else int(latent_dim)
    if dim < 1 or n < 0:
        raise ParameterError(f"latent_dim={dim} must be >= 1 and n={n} >= 0")
    return np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)


def _pair(z_a: np.ndarray, z_b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    a, b = np.asarray(z_a, dtype=np.float64), np.asarray(z_b, dtype=np.float64)
    if a.shape != b.shape or a.ndim != 1:
        raise ParameterError(
            f"z_a {a.shape} and z_b {b.shape} must be two vectors of the same length (latent_dim,)"
        )
    return a, b


def _fractions(t: float | Sequence[float] | np.ndarray) -> np.ndarray:
    return np.atleast_1d(np.asarray(t, dtype=np.float64))


def lerp(z_a: np.ndarray, z_b: np.ndarray, t: float | Sequence[float] | np.ndarray) -> np.ndarray:
    """Linear interpolation ``(1 - t) z_a + t z_b``.

    Parameters
    ----------
    z_a, z_b : np.ndarray [shape=(latent_dim,)]
        End points.
    t : float or array-like [shape=(n_steps,)]
        Fractions (0 gives ``z_a``, 1 gives ``z_b``).

    Returns
    -------
    np.ndarray [shape=(n_steps, latent_dim), dtype=float32]
    """
    a, b = _pair(z_a, z_b)
    t = _fractions(t)[:, None]
    return ((1.0 - t) * a + t * b).astype(np.float32)


def slerp(z_a: np.ndarray, z_b: np.ndarray, t: float | Sequence[float] | np.ndarray) -> np.ndarray:
    """Spherical linear interpolation between ``z_a`` and ``z_b``.

    Follows the great circle between the two directions while interpolating the norm
    linearly, which keeps samples at the typical radius of a Gaussian prior (a straight
    line through the origin region passes where the prior has little mass).
    Falls back to :func:`lerp` for (anti-)parallel or zero vectors.

    Parameters
    ----------
    z_a, z_b : np.ndarray [shape=(latent_dim,)]
    t : float or array-like [shape=(n_steps,)]

    Returns
    -------
    np.ndarray [shape=(n_steps, latent_dim), dtype=float32]

    References
    ----------
    Shoemake, "Animating rotation with quaternion curves", SIGGRAPH 1985; White,
    "Sampling generative networks", 2016.
    """
    a, b = _pair(z_a, z_b)
    t = _fractions(t)[:, None]
    norm_a, norm_b = np.linalg.norm(a), np.linalg.norm(b)
    if norm_a == 0 or norm_b == 0:
        return lerp(a, b, t[:, 0])
    ua, ub = a / norm_a, b / norm_b
    omega = np.arccos(np.clip(ua @ ub, -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return lerp(a, b, t[:, 0])
    direction = (np.sin((1.0 - t) * omega) * ua + np.sin(t * omega) * ub) / np.sin(omega)
    norm = (1.0 - t) * norm_a + t * norm_b
    return (direction * norm).astype(np.float32)


def interpolate(
    z_a: np.ndarray, z_b: np.ndarray, steps: int, method: Literal["lerp", "slerp"] = "lerp"
) -> np.ndarray:
    """``steps`` evenly spaced points from ``z_a`` to ``z_b`` (both included).

    Returns
    -------
    np.ndarray [shape=(steps, latent_dim), dtype=float32]

    Raises
    ------
    ParameterError
        If ``steps < 2`` or ``method`` is unknown.
    """
    if steps < 2:
        raise ParameterError(f"steps={steps} must be >= 2 (the two end points)")
    t = np.linspace(0.0, 1.0, steps)
    if method == "lerp":
        return lerp(z_a, z_b, t)
    if method == "slerp":
        return slerp(z_a, z_b, t)
    raise ParameterError(f"method={method!r} is not allowed: one of lerp, slerp")


def traverse(
    z_base: np.ndarray, dims: Sequence[int], values: Sequence[float] | np.ndarray
) -> np.ndarray:
    """Latent traversals: set one latent at a time to each of ``values``, others from ``z_base``.

    The one builder of traversal codes (the report, the CLI and the explorer decode its grids).

    Parameters
    ----------
    z_base : np.ndarray [shape=(latent_dim,)]
        Starting point (e.g. a posterior mean, or zeros).
    dims : sequence of int
        Latents to traverse (rows of the grid).
    values : array-like [shape=(n_values,)]
        Values each traversed latent takes (columns), e.g. ``np.linspace(-3, 3, 7)``.

    Returns
    -------
    np.ndarray [shape=(len(dims), n_values, latent_dim), dtype=float32]
        ``grid[i, j]`` is ``z_base`` with latent ``dims[i]`` set to ``values[j]``.

    References
    ----------
    Higgins et al., "β-VAE", ICLR 2017 (traversal figures); seed 001's traversal GIFs.
    """
    base = np.asarray(z_base, dtype=np.float32)
    if base.ndim != 1:
        raise ParameterError(f"z_base has shape {base.shape}; expected (latent_dim,)")
    dims = [int(d) for d in dims]
    bad = [d for d in dims if not 0 <= d < base.shape[0]]
    if bad:
        raise ParameterError(f"dims {bad} out of range: allowed 0..{base.shape[0] - 1}")
    vals = np.asarray(values, dtype=np.float32)
    if vals.ndim != 1 or vals.size == 0:
        raise ParameterError(f"values must be a non-empty 1-D sequence; got shape {vals.shape}")
    grid = np.broadcast_to(base, (len(dims), vals.size, base.shape[0])).copy()
    for i, d in enumerate(dims):
        grid[i, :, d] = vals
    return grid


def decode_grid(
    model: object, grid: np.ndarray, c: np.ndarray | None = None, *, batch_size: int = 1024
) -> np.ndarray:
    """Decode a latent grid of any leading shape (e.g. :func:`traverse` output) to features.

    Parameters
    ----------
    model : VAE
        Trained model.
    grid : np.ndarray [shape=(..., latent_dim)]
        Latents, e.g. ``(n_dims, n_values, latent_dim)``.
    c : np.ndarray [shape=(n_conditions,) or (prod(...), n_conditions)], optional
        Labels of a conditional model; one row is repeated for every grid point.
    batch_size : int
        Latents per forward pass.

    Returns
    -------
    np.ndarray [shape=(..., *input_shape), dtype=float32]
        Mean of the likelihood at every grid point.
    """
    from timbrespace.training.inference import decode_array

    grid = np.asarray(grid, dtype=np.float32)
    lead = grid.shape[:-1]
    flat = grid.reshape(-1, grid.shape[-1])
    if c is not None:
        c = np.asarray(c)
        if c.ndim == 1:
            c = np.broadcast_to(c, (flat.shape[0], c.shape[0]))
    out = decode_array(model, flat, c, batch_size=batch_size)  # type: ignore[arg-type]
    return out.reshape(*lead, *out.shape[1:])
