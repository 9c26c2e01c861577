"""Item selection for the supervised disentanglement scores (β-VAE, FactorVAE) and
weak supervision: items that share the value of one factor."""

from __future__ import annotations

import numpy as np

from timbrespace.errors import ParameterError

__all__ = ["sample_fixed_factor"]


def sample_fixed_factor(
    factor_codes: np.ndarray,
    factor_index: int,
    n: int,
    *,
    random_state: int | np.random.Generator | None = None,
) -> tuple[np.ndarray, int]:
    """Draw ``n`` items that share the value of one factor (β-VAE / FactorVAE scores).

    A code of factor ``factor_index`` is drawn uniformly among the codes present, then
    ``n`` items with that code (without replacement when there are enough, with
    replacement otherwise).

    Parameters
    ----------
    factor_codes : np.ndarray [shape=(n_items, n_factors), dtype=int]
    factor_index : int
    n : int
    random_state : int or numpy.random.Generator, optional

    Returns
    -------
    indices : np.ndarray [shape=(n,), dtype=int64]
    code : int
        The shared code.

    References
    ----------
    Higgins et al., "beta-VAE", ICLR 2017; Kim & Mnih, "Disentangling by Factorising",
    ICML 2018.
    """
    codes = np.asarray(factor_codes)
    if codes.ndim != 2 or not 0 <= factor_index < codes.shape[1]:
        raise ParameterError(
            f"factor_index={factor_index} must be in 0..{codes.shape[1] - 1 if codes.ndim == 2 else -1}"
        )
    if n < 1:
        raise ParameterError(f"n={n} must be a positive number of items")
    rng = np.random.default_rng(random_state)
    column = codes[:, factor_index]
    code = int(rng.choice(np.unique(column)))
    pool = np.flatnonzero(column == code)
    return rng.choice(pool, size=n, replace=pool.size < n).astype(np.int64), code
