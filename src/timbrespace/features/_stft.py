"""Batched STFT and inverse STFT in torch, matching :func:`librosa.stft` / ``istft``.

Frames follow librosa: with ``center=True`` the signal is padded by ``n_fft // 2`` on
both sides and frame ``k`` is centred on sample ``k * hop_length``; the window of
``win_length`` samples is zero-padded to ``n_fft`` in the middle; each frame's phase is
referenced to the frame's first sample.
"""

from __future__ import annotations

from functools import lru_cache

import librosa
import numpy as np
import torch
import torch.nn.functional as F

__all__ = ["stft", "istft", "window_tensor", "n_frames", "overlap_add", "envelope_inverse", "spectral_convergence"]


@lru_cache(maxsize=32)
def _window_np(window: str, win_length: int, n_fft: int) -> np.ndarray:
    win = librosa.filters.get_window(window, win_length, fftbins=True)
    return librosa.util.pad_center(win, size=n_fft).astype(np.float64)


def window_tensor(window: str, win_length: int, n_fft: int, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """The analysis window, length ``n_fft`` (``win_length`` samples centred)."""
    return torch.from_numpy(_window_np(window, win_length, n_fft)).to(dtype)


def n_frames(n_samples: int, n_fft: int, hop_length: int, center: bool) -> int:
    """Number of STFT frames librosa produces for ``n_samples``."""
    if center:
        return 1 + n_samples // hop_length
    return 1 + (n_samples - n_fft) // hop_length


def stft(
    audio: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    win_length: int,
    window: str = "hann",
    center: bool = True,
    pad_mode: str = "constant",
) -> torch.Tensor:
    """Complex STFT of a batch.

    Parameters
    ----------
    audio : torch.Tensor [shape=(n_items, n_samples), dtype=float32 or float64]

    Returns
    -------
    torch.Tensor [shape=(n_items, n_fft // 2 + 1, n_frames), complex]
    """
    win = window_tensor(window, win_length, n_fft, audio.dtype)
    return torch.stft(
        audio, n_fft, hop_length, n_fft, window=win, center=center, pad_mode=pad_mode, return_complex=True
    )


@lru_cache(maxsize=32)
def _envelope(window: str, win_length: int, n_fft: int, hop_length: int, frames: int, dtype: torch.dtype) -> torch.Tensor:
    win_sq = window_tensor(window, win_length, n_fft, torch.float64) ** 2
    env = overlap_add(win_sq[None, None, :].expand(1, frames, n_fft).contiguous(), hop_length).reshape(-1)
    tiny = torch.finfo(torch.float32).tiny
    inv = torch.where(env > tiny, 1.0 / env.clamp_min(tiny), torch.zeros_like(env))
    return inv.to(dtype)


def istft(
    spec: torch.Tensor,
    *,
    n_fft: int,
    hop_length: int,
    win_length: int,
    window: str = "hann",
    center: bool = True,
    length: int,
) -> torch.Tensor:
    """Least-squares inverse STFT (weighted overlap-add), batched.

    Parameters
    ----------
    spec : torch.Tensor [shape=(n_items, n_fft // 2 + 1, n_frames), complex]
    length : int
        Output length in samples.

    Returns
    -------
    torch.Tensor [shape=(n_items, length), real]

    Notes
    -----
    Like :func:`librosa.istft`: samples where the squared-window envelope vanishes
    (``center=False`` edges) are set to zero instead of failing torch's NOLA check.
    """
    real_dtype = torch.float64 if spec.dtype == torch.complex128 else torch.float32
    win = window_tensor(window, win_length, n_fft, real_dtype)
    frames_td = torch.fft.irfft(spec.transpose(1, 2), n=n_fft, dim=-1) * win
    y = overlap_add(frames_td, hop_length) * _envelope(window, win_length, n_fft, hop_length, spec.shape[2], real_dtype)
    start = n_fft // 2 if center else 0
    y = y[:, start : start + length]
    if y.shape[1] < length:
        y = F.pad(y, (0, length - y.shape[1]))
    return y


def overlap_add(frames_td: torch.Tensor, hop_length: int) -> torch.Tensor:
    """Sum frames ``(n_items, n_frames, n_fft)`` placed ``hop_length`` apart -> ``(n_items, length)``."""
    n_items, frames, n_fft = frames_td.shape
    total = n_fft + hop_length * (frames - 1)
    if n_fft % hop_length:
        out = F.fold(frames_td.transpose(1, 2), output_size=(1, total), kernel_size=(1, n_fft),
                     stride=(1, hop_length))
        return out.reshape(n_items, total)
    # hop divides n_fft: add the n_fft / hop segments of every frame as shifted blocks
    ratio = n_fft // hop_length
    seg = frames_td.reshape(n_items, frames, ratio, hop_length)
    out = frames_td.new_zeros(n_items, frames + ratio - 1, hop_length)
    for r in range(ratio):
        out[:, r : r + frames] += seg[:, :, r]
    return out.reshape(n_items, total)


def envelope_inverse(window: str, win_length: int, n_fft: int, hop_length: int, frames: int,
                     dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``1 / sum_k w^2[n - k hop]`` over the overlap-added length (0 where it vanishes)."""
    return _envelope(window, win_length, n_fft, hop_length, frames, dtype)


def spectral_convergence(reference_mag: np.ndarray, estimate_mag: np.ndarray) -> np.ndarray:
    """``||S - S_hat||_F / ||S||_F`` per item (last two axes), 0 for a silent reference.

    Private stand-in for ``timbrespace.metrics.spectral_convergence`` (numpy only).
    """
    ref = np.asarray(reference_mag, dtype=np.float64)
    est = np.asarray(estimate_mag, dtype=np.float64)
    axes = tuple(range(1, ref.ndim))
    num = np.sqrt(np.sum((ref - est) ** 2, axis=axes))
    den = np.sqrt(np.sum(ref**2, axis=axes))
    return np.where(den > 0, num / np.where(den > 0, den, 1.0), np.where(num > 0, np.inf, 0.0))
