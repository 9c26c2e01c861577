"""Measures of sound: an original recording against its decoded (resynthesised) audio.

Every function compares a reference with an estimate item by item, on arrays of audio
``(n_items, n_samples)`` (one item may be given as ``(n_samples,)``), and returns one
number per item, shape ``(n_items,)``:

- :func:`multi_resolution_stft_distance`: auraloss's ``MultiResolutionSTFTLoss`` with its
  defaults (Steinmetz & Reiss 2020), itself Yamamoto et al.'s (2020) multi-resolution
  STFT loss: at each of three resolutions, spectral convergence plus the mean absolute
  difference of log magnitudes, averaged over the resolutions;
- :func:`audio_spectral_convergence`: spectral convergence of the STFT magnitudes of the
  two signals at one resolution;
- :func:`f0_error_cents`: median absolute difference, in cents, between the pYIN f0 of
  the two signals over the frames voiced in both (Mauch & Dixon 2014);
- :func:`loudness_error_db`: mean absolute difference over frames of DDSP's A-weighted
  loudness (:func:`a_weighted_loudness_db`, Engel et al. 2020).

:func:`audio_measures` computes all four and returns an :class:`AudioMeasures`.
numpy and librosa only (``metrics/`` imports no torch).

References
----------
Yamamoto, R., Song, E., Kim, J.-M. (2020). Parallel WaveGAN: a fast waveform generation
model based on generative adversarial networks with multi-resolution spectrogram.
ICASSP.

Steinmetz, C. J., Reiss, J. D. (2020). auraloss: Audio focused loss functions in
PyTorch. Digital Music Research Network (DMRN+15).

Mauch, M., Dixon, S. (2014). pYIN: a fundamental frequency estimator using probabilistic
threshold distributions. ICASSP.

Engel, J., Hantrakul, L., Gu, C., Roberts, A. (2020). DDSP: Differentiable digital signal
processing. ICLR (``ddsp.spectral_ops.compute_loudness``).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.metrics.reconstruction import spectral_convergence

__all__ = [
    "AudioMeasures",
    "MRSTFT_FFT_SIZES",
    "MRSTFT_HOP_LENGTHS",
    "MRSTFT_WIN_LENGTHS",
    "a_weighted_loudness_db",
    "audio_measures",
    "audio_spectral_convergence",
    "f0_error_cents",
    "loudness_error_db",
    "multi_resolution_stft_distance",
]

# auraloss.freq.MultiResolutionSTFTLoss defaults (v0.4.0)
MRSTFT_FFT_SIZES = (1024, 2048, 512)
MRSTFT_HOP_LENGTHS = (120, 240, 50)
MRSTFT_WIN_LENGTHS = (600, 1200, 240)
F0_FMIN_HZ = 65.40639132514966  # C2
F0_FMAX_HZ = 2093.004522404789  # C7


def _audio_pair(reference: Any, estimate: Any) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(reference, dtype=np.float64)
    y = np.asarray(estimate, dtype=np.float64)
    if x.shape != y.shape:
        raise ParameterError(f"reference shape {x.shape} != estimate shape {y.shape}")
    if x.ndim == 1:
        x, y = x[None], y[None]
    if x.ndim != 2 or x.shape[1] == 0:
        raise ParameterError(f"audio must be (n_items, n_samples) or (n_samples,); got shape {x.shape}")
    if not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ParameterError("reference and estimate audio must be finite (found NaN/inf)")
    return x, y


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if int(value) != value or value <= 0:
            raise ParameterError(f"{name}={value} must be a positive integer")


def _stft_magnitude(y: np.ndarray, n_fft: int, hop_length: int, win_length: int, eps: float) -> np.ndarray:
    """``sqrt(max(|STFT|², eps))`` as ``torch.stft``'s defaults give it: centred frames,
    reflect padding, a periodic Hann window of ``win_length`` centred in ``n_fft``."""
    import librosa

    if y.shape[-1] <= n_fft // 2:
        raise ParameterError(f"audio of {y.shape[-1]} samples is too short for n_fft={n_fft} "
                             f"(centred frames need more than {n_fft // 2})")
    with warnings.catch_warnings():  # a frame longer than the item is padded, as torch.stft pads it
        warnings.filterwarnings("ignore", message=r"n_fft=\d+ is too large", category=UserWarning)
        spec = librosa.stft(y, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window="hann",
                            center=True, pad_mode="reflect")
    return np.sqrt(np.maximum(spec.real**2 + spec.imag**2, eps))


def multi_resolution_stft_distance(
    reference: np.ndarray,
    estimate: np.ndarray,
    *,
    fft_sizes: Sequence[int] = MRSTFT_FFT_SIZES,
    hop_lengths: Sequence[int] = MRSTFT_HOP_LENGTHS,
    win_lengths: Sequence[int] = MRSTFT_WIN_LENGTHS,
    eps: float = 1e-8,
) -> np.ndarray:
    """Multi-resolution STFT distance per item (auraloss's ``MultiResolutionSTFTLoss``).

    At each resolution ``r`` with magnitudes ``S`` (reference) and ``Ŝ`` (estimate),
    ``L_r = ||S - Ŝ||_F / ||S||_F + mean |log S - log Ŝ|``; the distance is the mean of
    ``L_r`` over resolutions. Magnitudes are ``sqrt(max(|STFT|², eps))`` of centred,
    reflect-padded frames under a periodic Hann window, as auraloss computes them with
    ``torch.stft``. Each item is scored alone: the value is auraloss's loss on a batch of
    that one item.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n_items, n_samples) or (n_samples,)]
        Audio of the original and of its estimate, same sample rate.
    fft_sizes, hop_lengths, win_lengths : sequence of int
        One entry per resolution (defaults: auraloss's, 1024/2048/512 points, hops
        120/240/50, windows 600/1200/240 samples).
    eps : float, default=1e-8
        Floor on the squared magnitude (auraloss's).

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64]
        0 for identical signals.

    Raises
    ------
    ParameterError
        On shape mismatch, non-finite audio, resolutions of different counts, a
        non-positive size, a window longer than its FFT, or audio of at most
        ``max(fft_sizes) // 2`` samples.

    References
    ----------
    Yamamoto et al. (2020), Parallel WaveGAN, eq. 4-6; Steinmetz & Reiss (2020), auraloss
    ``freq.MultiResolutionSTFTLoss`` (v0.4.0).

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import multi_resolution_stft_distance
    >>> y = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000)
    >>> float(multi_resolution_stft_distance(y, y)[0])
    0.0
    """
    x, y = _audio_pair(reference, estimate)
    if not (len(fft_sizes) == len(hop_lengths) == len(win_lengths)) or not len(fft_sizes):
        raise ParameterError(f"fft_sizes={list(fft_sizes)}, hop_lengths={list(hop_lengths)} and "
                             f"win_lengths={list(win_lengths)} must give one entry each per resolution")
    if not eps > 0:
        raise ParameterError(f"eps={eps} must be > 0")
    total = np.zeros(len(x))
    for n_fft, hop, win in zip(fft_sizes, hop_lengths, win_lengths, strict=True):
        _check_positive(n_fft=n_fft, hop_length=hop, win_length=win)
        if win > n_fft:
            raise ParameterError(f"win_length={win} must be <= n_fft={n_fft}")
        s = _stft_magnitude(x, n_fft, hop, win, eps)
        s_hat = _stft_magnitude(y, n_fft, hop, win, eps)
        sc = spectral_convergence(s, s_hat)
        log_l1 = np.mean(np.abs(np.log(s) - np.log(s_hat)), axis=(1, 2))
        total += sc + log_l1
    return total / len(fft_sizes)


def audio_spectral_convergence(
    reference: np.ndarray, estimate: np.ndarray, *, n_fft: int = 2048, hop_length: int = 512
) -> np.ndarray:
    """Spectral convergence ``||S - Ŝ||_F / ||S||_F`` of two signals' STFT magnitudes.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n_items, n_samples) or (n_samples,)]
    n_fft : int, default=2048
        Frame and Hann window length in samples (centred, reflect-padded frames).
    hop_length : int, default=512

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64]
        0 for identical signals; ``c`` for an estimate ``(1 - c) * reference``.

    Raises
    ------
    ParameterError
        On shape mismatch, non-finite audio, non-positive sizes, or audio of at most
        ``n_fft // 2`` samples.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import audio_spectral_convergence
    >>> y = np.sin(2 * np.pi * 440 * np.arange(800) / 8000)[None]
    >>> audio_spectral_convergence(y, 0.5 * y, n_fft=256, hop_length=64).round(3).tolist()
    [0.5]
    """
    x, y = _audio_pair(reference, estimate)
    _check_positive(n_fft=n_fft, hop_length=hop_length)
    return spectral_convergence(_stft_magnitude(x, n_fft, hop_length, n_fft, 0.0),
                                _stft_magnitude(y, n_fft, hop_length, n_fft, 0.0))


def _pyin_f0(audio: np.ndarray, sample_rate: int, fmin_hz: float, fmax_hz: float, frame_length: int,
             min_voiced_probability: float) -> np.ndarray:
    """pYIN f0 in Hz per item and frame ``(n_items, n_frames)``, NaN where unvoiced.

    One call for every item: librosa builds pYIN's transition matrix once per call, and
    that, not the signal, is most of a short item's cost."""
    import librosa

    with warnings.catch_warnings():  # an item shorter than a frame is padded (centred frames)
        warnings.filterwarnings("ignore", message=r"n_fft=\d+ is too large", category=UserWarning)
        f0, voiced, probability = librosa.pyin(audio.astype(np.float32), fmin=fmin_hz, fmax=fmax_hz,
                                               sr=sample_rate, frame_length=frame_length)
    keep = voiced & (probability >= min_voiced_probability) & np.isfinite(f0)
    keep &= (np.max(np.abs(audio), axis=-1) > 1e-6)[:, None]  # a silent item has no pitch
    return np.where(keep, f0, np.nan)


