"""Pairs of items that share all factors but k, for weak supervision (Ada-GVAE, Ada-ML-VAE).

Drawn from any factor table: a generated grid, or an ingested folder (e.g. notes that
share instrument and velocity but differ in pitch).

References
----------
Locatello, Poole, Rätsch, Schölkopf, Bachem & Tschannen, "Weakly-supervised
disentanglement without compromises", ICML 2020 (pairs differing in k factors).
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from timbrespace.errors import DatasetError, ParameterError

__all__ = ["PairSampler"]


class PairSampler:
    """Pairs of rows of a factor table that share all factors but ``k``.

    Parameters
    ----------
    factor_codes : array-like of shape (n_items, n_factors), int
        Codes of the items pairs are drawn from (e.g. the train split's).
    k : int or "random"
        Number of factors that differ; ``"random"`` draws ``k`` uniformly from
        ``1 .. n_factors - 1`` for every pair (from ``1 .. 1`` with two factors).
    factors : sequence of int, optional
        Only these factors may differ (default all).

    Raises
    ------
    ParameterError
        Bad ``k`` or ``factors``.
    DatasetError
        If no two items share all factors but ``k`` (e.g. one item per instrument): the
        message names what is missing.

    Notes
    -----
    A pair drawn for a set of varying factors that no item can satisfy falls back to
    letting every allowed factor vary (an incomplete grid); ``sample`` never pairs an
    item with itself.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.datasets import PairSampler
    >>> codes = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])
    >>> first, second = PairSampler(codes, k=1).sample(3, np.random.default_rng(0))
    >>> bool(((codes[first] != codes[second]).sum(axis=1) == 1).all())
    True
    """

    def __init__(self, factor_codes: np.ndarray, k: int | Literal["random"] = 1,
                 factors: list[int] | None = None) -> None:
        codes = np.asarray(factor_codes)
        if codes.ndim != 2 or len(codes) < 2 or not np.issubdtype(codes.dtype, np.integer):
            raise DatasetError(f"factor codes must be integer (n_items >= 2, n_factors); got shape {codes.shape}")
        self.codes = codes.astype(np.int64)
        n_factors = codes.shape[1]
        self.factors = list(range(n_factors)) if factors is None else [int(f) for f in factors]
        if not self.factors or any(not 0 <= f < n_factors for f in self.factors):
            raise ParameterError(f"factors={factors} must name factors in 0..{n_factors - 1}")
        if k == "random":
            sizes = list(range(1, max(1, len(self.factors) - 1) + 1))
        elif isinstance(k, (int, np.integer)) and 1 <= k <= len(self.factors):
            sizes = [int(k)]
        else:
            raise ParameterError(f"k={k!r} must be 'random' or an integer in 1..{len(self.factors)}")
        self.k = k
        self._sizes = sizes
        self._groups: dict[tuple[int, ...], tuple[dict[tuple[int, ...], np.ndarray], np.ndarray]] = {}
        self._subsets = {size: self._subsets_of(size) for size in sizes}
        for size, subsets in self._subsets.items():
            if not subsets:
                raise DatasetError(
                    f"no two items share all factors but {size} of factors {self.factors}: weak supervision "
                    "needs such pairs in the factor table"
                )

    def _subsets_of(self, size: int) -> list[tuple[int, ...]]:
        """The sets of ``size`` varying factors for which at least one pair exists."""
        from itertools import combinations

        return [s for s in combinations(sorted(self.factors), size) if self._partners(s)[1].any()]

    def _partners(self, varying: tuple[int, ...]) -> tuple[dict[tuple[int, ...], np.ndarray], np.ndarray]:
        """Groups of items equal outside ``varying``, and which items have a partner that differs in all of it."""
        if varying not in self._groups:
            keep = [f for f in range(self.codes.shape[1]) if f not in varying]
            keys = [tuple(row) for row in self.codes[:, keep].tolist()]
            groups: dict[tuple[int, ...], list[int]] = {}
            for i, key in enumerate(keys):
                groups.setdefault(key, []).append(i)
            arrays = {key: np.asarray(v) for key, v in groups.items()}
            has = np.array([len(arrays[key]) > 1 for key in keys])
            self._groups[varying] = (arrays, has)
        return self._groups[varying]

    def sample(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """``n`` pairs of row indices ``(first, second)``, ``first[i] != second[i]``.

        Parameters
        ----------
        n : int
        rng : numpy.random.Generator
            The only source of randomness (same state, same pairs).

        Returns
        -------
        first, second : np.ndarray [shape=(n,), dtype=int64]
        """
        first = np.empty(n, dtype=np.int64)
        second = np.empty(n, dtype=np.int64)
        for t in range(n):
            size = self._sizes[int(rng.integers(len(self._sizes)))]
            subsets = self._subsets[size]
            varying = subsets[int(rng.integers(len(subsets)))]
            groups, has = self._partners(varying)
            candidates = np.flatnonzero(has)
            i = int(candidates[rng.integers(len(candidates))])
            key = tuple(int(v) for f, v in enumerate(self.codes[i]) if f not in varying)
            group = groups[key]
            j = i
            while j == i:
                j = int(group[rng.integers(len(group))])
            first[t], second[t] = i, j
        return first, second
