"""The ``nsgt`` package (Holighaus, Dörfler, Velasco, Grill) with a small numpy-2 fix.

``nsgt`` 0.19's ``nsgfwin_sl.nsgfwin`` calls ``np.clip(M, min_win, np.inf, out=M)`` on an
integer array, which numpy >= 2 refuses (float output into int). We give that module a
numpy proxy whose ``clip`` casts unsafely (what numpy 1 did). ``ltfatpy`` (the other
candidate) does not build on this Python/numpy, so it is not used.

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

__all__ = ["nsgt_transform"]


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
