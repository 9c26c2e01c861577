"""Constant-Q magnitudes (CQT, NSGT) to STFT magnitudes: the map their inverse goes through.

A constant-Q magnitude keeps no phase, and its own inverse transform is no help in
retrieving one: at a hop of hundreds of samples the CQT undersamples its short
high-frequency filters, so Griffin-Lim through ``librosa.icqt`` does not converge (on
the default experiment, 4 or 16 iterations raise the spectral convergence of the audio
against the originals from 0.83 to 1.11).
Instead, as :func:`librosa.feature.inverse.mel_to_stft` does for mel, the magnitudes are
mapped to an STFT magnitude by a linear operator computed once per configuration, and
the phase is retrieved on that STFT (PGHI and fast Griffin-Lim, :mod:`.phase`).

The operator follows from the filters' magnitude responses. A cosine of amplitude 1 at
``f`` gives constant-Q magnitude ``H[k](f)`` in bin ``k`` and STFT magnitude ``A[j](f)``
in STFT bin ``j``. Modelling a spectrum as a non-negative line spectrum ``L`` on a fine
frequency grid (partials that do not interfere), ``C = H L`` and ``S = A L``, so
``S = A H^+ C`` with ``H^+`` a truncated pseudo-inverse. Between constant-Q frames the
STFT magnitude is interpolated linearly in log magnitude (exponential decays stay
exponential).

References
----------
N. Holighaus, M. Dörfler, G. A. Velasco, T. Grill, "A framework for invertible,
real-time constant-Q transforms", IEEE TASLP 21(4), 2013 (constant-Q frames);
librosa's ``mel_to_stft`` (the same construction for mel filters).
"""

from __future__ import annotations

from functools import lru_cache

import librosa
import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.features._nsgt import nsgt_transform
from timbrespace.features._stft import _window_np, n_frames
from timbrespace.features.phase import StftGeometry

__all__ = ["cqt_response", "nsgt_response", "stft_response", "constant_q_basis", "constant_q_to_stft",
           "RCOND"]

RCOND = 0.03
"""Singular values of ``H`` below this fraction of the largest are dropped (measured on the
default experiment's notes: SC 0.43 at 0.01-0.03, 0.44 at 0.1)."""
_WINDOW_OVERSAMPLING = 64  # the STFT window's spectrum is tabulated at n_fft / 64 bin steps


