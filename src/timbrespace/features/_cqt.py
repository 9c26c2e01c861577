"""librosa's constant-Q transform on a batch: its filters and resampling, one convolution per octave.

:func:`librosa.cqt` (Schörkhuber & Klapuri's recursive sub-sampling) computes each octave
of bins on a copy of the signal halved in rate by soxr, as one STFT with a rectangular
window and a product with the sparse FFT of that octave's wavelets. Called on a batch it
runs that product, and soxr, once per item. :func:`cqt` keeps every number of that
algorithm (the same wavelets, sparsity, early downsampling, soxr resampler and
normalisation) and changes how each octave is evaluated:

- the sparse spectral kernel ``B[k, f]`` (librosa's, the Brown & Puckette form) applied
  to the STFT of frame ``t``, ``sum_f B[k, f] sum_n x_t[n] exp(-2 pi i f n / N)``, is
  ``sum_n x_t[n] g[k, n]`` with ``g[k, n] = sum_f B[k, f] exp(-2 pi i f n / N)``, the
  DFT of the kernel's rows: so each octave is one strided real convolution of the
  zero-padded batch with the real and imaginary parts of ``g`` (``N`` = 256 samples on
  librosa's defaults: one small matrix product per frame, no FFT);
- soxr halves the whole batch in one call (its split-channel layout: the same filter,
  the same output as librosa's per-item calls, checked to be bit-identical), and the
  octave after the last is not resampled.

The result equals ``librosa.cqt`` up to float rounding: in float64 to 1e-15 of each
item's largest magnitude, in float32 (the features' case) to about 1e-6, which is 2e-4 dB
at most on the default experiment's 1,000 notes over their 50 dB range
(``benchmarks/cqt_accuracy.py``; the test suite checks it on real and synthesised notes).
Since the algorithm is librosa's, there is no item length or configuration for which
librosa would be needed instead. A single-STFT spectral kernel over all bins (Brown &
Puckette without the recursion) was measured and not taken: its FFT must cover the
longest filter (16384 samples at 32.7 Hz, 22050 Hz), once per frame, which took longer
than ``librosa.cqt`` itself on 1 s notes, and without the octaves' anti-aliasing its low
bins differ from librosa's by up to 2-4 % of an item's largest magnitude.

References
----------
J. C. Brown, M. S. Puckette, "An efficient algorithm for the calculation of a constant Q
transform", JASA 92(5), 1992 (the spectral kernel).
C. Schörkhuber, A. Klapuri, "Constant-Q transform toolbox for music processing", SMC
2010 (the octave-by-octave recursion librosa uses).
B. McFee et al., librosa 0.11, ``librosa.core.constantq.vqt`` (the values reproduced).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import librosa
import numpy as np
import soxr
import torch

from timbrespace.errors import ParameterError

__all__ = ["cqt"]

_SPARSITY = 0.01  # librosa.cqt's default: the smallest 1 % of each kernel row's L1 mass is dropped
_RES_TYPE = "soxr_hq"  # librosa.cqt's default resampler
_CHUNK = 4096  # items per soxr call (soxr takes at most 65536 channels)


@dataclass(frozen=True)
class _Octave:
    rows: slice  # the bins this octave fills
    kernels: np.ndarray  # (2 * n_rows, n_fft) float64: real then imaginary parts of g, scaled
    n_fft: int
    hop_length: int
    halve_after: bool  # whether the signal is halved in rate before the next octave


@dataclass(frozen=True)
class _Plan:
    early_factor: int  # the signal is first decimated by this (1: not)
    octaves: tuple[_Octave, ...]


def _two_factors(x: int) -> int:
    n = 0
    while x > 0 and x % 2 == 0:
        x //= 2
        n += 1
    return n


def _relative_bandwidth(freqs: np.ndarray, bins_per_octave: int) -> np.ndarray:
    # librosa.filters._relative_bandwidth (and its one-bin case), the same float operations
    if len(freqs) == 1:
        r = 2 ** (1 / bins_per_octave)
        return np.atleast_1d((r**2 - 1) / (r**2 + 1))
    bpo = np.empty_like(freqs)
    logf = np.log2(freqs)
    bpo[0] = 1 / (logf[1] - logf[0])
    bpo[-1] = 1 / (logf[-1] - logf[-2])
    bpo[1:-1] = 2 / (logf[2:] - logf[:-2])
    return (2.0 ** (2 / bpo) - 1) / (2.0 ** (2 / bpo) + 1)


@lru_cache(maxsize=8)
def _plan(sample_rate: float, hop_length: int, fmin_hz: float, n_bins: int, bins_per_octave: int,
          window: str) -> _Plan:
    n_octaves = int(np.ceil(n_bins / bins_per_octave))
    n_filters = min(bins_per_octave, n_bins)
    freqs = librosa.interval_frequencies(n_bins, fmin=fmin_hz, intervals="equal", bins_per_octave=bins_per_octave,
                                         sort=True)
    alpha = _relative_bandwidth(freqs, bins_per_octave)
    _, cutoff_hz = librosa.filters.wavelet_lengths(freqs=freqs, sr=sample_rate, window=window, alpha=alpha)
    nyquist = sample_rate / 2.0
    if cutoff_hz > nyquist:
        raise ParameterError(
            f"n_bins={n_bins} from fmin_hz={fmin_hz:g} at bins_per_octave={bins_per_octave}: the top filter reaches "
            f"{cutoff_hz:.0f} Hz, above Nyquist ({nyquist:g} Hz at {sample_rate:g} Hz); use fewer bins"
        )
    # librosa's early downsampling: as many halvings as the top filter and the hop allow
    early = min(max(0, int(np.ceil(np.log2(nyquist / cutoff_hz)) - 1) - 1),
                max(0, _two_factors(hop_length) - n_octaves + 1))
    sr, hop = sample_rate / 2**early, hop_length // 2**early
    lengths, _ = librosa.filters.wavelet_lengths(freqs=freqs, sr=sr, window=window, alpha=alpha)
    octaves = []
    my_sr, my_hop = sr, hop
    for i in range(n_octaves):
        hi = n_bins - i * n_filters
        rows = slice(max(0, hi - n_filters), hi)
        basis, oct_lengths = librosa.filters.wavelet(freqs=freqs[rows], sr=my_sr, window=window, filter_scale=1,
                                                     norm=1, pad_fft=True,
                                                     alpha=alpha[rows])  # type: ignore[arg-type]  # vqt passes arrays
        n_fft = basis.shape[1]
        basis *= oct_lengths[:, None] / float(n_fft)
        # librosa's FFT library on its complex64 wavelets: the same rounding as librosa's kernel
        spectra = librosa.get_fftlib().fft(basis, n=n_fft, axis=1)[:, : n_fft // 2 + 1]
        sparse = librosa.util.sparsify_rows(spectra, quantile=_SPARSITY, dtype=np.complex128).toarray()
        # g[k, n] = sum_f B[k, f] exp(-2 pi i f n / N): the forward DFT of the one-sided row
        g = np.fft.fft(sparse, n=n_fft, axis=1)
        # librosa's compensation for the downsampling, and its scale=True (divide by sqrt(length))
        g *= (np.sqrt(sr / my_sr) / np.sqrt(lengths[rows]))[:, None]
        halve = my_hop % 2 == 0 and i + 1 < n_octaves
        octaves.append(_Octave(rows, np.concatenate([g.real, g.imag]), n_fft, my_hop, halve))
        if my_hop % 2 == 0:
            my_hop //= 2
            my_sr /= 2.0
    return _Plan(2**early, tuple(octaves))


def _decimate(y: np.ndarray, factor: int) -> np.ndarray:
    """``librosa.resample(y, orig_sr=factor, target_sr=1, res_type='soxr_hq', scale=True)`` on a batch."""
    n_out = int(np.ceil(y.shape[1] / factor))
    # (n_samples, n_items) with items contiguous: soxr's split-channel path, one call per chunk
    parts = [soxr.resample(y[s : s + _CHUNK].T, factor, 1, quality=_RES_TYPE).T for s in range(0, len(y), _CHUNK)]
    out = librosa.util.fix_length(np.concatenate(parts), size=n_out, axis=-1)
    out /= np.sqrt(1.0 / factor)
    return np.ascontiguousarray(out, dtype=y.dtype)


def _octave_response(y: np.ndarray, octave: _Octave) -> torch.Tensor:
    """Frames centred on multiples of the hop (zero padding), times the octave's kernels."""
    half = octave.n_fft // 2
    padded = torch.nn.functional.pad(torch.from_numpy(y)[:, None, :], (half, half))
    weight = torch.from_numpy(octave.kernels.astype(y.dtype))[:, None, :]
    out = torch.nn.functional.conv1d(padded, weight, stride=octave.hop_length)
    n_rows = octave.kernels.shape[0] // 2
    return torch.complex(out[:, :n_rows], out[:, n_rows:])


