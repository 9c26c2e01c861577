"""STFT features back to linear magnitudes: what phase retrieval is asked to match.

Used to measure decoded spectrograms (e.g. their spectral centroid) without phase
retrieval in between.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.features.config import FeatureResult
from timbrespace.features.normalization import undo_normalization
from timbrespace.features.sidecar import FeatureSidecar, NormalizationStats
from timbrespace.features.transforms import _pad_bins, from_db

__all__ = ["linear_magnitude"]


def linear_magnitude(
    features: np.ndarray,
    sidecar: FeatureSidecar | Mapping[str, Any] | FeatureResult,
    *,
    indices: Sequence[int] | np.ndarray | None = None,
    item_min: Any = None,
    item_max: Any = None,
) -> np.ndarray:
    """STFT magnitudes of STFT features: the target phase retrieval would be given.

    Undoes the normalisation (as :func:`invert`), dB to amplitude, and pads the rows
    that ``n_bins`` dropped (seed 002's Nyquist row) with zeros.

    Parameters
    ----------
    features : np.ndarray [shape=(n_items, *sidecar.shape)]
        ``stft`` features with output ``db`` or ``magnitude``, several frames.
    sidecar : FeatureSidecar, dict or FeatureResult
    indices, item_min, item_max :
        As in :func:`invert` (per-item min/max of ``minmax_item``).

    Returns
    -------
    np.ndarray [shape=(n_items, n_fft // 2 + 1, n_frames), dtype=float32]
        Linear magnitudes (amplitude re full scale 1.0).

    Raises
    ------
    ParameterError
        Not multi-frame ``stft`` ``db``/``magnitude`` features, or as in :func:`invert`.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features import FeatureConfig, extract, linear_magnitude, stft_magnitude
    >>> y = np.sin(2 * np.pi * 440 * np.arange(800) / 8000).astype(np.float32)[None]
    >>> config = FeatureConfig(n_fft=256, hop_length=64, output="db", normalization="minmax_item")
    >>> res = extract(y, config, sample_rate=8000)
    >>> mag = linear_magnitude(res.features, res)  # dB and min-max undone
    >>> mag.shape, round(float(mag.max() / stft_magnitude(y, config).max()), 3)
    ((1, 129, 13), 1.0)
    """
    if isinstance(sidecar, FeatureResult):
        sidecar = sidecar.sidecar
    side = sidecar if isinstance(sidecar, FeatureSidecar) else FeatureSidecar.from_dict(sidecar)
    cfg = side.config
    if cfg.kind != "stft" or cfg.output not in ("db", "magnitude") or cfg.single_frame:
        raise ParameterError(
            f"linear_magnitude needs multi-frame stft features with output 'db' or 'magnitude', "
            f"not kind={cfg.kind!r} output={cfg.output!r} single_frame={cfg.single_frame}"
        )
    x = np.asarray(features, dtype=np.float64)
    if x.ndim != 3 or x.shape[1:] != side.shape:
        raise ParameterError(f"features shape={x.shape} does not match the sidecar's (n_items, *{list(side.shape)})")
    norm = side.normalization
    if norm.kind == "minmax_item":
        lo, hi = _item_range(norm, len(x), indices, item_min, item_max)
        raw = undo_normalization(x, "minmax_item", item_min=lo, item_max=hi)
    elif norm.kind == "standardize":
        raw = undo_normalization(x, "standardize", mean=np.asarray(norm.mean), std=np.asarray(norm.std))
    else:
        raw = x
    mag = from_db(raw) if cfg.output == "db" else np.maximum(raw, 0.0)
    return _pad_bins(mag, cfg.n_fft).astype(np.float32)


def _item_range(norm: NormalizationStats, n: int, indices: Any, item_min: Any, item_max: Any) -> tuple[np.ndarray, np.ndarray]:
    """Each item's stored (or given) dB range of ``minmax_item`` features."""
    if item_min is not None or item_max is not None:
        if item_min is None or item_max is None:
            raise ParameterError("give both item_min and item_max, or neither")
        return (np.broadcast_to(np.asarray(item_min, float), (n,)), np.broadcast_to(np.asarray(item_max, float), (n,)))
    lo, hi = np.asarray(norm.item_min, dtype=np.float64), np.asarray(norm.item_max, dtype=np.float64)
    if indices is None:
        if len(lo) != n:
            raise ParameterError(f"the sidecar stores min/max for {len(lo)} items but features have {n}: "
                                 "pass indices= or item_min=/item_max=")
        return lo, hi
    idx = np.asarray(indices, dtype=np.int64)
    if idx.shape != (n,) or (idx.size and (idx.min() < 0 or idx.max() >= len(lo))):
        raise ParameterError(f"indices must be {n} item numbers in [0, {len(lo)})")
    return lo[idx], hi[idx]
