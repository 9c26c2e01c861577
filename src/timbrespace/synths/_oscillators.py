"""Fast banks of sinusoids.

A bank of ``n_partials`` sinusoids over ``n_samples`` samples costs
``n_partials * n_samples`` sine evaluations when computed directly. Splitting time into
``t = t_block + t_offset`` and using ``sin(a + b) = sin a cos b + cos a sin b`` turns the
weighted sum over partials into one matrix product per item::

    y[b, l] = sum_n a_n sin(w_n (bL + l))
            = [a sin(w bL), a cos(w bL)] (B x 2N)  @  [cos(w l); sin(w l)] (2N x L)

so only ``N (B + L) ~ 2 N sqrt(n_samples)`` sines are evaluated and the rest is BLAS.
Phases are reduced modulo one cycle in float64, so long renders keep their accuracy;
the sines are then evaluated in float32 (numpy's SIMD kernels) and the product is a
float32 BLAS batch. Errors stay near float32 resolution (about -130 dB per partial). An
exponential decay common to all partials of an item is separable in the same way and
costs nothing extra. Items are grouped by their own padded partial count, so an item
renders bit-identically whatever else is in its batch.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np


def sine_bank(
    freqs_hz: np.ndarray,
    amps: np.ndarray,
    *,
    sample_rate: int,
    n_samples: int,
    phases_rad: np.ndarray | None = None,
    decay_per_s: np.ndarray | None = None,
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
    decay_per_s : np.ndarray [shape=(n_items,)], optional
        Exponential decay rate of each item: the sum is multiplied by
        ``exp(-decay_per_s t)`` (separable in the block decomposition, so nearly free).

    Returns
    -------
    np.ndarray [shape=(n_items, n_samples), dtype=float32]
        ``y[i, t] = exp(-decay_per_s[i] t / sample_rate) * sum_n amps[i, n]
        * sin(2 pi freqs_hz[i, n] t / sample_rate + phases_rad[i, n])``.
    """
    freqs_hz = np.asarray(freqs_hz, dtype=np.float64)
    amps = np.asarray(amps, dtype=np.float64)
    n_items, n_partials = freqs_hz.shape
    phases = np.zeros_like(freqs_hz) if phases_rad is None else np.asarray(phases_rad, np.float64)
    if n_partials == 0 or n_items == 0:
        return np.zeros((n_items, n_samples), dtype=np.float32)
    # Sounding partials first, then items grouped by their own padded partial count: the
    # product's inner dimension then depends on the item alone, never on the rest of the
    # batch, so a batch of 256 is bit-identical to 8 batches of 32.
    order = np.argsort(amps == 0.0, axis=1, kind="stable")
    freqs_hz = np.take_along_axis(freqs_hz, order, axis=1)
    amps = np.take_along_axis(amps, order, axis=1)
    phases = np.take_along_axis(phases, order, axis=1)
    counts = np.count_nonzero(amps, axis=1)
    widths = -(-counts // _WIDTH_STEP) * _WIDTH_STEP
    block, n_blocks = _block_shape(n_samples)
    out = np.empty((n_items, n_blocks, block), dtype=np.float32)
    with _one_blas_thread():
        _grouped_products(out, widths, freqs_hz, amps, phases, n_items, n_partials,
                          sample_rate=sample_rate, n_samples=n_samples, decay_per_s=decay_per_s)
    flat = out.reshape(n_items, n_blocks * block)
    # A contiguous result (a copy only when n_samples is not a whole number of blocks).
    return flat if flat.shape[1] == n_samples else np.ascontiguousarray(flat[:, :n_samples])


_CONTROLLER = None


def _one_blas_thread() -> Any:
    """Limit BLAS to one thread for the products.

    A multi-threaded sgemm may sum in another order, so the same item would come out
    different by ~1e-7 depending on the thread count (found when a resumed dataset
    rendered under OMP_NUM_THREADS=1 differed from one rendered under 2). Parallelism
    comes from worker processes instead (DESIGN.md, "Scale").
    """
    global _CONTROLLER
    from threadpoolctl import ThreadpoolController

    if _CONTROLLER is None:
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def _grouped_products(out: np.ndarray, widths: np.ndarray, freqs_hz: np.ndarray, amps: np.ndarray,
                      phases: np.ndarray, n_items: int, n_partials: int, *, sample_rate: int,
                      n_samples: int, decay_per_s: Any) -> None:
    for width in np.unique(widths):
        rows = np.flatnonzero(widths == width)
        if width == 0:
            out[rows] = 0.0
            continue
        sub = slice(0, min(int(width), n_partials))
        f, a, p = freqs_hz[rows, sub], amps[rows, sub], phases[rows, sub]
        if f.shape[1] < width:  # pad with silent partials up to the group's width
            pad = ((0, 0), (0, int(width) - f.shape[1]))
            f, a, p = np.pad(f, pad), np.pad(a, pad), np.pad(p, pad)
        decay = None if decay_per_s is None else np.asarray(decay_per_s, np.float64)[rows]
        left, right = _factors(
            f, a, p, sample_rate=sample_rate, n_samples=n_samples, decay_per_s=decay
        )
        if rows.shape[0] == n_items:
            np.matmul(left, right, out=out)  # one group: no copy
        else:
            out[rows] = np.matmul(left, right)


def _block_shape(n_samples: int) -> tuple[int, int]:
    block = max(1, int(math.ceil(math.sqrt(n_samples))))
    return block, int(math.ceil(n_samples / block))


_WIDTH_STEP = 8


def _reduced_angle(cycles: np.ndarray) -> np.ndarray:
    """``2 pi frac(cycles)`` as float32 in [-pi, pi]: float64 reduction, then float32."""
    whole = np.rint(cycles)
    np.subtract(cycles, whole, out=cycles)
    angle = cycles.astype(np.float32)
    angle *= np.float32(2.0 * np.pi)
    return angle


def _factors(
    freqs_hz: np.ndarray,
    amps: np.ndarray,
    phases_rad: np.ndarray,
    *,
    sample_rate: int,
    n_samples: int,
    decay_per_s: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``left (n_items, n_blocks, 2N)`` and ``right (n_items, 2N, block)`` float32 factors."""
    n_items, n_partials = freqs_hz.shape
    block, n_blocks = _block_shape(n_samples)
    # Phases in cycles, reduced in float64 (exact enough for hours of audio); the sines
    # themselves are evaluated in float32, whose vectorised kernels are far faster.
    cycles = freqs_hz / sample_rate  # cycles per sample
    starts = np.arange(n_blocks, dtype=np.float64) * block
    offsets = np.arange(block, dtype=np.float64)
    theta = cycles[:, None, :] * starts[None, :, None]
    theta += (phases_rad / (2.0 * np.pi))[:, None, :]
    theta = _reduced_angle(theta)  # (n_items, n_blocks, n_partials)
    amps32 = amps.astype(np.float32)[:, None, :]
    left = np.empty((n_items, n_blocks, 2 * n_partials), dtype=np.float32)
    np.multiply(np.sin(theta), amps32, out=left[:, :, :n_partials])
    np.multiply(np.cos(theta), amps32, out=left[:, :, n_partials:])
    # (n_items, n_partials, block): phase within a block.
    phi = _reduced_angle(cycles[:, :, None] * offsets[None, None, :])
    right = np.empty((n_items, 2 * n_partials, block), dtype=np.float32)
    np.cos(phi, out=right[:, :n_partials, :])
    np.sin(phi, out=right[:, n_partials:, :])
    if decay_per_s is not None:
        # exp(-d (start + offset) / sr) = exp(-d start / sr) exp(-d offset / sr): separable too.
        rate = np.asarray(decay_per_s, np.float64)[:, None] / sample_rate
        left *= np.exp(-rate * starts[None, :]).astype(np.float32)[:, :, None]
        right *= np.exp(-rate * offsets[None, :]).astype(np.float32)[:, None, :]
    return left, right