def f0_error_cents(
    reference: np.ndarray,
    estimate: np.ndarray,
    *,
    sample_rate: int,
    fmin_hz: float = F0_FMIN_HZ,
    fmax_hz: float = F0_FMAX_HZ,
    frame_length: int = 2048,
    min_voiced_probability: float = 0.5,
) -> np.ndarray:
    """Median absolute f0 difference in cents, over the frames pYIN finds voiced in both.

    ``median_t |1200 log2(f0_est(t) / f0_ref(t))|`` over frames ``t`` voiced in both
    signals (``librosa.pyin``, hop ``frame_length // 4``). A frame is voiced where pYIN
    says so with a voiced probability of at least ``min_voiced_probability``: its HMM
    marks a third or more of the frames of white noise voiced, at probability 0.01.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n_items, n_samples) or (n_samples,)]
    sample_rate : int
        Hz.
    fmin_hz, fmax_hz : float
        pYIN's search range (default C2..C7, 65.4..2093 Hz; ``fmax_hz`` lowered to the
        Nyquist frequency when above it).
    frame_length : int, default=2048
        pYIN's frame in samples.
    min_voiced_probability : float, default=0.5
        In [0, 1].

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64], cents
        NaN for an item with no frame voiced in both (noise, silence).

    Raises
    ------
    ParameterError
        On shape mismatch, non-finite audio, a non-positive rate or frame, or
        ``fmin_hz`` not below ``fmax_hz``.

    References
    ----------
    Mauch & Dixon (2014), pYIN.
    """
    x, y = _audio_pair(reference, estimate)
    _check_positive(sample_rate=sample_rate, frame_length=frame_length)
    if not 0 < fmin_hz < fmax_hz:
        raise ParameterError(f"fmin_hz={fmin_hz} and fmax_hz={fmax_hz} must satisfy 0 < fmin_hz < fmax_hz")
    if not 0.0 <= min_voiced_probability <= 1.0:
        raise ParameterError(f"min_voiced_probability={min_voiced_probability} must be in [0, 1]")
    fmax_hz = min(fmax_hz, sample_rate / 2)  # pYIN searches up to Nyquist at most
    if not fmin_hz < fmax_hz:
        raise ParameterError(f"fmin_hz={fmin_hz} must be below the Nyquist frequency {sample_rate / 2} Hz")
    f0 = _pyin_f0(np.concatenate([x, y]), sample_rate, fmin_hz, fmax_hz, frame_length, min_voiced_probability)
    f_ref, f_est = f0[:len(x)], f0[len(x):]
    out = np.full(len(x), np.nan)
    for k in range(len(x)):
        both = np.isfinite(f_ref[k]) & np.isfinite(f_est[k])
        if np.any(both):
            out[k] = float(np.median(np.abs(1200.0 * np.log2(f_est[k, both] / f_ref[k, both]))))
    return out