@lru_cache(maxsize=8)
def cqt_response(sample_rate: int, fmin_hz: float, n_bins: int, bins_per_octave: int, window: str,
                 n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """``|CQT|`` of a unit cosine, per bin, on a fine frequency grid (cached).

    :func:`librosa.cqt` (``filter_scale=1``, ``norm=1``, ``scale=True``) gives a cosine
    of amplitude ``a`` at ``f`` the magnitude ``a / 2 * sqrt(L_k) * |Ĥ_k(f)|`` in bin
    ``k``, where ``Ĥ_k`` is the spectrum of the L1-normalised wavelet of length ``L_k``
    (:func:`librosa.filters.wavelet`); the test suite checks this against ``librosa.cqt``.

    Parameters
    ----------
    sample_rate : int
        Hz.
    fmin_hz : float
    n_bins, bins_per_octave : int
    window : str
        The CQT's window.
    n_fft : int
        The STFT the map goes to: the grid is at least 8 points per STFT bin.

    Returns
    -------
    response : np.ndarray [shape=(n_bins, n_freqs), dtype=float64]
    freqs_hz : np.ndarray [shape=(n_freqs,), dtype=float64]
        From 0 to the Nyquist frequency.
    """
    freqs = librosa.cqt_frequencies(n_bins, fmin=fmin_hz, bins_per_octave=bins_per_octave)
    basis, lengths = librosa.filters.wavelet(freqs=freqs, sr=sample_rate, window=window, filter_scale=1,
                                             pad_fft=True, norm=1)
    n_grid = max(basis.shape[1], 8 * n_fft)
    # complex (analytic) filters: the full FFT, of which the non-negative frequencies
    spectrum = np.abs(np.fft.fft(basis, n=n_grid, axis=1)[:, : n_grid // 2 + 1])
    response = spectrum * (0.5 * np.sqrt(lengths))[:, None]
    return response, np.arange(n_grid // 2 + 1) * (sample_rate / n_grid)


@lru_cache(maxsize=8)
def nsgt_response(fmin_hz: float, fmax_hz: float, bins_per_octave: int, sample_rate: int,
                  n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """``|NSGT|`` of a unit cosine, per band, from the transform's frequency windows (cached).

    The NSGT is circular over its length ``L``; a cosine at bin ``b`` (a multiple of
    ``sample_rate / L``) has spectrum ``L / 2`` at ``b`` and ``L - b``, and band ``k``
    (window ``g_k`` over bins ``wins_k``, ``M_k`` coefficients) gives it the magnitude
    ``L / (2 M_k) |g_k(b)|``, constant in time: the arithmetic of
    :func:`~timbrespace.features._nsgt.nsgt_forward_batch` (tested equal). Where a
    window holds both ``b`` and ``L - b`` (the DC and Nyquist bands) the two rotate
    against each other and the root of the sum of squares (the RMS over time) is used.

    Returns
    -------
    response : np.ndarray [shape=(n_bands, L // 2 + 1), dtype=float64]
    freqs_hz : np.ndarray [shape=(L // 2 + 1,), dtype=float64]
    """
    transform = nsgt_transform(fmin_hz, fmax_hz, bins_per_octave, sample_rate, n_samples)
    length = int(transform.nn)
    n_bands = len(transform.g) // 2 + 1
    power = np.zeros((n_bands, length // 2 + 1))
    for k in range(n_bands):
        g = np.abs(np.asarray(transform.g[k], dtype=np.float64))
        lg = len(g)
        bins = np.asarray(transform.wins[k]) % length
        # the window is stored centred at index 0: window bin i pairs with g[(i - lg // 2) % lg]
        values = g[(np.arange(lg) - lg // 2) % lg] * (length / (2 * int(transform.M[k])))
        np.add.at(power[k], np.minimum(bins, length - bins), values**2)
    return np.sqrt(power), np.arange(length // 2 + 1) * (sample_rate / length)


def stft_response(freqs_hz: np.ndarray, geometry: StftGeometry, sample_rate: int) -> np.ndarray:
    """``|STFT|`` of a unit cosine at each of ``freqs_hz``, per STFT bin.

    ``A[j, i] = |W(f_j - f_i)| / 2`` with ``W`` the spectrum of the analysis window
    (tabulated by a zero-padded FFT and interpolated); the image at ``-f_i`` is
    neglected.

    Returns
    -------
    np.ndarray [shape=(n_fft // 2 + 1, n_freqs), dtype=float64]
    """
    n_fft = geometry.n_fft
    n_table = _WINDOW_OVERSAMPLING * n_fft
    table = np.abs(np.fft.rfft(_window_np(geometry.window, geometry.win_length, n_fft), n=n_table))
    table_hz = np.arange(len(table)) * (sample_rate / n_table)
    bins_hz = np.arange(n_fft // 2 + 1) * (sample_rate / n_fft)
    offset = np.abs(bins_hz[:, None] - np.asarray(freqs_hz, dtype=np.float64)[None, :])
    return 0.5 * np.interp(offset, table_hz, table, right=0.0)


def constant_q_basis(response: np.ndarray, freqs_hz: np.ndarray, geometry: StftGeometry, sample_rate: int,
                     *, rcond: float = RCOND) -> np.ndarray:
    """The linear map from constant-Q magnitudes to STFT magnitudes, ``A H^+``.

    Parameters
    ----------
    response : np.ndarray [shape=(n_bins, n_freqs)]
        ``H``: constant-Q magnitude of a unit cosine at each of ``freqs_hz``
        (:func:`cqt_response`, :func:`nsgt_response`).
    freqs_hz : np.ndarray [shape=(n_freqs,)]
    geometry : StftGeometry
        The STFT to map to.
    sample_rate : int
    rcond : float
        Relative cut-off of ``H``'s singular values in the pseudo-inverse.

    Returns
    -------
    np.ndarray [shape=(n_fft // 2 + 1, n_bins), dtype=float64]
    """
    return stft_response(freqs_hz, geometry, sample_rate) @ np.linalg.pinv(response, rcond=rcond)


def constant_q_to_stft(magnitude: np.ndarray, basis: np.ndarray, *, frame_step: float, geometry: StftGeometry,
                       n_samples: int) -> np.ndarray:
    """STFT magnitudes from constant-Q magnitudes.

    Each constant-Q frame is mapped by ``basis`` and clipped at zero; STFT frames
    between constant-Q frames are interpolated linearly in log magnitude (held at the
    ends).

    Parameters
    ----------
    magnitude : np.ndarray [shape=(n_items, n_bins, n_cq_frames)]
        Linear constant-Q magnitudes; frame ``m`` is centred on sample ``m * frame_step``.
    basis : np.ndarray [shape=(n_fft // 2 + 1, n_bins)]
        From :func:`constant_q_basis`.
    frame_step : float
        Samples between constant-Q frames (the CQT's ``hop_length``; ``n_samples / M``
        for an NSGT of ``M`` coefficients per band).
    geometry : StftGeometry
        The STFT (``center=True``: frame ``k`` centred on sample ``k * hop_length``).
    n_samples : int
        Audio length: the STFT has ``1 + n_samples // hop_length`` frames.

    Returns
    -------
    np.ndarray [shape=(n_items, n_fft // 2 + 1, n_frames), dtype=float64]

    Raises
    ------
    ParameterError
        ``magnitude`` is not 3-D with ``basis.shape[1]`` rows.
    """
    mag = np.asarray(magnitude, dtype=np.float64)
    if mag.ndim != 3 or mag.shape[1] != basis.shape[1]:
        raise ParameterError(f"magnitude shape={mag.shape} must be (n_items, {basis.shape[1]}, n_frames)")
    mapped = np.maximum(np.einsum("jk,nkt->njt", basis, mag), 0.0)
    n_out = n_frames(n_samples, geometry.n_fft, geometry.hop_length, geometry.center)
    if mag.shape[2] == 1:
        return np.repeat(mapped, n_out, axis=2)
    position = np.arange(n_out) * (geometry.hop_length / frame_step)  # in constant-Q frames
    left = np.clip(np.floor(position).astype(np.int64), 0, mag.shape[2] - 2)
    weight = np.clip(position - left, 0.0, 1.0)
    floor = 1e-10 * np.max(mapped, axis=(1, 2), keepdims=True) + 1e-30
    log_mag = np.log(np.maximum(mapped, floor))
    return np.exp(log_mag[..., left] * (1.0 - weight) + log_mag[..., left + 1] * weight)
