"""``extract`` and ``invert``: features with a sidecar, and the way back to audio."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from timbrespace import __version__
from timbrespace.errors import ParameterError
from timbrespace.features.config import FeatureConfig, FeatureResult, InversionResult
from timbrespace.features.normalization import (
    apply_normalization,
    fit_standardize,
    item_minmax,
    undo_normalization,
)
from timbrespace.features.phase import check_n_iter
from timbrespace.features.sidecar import SIDECAR_FORMAT, FeatureSidecar
from timbrespace.features.transforms import METHODS, forward, inverse
from timbrespace.utils.limits import check_sample_rate

__all__ = ["extract", "invert", "make_sidecar", "check_audio", "as_sidecar"]

logger = logging.getLogger(__name__)


def check_audio(audio: Any, *, sample_rate: Any) -> np.ndarray:
    """Validate audio and return it as float32 ``(n_items, n_samples)``.

    Raises
    ------
    ParameterError
        Not a real floating array of 1 or 2 dimensions, non-finite values, empty, or a
        non-positive ``sample_rate``.
    """
    check_sample_rate(sample_rate)
    if isinstance(audio, np.ndarray):
        arr = audio
    else:
        try:
            arr = np.asarray(audio)
        except Exception:
            raise ParameterError(f"audio of type {type(audio).__name__} is not an array") from None
    if not np.issubdtype(arr.dtype, np.floating):
        raise ParameterError(f"audio dtype={arr.dtype} must be floating point (float32 or float64)")
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ParameterError(f"audio shape={arr.shape} must be (n_samples,) or (n_items, n_samples)")
    if arr.shape[1] == 0:
        raise ParameterError(f"audio shape={arr.shape} has no samples")
    if not np.all(np.isfinite(arr)):
        raise ParameterError("audio contains NaN or infinite samples")
    return np.ascontiguousarray(arr, dtype=np.float32)


def _layout(cfg: FeatureConfig) -> str:
    rows = {
        "db": "dB re 1.0 (20 log10), floored top_db below each item's maximum",
        "magnitude": "linear magnitude",
        "db_phase": "rows [0, n/2): dB as 'db'; rows [n/2, n): phase in radians",
        "complex": "rows [0, n/2): real part; rows [n/2, n): imaginary part",
        "real": "MDCT coefficients",
    }[str(cfg.output)]
    return f"{cfg.kind}: {rows}"


def make_sidecar(
    cfg: FeatureConfig, *, sample_rate: int, n_samples: int, shape: Sequence[int], normalization: dict[str, Any]
) -> dict[str, Any]:
    """The JSON-able description :func:`invert` needs (see :class:`FeatureResult`)."""
    return {
        "format": SIDECAR_FORMAT,
        "library_version": __version__,
        "config": cfg.model_dump(mode="json"),
        "sample_rate": int(sample_rate),
        "n_samples": int(n_samples),
        "shape": [int(s) for s in shape],
        "layout": _layout(cfg),
        "normalization": normalization,
    }


def extract(
    audio: np.ndarray,
    config: FeatureConfig | Mapping[str, Any],
    *,
    sample_rate: int,
    standardize_stats: tuple[np.ndarray, np.ndarray] | None = None,
) -> FeatureResult:
    """Compute a representation of a batch of audio, with its sidecar.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_items, n_samples) or (n_samples,), dtype=float32 or float64]
        Zero-padded or trimmed to ``config.n_samples`` when that is set.
    config : FeatureConfig or dict
        See :class:`FeatureConfig` for kinds, outputs and normalisations.
    sample_rate : int
        Hz.
    standardize_stats : tuple of np.ndarray, optional
        ``(mean, std)`` per row to use for ``normalization="standardize"`` instead of
        fitting them on ``audio`` (e.g. statistics of a train split).

    Returns
    -------
    FeatureResult
        ``features``: float32 ``(n_items, n_rows)`` for single-frame spectra,
        ``(n_items, n_rows, n_frames)`` otherwise. ``n_rows`` is ``n_fft // 2 + 1``
        (or ``n_bins``) for STFT magnitudes, twice that for ``db_phase``/``complex``,
        ``n_mels``, the CQT/NSGT bin count (doubled for complex), or ``n_fft // 2`` for
        MDCT. ``sidecar``: JSON-able, with the statistics that undo the normalisation.

    Raises
    ------
    ParameterError
        Bad audio (dtype, shape, non-finite) or sample rate; ``FeatureConfigError`` (a
        ParameterError) for a bad config.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features import FeatureConfig, extract
    >>> y = np.zeros((2, 22050), np.float32)
    >>> res = extract(y, FeatureConfig(n_fft=1024, hop_length=256), sample_rate=22050)
    >>> res.features.shape
    (2, 513, 87)
    """
    cfg = config if isinstance(config, FeatureConfig) else FeatureConfig(**dict(config))
    y = cfg.fit_length(check_audio(audio, sample_rate=sample_rate))
    raw = forward(y, cfg, sample_rate=int(sample_rate))
    norm: dict[str, Any] = {"kind": cfg.normalization}
    if cfg.normalization == "minmax_item":
        lo, hi = item_minmax(raw)
        feats = apply_normalization(raw, "minmax_item", item_min=lo, item_max=hi)
        norm.update(item_min=lo.tolist(), item_max=hi.tolist())
    elif cfg.normalization == "standardize":
        mean, std = standardize_stats if standardize_stats is not None else fit_standardize(raw)
        mean, std = np.asarray(mean, dtype=np.float64), np.asarray(std, dtype=np.float64)
        if mean.shape != (raw.shape[1],) or std.shape != (raw.shape[1],):
            raise ParameterError(f"standardize_stats have shape {mean.shape}/{std.shape}; expected ({raw.shape[1]},)")
        feats = apply_normalization(raw, "standardize", mean=mean, std=std)
        norm.update(mean=mean.tolist(), std=std.tolist())
    else:
        feats = raw
    sidecar = make_sidecar(cfg, sample_rate=int(sample_rate), n_samples=y.shape[1], shape=feats.shape[1:],
                           normalization=norm)
    return FeatureResult(features=feats, sidecar=sidecar)


def as_sidecar(sidecar: FeatureSidecar | Mapping[str, Any] | FeatureResult) -> FeatureSidecar:
    """A :class:`FeatureSidecar` from its JSON form or a :class:`FeatureResult` (validated).

    Raises
    ------
    ParameterError
        As :meth:`FeatureSidecar.from_dict`.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features import FeatureConfig, as_sidecar, extract
    >>> res = extract(np.zeros((2, 800), np.float32), FeatureConfig(n_fft=256, hop_length=64),
    ...               sample_rate=8000)
    >>> side = as_sidecar(res.sidecar)  # the JSON form, validated
    >>> side.config.kind, side.shape, side.sample_rate, side.n_samples
    ('stft', (129, 13), 8000, 800)
    """
    if isinstance(sidecar, FeatureSidecar):
        return sidecar
    if isinstance(sidecar, FeatureResult):
        sidecar = sidecar.sidecar
    return FeatureSidecar.from_dict(sidecar)


def _minmax_for(
    side: FeatureSidecar, n: int, indices: Any, item_min: Any, item_max: Any
) -> tuple[np.ndarray, np.ndarray]:
    if item_min is not None or item_max is not None:
        if item_min is None or item_max is None:
            raise ParameterError("give both item_min and item_max, or neither")
        lo, hi = np.broadcast_to(np.asarray(item_min, float), (n,)), np.broadcast_to(np.asarray(item_max, float), (n,))
        return lo, hi
    lo, hi = side.normalization.item_min, side.normalization.item_max
    assert lo is not None and hi is not None  # FeatureSidecar.from_dict checked them
    if indices is not None:
        idx = np.asarray(indices, dtype=np.int64)
        if idx.shape != (n,):
            raise ParameterError(f"indices has shape {idx.shape}; expected ({n},), one per feature item")
        if idx.size and (idx.min() < 0 or idx.max() >= len(lo)):
            raise ParameterError(f"indices must be in [0, {len(lo)}) (items in the sidecar)")
        return lo[idx], hi[idx]
    if len(lo) != n:
        raise ParameterError(
            f"the sidecar stores min/max for {len(lo)} items but features have {n}: pass indices= "
            "(which stored items these are) or item_min=/item_max= (e.g. interpolated for decoded latents)"
        )
    return lo, hi


def _valid_range(side: FeatureSidecar) -> tuple[float, float] | None:
    """The range stored features of this set span (None: unknown, no clipping)."""
    if side.normalization.value_range is not None:
        return side.normalization.value_range
    return (0.0, 1.0) if side.normalization.kind == "minmax_item" else None


def clip_to_range(features: np.ndarray, value_range: tuple[float, float] | None) -> np.ndarray:
    """Clip ``features`` to ``value_range``, warning once with the count of values clipped.

    Parameters
    ----------
    features : np.ndarray [shape=(n_items, ...)]
    value_range : tuple of float or None
        ``(low, high)``; None returns ``features`` unchanged.

    Returns
    -------
    np.ndarray
        Same shape; a copy when anything was clipped.
    """
    if value_range is None:
        return features
    lo, hi = value_range
    outside = int(np.count_nonzero((features < lo) | (features > hi)))
    if not outside:
        return features
    logger.warning("%d of %d feature values lie outside the stored range [%.4g, %.4g]; clipped to it",
                   outside, features.size, lo, hi)
    return np.clip(features, lo, hi)


def invert(
    features: np.ndarray,
    sidecar: FeatureSidecar | Mapping[str, Any] | FeatureResult,
    *,
    method: str = "auto",
    n_iter: int | None = None,
    momentum: float = 0.99,
    seed: int = 0,
    indices: Sequence[int] | np.ndarray | None = None,
    item_min: Any = None,
    item_max: Any = None,
    return_info: bool = False,
) -> np.ndarray | InversionResult:
    """Turn features (stored, or decoded by a model) back into audio.

    Parameters
    ----------
    features : np.ndarray [shape=(n_items, *sidecar.shape) or sidecar.shape]
        Normalised features as :func:`extract` made them, or a model's output in the same
        layout.
    sidecar : FeatureSidecar, dict or FeatureResult
        From :func:`extract`, ``FeatureSidecar.from_dict(Dataset.feature_sidecar(name))``
        or the JSON form itself (validated here).
    method : str
        ``"auto"`` (exact inverse when phase is stored: iSTFT, iMDCT, iNSGT, iCQT;
        otherwise ``"pghi+gl"``), ``"phase"`` (iSTFT with stored phase),
        ``"griffinlim"`` (fast Griffin-Lim from random phase), ``"pghi"``
        (phase-gradient heap integration, no iterations), ``"pghi+gl"`` (PGHI then fast
        Griffin-Lim). Phase is retrieved on an STFT magnitude: mel is first mapped to
        linear magnitude by NNLS (:func:`librosa.feature.inverse.mel_to_stft`); CQT and
        NSGT magnitudes by the linear map of their filters' responses
        (:mod:`timbrespace.features.constant_q`) to an STFT of the config's ``n_fft``
        at hop ``n_fft // 4``, the NSGT's audio then projected once onto its own
        magnitudes.
    n_iter : int, optional
        Griffin-Lim iterations, at most :data:`~timbrespace.features.phase.MAX_N_ITER`
        (1000; default 32 for ``griffinlim``, 16 after PGHI).
    momentum : float
        Fast Griffin-Lim momentum (Perraudin et al. 2013), default 0.99.
    seed : int
        Seeds the random initial phase of ``griffinlim``.
    indices : array-like of int, optional
        Which stored items ``features`` are (to pick their min/max for ``minmax_item``).
    item_min, item_max : float or array-like, optional
        Per-item min/max to undo ``minmax_item`` with (e.g. interpolated for decoded
        latents, as seed 002 did).
    return_info : bool
        Return an :class:`InversionResult` (audio, method, iterations, spectral
        convergence per item: against the STFT magnitude phase was retrieved on, or
        for the NSGT against its magnitudes) instead of the audio alone. Without it the
        spectral convergence is not measured (one transform of the audio less).

    Returns
    -------
    np.ndarray [shape=(n_items, n_samples), dtype=float32] or InversionResult
        ``n_samples`` and the sample rate are the sidecar's.

    Raises
    ------
    ParameterError
        Shape mismatch with the sidecar, a method that cannot invert this
        representation, or missing normalisation statistics.

    Notes
    -----
    Values outside the stored range (the sidecar's ``value_range``, or [0, 1] for
    ``minmax_item``) are clipped to it first, with one warning giving the count: a
    model's output far outside what it was trained on would otherwise invert to huge
    or NaN audio (issue 18).

    References
    ----------
    Perraudin, Balazs & Søndergaard (2013); Průša, Balazs & Søndergaard (2017); seed 002
    (min-max undo, dB to amplitude, Griffin-Lim at the right ``n_fft``).

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features import FeatureConfig, extract, invert
    >>> y = np.sin(2 * np.pi * 440 * np.arange(800) / 8000).astype(np.float32)[None]
    >>> res = extract(y, FeatureConfig(n_fft=256, hop_length=64, output="db"), sample_rate=8000)
    >>> info = invert(res.features, res, return_info=True)  # no phase stored: PGHI + Griffin-Lim
    >>> info.audio.shape, info.method, info.n_iter
    ((1, 800), 'pghi+gl', 16)
    >>> bool(info.spectral_convergence[0] < 0.05)
    True
    """
    side = as_sidecar(sidecar)
    if method not in (*METHODS, "imdct"):
        raise ParameterError(f"method={method!r} is unknown: allowed {(*METHODS, 'imdct')}")
    check_n_iter(n_iter)
    x = np.asarray(features)
    if x.shape == side.shape:
        x = x[None]
    if x.shape[1:] != side.shape:
        raise ParameterError(
            f"features shape={x.shape} does not match the sidecar's (n_items, {', '.join(map(str, side.shape))})"
        )
    if not np.issubdtype(x.dtype, np.floating) or not np.all(np.isfinite(x)):
        raise ParameterError("features must be finite floating-point values")
    norm = side.normalization
    x = clip_to_range(x, _valid_range(side))
    if norm.kind == "minmax_item":
        lo, hi = _minmax_for(side, len(x), indices, item_min, item_max)
        raw = undo_normalization(x, norm.kind, item_min=lo, item_max=hi)
    elif norm.kind == "standardize":
        raw = undo_normalization(x, norm.kind, mean=norm.mean, std=norm.std)
    else:
        raw = np.asarray(x)
    # the spectral convergence costs one more transform of the audio: measured only when returned
    result = inverse(raw, side.config, sample_rate=side.sample_rate, n_samples=side.n_samples,
                     method=method, n_iter=n_iter, momentum=momentum, seed=seed, measure=return_info)
    return result if return_info else result.audio
