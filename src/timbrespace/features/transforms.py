"""Raw transforms (before normalisation) and their inverses, one pair per ``kind``.

``forward`` returns float32 features laid out as documented in :class:`FeatureConfig`;
``inverse`` takes un-normalised features back to audio. Both work on whole batches.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import librosa
import numpy as np
import torch

from timbrespace.errors import ParameterError
from timbrespace.features._cqt import cqt
from timbrespace.features._nsgt import nsgt_forward_batch, nsgt_transform
from timbrespace.features._stft import _window_np, spectral_convergence
from timbrespace.features.config import FeatureConfig, InversionResult
from timbrespace.features.constant_q import (
    constant_q_basis,
    constant_q_to_stft,
    cqt_response,
    nsgt_response,
)
from timbrespace.features.mdct import imdct, mdct
from timbrespace.features.phase import PHASE_METHODS, StftGeometry, retrieve_phase

__all__ = ["forward", "inverse", "to_db", "from_db", "mel_to_stft", "stft_magnitude", "constant_q_stft_magnitude",
           "METHODS"]


METHODS = ("auto", "phase", *PHASE_METHODS)


def to_db(magnitude: np.ndarray, *, amin: float, top_db: float | None) -> np.ndarray:
    """``20 log10(max(|X|, amin))`` re 1.0, floored ``top_db`` below each item's max."""
    db = np.maximum(magnitude, amin)
    np.log10(db, out=db)
    db *= 20.0
    if top_db is not None and db.size:
        axes = tuple(range(1, db.ndim))
        floor = db.max(axis=axes, keepdims=True) - top_db
        np.maximum(db, floor, out=db)
    return db


def from_db(db: np.ndarray) -> np.ndarray:
    """Inverse of :func:`to_db` (above the floor)."""
    return np.power(10.0, np.asarray(db, dtype=np.float64) / 20.0)


def _geometry(cfg: FeatureConfig) -> StftGeometry:
    assert cfg.hop_length is not None and cfg.win_length is not None and cfg.window is not None
    return StftGeometry(cfg.n_fft, cfg.hop_length, cfg.win_length, cfg.window, cfg.center, cfg.pad_mode)


def stft_magnitude(audio: np.ndarray, geometry: FeatureConfig | StftGeometry) -> np.ndarray:
    """``|STFT|`` of a batch of audio: the package's one STFT, for anyone who needs one.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_items, n_samples), dtype=float32 or float64]
    geometry : FeatureConfig or StftGeometry
        ``n_fft``, ``hop_length``, ``win_length``, ``window``, ``center`` and
        ``pad_mode`` (a feature config's, e.g. to measure resynthesised audio in the
        features' own frames).

    Returns
    -------
    np.ndarray [shape=(n_items, n_fft // 2 + 1, n_frames), dtype=float32 or float64]
        Linear magnitudes, frames as :func:`librosa.stft`.

    Raises
    ------
    ParameterError
        Audio that is not 2-D.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features import FeatureConfig, stft_magnitude
    >>> y = np.sin(2 * np.pi * 1000 * np.arange(800) / 8000).astype(np.float32)[None]
    >>> mag = stft_magnitude(y, FeatureConfig(n_fft=256, hop_length=64))
    >>> mag.shape  # (n_items, 1 + n_fft // 2, n_frames)
    (1, 129, 13)
    >>> int(mag[0, :, 6].argmax()) * 8000 / 256  # the peak bin's frequency, Hz
    1000.0
    """
    y = np.asarray(audio)
    if y.ndim != 2:
        raise ParameterError(f"audio must be (n_items, n_samples); got shape {y.shape}")
    geo = _geometry(geometry) if isinstance(geometry, FeatureConfig) else geometry
    return np.abs(geo.stft(torch.from_numpy(np.ascontiguousarray(y))).numpy())


