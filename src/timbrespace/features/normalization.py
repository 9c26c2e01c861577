"""Feature normalisation with stored statistics (so that it can be undone).

- ``minmax_item``: each item mapped to [0, 1] by its own min and max (seed 002). A
  constant (e.g. silent) item maps to zeros, never NaN; undoing it gives back the constant.
- ``standardize``: per-row (frequency bin) mean and standard deviation over items and
  frames, fitted once (on the train split for a dataset) and applied to every item.
"""

from __future__ import annotations

import numpy as np

from timbrespace.errors import ParameterError

__all__ = ["NormStats", "fit_standardize", "item_minmax", "apply_normalization", "undo_normalization"]

_STD_FLOOR = 1e-8


class NormStats:
    """Running per-row sums for dataset-level standardisation (fit over batches).

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features.normalization import NormStats
    >>> stats = NormStats()
    >>> stats.update(np.ones((2, 3, 4), np.float32))
    >>> stats.mean_std()[0].shape
    (3,)
    """

    def __init__(self) -> None:
        self.count = 0
        self.total: np.ndarray | None = None
        self.total_sq: np.ndarray | None = None

    def update(self, features: np.ndarray) -> None:
        x = np.asarray(features, dtype=np.float64)
        axes = (0,) if x.ndim == 2 else (0, 2)
        n = x.shape[0] * (1 if x.ndim == 2 else x.shape[2])
        s, s2 = x.sum(axis=axes), (x**2).sum(axis=axes)
        if self.total is None or self.total_sq is None:
            self.total, self.total_sq = s, s2
        else:
            self.total, self.total_sq = self.total + s, self.total_sq + s2
        self.count += n

    def mean_std(self) -> tuple[np.ndarray, np.ndarray]:
        """Per-row mean and standard deviation (std floored: constant rows get 1)."""
        if self.total is None or self.total_sq is None or self.count == 0:
            raise ParameterError("standardize statistics need at least one item to fit on")
        mean = self.total / self.count
        var = np.maximum(self.total_sq / self.count - mean**2, 0.0)
        std = np.sqrt(var)
        return mean, np.where(std > _STD_FLOOR, std, 1.0)


def fit_standardize(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-row mean and std of ``features`` (n_items, n_rows[, n_frames])."""
    stats = NormStats()
    stats.update(features)
    return stats.mean_std()


def item_minmax(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each item's minimum and maximum, ``(n_items,)`` float64 each."""
    flat = np.asarray(features).reshape(len(features), -1)
    if flat.shape[1] == 0:
        return np.zeros(len(features)), np.zeros(len(features))
    return flat.min(axis=1).astype(np.float64), flat.max(axis=1).astype(np.float64)


def _row_shape(features: np.ndarray) -> tuple[int, ...]:
    return (1, -1) if features.ndim == 2 else (1, -1, 1)


def _item_shape(features: np.ndarray) -> tuple[int, ...]:
    return (-1,) + (1,) * (features.ndim - 1)


def apply_normalization(
    features: np.ndarray,
    kind: str,
    *,
    item_min: np.ndarray | None = None,
    item_max: np.ndarray | None = None,
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
) -> np.ndarray:
    """Normalise ``features`` (float32 out) with the given statistics."""
    x = np.asarray(features, dtype=np.float64)
    if kind == "none":
        out = x
    elif kind == "minmax_item":
        lo = np.asarray(item_min, dtype=np.float64).reshape(_item_shape(x))
        span = np.asarray(item_max, dtype=np.float64).reshape(_item_shape(x)) - lo
        safe = np.where(span > 0, span, 1.0)
        out = np.where(span > 0, (x - lo) / safe, 0.0)
    elif kind == "standardize":
        out = (x - np.asarray(mean).reshape(_row_shape(x))) / np.asarray(std).reshape(_row_shape(x))
    else:
        raise ParameterError(f"normalization={kind!r} is unknown: allowed 'none', 'minmax_item', 'standardize'")
    return out.astype(np.float32)


def undo_normalization(
    features: np.ndarray,
    kind: str,
    *,
    item_min: np.ndarray | None = None,
    item_max: np.ndarray | None = None,
    mean: np.ndarray | None = None,
    std: np.ndarray | None = None,
) -> np.ndarray:
    """Inverse of :func:`apply_normalization` (float64 out)."""
    x = np.asarray(features, dtype=np.float64)
    if kind == "none":
        return x
    if kind == "minmax_item":
        if item_min is None or item_max is None:
            raise ParameterError("minmax_item features need each item's min and max (item_min, item_max)")
        lo = np.asarray(item_min, dtype=np.float64).reshape(_item_shape(x))
        hi = np.asarray(item_max, dtype=np.float64).reshape(_item_shape(x))
        if lo.shape[0] != x.shape[0]:
            raise ParameterError(
                f"item_min has {lo.shape[0]} values for {x.shape[0]} items; pass indices= or item_min/item_max"
            )
        return lo + x * (hi - lo)
    if kind == "standardize":
        return x * np.asarray(std).reshape(_row_shape(x)) + np.asarray(mean).reshape(_row_shape(x))
    raise ParameterError(f"normalization={kind!r} is unknown: allowed 'none', 'minmax_item', 'standardize'")
