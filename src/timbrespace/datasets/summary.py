"""Item selection for the supervised disentanglement scores, and dataset summaries."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import ParameterError

__all__ = ["sample_fixed_factor", "DatasetSummary", "FactorSummary", "summarize_dataset"]


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


@dataclass(frozen=True)
class FactorSummary:
    name: str
    unit: str
    kind: str
    n_levels: int
    first: str
    last: str


@dataclass(frozen=True)
class DatasetSummary:
    """What ``timbrespace info`` prints."""

    name: str
    n_items: int
    sample_rate: int
    duration_s: float | None
    total_duration_s: float | None
    splits: dict[str, int]
    factors: tuple[FactorSummary, ...]
    audio_format: str | None
    size_bytes: int
    features: tuple[str, ...]


def summarize_dataset(dataset: Dataset) -> DatasetSummary:
    """Factors, levels, split counts, durations and size on disk of ``dataset``."""
    factors = tuple(
        FactorSummary(
            f.name,
            f.unit,
            f.kind,
            f.n_levels,
            str(f.values[0]) if f.values else "",
            str(f.values[-1]) if f.values else "",
        )
        for f in dataset.factors
    )
    size = sum(p.stat().st_size for p in dataset.root.rglob("*") if p.is_file())
    dur = dataset.card.duration_s
    splits = (
        dataset.metadata["split"].value_counts().to_dict() if "split" in dataset.metadata else {}
    )
    return DatasetSummary(
        dataset.name,
        len(dataset),
        dataset.sample_rate,
        dur,
        None if dur is None else dur * len(dataset),
        {str(k): int(v) for k, v in sorted(splits.items())},
        factors,
        dataset.card.audio_format,
        size,
        tuple(dataset.feature_names()),
    )