def _complex_stft(audio: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    if cfg.single_frame:
        frame = np.zeros((audio.shape[0], cfg.n_fft), dtype=np.float64)
        m = min(cfg.n_fft, audio.shape[1])
        frame[:, :m] = audio[:, :m]
        assert cfg.window is not None and cfg.win_length is not None
        return np.fft.rfft(frame * _window_np(cfg.window, cfg.win_length, cfg.n_fft), axis=1)
    return _geometry(cfg).stft(torch.from_numpy(audio)).numpy()


def _mel_basis(cfg: FeatureConfig, sample_rate: int) -> np.ndarray:
    return _mel_filters(sample_rate, cfg.n_fft, cfg.n_mels, cfg.fmin_hz or 0.0, cfg.fmax_hz)


@lru_cache(maxsize=16)
def _mel_filters(sample_rate: int, n_fft: int, n_mels: int, fmin_hz: float, fmax_hz: float | None) -> np.ndarray:
    return librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin_hz, fmax=fmax_hz)


def _nsgt_fmax(cfg: FeatureConfig, sample_rate: int) -> float:
    return float(cfg.fmax_hz) if cfg.fmax_hz is not None else 0.45 * sample_rate


def _stack_output(spec: np.ndarray, cfg: FeatureConfig) -> np.ndarray:
    """Complex spectra -> the configured real output (rows stacked along axis 1)."""
    if cfg.output == "complex":
        return np.concatenate([spec.real, spec.imag], axis=1)
    mag = np.abs(spec)
    if cfg.output == "magnitude":
        return mag
    db = to_db(mag, amin=cfg.amin, top_db=cfg.top_db)
    if cfg.output == "db_phase":
        return np.concatenate([db, np.angle(spec)], axis=1)
    return db


def forward(audio: np.ndarray, cfg: FeatureConfig, *, sample_rate: int) -> np.ndarray:
    """Un-normalised features of a batch, float32 (see :func:`~timbrespace.features.extract`)."""
    if cfg.kind == "stft" and cfg.output in ("db", "magnitude") and not cfg.single_frame:
        mag = np.abs(_geometry(cfg).stft(torch.from_numpy(audio))[:, : cfg.n_bins].numpy())  # numpy abs: faster
        out = mag if cfg.output == "magnitude" else to_db(mag, amin=cfg.amin, top_db=cfg.top_db)
    elif cfg.kind == "stft":
        spec = _complex_stft(audio, cfg)
        if cfg.n_bins is not None:
            spec = spec[:, : cfg.n_bins]
        out = _stack_output(spec, cfg)
    elif cfg.kind == "mel":
        mag = np.abs(_geometry(cfg).stft(torch.from_numpy(audio)).numpy())  # frame-major in memory
        mel = np.tensordot(mag, _mel_basis(cfg, sample_rate), axes=([1], [1])).transpose(0, 2, 1)
        out = mel if cfg.output == "magnitude" else to_db(mel, amin=cfg.amin, top_db=cfg.top_db)
    elif cfg.kind == "mdct":
        assert cfg.window is not None
        out = mdct(audio, n_fft=cfg.n_fft, window=cfg.window, kbd_alpha=cfg.kbd_alpha, single_frame=cfg.single_frame)
    elif cfg.kind == "cqt":
        assert cfg.hop_length is not None and cfg.fmin_hz is not None and cfg.n_bins is not None
        assert cfg.window is not None
        # librosa.cqt's values, its per-item work done once on the batch (see _cqt)
        spec = cqt(audio, sample_rate=sample_rate, hop_length=cfg.hop_length, fmin_hz=cfg.fmin_hz, n_bins=cfg.n_bins,
                   bins_per_octave=cfg.bins_per_octave, window=cfg.window)
        out = _stack_output(spec, cfg)
    elif cfg.kind == "nsgt":
        assert cfg.fmin_hz is not None
        tr = nsgt_transform(cfg.fmin_hz, _nsgt_fmax(cfg, sample_rate), cfg.bins_per_octave, sample_rate,
                            audio.shape[1])
        out = _nsgt_forward(tr, audio, cfg)
    else:  # pragma: no cover - FeatureConfig validates kind
        raise ParameterError(f"kind={cfg.kind!r} is unknown")
    return np.ascontiguousarray(out, dtype=np.float32)


