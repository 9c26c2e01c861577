"""Decoded features brought into the stored range softly, and how much of them was outside.

A point of the pad far from the items decodes to features far outside the range the
model was trained on (on the default run, 77..127 dB against a stored -50..26 dB).
:func:`~timbrespace.features.invert` clips such values to the range, so that they cannot
invert to huge or NaN audio; but every point whose features all lie above the range then
decodes to one and the same clip (18 of 200 random ``z`` in [-2, 2]^4 on the default run
gave byte-identical audio). The explorer limits them softly first: values well inside
the range are left alone, values near an end are compressed into a narrow knee inside
it, strictly monotonically, so that two different decoded features stay different.
It reports the fraction of values a hard clip would have clipped
(:attr:`~timbrespace.explore.types.Clip.clipped_fraction`), and the page warns.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from timbrespace.features import FeatureSidecar

__all__ = ["KNEE_FRACTION", "feature_range", "soft_limit"]

KNEE_FRACTION = 0.02
"""Width of each knee as a fraction of the stored range (on the default run's 76 dB, 1.5 dB)."""


def feature_range(sidecar: FeatureSidecar | Mapping[str, Any]) -> tuple[float, float] | None:
    """The range the stored features span, as :func:`~timbrespace.features.invert` clips to.

    Parameters
    ----------
    sidecar : FeatureSidecar or dict
        The features' sidecar (typed, or its JSON form: ``Dataset.feature_sidecar``).

    Returns
    -------
    tuple of float or None
        The sidecar's ``value_range``; ``(0, 1)`` for per-item min-max normalisation;
        None when the range is unknown (nothing is limited then).
    """
    from timbrespace.features import as_sidecar

    norm = as_sidecar(sidecar).normalization
    if norm.value_range is not None:
        return float(norm.value_range[0]), float(norm.value_range[1])
    return (0.0, 1.0) if norm.kind == "minmax_item" else None


def soft_limit(x: np.ndarray, value_range: tuple[float, float] | None, *,
               knee_fraction: float = KNEE_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Compress ``x`` into ``value_range`` with a rational knee at each end.

    With ``k = knee_fraction * (high - low)``, values in ``[low + k, high - k]`` are
    unchanged; a value ``v`` above ``high - k`` becomes ``high - k + k u / (1 + u)`` with
    ``u = (v - high + k) / k`` (and symmetrically below ``low + k``). The map is
    continuous with a continuous slope, strictly increasing, and stays strictly inside
    the range: unlike a hard clip (or ``tanh``, which reaches the bound in floating
    point a few knee widths out), values far outside remain distinct.

    Parameters
    ----------
    x : np.ndarray [shape=(n_items, ...)]
        Decoded features.
    value_range : tuple of float or None
        ``(low, high)``; None returns ``x`` unchanged and fractions of 0.
    knee_fraction : float
        Width of each knee as a fraction of the range, in (0, 0.5].

    Returns
    -------
    limited : np.ndarray [shape=x.shape, dtype=x.dtype]
    clipped_fraction : np.ndarray [shape=(n_items,), dtype=float64]
        Per item, the fraction of its values outside ``value_range`` (what a hard clip
        would have changed).

    Examples
    --------
    >>> y, frac = soft_limit(np.array([[0.5, 0.99, 1.5, 3.0]]), (0.0, 1.0))
    >>> np.round(y, 4).tolist(), frac.tolist()
    ([[0.5, 0.9867, 0.9993, 0.9998]], [0.5])
    """
    x = np.asarray(x)
    n = len(x)
    if value_range is None or x.size == 0:
        return x, np.zeros(n)
    low, high = float(value_range[0]), float(value_range[1])
    outside = ((x < low) | (x > high)).reshape(n, -1).mean(axis=1).astype(np.float64)
    k = knee_fraction * (high - low)
    if not k > 0:
        return np.clip(x, low, high), outside
    v = x.astype(np.float64)
    top, bottom = high - k, low + k
    up = np.maximum(v - top, 0.0) / k
    down = np.maximum(bottom - v, 0.0) / k
    y = np.where(v > top, top + k * up / (1.0 + up), np.where(v < bottom, bottom - k * down / (1.0 + down), v))
    return y.astype(x.dtype), outside
