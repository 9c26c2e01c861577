"""Fast banks of sinusoids.

A bank of ``n_partials`` sinusoids over ``n_samples`` samples costs
``n_partials * n_samples`` sine evaluations when computed directly. Splitting time into
``t = t_block + t_offset`` and using ``sin(a + b) = sin a cos b + cos a sin b`` turns the
weighted sum over partials into one matrix product per item::

    y[b, l] = sum_n a_n sin(w_n (bL + l))
            = [a sin(w bL), a cos(w bL)] (B x 2N)  @  [cos(w l); sin(w l)] (2N x L)

so only ``N (B + L) ~ 2 N sqrt(n_samples)`` sines are evaluated and the rest is BLAS.
Phases are reduced modulo 2 pi in float64 before the float32 product, so long renders
keep their accuracy.
"""

from __future__ import annotations

import math

import numpy as np


def sine_bank(
    freqs_hz: np.ndarray,
    amps: np.ndarray,
    *,
    sample_rate: int,
    n_samples: int,
    phases_rad: np.ndarray | None = None,
) -> np.ndarray:
    """Sum of sinusoids per item, computed by block matrix products.

    Parameters
    ----------
    freqs_hz : np.ndarray [shape=(n_items, n_partials), dtype=float64]
        Frequency of each partial in Hz.
    amps : np.ndarray [shape=(n_items, n_partials)]
        Linear amplitude of each partial (0 switches a partial off).
    sample_rate : int
        Hz.
    n_samples : int
        Output length.
    phases_rad : np.ndarray [shape=(n_items, n_partials)], optional
        Initial phase of each partial (default 0: sine phase).

    Returns
    -------
    np.ndarray [shape=(n_items, n_samples), dtype=float32]
        ``y[i, t] = sum_n amps[i, n] * sin(2 pi freqs_hz[i, n] t / sample_rate + phases_rad[i, n])``.
    """
    freqs_hz = np.asarray(freqs_hz, dtype=np.float64)
    amps = np.asarray(amps, dtype=np.float64)
    n_items, n_partials = freqs_hz.shape
    if n_partials == 0 or n_items == 0:
        return np.zeros((n_items, n_samples), dtype=np.float32)
    block = max(1, int(math.ceil(math.sqrt(n_samples))))
    n_blocks = int(math.ceil(n_samples / block))
    omega = 2.0 * np.pi * freqs_hz / sample_rate  # rad/sample
    starts = np.arange(n_blocks, dtype=np.float64) * block
    offsets = np.arange(block, dtype=np.float64)
    phase0 = np.zeros_like(omega) if phases_rad is None else np.asarray(phases_rad, np.float64)
    # (n_items, n_blocks, n_partials): phase at each block start, reduced mod 2 pi in float64.
    theta = np.mod(omega[:, None, :] * starts[None, :, None] + phase0[:, None, :], 2.0 * np.pi)
    left = np.empty((n_items, n_blocks, 2 * n_partials), dtype=np.float32)
    left[:, :, :n_partials] = amps[:, None, :] * np.sin(theta)
    left[:, :, n_partials:] = amps[:, None, :] * np.cos(theta)
    phi = omega[:, :, None] * offsets[None, None, :]  # (n_items, n_partials, block), small
    right = np.empty((n_items, 2 * n_partials, block), dtype=np.float32)
    right[:, :n_partials, :] = np.cos(phi)
    right[:, n_partials:, :] = np.sin(phi)
    out = np.matmul(left, right)  # (n_items, n_blocks, block)
    return out.reshape(n_items, n_blocks * block)[:, :n_samples]