def mel_to_stft(mel: np.ndarray, mel_basis: np.ndarray) -> np.ndarray:
    """Linear STFT magnitude from mel magnitudes: least squares clipped at zero.

    This is the result :func:`librosa.feature.inverse.mel_to_stft` returns (its NNLS
    starts from this point and, for mel filter banks, its L-BFGS-B stops there; the test
    suite checks the equality), computed for the whole batch at once with a pseudo-inverse.

    Parameters
    ----------
    mel : np.ndarray [shape=(n_items, n_mels, n_frames)]
    mel_basis : np.ndarray [shape=(n_mels, n_fft // 2 + 1)]

    Returns
    -------
    np.ndarray [shape=(n_items, n_fft // 2 + 1, n_frames), dtype=float64]
    """
    pinv = torch.linalg.pinv(torch.from_numpy(np.asarray(mel_basis, dtype=np.float64)))
    return torch.clamp(torch.matmul(pinv, torch.from_numpy(np.asarray(mel, dtype=np.float64))), min=0.0).numpy()


def _nsgt_forward(tr: Any, audio: np.ndarray, cfg: FeatureConfig, *, chunk: int = 16) -> np.ndarray:
    # vectorised over items in chunks (bounded complex128 temporaries), float32 output
    parts = []
    for start in range(0, len(audio), chunk):
        coefs = nsgt_forward_batch(tr, audio[start : start + chunk])
        if cfg.output == "complex":
            parts.append(np.concatenate([coefs.real, coefs.imag], axis=1).astype(np.float32))
        else:
            parts.append(np.abs(coefs).astype(np.float32))
    out = np.concatenate(parts)
    if cfg.output == "db":
        out = to_db(out, amin=cfg.amin, top_db=cfg.top_db).astype(np.float32)
    return out


def _split_magnitude(raw: np.ndarray, cfg: FeatureConfig) -> tuple[np.ndarray, np.ndarray | None]:
    """Un-normalised features -> (linear magnitude, phase or None) or complex (second None)."""
    if cfg.output == "complex":
        half = raw.shape[1] // 2
        return raw[:, :half] + 1j * raw[:, half:], None
    if cfg.output == "db_phase":
        half = raw.shape[1] // 2
        return from_db(raw[:, :half]), raw[:, half:]
    if cfg.output == "db":
        return from_db(raw), None
    return np.maximum(raw, 0.0), None


def _pad_bins(x: np.ndarray, n_fft: int) -> np.ndarray:
    full = n_fft // 2 + 1
    if x.shape[1] >= full:
        return x
    pad = [(0, 0)] * x.ndim
    pad[1] = (0, full - x.shape[1])
    return np.pad(x, pad)


def inverse(
    raw: np.ndarray,
    cfg: FeatureConfig,
    *,
    sample_rate: int,
    n_samples: int,
    method: str = "auto",
    n_iter: int | None = None,
    momentum: float = 0.99,
    seed: int = 0,
    measure: bool = True,
) -> InversionResult:
    """Audio from un-normalised features (see :func:`~timbrespace.features.invert`).

    ``measure=False`` leaves the retrieved phase's spectral convergence unmeasured (None).
    """
    if cfg.kind == "mdct":
        _check_method(method, ("auto", "imdct"), cfg)
        assert cfg.window is not None
        audio = imdct(raw, n_samples=n_samples, window=cfg.window, kbd_alpha=cfg.kbd_alpha)
        return InversionResult(audio=audio, method="imdct")
    if cfg.kind == "cqt":
        return _inverse_cqt(raw, cfg, sample_rate=sample_rate, n_samples=n_samples, method=method, n_iter=n_iter,
                            momentum=momentum, seed=seed, measure=measure)
    if cfg.kind == "nsgt":
        return _inverse_nsgt(raw, cfg, sample_rate=sample_rate, n_samples=n_samples, method=method,
                             n_iter=n_iter, momentum=momentum, seed=seed, measure=measure)
    if cfg.kind == "mel":
        _check_method(method, ("auto", *PHASE_METHODS), cfg)
        mel = _split_magnitude(raw, cfg)[0].real
        mag = mel_to_stft(mel, _mel_basis(cfg, sample_rate))
        method = "pghi+gl" if method == "auto" else method
        audio, sc, it = retrieve_phase(mag, _geometry(cfg), n_samples=n_samples, method=method, n_iter=n_iter,
                                       momentum=momentum, seed=seed, measure=measure)
        return InversionResult(audio=audio, method=method, n_iter=it, spectral_convergence=sc)
    # stft
    mag, phase = _split_magnitude(raw, cfg)
    has_phase = cfg.output in ("db_phase", "complex")
    _check_method(method, ("auto", "phase", *PHASE_METHODS) if has_phase else ("auto", *PHASE_METHODS), cfg)
    if method == "auto":
        method = "phase" if has_phase else "pghi+gl"
    spec = mag * np.exp(1j * phase) if phase is not None else mag
    spec = _pad_bins(spec, cfg.n_fft)
    if cfg.single_frame:
        return _inverse_single_frame(spec, cfg, n_samples=n_samples, method=method)
    if method == "phase":
        audio = _geometry(cfg).istft(torch.from_numpy(spec.astype(np.complex64)), n_samples).numpy()
        return InversionResult(audio=audio.astype(np.float32), method="phase")
    audio, sc, it = retrieve_phase(np.abs(spec), _geometry(cfg), n_samples=n_samples, method=method, n_iter=n_iter,
                                   momentum=momentum, seed=seed, measure=measure)
    return InversionResult(audio=audio, method=method, n_iter=it, spectral_convergence=sc)


