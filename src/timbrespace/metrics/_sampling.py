"""Drawing items that share one factor's value, over arrays of factor codes.

The β-VAE and FactorVAE scores need observations with one factor fixed and the others
free. disentanglement_lib samples factors and renders observations; over a finished
dataset we instead draw, for an anchor item, a partner uniformly among the items
with the same code of factor ``k``. On a full factorial grid the two are the same
distribution.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from timbrespace.errors import ParameterError

__all__ = ["FactorGroups", "LatentSource", "gather_latents"]

LatentSource = np.ndarray | Callable[[np.ndarray], np.ndarray]
"""Either latents for all items ``(n_items, n_latents)`` or a function mapping an int
array of item indices (1-D) to their latents ``(len(indices), n_latents)``."""


class FactorGroups:
    """Index of items by the value of each factor.

    Parameters
    ----------
    factors : np.ndarray [shape=(n_items, n_factors), dtype=int]
    """

    def __init__(self, factors: np.ndarray) -> None:
        self.n_items, self.n_factors = factors.shape
        self._order: list[np.ndarray] = []
        self._starts: list[np.ndarray] = []
        self._counts: list[np.ndarray] = []
        self._group: list[np.ndarray] = []
        for k in range(self.n_factors):
            order = np.argsort(factors[:, k], kind="stable")
            _, starts, inverse, counts = np.unique(
                factors[order, k], return_index=True, return_inverse=True, return_counts=True
            )
            group = np.empty(self.n_items, dtype=np.int64)
            group[order] = inverse
            self._order.append(order)
            self._starts.append(starts)
            self._counts.append(counts)
            self._group.append(group)

    def n_values(self, k: int) -> int:
        """Number of distinct values of factor ``k``."""
        return len(self._counts[k])

    def same_value(self, k: int, anchors: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """For each anchor item, a random item (possibly itself) with the same factor-``k`` code.

        Parameters
        ----------
        k : int
            Factor index.
        anchors : np.ndarray [dtype=int, any shape]
        rng : np.random.Generator

        Returns
        -------
        np.ndarray, same shape as ``anchors``
        """
        g = self._group[k][anchors]
        offsets = np.floor(rng.random(anchors.shape) * self._counts[k][g]).astype(np.int64)
        return self._order[k][self._starts[k][g] + offsets]


def gather_latents(source: LatentSource, indices: np.ndarray) -> np.ndarray:
    """Latents of ``indices`` (any shape) from an array or a representation function.

    Returns
    -------
    np.ndarray [shape=indices.shape + (n_latents,), dtype=float64]
    """
    flat = indices.reshape(-1)
    if callable(source):
        z = np.asarray(source(flat), dtype=np.float64)
        if z.ndim != 2 or z.shape[0] != flat.size:
            raise ParameterError(
                f"the representation function returned shape {z.shape} for {flat.size} "
                "indices; expected (n_indices, n_latents)"
            )
        if not np.all(np.isfinite(z)):
            raise ParameterError("the representation function returned NaN/inf latents")
    else:
        z = np.asarray(source[flat], dtype=np.float64)
    return z.reshape(*indices.shape, z.shape[-1])


def check_latent_source(latents: LatentSource, n_items: int) -> LatentSource:
    """Validate an array source against ``n_items`` (functions are checked when called)."""
    if callable(latents):
        return latents
    z = np.asarray(latents)
    if z.ndim != 2 or z.shape[0] != n_items:
        raise ParameterError(
            f"latents must be (n_items={n_items}, n_latents) or a function of item "
            f"indices; got shape {z.shape}"
        )
    if not np.issubdtype(z.dtype, np.number) or not np.all(np.isfinite(z)):
        raise ParameterError("latents must be finite numbers (found NaN/inf or non-numeric)")
    return z.astype(np.float64, copy=False)