def a_weighted_loudness_db(
    audio: np.ndarray,
    *,
    sample_rate: int,
    n_fft: int = 2048,
    frame_rate_hz: float = 250.0,
    ref_db: float = 20.7,
    range_db: float = 120.0,
) -> np.ndarray:
    """A-weighted loudness per frame in dB, as DDSP's ``compute_loudness``.

    Hann frames of ``n_fft`` (not centred) every ``hop = sample_rate // frame_rate_hz``
    samples, the end zero-padded to ``ceil(n_samples / hop)`` frames;
    ``20 log10 max(|X|, 1e-20)`` plus ``librosa.A_weighting`` of each bin, minus
    ``ref_db``, floored at ``-range_db``, averaged over bins.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_items, n_samples) or (n_samples,)]
    sample_rate : int
        Hz.
    n_fft : int, default=2048
    frame_rate_hz : float, default=250
        Frames per second. DDSP requires it to divide ``sample_rate``; here the hop is
        ``sample_rate // frame_rate_hz`` (176 samples at 44.1 kHz).
    ref_db : float, default=20.7
        DDSP's reference: white noise of amplitude 1 at ``n_fft=2048`` is about 0 dB.
    range_db : float, default=120
        Floor per bin, ``-range_db``.

    Returns
    -------
    np.ndarray [shape=(n_items, n_frames), dtype=float64], dB

    Raises
    ------
    ParameterError
        On non-finite audio or non-positive sizes and rates.

    References
    ----------
    Engel et al. (2020), DDSP, ``ddsp.spectral_ops.compute_loudness`` (numpy path).
    """
    import librosa

    x, _ = _audio_pair(audio, audio)
    _check_positive(sample_rate=sample_rate, n_fft=n_fft)
    if not frame_rate_hz > 0 or sample_rate // frame_rate_hz < 1:
        raise ParameterError(f"frame_rate_hz={frame_rate_hz} must be > 0 and at most sample_rate={sample_rate}")
    hop = int(sample_rate // frame_rate_hz)
    n_frames = int(np.ceil(x.shape[1] / hop))
    x = np.pad(x, ((0, 0), (0, (n_frames - 1) * hop + n_fft - x.shape[1])))
    amplitude = np.abs(librosa.stft(x, n_fft=n_fft, hop_length=hop, window="hann", center=False))
    power_db = 20.0 * np.log10(np.maximum(amplitude, 1e-20))
    with np.errstate(divide="ignore"):  # the DC bin's weighting is -inf: floored below, as in DDSP
        weighting = librosa.A_weighting(librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft))
    loudness = np.maximum(power_db + weighting[None, :, None] - ref_db, -range_db)
    return loudness.mean(axis=1)