def _check_method(method: str, allowed: tuple[str, ...], cfg: FeatureConfig) -> None:
    if method not in allowed:
        raise ParameterError(
            f"method={method!r} cannot invert kind={cfg.kind!r} output={cfg.output!r}: allowed {allowed}"
        )


def _inverse_single_frame(spec: np.ndarray, cfg: FeatureConfig, *, n_samples: int, method: str) -> InversionResult:
    # One frame has no overlap to retrieve phase from: with phase we return the windowed
    # frame; without it, the zero-phase frame (centred in the n_fft samples).
    frame = np.fft.irfft(spec, n=cfg.n_fft, axis=1)
    if method != "phase":
        frame = np.roll(frame, cfg.n_fft // 2, axis=1)
        method = "zero_phase"
    out = np.zeros((spec.shape[0], n_samples), dtype=np.float32)
    m = min(n_samples, cfg.n_fft)
    out[:, :m] = frame[:, :m]
    return InversionResult(audio=out, method=method)


def _synthesis_geometry(cfg: FeatureConfig) -> StftGeometry:
    """The STFT a constant-Q magnitude is mapped to: ``n_fft``, ``win_length`` and ``window``
    of the config, hop ``n_fft // 4``."""
    assert cfg.win_length is not None and cfg.window is not None
    return StftGeometry(cfg.n_fft, max(1, cfg.n_fft // 4), cfg.win_length, cfg.window, True, cfg.pad_mode)


@lru_cache(maxsize=8)
def _cqt_basis(cfg: FeatureConfig, sample_rate: int) -> np.ndarray:
    assert cfg.fmin_hz is not None and cfg.n_bins is not None and cfg.window is not None
    response, freqs = cqt_response(sample_rate, cfg.fmin_hz, cfg.n_bins, cfg.bins_per_octave, cfg.window, cfg.n_fft)
    return constant_q_basis(response, freqs, _synthesis_geometry(cfg), sample_rate)


@lru_cache(maxsize=8)
def _nsgt_basis(cfg: FeatureConfig, sample_rate: int, n_samples: int) -> np.ndarray:
    assert cfg.fmin_hz is not None
    response, freqs = nsgt_response(cfg.fmin_hz, _nsgt_fmax(cfg, sample_rate), cfg.bins_per_octave, sample_rate,
                                    n_samples)
    return constant_q_basis(response, freqs, _synthesis_geometry(cfg), sample_rate)


def constant_q_stft_magnitude(magnitude: np.ndarray, cfg: FeatureConfig, *, sample_rate: int,
                              n_samples: int) -> tuple[np.ndarray, StftGeometry]:
    """STFT magnitude from linear CQT or NSGT magnitudes (see :mod:`.constant_q`).

    Parameters
    ----------
    magnitude : np.ndarray [shape=(n_items, n_bins, n_cq_frames)]
        Linear magnitudes in the layout of ``cfg`` (``kind`` ``"cqt"`` or ``"nsgt"``).
    cfg : FeatureConfig
    sample_rate, n_samples : int

    Returns
    -------
    magnitude : np.ndarray [shape=(n_items, n_fft // 2 + 1, 1 + n_samples // (n_fft // 4)), dtype=float64]
    geometry : StftGeometry
        Its STFT: the config's ``n_fft``, ``win_length`` and ``window``, hop ``n_fft // 4``.

    Raises
    ------
    ParameterError
        ``cfg`` is not a constant-Q kind.
    """
    geometry = _synthesis_geometry(cfg)
    if cfg.kind == "cqt":
        assert cfg.hop_length is not None
        basis, step = _cqt_basis(cfg, sample_rate), float(cfg.hop_length)
    elif cfg.kind == "nsgt":
        basis, step = _nsgt_basis(cfg, sample_rate, n_samples), n_samples / magnitude.shape[-1]
    else:
        raise ParameterError(f"kind={cfg.kind!r} is not a constant-Q kind: allowed 'cqt', 'nsgt'")
    return constant_q_to_stft(magnitude, basis, frame_step=step, geometry=geometry, n_samples=n_samples), geometry


def _inverse_constant_q(spec: np.ndarray, cfg: FeatureConfig, **kw: Any) -> InversionResult:
    """Magnitude-only CQT/NSGT: map to an STFT magnitude, then PGHI (+ fast Griffin-Lim).

    For the NSGT (an invertible frame) the audio is then projected once onto the target
    magnitudes: resynthesised through the NSGT with the target magnitude and the phase
    of its own NSGT (on harmonic notes this lowers the spectral convergence against the
    originals from 0.41 to 0.36 for about 15 ms a note).
    """
    method, n_samples, sr = kw["method"], kw["n_samples"], kw["sample_rate"]
    _check_method(method, ("auto", *PHASE_METHODS), cfg)
    method = "pghi+gl" if method == "auto" else method
    mag = np.asarray(spec.real, dtype=np.float64)
    stft_mag, geometry = constant_q_stft_magnitude(mag, cfg, sample_rate=sr, n_samples=n_samples)
    audio, sc, it = retrieve_phase(stft_mag, geometry, n_samples=n_samples, method=method, n_iter=kw["n_iter"],
                                   momentum=kw["momentum"], seed=kw["seed"], measure=kw["measure"])
    if cfg.kind == "nsgt":
        assert cfg.fmin_hz is not None
        tr = nsgt_transform(cfg.fmin_hz, _nsgt_fmax(cfg, sr), cfg.bins_per_octave, sr, n_samples)
        phase = np.exp(1j * np.angle(nsgt_forward_batch(tr, audio)))
        audio = np.stack([np.asarray(tr.backward(m * p))[:n_samples] for m, p in zip(mag, phase, strict=True)])
        audio = audio.astype(np.float32)
        sc = spectral_convergence(mag, np.abs(nsgt_forward_batch(tr, audio))) if kw["measure"] else None
    return InversionResult(audio=audio, method=method, n_iter=it, spectral_convergence=sc)


def _inverse_cqt(raw: np.ndarray, cfg: FeatureConfig, **kw: Any) -> InversionResult:
    spec, _ = _split_magnitude(raw, cfg)
    if cfg.output != "complex":
        return _inverse_constant_q(spec, cfg, **kw)
    _check_method(kw["method"], ("auto", "phase"), cfg)
    audio = librosa.icqt(spec, sr=kw["sample_rate"], hop_length=cfg.hop_length, fmin=cfg.fmin_hz,
                         bins_per_octave=cfg.bins_per_octave, window=cfg.window, length=kw["n_samples"])
    return InversionResult(audio=np.asarray(audio, dtype=np.float32), method="icqt")


def _inverse_nsgt(raw: np.ndarray, cfg: FeatureConfig, **kw: Any) -> InversionResult:
    spec, _ = _split_magnitude(raw, cfg)
    if cfg.output != "complex":
        return _inverse_constant_q(spec, cfg, **kw)
    _check_method(kw["method"], ("auto", "phase"), cfg)
    n_samples, sr = kw["n_samples"], kw["sample_rate"]
    assert cfg.fmin_hz is not None
    tr = nsgt_transform(cfg.fmin_hz, _nsgt_fmax(cfg, sr), cfg.bins_per_octave, sr, n_samples)
    audio = np.empty((len(spec), n_samples), dtype=np.float32)
    for i, coefs in enumerate(spec):
        audio[i] = np.asarray(tr.backward(coefs))[:n_samples]
    return InversionResult(audio=audio, method="insgt")
