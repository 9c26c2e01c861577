"""Conditional convolutional VAE on (descriptor, magnitude, pitch) spectrograms (seed 002).

Encoder: ``len(filters)`` blocks Conv2d(3×3, stride) → BatchNorm → ReLU on the
(1, 512, 64) normalised dB spectrogram, flattened and concatenated with the condition
``c``, then linear layers to ``mu`` and ``logvar``. Decoder: ``[z, c]`` → linear →
the mirrored ConvTranspose2d blocks → sigmoid (output in [0, 1] like the input).

The condition ``c`` is ``[one_hot(descriptor), magnitude / 100, one_hot(pitch − 64)]``.
Loss: ``recon_weight · MSE + beta · KL`` (seed: ``1e6 · MSE + KL``), KL summed over
latents and averaged over the batch.

Presets (:func:`preset`): ``"seed"`` — the seed's architecture (filters 512, 256, 128,
64, 32; strides 2, 2, 2, 2, (2, 1); latent 128; 1e6·MSE + KL; Adam 5e-4; batch 64; 300
epochs) for a GPU; ``"cpu"`` — the same shape with 16..64 filters and latent 16, trains
in minutes on 2 cores; ``"tiny"`` — for tests.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from timbrespace.errors import ConfigError, ParameterError

__all__ = [
    "ConditionalVAEConfig",
    "ConditionalConvVAE",
    "PRESETS",
    "preset",
    "slerp",
]


@dataclass(frozen=True)
class ConditionalVAEConfig:
    """Architecture and optimisation of the conditional conv VAE.

    Parameters
    ----------
    input_shape : tuple of int
        (n_bins, n_frames) of the spectrograms, (512, 64).
    n_descriptors : int
        Descriptors in the condition one-hot.
    n_pitches : int
        Pitches in the condition one-hot (23: MIDI 64..86).
    filters : tuple of int
        Channels of the encoder blocks (decoder mirrors them).
    strides : tuple of tuple of int
        (freq, time) stride per block.
    latent_dim : int
    hidden_dim : int
        Width of the dense layer between convs and latent (0: none).
    recon_weight : float
        Weight of the pixel-mean MSE (seed 1e6).
    beta : float
        Weight of the KL term.
    lr : float
        Adam learning rate.
    batch_size, epochs : int
    """

    input_shape: tuple[int, int] = (512, 64)
    n_descriptors: int = 19
    n_pitches: int = 23
    filters: tuple[int, ...] = (16, 32, 32, 64, 64)
    strides: tuple[tuple[int, int], ...] = ((2, 2), (2, 2), (2, 2), (2, 2), (2, 1))
    latent_dim: int = 16
    hidden_dim: int = 256
    recon_weight: float = 32768.0
    beta: float = 1.0
    lr: float = 1e-3
    batch_size: int = 32
    epochs: int = 40

    @property
    def n_conditions(self) -> int:
        return self.n_descriptors + 1 + self.n_pitches

    @property
    def bottleneck_shape(self) -> tuple[int, int, int]:
        f, t = self.input_shape
        for sf_, st in self.strides:
            f, t = f // sf_, t // st
        return (self.filters[-1], f, t)

    def validate(self) -> ConditionalVAEConfig:
        if len(self.filters) != len(self.strides) or not self.filters:
            raise ConfigError(f"filters {self.filters} and strides {self.strides} must have the same non-zero length")
        f, t = self.input_shape
        for sf_, st in self.strides:
            if f % sf_ or t % st:
                raise ConfigError(f"input_shape={self.input_shape} is not divisible by strides {self.strides}")
            f, t = f // sf_, t // st
        for name in ("latent_dim", "n_descriptors", "n_pitches", "batch_size", "epochs"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be a positive integer")
        if not (self.lr > 0 and self.beta >= 0 and self.recon_weight > 0):
            raise ConfigError(f"lr={self.lr}, beta={self.beta}, recon_weight={self.recon_weight} must be positive")
        return self

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["input_shape"] = list(self.input_shape)
        d["filters"] = list(self.filters)
        d["strides"] = [list(s) for s in self.strides]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ConditionalVAEConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "input_shape" in known:
            known["input_shape"] = tuple(known["input_shape"])
        if "filters" in known:
            known["filters"] = tuple(known["filters"])
        if "strides" in known:
            known["strides"] = tuple(tuple(s) for s in known["strides"])
        return cls(**known).validate()


PRESETS: dict[str, ConditionalVAEConfig] = {
    "cpu": ConditionalVAEConfig(),
    "seed": ConditionalVAEConfig(
        filters=(512, 256, 128, 64, 32), latent_dim=128, hidden_dim=0, recon_weight=1e6, beta=1.0,
        lr=5e-4, batch_size=64, epochs=300,
    ),
    "tiny": ConditionalVAEConfig(
        filters=(4, 8, 8, 8, 8), latent_dim=4, hidden_dim=32, batch_size=16, epochs=3,
    ),
}


def preset(name: str, **overrides: Any) -> ConditionalVAEConfig:
    """A named configuration (``cpu``, ``seed``, ``tiny``) with optional overrides.

    Raises
    ------
    ParameterError
        Unknown preset (allowed ones listed).
    """
    if name not in PRESETS:
        raise ParameterError(f"model={name!r} is unknown: allowed {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides).validate()


def _block(c_in: int, c_out: int, stride: tuple[int, int], transpose: bool) -> nn.Sequential:
    if transpose:
        conv: nn.Module = nn.ConvTranspose2d(c_in, c_out, 3, stride=stride, padding=1,
                                             output_padding=(stride[0] - 1, stride[1] - 1))
    else:
        conv = nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1)
    return nn.Sequential(conv, nn.BatchNorm2d(c_out), nn.ReLU())


class ConditionalConvVAE(nn.Module):
    """Conditional conv VAE (see the module docstring).

    Parameters
    ----------
    config : ConditionalVAEConfig

    Examples
    --------
    >>> model = ConditionalConvVAE(preset("tiny", n_descriptors=2))
    >>> x = torch.rand(3, 1, 512, 64)
    >>> c = torch.zeros(3, model.config.n_conditions)
    >>> mu, logvar = model.encode(x, c)
    >>> model.decode(mu, c).shape
    torch.Size([3, 1, 512, 64])
    """

    def __init__(self, config: ConditionalVAEConfig) -> None:
        super().__init__()
        self.config = config.validate()
        chans = (1, *config.filters)
        self.encoder = nn.Sequential(*[_block(chans[i], chans[i + 1], config.strides[i], False)
                                       for i in range(len(config.filters))])
        flat = int(np.prod(config.bottleneck_shape))
        n_c = config.n_conditions
        if config.hidden_dim > 0:
            self.enc_dense: nn.Module = nn.Sequential(nn.Linear(flat + n_c, config.hidden_dim), nn.ReLU())
            enc_out = config.hidden_dim
            self.dec_dense: nn.Module = nn.Sequential(
                nn.Linear(config.latent_dim + n_c, config.hidden_dim), nn.ReLU(),
                nn.Linear(config.hidden_dim, flat), nn.ReLU(),
            )
        else:
            self.enc_dense = nn.Identity()
            enc_out = flat + n_c
            self.dec_dense = nn.Sequential(nn.Linear(config.latent_dim + n_c, flat), nn.ReLU())
        self.to_mu = nn.Linear(enc_out, config.latent_dim)
        self.to_logvar = nn.Linear(enc_out, config.latent_dim)
        rev = tuple(reversed(config.filters))
        rev_strides = tuple(reversed(config.strides))
        blocks = [_block(rev[i], rev[i + 1], rev_strides[i], True) for i in range(len(rev) - 1)]
        last = nn.ConvTranspose2d(rev[-1], 1, 3, stride=rev_strides[-1], padding=1,
                                  output_padding=(rev_strides[-1][0] - 1, rev_strides[-1][1] - 1))
        self.decoder = nn.Sequential(*blocks, last, nn.Sigmoid())

    def encode(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` (n, 1, n_bins, n_frames), ``c`` (n, n_conditions) → ``mu``, ``logvar`` (n, latent_dim)."""
        h = self.encoder(x).flatten(1)
        h = self.enc_dense(torch.cat([h, c], dim=1))
        return self.to_mu(h), self.to_logvar(h).clamp(-20.0, 10.0)

    def decode(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        """``z`` (n, latent_dim), ``c`` (n, n_conditions) → ``x_hat`` (n, 1, n_bins, n_frames) in [0, 1]."""
        h = self.dec_dense(torch.cat([z, c], dim=1))
        return self.decoder(h.view(-1, *self.config.bottleneck_shape))

    def forward(self, x: torch.Tensor, c: torch.Tensor, *, generator: torch.Generator | None = None,
                ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Reparameterised pass: returns ``x_hat``, ``mu``, ``logvar``."""
        mu, logvar = self.encode(x, c)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        z = mu + eps * torch.exp(0.5 * logvar) if self.training else mu
        return self.decode(z, c), mu, logvar

    def loss(self, x: torch.Tensor, x_hat: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor,
             ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``recon_weight · MSE + beta · KL`` → (loss, recon, kl)."""
        recon = torch.mean((x_hat - x) ** 2)
        kl = torch.mean(-0.5 * torch.sum(1 + logvar - mu**2 - logvar.exp(), dim=1))
        return self.config.recon_weight * recon + self.config.beta * kl, recon, kl


def slerp(z0: np.ndarray, z1: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Spherical linear interpolation between two vectors at fractions ``t``.

    Parameters
    ----------
    z0, z1 : np.ndarray [shape=(latent_dim,)]
    t : np.ndarray [shape=(n_steps,)]
        In [0, 1].

    Returns
    -------
    np.ndarray [shape=(n_steps, latent_dim)]
        Falls back to linear interpolation where the vectors are (anti)parallel or zero.

    References
    ----------
    K. Shoemake, "Animating rotation with quaternion curves", SIGGRAPH 1985; T. White,
    "Sampling generative networks", arXiv:1609.04468, 2016.
    """
    z0 = np.asarray(z0, dtype=np.float64)
    z1 = np.asarray(z1, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)[:, None]
    if z0.shape != z1.shape or z0.ndim != 1:
        raise ParameterError(f"z0 {z0.shape} and z1 {z1.shape} must be vectors of the same length")
    n0, n1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if n0 == 0 or n1 == 0:
        return (1 - t) * z0 + t * z1
    omega = np.arccos(np.clip(np.dot(z0 / n0, z1 / n1), -1.0, 1.0))
    if np.sin(omega) < 1e-6:
        return (1 - t) * z0 + t * z1
    return (np.sin((1 - t) * omega) * z0 + np.sin(t * omega) * z1) / np.sin(omega)
