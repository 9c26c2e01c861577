"""The ``nsgt`` package (Holighaus, Dörfler, Velasco, Grill) with a small numpy-2 fix.

``nsgt`` 0.19's ``nsgfwin_sl.nsgfwin`` calls ``np.clip(M, min_win, np.inf, out=M)`` on an
integer array, which numpy >= 2 refuses (float output into int). We give that module a
numpy proxy whose ``clip`` casts unsafely (what numpy 1 did). ``ltfatpy`` (the other
candidate) is not installable here (no wheel for this Python/numpy; its build needs
the LTFAT C library), so it is not used. The package transforms one signal per call;
:func:`nsgt_forward_batch` runs its forward arithmetic on a whole batch (tested equal).

References
----------
N. Holighaus, M. Dörfler, G. A. Velasco, T. Grill, "A framework for invertible,
real-time constant-Q transforms", IEEE TASLP 21(4), 2013. Seed 004 (audio branch).
"""

from __future__ import annotations

import warnings
from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["nsgt_transform", "nsgt_forward_batch"]


class _NumpyClipCompat:
    """numpy, except that ``clip(..., out=int_array)`` casts like numpy 1 did."""

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)

    @staticmethod
    def clip(a: Any, a_min: Any, a_max: Any, out: Any = None, **kwargs: Any) -> Any:
        kwargs.setdefault("casting", "unsafe")
        return np.clip(a, a_min, a_max, out=out, **kwargs)


def _patch() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "nsgt.fft falling back to numpy.fft"
        import nsgt.nsgfwin_sl as nsgfwin_sl
    if not isinstance(nsgfwin_sl.np, _NumpyClipCompat):
        nsgfwin_sl.np = _NumpyClipCompat()  # type: ignore[assignment]


@lru_cache(maxsize=8)
def nsgt_transform(fmin_hz: float, fmax_hz: float, bins_per_octave: int, sample_rate: int, n_samples: int) -> Any:
    """A matrix-form, real-signal constant-Q NSGT for signals of ``n_samples`` (cached)."""
    _patch()
    from nsgt import NSGT, OctScale

    scale = OctScale(fmin_hz, fmax_hz, bins_per_octave)
    with warnings.catch_warnings():
        # "Q-factor too high for frequencies ...": the lowest bins get the widest window
        # the signal length allows; the frame stays invertible.
        warnings.simplefilter("ignore", UserWarning)
        return NSGT(scale, sample_rate, n_samples, real=True, matrixform=True, reducedform=0)


def nsgt_forward_batch(transform: Any, audio: np.ndarray) -> np.ndarray:
    """The package's matrix-form forward transform, vectorised over items.

    Same arithmetic as ``nsgt.nsgtf.nsgtf_sl`` / ``nsgtf_loop`` (real signal, full form):
    per band, the windowed slice of the signal's spectrum, wrapped to ``M`` bins and
    inverse-FFT'd, here for all items at once instead of one item per call.

    Parameters
    ----------
    transform : nsgt.NSGT
        From :func:`nsgt_transform` (``real=True``, ``matrixform=True``, ``reducedform=0``).
    audio : np.ndarray [shape=(n_items, n_samples)]

    Returns
    -------
    np.ndarray [shape=(n_items, n_bands, n_coefficients), dtype=complex128]
    """
    x = np.asarray(audio, dtype=np.float64)
    n_items, n_samples = x.shape
    spec = np.fft.fft(x, axis=-1)
    if transform.nn > n_samples:
        spec = np.concatenate([spec, np.zeros((n_items, transform.nn - n_samples), dtype=spec.dtype)], axis=1)
    bands = slice(0, len(transform.g) // 2 + 1)
    m_all = transform.M[bands]
    out = np.empty((n_items, len(m_all), int(max(m_all))), dtype=np.complex128)
    for k, (m, g, win_range) in enumerate(zip(m_all, transform.g[bands], transform.wins[bands], strict=True)):
        m = int(m)
        lg = len(g)
        col = -(-lg // m)
        temp = np.zeros((n_items, col * m), dtype=np.complex128)
        ftw = spec[:, win_range]
        temp[:, : (lg + 1) // 2] = g[: (lg + 1) // 2] * ftw[:, lg // 2 :]
        if lg // 2:
            temp[:, col * m - lg // 2 :] = g[-(lg // 2) :] * ftw[:, : lg // 2]
        if col > 1:  # fewer time channels than window samples: fold (as the package does)
            temp = temp.reshape(n_items, m, col).sum(axis=-1)
        out[:, k] = np.fft.ifft(temp, axis=-1)
    return out
