"""Reconstruction metrics on magnitude spectra and features.

All functions compare a reference with an estimate item by item and return one number
per item, shape ``(n_items,)``; arrays are ``(n_items, n_bins)`` (single frames) or
``(n_items, n_bins, n_frames)`` (spectrograms), as the features contract.

References
----------
Sturmel, N., Daudet, L. (2011). Signal reconstruction from STFT magnitude: a state of
the art. DAFx (spectral convergence).

Gray, A., Markel, J. (1976). Distance measures for speech processing. IEEE TASSP
(log-spectral distance).
"""

from __future__ import annotations

import numpy as np

from timbrespace.errors import ParameterError

__all__ = ["feature_mse", "log_spectral_distance", "spectral_convergence"]


def _pair(
    reference: np.ndarray, estimate: np.ndarray, names: tuple[str, str]
) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(reference)
    y = np.asarray(estimate)
    if not (np.iscomplexobj(x) or np.iscomplexobj(y)):
        x = x.astype(np.float64, copy=False)
        y = y.astype(np.float64, copy=False)
    if x.shape != y.shape:
        raise ParameterError(f"{names[0]} shape {x.shape} != {names[1]} shape {y.shape}")
    if x.ndim < 2:
        raise ParameterError(
            f"{names[0]} must be (n_items, n_bins[, n_frames]); got shape {x.shape}"
        )
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ParameterError(f"{names[0]} and {names[1]} must be finite (found NaN/inf)")
    return x.reshape(x.shape[0], -1), y.reshape(y.shape[0], -1)


def spectral_convergence(reference_mag: np.ndarray, estimate_mag: np.ndarray) -> np.ndarray:
    """Spectral convergence ``|| |X| - |Y| ||_F / || |X| ||_F`` per item.

    Parameters
    ----------
    reference_mag : np.ndarray [shape=(n_items, n_bins[, n_frames])]
        Reference magnitudes ``|X|`` (complex input is taken in absolute value).
    estimate_mag : np.ndarray, same shape
        Estimated magnitudes ``|Y|``.

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64]
        0 for a perfect estimate; ``inf`` where the reference is all zeros and the
        estimate is not, 0 where both are.

    Raises
    ------
    ParameterError
        On shape mismatch, fewer than 2 dimensions, or non-finite values.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import spectral_convergence
    >>> mag = np.abs(np.random.default_rng(0).standard_normal((2, 5, 6)))
    >>> spectral_convergence(mag, 0.9 * mag).round(3).tolist()  # 10 % too quiet
    [0.1, 0.1]
    """
    x, y = _pair(np.abs(reference_mag), np.abs(estimate_mag), ("reference_mag", "estimate_mag"))
    num = np.linalg.norm(x - y, axis=1)
    den = np.linalg.norm(x, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, 0.0))
    return out


def log_spectral_distance(
    reference_mag: np.ndarray, estimate_mag: np.ndarray, *, amin: float = 1e-5
) -> np.ndarray:
    """Log-spectral distance in dB per item.

    ``LSD = mean_t sqrt( mean_f (20 log10(max(|X|, amin) / max(|Y|, amin)))^2 )``: the RMS
    dB difference over frequency in each frame, averaged over frames (a single-frame
    spectrum is one frame).

    Parameters
    ----------
    reference_mag, estimate_mag : np.ndarray [shape=(n_items, n_bins[, n_frames])]
        Linear magnitudes (not dB).
    amin : float, default=1e-5
        Floor on magnitudes before the log (-100 dB), as ``librosa.amplitude_to_db``.

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64], dB

    Raises
    ------
    ParameterError
        On shape mismatch, non-finite values or ``amin <= 0``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import log_spectral_distance
    >>> mag = np.abs(np.random.default_rng(0).standard_normal((2, 5, 6)))
    >>> log_spectral_distance(mag, 0.9 * mag).round(3).tolist()  # 20 log10(0.9) dB
    [0.915, 0.915]
    """
    if not amin > 0:
        raise ParameterError(f"amin={amin} must be > 0")
    x = np.abs(np.asarray(reference_mag)).astype(np.float64)
    y = np.abs(np.asarray(estimate_mag)).astype(np.float64)
    _pair(x, y, ("reference_mag", "estimate_mag"))
    if x.ndim == 2:
        x, y = x[:, :, None], y[:, :, None]
    x = x.reshape(x.shape[0], x.shape[1], -1)
    y = y.reshape(y.shape[0], y.shape[1], -1)
    diff_db = 20.0 * (np.log10(np.maximum(x, amin)) - np.log10(np.maximum(y, amin)))
    per_frame = np.sqrt(np.mean(diff_db**2, axis=1))
    return per_frame.mean(axis=1)


def feature_mse(reference: np.ndarray, estimate: np.ndarray) -> np.ndarray:
    """Mean squared error per item over all feature entries.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n_items, ...)]
        Features in the same units (e.g. normalised dB spectrograms); complex input
        gives the mean of ``|x - y|**2``.

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64]

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import feature_mse
    >>> feature_mse(np.ones((2, 3, 4)), np.zeros((2, 3, 4))).tolist()  # one value per item
    [1.0, 1.0]
    """
    x, y = _pair(reference, estimate, ("reference", "estimate"))
    return np.mean(np.abs(x - y) ** 2, axis=1)
