"""Windowed MDCT with perfect reconstruction (TDAC), vectorised over items and frames.

Frames of ``2N = n_fft`` samples with hop ``N``; each gives ``N`` real coefficients

    X[k] = sum_n w[n] x[n] cos(pi / N * (n + 1/2 + N/2) * (k + 1/2)),

computed with one FFT of length ``2N`` per frame (pre- and post-twiddle). The window
satisfies the Princen-Bradley condition ``w[n]^2 + w[n + N]^2 = 1`` (sine or
Kaiser-Bessel-derived), so overlap-adding the windowed inverse cancels the time-domain
aliasing. The signal is padded with ``N`` zeros in front and enough at the end that every
sample lies in two frames.

References
----------
J. P. Princen, A. W. Johnson, A. B. Bradley, "Subband/transform coding using filter bank
designs based on time domain aliasing cancellation", ICASSP 1987. Seed 000 (``MDCT.py``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import scipy.signal

from timbrespace.errors import ParameterError

__all__ = ["mdct", "imdct", "mdct_window", "mdct_frames"]


@lru_cache(maxsize=16)
def mdct_window(n_fft: int, window: str = "sine", kbd_alpha: float = 4.0) -> np.ndarray:
    """The MDCT window of ``n_fft`` samples (``"sine"`` or ``"kbd"``), float64."""
    if window == "sine":
        return np.sin(np.pi * (np.arange(n_fft) + 0.5) / n_fft)
    if window == "kbd":
        return scipy.signal.windows.kaiser_bessel_derived(n_fft, beta=np.pi * kbd_alpha)
    raise ParameterError(f"window={window!r} is not an MDCT window: allowed 'sine', 'kbd'")


def mdct_frames(n_samples: int, n_fft: int) -> int:
    """Number of MDCT frames for ``n_samples`` (every sample covered twice)."""
    half = n_fft // 2
    return -(-n_samples // half) + 1


@lru_cache(maxsize=16)
def _twiddles(half: int) -> tuple[np.ndarray, np.ndarray]:
    n = np.arange(2 * half)
    k = np.arange(half)
    n0 = 0.5 + half / 2
    pre = np.exp(-1j * np.pi * n / (2 * half))
    post = np.exp(-1j * np.pi * n0 * (k + 0.5) / half)
    return pre, post


def _mdct_frames(frames: np.ndarray, window: np.ndarray) -> np.ndarray:
    """MDCT of frames ``(..., 2N)`` -> ``(..., N)``."""
    half = frames.shape[-1] // 2
    pre, post = _twiddles(half)
    spec = np.fft.fft(frames * window * pre, axis=-1)[..., :half]
    return np.real(spec * post)


def mdct(
    audio: np.ndarray, *, n_fft: int, window: str = "sine", kbd_alpha: float = 4.0, single_frame: bool = False
) -> np.ndarray:
    """MDCT of a batch.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_items, n_samples)]
    n_fft : int
        Frame length ``2N`` (even).
    single_frame : bool
        Only the first ``n_fft`` samples, unpadded (seed 000: 1024 coefficients of the
        first 2048 samples).

    Returns
    -------
    np.ndarray [shape=(n_items, n_fft // 2, n_frames) or (n_items, n_fft // 2), dtype=float32]

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features import mdct
    >>> y = np.random.default_rng(0).standard_normal((2, 800)).astype(np.float32)
    >>> mdct(y, n_fft=256).shape  # (n_items, n_fft // 2, n_frames)
    (2, 128, 8)
    """
    x = np.asarray(audio, dtype=np.float64)
    half = n_fft // 2
    win = mdct_window(n_fft, window, kbd_alpha)
    if single_frame:
        frame = np.zeros((x.shape[0], n_fft))
        m = min(n_fft, x.shape[1])
        frame[:, :m] = x[:, :m]
        return _mdct_frames(frame, win).astype(np.float32)
    n_frames = mdct_frames(x.shape[1], n_fft)
    padded = np.zeros((x.shape[0], half * (n_frames + 1)))
    padded[:, half : half + x.shape[1]] = x
    frames = np.lib.stride_tricks.sliding_window_view(padded, n_fft, axis=1)[:, ::half]
    return np.ascontiguousarray(np.swapaxes(_mdct_frames(frames, win), 1, 2)).astype(np.float32)


def imdct(
    coefficients: np.ndarray, *, n_samples: int, window: str = "sine", kbd_alpha: float = 4.0
) -> np.ndarray:
    """Inverse of :func:`mdct` (windowed overlap-add; exact up to float rounding).

    Parameters
    ----------
    coefficients : np.ndarray [shape=(n_items, N, n_frames) or (n_items, N)]
        A single frame (2-D input) gives that frame's windowed, time-aliased inverse
        (``2N`` samples, placed at the start).
    n_samples : int
        Output length.

    Returns
    -------
    np.ndarray [shape=(n_items, n_samples), dtype=float32]

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features import imdct, mdct
    >>> y = np.random.default_rng(0).standard_normal((2, 800)).astype(np.float32)
    >>> y_hat = imdct(mdct(y, n_fft=256), n_samples=800)
    >>> y_hat.shape, bool(np.allclose(y_hat, y, atol=1e-5))
    ((2, 800), True)
    """
    c = np.asarray(coefficients, dtype=np.float64)
    half = c.shape[1]
    n_fft = 2 * half
    win = mdct_window(n_fft, window, kbd_alpha)
    n = np.arange(n_fft)
    k = np.arange(half)
    n0 = 0.5 + half / 2
    single = c.ndim == 2
    spec = c[:, None, :] if single else np.swapaxes(c, 1, 2)  # (items, frames, N)
    # y[n] = (2/N) sum_k X[k] cos(pi/N (n + n0)(k + 1/2)) via one inverse FFT of length 2N
    buf = np.zeros((*spec.shape[:2], n_fft), dtype=np.complex128)
    buf[..., :half] = spec * np.exp(1j * np.pi * n0 * k / half)
    y = np.real(np.fft.ifft(buf, axis=-1) * n_fft * np.exp(1j * np.pi * (n + n0) / n_fft))
    y *= (2.0 / half) * win
    out = np.zeros((c.shape[0], n_samples))
    if single:
        m = min(n_fft, n_samples)
        out[:, :m] = y[:, 0, :m]
        return out.astype(np.float32)
    n_frames = spec.shape[1]
    total = half * (n_frames + 1)
    acc = np.zeros((c.shape[0], total))
    for j in range(2):  # frames j, j+2, ... do not overlap: add them in two strided passes
        sel = y[:, j::2]
        starts = half * np.arange(j, n_frames, 2)
        block = np.zeros((c.shape[0], len(starts) * n_fft))
        block[:] = sel.reshape(c.shape[0], -1)
        idx = (starts[:, None] + np.arange(n_fft)[None, :]).reshape(-1)
        acc[:, idx] += block
    m = min(n_samples, total - half)
    out[:, :m] = acc[:, half : half + m]
    return out.astype(np.float32)
