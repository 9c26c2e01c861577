"""Encode a recording: audio → the features a model was trained on → its latents.

The features are computed as the feature store computed the training set's
(:func:`timbrespace.features.compute_dataset_features`): mono audio at the features'
sample rate, zero-padded or trimmed to their ``n_samples``, the same transform
(:func:`timbrespace.features.transforms.forward`) and the same normalisation with the
stored statistics (``standardize``: the feature set's per-row mean and std;
``minmax_item``: the item's own range). What had to be changed to get there (another
sample rate, another length) is said in :attr:`EncodedAudio.notes`.

Reading a run folder is :func:`timbrespace.experiments.encode_audio_files`; this module
takes a model and a sidecar, so a server can encode the bytes of an upload.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from timbrespace.errors import AudioError, ParameterError
from timbrespace.features import FeatureSidecar
from timbrespace.features.normalization import apply_normalization, item_minmax
from timbrespace.features.transforms import forward
from timbrespace.models import VAE
from timbrespace.training.inference import encode_array
from timbrespace.utils.limits import check_sample_rate

__all__ = ["EncodedAudio", "SILENCE_PEAK", "audio_features", "encode_audio", "fit_audio", "read_audio_bytes"]

SILENCE_PEAK = 1e-6
"""A recording whose peak is at most this (-120 dBFS) is silent: there is nothing to encode."""


@dataclass(frozen=True)
class EncodedAudio:
    """Latents of recordings: one row per recording.

    Attributes
    ----------
    names : tuple of str
        The recordings (file names or labels), in row order.
    mu, logvar : np.ndarray [shape=(n_recordings, latent_dim), dtype=float32]
        Posterior means and log-variances of the encoder.
    latent_names : tuple of str
        Names of the latents (``z0``, ``z1``, ...).
    notes : tuple of str
        What was done to a recording to match the features (resampled, trimmed, padded).
    tuning : np.ndarray [shape=(n_recordings, 2), dtype=float64], optional
        With a run's DDSP decoder that has a tuning head: each recording's tuning beyond
        what its latents give, cents of f0 and stiffness ``B``
        (:meth:`~timbrespace.models.ddsp.AudioDecoder.measure_tuning_residual`); decode
        with it to hear the recording's partials where they were.
    """

    names: tuple[str, ...]
    mu: np.ndarray
    logvar: np.ndarray
    latent_names: tuple[str, ...]
    notes: tuple[str, ...] = field(default=())
    tuning: np.ndarray | None = None

    def rows(self) -> list[dict[str, Any]]:
        """One mapping per recording: ``file``, ``mu`` and ``logvar`` by latent name (and
        ``tuning``: ``cents`` and ``stiffness``, when measured)."""
        rows = [{"file": name,
                 "mu": {k: float(v) for k, v in zip(self.latent_names, self.mu[i], strict=True)},
                 "logvar": {k: float(v) for k, v in zip(self.latent_names, self.logvar[i], strict=True)}}
                for i, name in enumerate(self.names)]
        if self.tuning is not None:
            for row, (cents, stiffness) in zip(rows, self.tuning, strict=True):
                row["tuning"] = {"cents": float(cents), "stiffness": float(stiffness)}
        return rows

    @staticmethod
    def concatenate(parts: Sequence[EncodedAudio]) -> EncodedAudio:
        """The rows of several results, in order (all of one model)."""
        if not parts:
            raise ParameterError("nothing to concatenate: no encoded recordings")
        tuned = [p.tuning is not None for p in parts]
        if any(tuned) and not all(tuned):
            raise ParameterError("cannot concatenate rows with and without a measured tuning")
        return EncodedAudio(
            names=tuple(n for p in parts for n in p.names),
            mu=np.concatenate([p.mu for p in parts]), logvar=np.concatenate([p.logvar for p in parts]),
            latent_names=parts[0].latent_names, notes=tuple(n for p in parts for n in p.notes),
            tuning=np.concatenate([p.tuning for p in parts]) if all(tuned) else None,  # type: ignore[misc]
        )


def read_audio_bytes(data: bytes, *, name: str = "upload") -> tuple[np.ndarray, int]:
    """Decode the bytes of an audio file (WAV, FLAC, OGG, ...) to mono float32.

    Parameters
    ----------
    data : bytes
    name : str
        What the bytes are, for messages.

    Returns
    -------
    y : np.ndarray [shape=(n_samples,), dtype=float32]
    sample_rate : int
        Hz.

    Raises
    ------
    AudioError
        Not audio that libsndfile reads, no samples, or NaN/inf samples.
    """
    import soundfile as sf

    try:
        y, sample_rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(f"{name}: not audio that can be read ({type(exc).__name__})") from None
    y = y.mean(axis=1) if y.shape[1] > 1 else y[:, 0]
    if y.size == 0 or not np.all(np.isfinite(y)):
        raise AudioError(f"{name}: no samples, or NaN/inf samples")
    return np.ascontiguousarray(y, dtype=np.float32), int(sample_rate)


def fit_audio(y: np.ndarray, sample_rate: int, sidecar: FeatureSidecar, *, name: str = "audio"
              ) -> tuple[np.ndarray, list[str]]:
    """A recording brought to the features' sample rate and length.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,) or (n_channels, n_samples)]
        Samples in [-1, 1]; several channels are averaged.
    sample_rate : int
        Hz of ``y``; another rate than the features' is resampled (soxr, high quality).
    sidecar : FeatureSidecar
        The features' sample rate and samples per item.
    name : str
        What the recording is, for messages and notes.

    Returns
    -------
    audio : np.ndarray [shape=(sidecar.n_samples,), dtype=float32]
    notes : list of str
        One line per change (resampled; trimmed or zero-padded to the item length).

    Raises
    ------
    AudioError
        No samples, NaN/inf samples, or a silent recording (peak at most
        :data:`SILENCE_PEAK`).
    ParameterError
        A sample rate that is not a whole number of Hz in 1000..384000
        (:func:`timbrespace.utils.limits.check_sample_rate`).
    """
    check_sample_rate(sample_rate, f"{name}: sample_rate")
    x = np.asarray(y, dtype=np.float32)
    if x.ndim == 2:
        x = x.mean(axis=0)
    if x.ndim != 1 or x.size == 0:
        raise AudioError(f"{name}: expected one channel of samples, got shape {np.shape(y)}")
    if not np.all(np.isfinite(x)):
        raise AudioError(f"{name}: NaN or inf samples")
    peak = float(np.max(np.abs(x)))
    if peak <= SILENCE_PEAK:
        raise AudioError(f"{name}: silent (peak {peak:.2g}, at most {SILENCE_PEAK:g}); nothing to encode")
    notes: list[str] = []
    target_sr = int(sidecar.sample_rate)
    n = int(sidecar.n_samples)
    # keep only what the item length needs before resampling: work bounded by the run's item
    longest = int(np.ceil(n * int(sample_rate) / target_sr)) + 64
    if x.size > longest:
        notes.append(f"{name}: {x.size / int(sample_rate):.3f} s trimmed to the run's item duration of "
                     f"{n / target_sr:.3f} s")
        x = x[:longest]
    if int(sample_rate) != target_sr:
        import librosa

        x = librosa.resample(x, orig_sr=int(sample_rate), target_sr=target_sr, res_type="soxr_hq").astype(np.float32)
        notes.append(f"{name}: resampled from {int(sample_rate)} Hz to the run's {target_sr} Hz")
    if x.size != n:
        seconds = f"{x.size / target_sr:.3f} s"
        if x.size > n:
            if not any("trimmed" in note for note in notes):
                notes.append(f"{name}: {seconds} trimmed to the run's item duration of {n / target_sr:.3f} s")
            x = x[:n]
        else:
            notes.append(f"{name}: {seconds} zero-padded to the run's item duration of {n / target_sr:.3f} s")
            x = np.pad(x, (0, n - x.size))
    return np.ascontiguousarray(x, dtype=np.float32), notes


def audio_features(audio: np.ndarray, sidecar: FeatureSidecar) -> np.ndarray:
    """Features of audio already at the sidecar's rate and length, normalised as the stored set.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_items, sidecar.n_samples), dtype=float32]
    sidecar : FeatureSidecar

    Returns
    -------
    np.ndarray [shape=(n_items, *sidecar.shape), dtype=float32]

    Raises
    ------
    ParameterError
        Audio of another length than the sidecar's, or features of another shape.
    """
    x = np.asarray(audio, dtype=np.float32)
    if x.ndim != 2 or x.shape[1] != sidecar.n_samples:
        raise ParameterError(f"audio shape {x.shape} must be (n_items, {sidecar.n_samples})")
    cfg, norm = sidecar.config, sidecar.normalization
    raw = forward(x, cfg, sample_rate=int(sidecar.sample_rate))
    if norm.kind == "minmax_item":
        lo, hi = item_minmax(raw)
        feats = apply_normalization(raw, "minmax_item", item_min=lo, item_max=hi)
    elif norm.kind == "standardize":
        feats = apply_normalization(raw, "standardize", mean=norm.mean, std=norm.std)
    else:
        feats = np.asarray(raw, dtype=np.float32)
    if tuple(feats.shape[1:]) != tuple(sidecar.shape):
        raise ParameterError(f"features of shape {feats.shape[1:]} differ from the stored set's {tuple(sidecar.shape)}")
    return feats


def encode_audio(model: VAE, sidecar: FeatureSidecar, y: np.ndarray, sample_rate: int, *,
                 name: str = "audio", audio_decoder: Any = None) -> EncodedAudio:
    """Latents of one recording under a model trained on the features ``sidecar`` describes.

    Parameters
    ----------
    model : VAE
        An unconditional model trained on those features.
    sidecar : FeatureSidecar
        The stored feature set's sidecar (transform, rate, length, normalisation).
    y : np.ndarray [shape=(n_samples,) or (n_channels, n_samples)]
        The recording, in [-1, 1].
    sample_rate : int
        Hz of ``y``.
    name : str
        The recording's name (its row in the result).
    audio_decoder : AudioDecoder, optional
        The run's DDSP decoder: with a tuning head, the row's ``tuning`` is measured in the
        recording (after it is fitted to the features' rate and length).

    Returns
    -------
    EncodedAudio
        One row.

    Raises
    ------
    AudioError
        As :func:`fit_audio` (empty, NaN/inf, silent).
    ParameterError
        A conditional model, or features of another shape than the model takes.
    """
    if model.config.condition_classes or model.config.condition_continuous:
        raise ParameterError("a conditional model needs its conditions to encode; audio alone cannot be encoded")
    audio, notes = fit_audio(y, sample_rate, sidecar, name=name)
    feats = audio_features(audio[None], sidecar)
    mu, logvar = encode_array(model, feats, return_logvar=True)
    tuning = None
    if audio_decoder is not None and audio_decoder.tuning is not None:
        import torch

        tuning = audio_decoder.measure_tuning_residual(torch.as_tensor(mu, dtype=torch.float32),
                                                       torch.as_tensor(audio[None], dtype=torch.float32)).numpy()
    return EncodedAudio(names=(name,), mu=np.asarray(mu, np.float32), logvar=np.asarray(logvar, np.float32),
                        latent_names=tuple(f"z{k}" for k in range(mu.shape[1])), notes=tuple(notes), tuning=tuning)
