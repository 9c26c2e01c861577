"""Spectral descriptors and descriptor maps over a 2-D slice of latent space.

A descriptor map decodes a grid of codes in which two latents vary and the others are
fixed, measures the spectral centroid, bandwidth, flatness and loudness of each decoded
sound, and shows each descriptor as an image over the two latents: a smooth gradient
along one axis means that latent controls that perceptual quality.

Descriptors follow librosa's definitions (``spectral_centroid``, ``spectral_bandwidth``
with p=2, ``spectral_flatness`` with power 2 and amin 1e-10) and an A-weighted power
for loudness; frame values are averaged weighted by frame energy so that silent
frames do not dominate.

References
----------
Peeters, G. et al. (2011). The Timbre Toolbox: Extracting audio descriptors from
musical signals. JASA 130(5).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

from timbrespace.analysis._plotting import figure_grid
from timbrespace.errors import ParameterError

__all__ = ["SpectralDescriptors", "descriptor_map", "latent_slice", "spectral_descriptors"]

_AMIN = 1e-10


@dataclass(frozen=True)
class SpectralDescriptors:
    """Per-item descriptors, each ``np.ndarray [shape=(n_items,)]``.

    Attributes
    ----------
    centroid_hz : spectral centroid, Hz.
    bandwidth_hz : spectral spread around the centroid (p=2), Hz.
    flatness : geometric / arithmetic mean of the power spectrum, 0 (tonal)..1 (white).
    loudness_db : A-weighted mean power, dB relative to an arbitrary reference
        (compare values within one map or one feature configuration only); -100 dB
        for silence.

    Centroid, bandwidth and flatness are NaN for an all-zero (silent) item.
    """

    centroid_hz: np.ndarray
    bandwidth_hz: np.ndarray
    flatness: np.ndarray
    loudness_db: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """Name -> array, in display order."""
        return {
            "centroid_hz": self.centroid_hz,
            "bandwidth_hz": self.bandwidth_hz,
            "flatness": self.flatness,
            "loudness_db": self.loudness_db,
        }


def spectral_descriptors(
    *,
    magnitudes: np.ndarray | None = None,
    audio: np.ndarray | None = None,
    sample_rate: float,
    n_fft: int | None = None,
    hop_length: int = 512,
) -> SpectralDescriptors:
    """Spectral centroid, bandwidth, flatness and loudness of each item.

    Parameters
    ----------
    magnitudes : np.ndarray [shape=(n_items, n_bins[, n_frames])], optional
        Linear STFT magnitudes (not dB). Bin ``k`` is at ``k * sample_rate / n_fft`` Hz;
        without ``n_fft``, ``n_bins = n_fft // 2 + 1`` is assumed. A spectrogram with
        the Nyquist row dropped (seed 002: 512 bins for n_fft 1024) works with ``n_fft``.
    audio : np.ndarray [shape=(n_items, n_samples)], optional
        Decoded audio instead of magnitudes; its STFT
        (:func:`timbrespace.features.stft_magnitude`, Hann, centred frames) is taken with
        ``n_fft`` (default 2048) and ``hop_length``.
    sample_rate : float
        Hz.
    n_fft : int, optional
    hop_length : int, default=512
        Only used with ``audio``.

    Returns
    -------
    SpectralDescriptors

    Raises
    ------
    ParameterError
        Unless exactly one of ``magnitudes``/``audio`` is given with a valid shape, or
        if ``sample_rate`` or ``n_fft`` is not positive.
    """
    if (magnitudes is None) == (audio is None):
        raise ParameterError("give exactly one of magnitudes= or audio=")
    if not sample_rate > 0:
        raise ParameterError(f"sample_rate={sample_rate} must be > 0 Hz")
    if n_fft is not None and n_fft <= 0:
        raise ParameterError(f"n_fft={n_fft} must be a positive integer")
    if audio is not None:
        from timbrespace.features import StftGeometry, stft_magnitude

        y = np.asarray(audio, dtype=np.float32)
        if y.ndim != 2:
            raise ParameterError(f"audio must be (n_items, n_samples); got shape {y.shape}")
        n_fft = n_fft or 2048
        s = stft_magnitude(y, StftGeometry(n_fft, hop_length, n_fft))
    else:
        s = np.abs(np.asarray(magnitudes, dtype=np.float64))
        if s.ndim == 2:
            s = s[:, :, None]
        if s.ndim != 3:
            raise ParameterError(
                f"magnitudes must be (n_items, n_bins[, n_frames]); got shape {s.shape}"
            )
        n_fft = n_fft or 2 * (s.shape[1] - 1)
        if s.shape[1] > n_fft // 2 + 1:
            raise ParameterError(f"{s.shape[1]} bins is more than n_fft={n_fft} gives")
    if not np.all(np.isfinite(s)):
        raise ParameterError("magnitudes/audio contain NaN/inf")
    s = s.astype(np.float64)
    freqs = np.arange(s.shape[1]) * sample_rate / n_fft
    return _descriptors(s, freqs)


def _descriptors(s: np.ndarray, freqs: np.ndarray) -> SpectralDescriptors:
    import librosa

    power = s**2
    mag_sum = s.sum(axis=1)  # (n_items, n_frames)
    safe = np.where(mag_sum > 0, mag_sum, 1.0)
    centroid = (freqs[None, :, None] * s).sum(axis=1) / safe
    spread = (s * (freqs[None, :, None] - centroid[:, None, :]) ** 2).sum(axis=1) / safe
    bandwidth = np.sqrt(spread)
    p = np.maximum(power, _AMIN)
    flatness = np.exp(np.mean(np.log(p), axis=1)) / np.mean(p, axis=1)
    energy = power.sum(axis=1)
    weights = np.where(energy.sum(axis=1, keepdims=True) > 0, energy, 1.0)
    weights = weights / weights.sum(axis=1, keepdims=True)
    a_weight = 10.0 ** (librosa.A_weighting(np.maximum(freqs, 1e-3), min_db=-100.0) / 10.0)
    loudness = 10.0 * np.log10(
        np.mean((power * a_weight[None, :, None]).sum(axis=1), axis=1) + _AMIN
    )
    silent = energy.sum(axis=1) <= 0.0  # shape undefined: NaN (blank in the maps)
    return SpectralDescriptors(
        centroid_hz=np.where(silent, np.nan, (centroid * weights).sum(axis=1)),
        bandwidth_hz=np.where(silent, np.nan, (bandwidth * weights).sum(axis=1)),
        flatness=np.where(silent, np.nan, (flatness * weights).sum(axis=1)),
        loudness_db=loudness,
    )


def latent_slice(
    base: np.ndarray,
    dim_x: int,
    dim_y: int,
    values_x: Sequence[float] | np.ndarray,
    values_y: Sequence[float] | np.ndarray,
) -> np.ndarray:
    """Codes on a 2-D grid: latents ``dim_x``/``dim_y`` vary, the others stay at ``base``.

    Returns
    -------
    np.ndarray [shape=(n_y, n_x, latent_dim), dtype=float32]
        Row ``i`` has latent ``dim_y`` at ``values_y[i]``; reshape to ``(-1, latent_dim)``
        to decode (row-major: ``y`` outer, ``x`` inner), the order
        :func:`descriptor_map` expects.
    """
    z0 = np.asarray(base, dtype=np.float32)
    if z0.ndim != 1:
        raise ParameterError(f"base must be 1-D (latent_dim,); got shape {z0.shape}")
    for name, d in (("dim_x", dim_x), ("dim_y", dim_y)):
        if not 0 <= d < z0.size:
            raise ParameterError(f"{name}={d} is out of range: allowed 0..{z0.size - 1}")
    if dim_x == dim_y:
        raise ParameterError(f"dim_x and dim_y must differ; both are {dim_x}")
    vx = np.asarray(values_x, dtype=np.float32)
    vy = np.asarray(values_y, dtype=np.float32)
    out = np.broadcast_to(z0, (vy.size, vx.size, z0.size)).copy()
    out[:, :, dim_x] = vx[None, :]
    out[:, :, dim_y] = vy[:, None]
    return out


_LABELS = {
    "centroid_hz": "spectral centroid (Hz)",
    "bandwidth_hz": "spectral bandwidth (Hz)",
    "flatness": "spectral flatness (0 to 1)",
    "loudness_db": "A-weighted loudness (dB)",
}
_UNITS = {"centroid_hz": "(Hz)", "bandwidth_hz": "(Hz)", "flatness": "(0 to 1)", "loudness_db": "(dB)"}


def descriptor_map(
    values_x: Sequence[float] | np.ndarray,
    values_y: Sequence[float] | np.ndarray,
    *,
    magnitudes: np.ndarray | None = None,
    audio: np.ndarray | None = None,
    descriptors: SpectralDescriptors | None = None,
    sample_rate: float | None = None,
    n_fft: int | None = None,
    hop_length: int = 512,
    x_label: str = "z_x",
    y_label: str = "z_y",
) -> Figure:
    """Images of four spectral descriptors over a 2-D latent slice.

    Parameters
    ----------
    values_x, values_y : array-like of shape (n_x,), (n_y,)
        Latent values along the two axes (as given to :func:`latent_slice`).
    magnitudes : np.ndarray [shape=(n_y * n_x, n_bins[, n_frames])], optional
        Decoded linear magnitudes, row-major (``y`` outer, ``x`` inner).
    audio : np.ndarray [shape=(n_y * n_x, n_samples)], optional
        Decoded audio, same order.
    descriptors : SpectralDescriptors, optional
        Precomputed descriptors instead of ``magnitudes``/``audio``.
    sample_rate : float, optional
        Hz; required with ``magnitudes``/``audio``.
    n_fft, hop_length : int
        See :func:`spectral_descriptors`.
    x_label, y_label : str
        Axis labels (the latent names).

    Returns
    -------
    matplotlib.figure.Figure
        2 x 2 axes (centroid, bandwidth, flatness, loudness), each an image of shape
        ``(n_y, n_x)`` with a colour bar, latent values on the axes.
    """
    vx = np.asarray(values_x, dtype=np.float64)
    vy = np.asarray(values_y, dtype=np.float64)
    if vx.ndim != 1 or vy.ndim != 1 or vx.size < 1 or vy.size < 1:
        raise ParameterError("values_x and values_y must be non-empty 1-D sequences")
    if descriptors is None:
        if sample_rate is None:
            raise ParameterError("sample_rate is required with magnitudes= or audio=")
        descriptors = spectral_descriptors(
            magnitudes=magnitudes,
            audio=audio,
            sample_rate=sample_rate,
            n_fft=n_fft,
            hop_length=hop_length,
        )
    table = descriptors.as_dict()
    n = vx.size * vy.size
    for name, values in table.items():
        if values.shape != (n,):
            raise ParameterError(
                f"{name} has {values.shape[0]} items; the {vy.size} x {vx.size} grid needs {n}"
            )

    def edges(v: np.ndarray) -> tuple[float, float]:
        step = (v[-1] - v[0]) / (v.size - 1) if v.size > 1 else 1.0
        return float(v[0] - step / 2), float(v[-1] + step / 2)

    extent = (*edges(vx), *edges(vy))
    fig, axes = figure_grid(2, 2, cell_in=(3.4, 2.9))
    for ax, (name, values) in zip(axes.flat, table.items(), strict=True):
        image = ax.imshow(
            values.reshape(vy.size, vx.size),
            origin="lower",
            aspect="auto",
            extent=extent,
            cmap="viridis",
            interpolation="nearest",
        )
        ax.set_title(_LABELS[name], fontsize=9)
        ax.set_xlabel(x_label)
        ax.set_ylabel(y_label)
        fig.colorbar(image, ax=ax, label=_UNITS[name])
    return fig
