"""Synthetic ground truths with analytically known scores."""

from __future__ import annotations

import math

import numpy as np


def grid_factors(sizes: tuple[int, ...], repeats: int = 1) -> np.ndarray:
    """Full Cartesian grid of factor codes (so distinct factors are exactly independent)."""
    grids = np.meshgrid(*[np.arange(k) for k in sizes], indexing="ij")
    codes = np.stack([g.ravel() for g in grids], axis=1).astype(np.int64)
    return np.tile(codes, (repeats, 1))


def identity_latents(factors: np.ndarray, *, noise: float = 0.0, seed: int = 0) -> np.ndarray:
    """Latents = factor codes plus small noise (well below the code spacing)."""
    rng = np.random.default_rng(seed)
    return factors.astype(np.float64) + noise * rng.standard_normal(factors.shape)


def random_latents(n_samples: int, n_latents: int, *, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n_samples, n_latents))


def naive_discretize(latents: np.ndarray, n_bins: int) -> np.ndarray:
    """Equal-width bins by explicit comparison with each lower edge (codes 1..n_bins)."""
    n, n_latents = latents.shape
    codes = np.zeros(latents.shape, dtype=int)
    for i in range(n_latents):
        lo, hi = latents[:, i].min(), latents[:, i].max()
        step = (hi - lo) / n_bins
        edges = [lo + b * step for b in range(n_bins)]
        for s in range(n):
            codes[s, i] = sum(1 for e in edges if latents[s, i] >= e)
    return codes


def naive_entropy(a: np.ndarray) -> float:
    _, counts = np.unique(a, return_counts=True)
    p = counts / counts.sum()
    return float(-sum(pi * math.log(pi) for pi in p))


def naive_mutual_info(a: np.ndarray, b: np.ndarray) -> float:
    """I(a; b) in nats from joint counts."""
    joint: dict[tuple[int, int], int] = {}
    for x, y in zip(a, b, strict=True):
        joint[(int(x), int(y))] = joint.get((int(x), int(y)), 0) + 1
    pa = {int(v): float(np.mean(a == v)) for v in np.unique(a)}
    pb = {int(v): float(np.mean(b == v)) for v in np.unique(b)}
    total = 0.0
    for (x, y), c in joint.items():
        pxy = c / len(a)
        total += pxy * math.log(pxy / (pa[x] * pb[y]))
    return total


def naive_mi_matrix(latents: np.ndarray, factors: np.ndarray, n_bins: int) -> np.ndarray:
    codes = naive_discretize(latents, n_bins)
    return np.array(
        [
            [naive_mutual_info(codes[:, i], factors[:, k]) for k in range(factors.shape[1])]
            for i in range(latents.shape[1])
        ]
    )