def cqt(audio: np.ndarray, *, sample_rate: float, hop_length: int, fmin_hz: float, n_bins: int,
        bins_per_octave: int, window: str = "hann") -> np.ndarray:
    """Constant-Q transform of a batch, equal to :func:`librosa.cqt` on it.

    ``librosa.cqt(audio, sr=sample_rate, hop_length=hop_length, fmin=fmin_hz, n_bins=n_bins,
    bins_per_octave=bins_per_octave, window=window)`` with its other defaults (tuning 0,
    ``filter_scale=1``, ``norm=1``, ``sparsity=0.01``, ``scale=True``, ``pad_mode='constant'``,
    ``res_type='soxr_hq'``): bin ``k`` at frame ``t`` is, up to the resampling, ``sqrt(L_k)
    sum_n w_k[n] y[t * hop_length - n]`` with ``w_k`` the L1-normalised wavelet of length
    ``L_k`` at ``fmin_hz * 2 ** (k / bins_per_octave)``.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_items, n_samples), dtype=float32 or float64]
    sample_rate : float
        Hz.
    hop_length : int
        Samples between frames (> 0).
    fmin_hz : float
        Centre frequency of the lowest bin, Hz.
    n_bins : int
        Number of bins.
    bins_per_octave : int
        Bins per octave.
    window : str
        The wavelets' window (a :func:`scipy.signal.get_window` name).

    Returns
    -------
    np.ndarray [shape=(n_items, n_bins, 1 + n_samples // hop_length), dtype=complex64 or complex128]
        complex64 for float32 audio, as librosa.

    Raises
    ------
    ParameterError
        A top filter above Nyquist, or items too short for librosa's early downsampling.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features._cqt import cqt
    >>> y = np.sin(2 * np.pi * 440 * np.arange(22050) / 22050).astype(np.float32)[None]
    >>> c = cqt(y, sample_rate=22050, hop_length=512, fmin_hz=32.70, n_bins=84, bins_per_octave=12)
    >>> c.shape, c.dtype
    ((1, 84, 44), dtype('complex64'))
    >>> int(np.abs(c[0, :, 20]).argmax())  # A4 is 45 semitones above C1
    45
    """
    y = np.ascontiguousarray(audio)
    plan = _plan(float(sample_rate), int(hop_length), float(fmin_hz), int(n_bins), int(bins_per_octave), window)
    n_items, n_samples = y.shape
    if n_items == 0:
        return np.zeros((0, n_bins, 1 + n_samples // hop_length), dtype=np.result_type(y.dtype, np.complex64))
    if plan.early_factor > 1:
        if n_samples < plan.early_factor:
            raise ParameterError(f"items of {n_samples} samples are too short for a {len(plan.octaves)}-octave CQT "
                                 f"(at least {plan.early_factor})")
        y = _decimate(y, plan.early_factor)
    responses = []
    for octave in plan.octaves:
        responses.append(_octave_response(y, octave))
        if octave.halve_after:
            y = _decimate(y, 2)
    n_frames = min(r.shape[-1] for r in responses)
    out = torch.empty((n_items, n_bins, n_frames), dtype=responses[0].dtype)
    for octave, response in zip(plan.octaves, responses, strict=True):
        out[:, octave.rows] = response[..., :n_frames]
    return out.numpy()
