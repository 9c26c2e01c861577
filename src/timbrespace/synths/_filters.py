"""Per-item filters for batches: RBJ biquads and a Moog ladder low-pass.

Every item of a batch has its own coefficients, which ``scipy.signal.lfilter`` cannot
take in one call, so the recursions run in compiled loops (numba) over items and time.

References
----------
.. [1] R. Bristow-Johnson, "Cookbook formulae for audio EQ biquad filter coefficients".
.. [2] V. Zavalishin, "The Art of VA Filter Design", rev. 2.1.2, 2020, ch. 3 and 5
   (topology-preserving transform, zero-delay-feedback ladder).
.. [3] T. Stilson and J. Smith, "Analyzing the Moog VCF with considerations for digital
   implementation", ICMC 1996.
"""

from __future__ import annotations

import numpy as np

from timbrespace.utils.compiled import njit

__all__ = ["bandpass_coefficients", "biquad", "moog_ladder", "MAX_CUTOFF_RATIO"]

#: Cutoffs are clamped to this fraction of the sample rate (just under Nyquist).
MAX_CUTOFF_RATIO = 0.45


def bandpass_coefficients(
    centre_hz: np.ndarray, q: np.ndarray, *, sample_rate: int
) -> tuple[np.ndarray, np.ndarray]:
    """RBJ band-pass (constant 0 dB peak gain) biquad coefficients, one set per item.

    Parameters
    ----------
    centre_hz : np.ndarray [shape=(n_items,)]
        Centre frequency in Hz, clamped to ``MAX_CUTOFF_RATIO * sample_rate``.
    q : np.ndarray [shape=(n_items,)]
        Quality factor (> 0): centre / (-3 dB bandwidth).
    sample_rate : int
        Hz.

    Returns
    -------
    b, a : np.ndarray [shape=(n_items, 3), dtype=float64]
        Normalised so that ``a[:, 0] == 1``.
    """
    fc = np.minimum(np.asarray(centre_hz, np.float64), MAX_CUTOFF_RATIO * sample_rate)
    w0 = 2.0 * np.pi * fc / sample_rate
    alpha = np.sin(w0) / (2.0 * np.asarray(q, np.float64))
    a0 = 1.0 + alpha
    b = np.stack([alpha, np.zeros_like(alpha), -alpha], axis=1) / a0[:, None]
    a = np.stack([np.ones_like(alpha), -2.0 * np.cos(w0) / a0, (1.0 - alpha) / a0], axis=1)
    return b, a


@njit(cache=True, nogil=True)
def _biquad_kernel(x, b, a, out):  # pragma: no cover - compiled
    n_items, n_samples = x.shape
    for i in range(n_items):
        b0, b1, b2 = b[i, 0], b[i, 1], b[i, 2]
        a1, a2 = a[i, 1], a[i, 2]
        z1 = 0.0
        z2 = 0.0
        for t in range(n_samples):
            xn = x[i, t]
            y = b0 * xn + z1
            z1 = b1 * xn - a1 * y + z2
            z2 = b2 * xn - a2 * y
            out[i, t] = y


def biquad(x: np.ndarray, b: np.ndarray, a: np.ndarray) -> np.ndarray:
    """Filter each row of ``x`` with its own biquad (transposed direct form II).

    Parameters
    ----------
    x : np.ndarray [shape=(n_items, n_samples)]
    b, a : np.ndarray [shape=(n_items, 3)]
        Coefficients with ``a[:, 0] == 1``.

    Returns
    -------
    np.ndarray [shape=(n_items, n_samples), dtype=float64]
        Same as ``scipy.signal.lfilter(b[i], a[i], x[i])`` for every row.
    """
    x = np.ascontiguousarray(x, dtype=np.float64)
    out = np.empty_like(x)
    _biquad_kernel(x, np.ascontiguousarray(b, np.float64), np.ascontiguousarray(a, np.float64), out)
    return out


@njit(cache=True, nogil=True, fastmath=True)
def _ladder_kernel(x_t, big_g, k, out_t):  # pragma: no cover - compiled
    # Time outer, items inner: the items' recursions are independent, so the inner loop
    # overlaps their latency (each sample of one item depends on its previous sample).
    n_samples, n_items = x_t.shape
    g1 = big_g
    g2 = g1 * g1
    g3 = g2 * g1
    h = 1.0 - g1
    inv = 1.0 / (1.0 + k * g2 * g2)
    s1 = np.zeros(n_items)
    s2 = np.zeros(n_items)
    s3 = np.zeros(n_items)
    s4 = np.zeros(n_items)
    for t in range(n_samples):
        for i in range(n_items):
            g = g1[i]
            # Zero-delay feedback: solve u = x - k y4 for the linear cascade, then saturate.
            sigma = h[i] * (g3[i] * s1[i] + g2[i] * s2[i] + g * s3[i] + s4[i])
            u = (x_t[t, i] - k[i] * sigma) * inv[i]
            # Rational tanh (Pade (3, 2), exact at 0 to O(u^5), = 1 at |u| = 3) clamped:
            # no libm call, so the loop over items vectorises.
            u = min(3.0, max(-3.0, u))
            u = u * (27.0 + u * u) / (27.0 + 9.0 * u * u)
            v = (u - s1[i]) * g
            y = v + s1[i]
            s1[i] = y + v
            v = (y - s2[i]) * g
            y2 = v + s2[i]
            s2[i] = y2 + v
            v = (y2 - s3[i]) * g
            y3 = v + s3[i]
            s3[i] = y3 + v
            v = (y3 - s4[i]) * g
            y4 = v + s4[i]
            s4[i] = y4 + v
            out_t[t, i] = y4


def moog_ladder(
    x: np.ndarray, cutoff_hz: np.ndarray, resonance: np.ndarray, *, sample_rate: int
) -> np.ndarray:
    """Four-pole Moog ladder low-pass, one cutoff and resonance per item.

    A zero-delay-feedback (TPT) ladder [2]_ with the cutoff pre-warped, so the resonant
    peak sits at ``cutoff_hz``; the input of the ladder goes through a saturator (a
    clamped rational approximation of ``tanh``) after the feedback is subtracted, which
    keeps every state bounded at any resonance, including self-oscillation.

    Parameters
    ----------
    x : np.ndarray [shape=(n_items, n_samples)]
        Input; amplitudes around 1 drive the saturation, 1e-3 keeps it linear.
    cutoff_hz : np.ndarray [shape=(n_items,)]
        Hz, clamped to ``MAX_CUTOFF_RATIO * sample_rate``.
    resonance : np.ndarray [shape=(n_items,)]
        ``>= 0``; feedback gain ``k = 4 resonance``: 1 is the onset of self-oscillation
        (the convention of pyo's ``MoogLP`` used by seed 000).
    sample_rate : int
        Hz.

    Returns
    -------
    np.ndarray [shape=(n_items, n_samples), dtype=float64]
    """
    x_t = np.ascontiguousarray(np.asarray(x, dtype=np.float64).T)
    fc = np.minimum(np.asarray(cutoff_hz, np.float64), MAX_CUTOFF_RATIO * sample_rate)
    g = np.tan(np.pi * fc / sample_rate)
    out_t = np.empty_like(x_t)
    _ladder_kernel(x_t, g / (1.0 + g), 4.0 * np.asarray(resonance, np.float64), out_t)
    return np.ascontiguousarray(out_t.T)