def loudness_error_db(reference: np.ndarray, estimate: np.ndarray, *, sample_rate: int, **kwargs: Any) -> np.ndarray:
    """Mean absolute difference over frames of the A-weighted loudness of two signals.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n_items, n_samples) or (n_samples,)]
    sample_rate : int
        Hz.
    **kwargs
        Passed to :func:`a_weighted_loudness_db` (``n_fft``, ``frame_rate_hz``, ...).

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64], dB
        0 for identical signals; ``20 log10 g`` for an estimate ``g * reference`` whose
        loudness stays above the floor in every bin.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import loudness_error_db
    >>> y = np.sin(2 * np.pi * 440 * np.arange(800) / 8000)[None]
    >>> loudness_error_db(y, 0.5 * y, sample_rate=8000).round(1).tolist()  # half amplitude: 6 dB
    [6.0]
    """
    x, y = _audio_pair(reference, estimate)
    lx = a_weighted_loudness_db(x, sample_rate=sample_rate, **kwargs)
    ly = a_weighted_loudness_db(y, sample_rate=sample_rate, **kwargs)
    return np.mean(np.abs(lx - ly), axis=1)


@dataclass(frozen=True)
class AudioMeasures:
    """Measures of decoded audio against the original, one value per item.

    Attributes
    ----------
    mrstft : np.ndarray [shape=(n_items,)]
        :func:`multi_resolution_stft_distance`.
    f0_error_cents : np.ndarray [shape=(n_items,)]
        :func:`f0_error_cents`; NaN where no frame is voiced in both.
    loudness_error_db : np.ndarray [shape=(n_items,)]
        :func:`loudness_error_db`.
    """

    mrstft: np.ndarray
    f0_error_cents: np.ndarray
    loudness_error_db: np.ndarray

    def to_dict(self) -> dict[str, Any]:
        """The block of ``metrics.json``: means over items (the f0 error: median over the
        items that have one, ``None`` when none has), per-item lists (``None`` for NaN),
        ``f0_items_voiced`` and a ``note`` when the f0 error is undefined for some items."""
        voiced = np.isfinite(self.f0_error_cents)
        out: dict[str, Any] = {
            "mrstft": float(np.mean(self.mrstft)),
            "f0_error_cents": float(np.median(self.f0_error_cents[voiced])) if voiced.any() else None,
            "loudness_error_db": float(np.mean(self.loudness_error_db)),
            "mrstft_per_item": [float(v) for v in self.mrstft],
            "f0_error_cents_per_item": [float(v) if np.isfinite(v) else None for v in self.f0_error_cents],
            "loudness_error_db_per_item": [float(v) for v in self.loudness_error_db],
            "f0_items_voiced": int(voiced.sum()),
        }
        if not voiced.all():
            out["f0_note"] = (f"{int((~voiced).sum())} of {len(voiced)} items have no frame that pYIN finds "
                              "voiced in both the original and the decoded audio (noise or silence); "
                              "their f0 error is undefined")
        return out


def audio_measures(reference: np.ndarray, estimate: np.ndarray, *, sample_rate: int) -> AudioMeasures:
    """Multi-resolution STFT distance, f0 error and loudness error of decoded audio.

    Parameters
    ----------
    reference, estimate : np.ndarray [shape=(n_items, n_samples) or (n_samples,)]
        Original and decoded audio.
    sample_rate : int
        Hz.

    Returns
    -------
    AudioMeasures
    """
    x, y = _audio_pair(reference, estimate)
    return AudioMeasures(
        mrstft=multi_resolution_stft_distance(x, y),
        f0_error_cents=f0_error_cents(x, y, sample_rate=sample_rate),
        loudness_error_db=loudness_error_db(x, y, sample_rate=sample_rate),
    )
