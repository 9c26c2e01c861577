"""Groove VAE: a Bernoulli VAE on drum hits, with optional bounded velocities (GrooVAE).

The input is a bar ``(n_steps, n_voices)``: hits ``h = v > 0`` and, with
``velocities=True``, the velocities ``v`` themselves. The decoder outputs one hit logit
and one velocity in (0, 1) (sigmoid) per cell. The loss is

    BCE(hit logits, h) + Σ_{cells with a hit} (v̂ − v)² + β · KL(q(z|x) ‖ N(0, I))

summed over cells and latents, averaged over the batch — the velocity error is masked to
the true hits, as in GrooVAE (Gillick et al., 2019), so silent cells never train velocity.

Two architectures:

* ``mlp`` — seed 004: flatten → hidden (800) → z → hidden (800) → cells. With seed's 8
  voices × 64 steps the input has 512 values (×2 with velocities).
* ``gru`` — a small sequence model: a bidirectional GRU encoder over steps whose final
  states give ``mu``/``logvar``; a GRU decoder driven by ``z`` at every step (with a
  learned step embedding) whose outputs give each step's cells.

Checkpoints are ``model.safetensors`` + ``model.json`` (the config), no pickle.

References
----------
Kingma & Welling (2014), Auto-Encoding Variational Bayes. Higgins et al. (2017), β-VAE.
Gillick et al. (2019), Learning to Groove with Inverse Sequence Transformations (GrooVAE).
Seed 004 (ATIAM-Sequenceur): Bernoulli MLP VAE 512→800→z, β = 4, Adam 1e-3.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Literal, NamedTuple

import torch
from safetensors.torch import load_file, save_file
from torch import nn
from torch.nn import functional as F

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.utils.atomic import atomic_path, atomic_write_json

__all__ = ["GrooveVAEConfig", "GrooveVAE", "GrooveOutput", "GrooveLoss", "build_groove_model",
           "save_groove_model", "load_groove_model", "SEED004_CONFIG"]


@dataclass(frozen=True)
class GrooveVAEConfig:
    """Architecture of a groove VAE.

    Parameters
    ----------
    architecture : {"mlp", "gru"}
    n_steps : int
        Steps per bar (16; seed 004: 64).
    n_voices : int
        Voices of the drum map (9 for magenta9, 8 for seed8).
    latent_dim : int
    hidden_dims : tuple of int
        MLP hidden layers (encoder; the decoder mirrors them). Seed 004: (800,).
    gru_hidden : int
        GRU state size.
    velocities : bool
        Model velocities as well as hits.
    """

    architecture: Literal["mlp", "gru"] = "mlp"
    n_steps: int = 16
    n_voices: int = 9
    latent_dim: int = 8
    hidden_dims: tuple[int, ...] = (800,)
    gru_hidden: int = 128
    velocities: bool = True

    def __post_init__(self) -> None:
        if self.architecture not in ("mlp", "gru"):
            raise ConfigError(f"architecture={self.architecture!r}: allowed mlp, gru")
        for name in ("n_steps", "n_voices", "latent_dim", "gru_hidden"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"{name}={getattr(self, name)} must be a positive integer")
        if any(int(h) < 1 for h in self.hidden_dims):
            raise ConfigError(f"hidden_dims={self.hidden_dims} must be positive integers")
        object.__setattr__(self, "hidden_dims", tuple(int(h) for h in self.hidden_dims))

    @property
    def n_channels(self) -> int:
        """Values per cell at the input/output: 2 with velocities (hit, velocity), else 1."""
        return 2 if self.velocities else 1

    def to_dict(self) -> dict[str, object]:
        d = asdict(self)
        d["hidden_dims"] = list(self.hidden_dims)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> GrooveVAEConfig:
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        if "hidden_dims" in known:
            known["hidden_dims"] = tuple(known["hidden_dims"])  # type: ignore[arg-type]
        try:
            return cls(**known)  # type: ignore[arg-type]
        except TypeError as exc:
            raise ConfigError(f"bad groove model config: {exc}") from None


SEED004_CONFIG = GrooveVAEConfig(architecture="mlp", n_steps=64, n_voices=8, latent_dim=2,
                                 hidden_dims=(800,), velocities=False)
"""Seed 004's model: 8 voices × 64 steps = 512 inputs → 800 → z (2-D, the click plane)."""


class GrooveOutput(NamedTuple):
    """Forward pass: ``hit_logits``/``velocities`` ``(batch, n_steps, n_voices)``, ``mu``/``logvar``/``z`` ``(batch, latent_dim)``."""

    hit_logits: torch.Tensor
    velocities: torch.Tensor | None
    mu: torch.Tensor
    logvar: torch.Tensor
    z: torch.Tensor


class GrooveLoss(NamedTuple):
    """Batch-mean loss terms (sums over cells / latents)."""

    loss: torch.Tensor
    recon: torch.Tensor
    hits: torch.Tensor
    velocity: torch.Tensor
    kl: torch.Tensor


class GrooveVAE(nn.Module):
    """Groove VAE; build with :func:`build_groove_model`."""

    def __init__(self, config: GrooveVAEConfig) -> None:
        super().__init__()
        self.config = config
        c = config
        n_in = c.n_steps * c.n_voices * c.n_channels
        if c.architecture == "mlp":
            layers: list[nn.Module] = []
            width = n_in
            for h in c.hidden_dims:
                layers += [nn.Linear(width, h), nn.ReLU()]
                width = h
            self.encoder = nn.Sequential(*layers)
            self.to_stats = nn.Linear(width, 2 * c.latent_dim)
            dec: list[nn.Module] = []
            width = c.latent_dim
            for h in reversed(c.hidden_dims):
                dec += [nn.Linear(width, h), nn.ReLU()]
                width = h
            dec.append(nn.Linear(width, n_in))
            self.decoder = nn.Sequential(*dec)
        else:
            self.enc_rnn = nn.GRU(c.n_voices * c.n_channels, c.gru_hidden, batch_first=True, bidirectional=True)
            self.to_stats = nn.Linear(2 * c.gru_hidden, 2 * c.latent_dim)
            self.z_to_h0 = nn.Linear(c.latent_dim, c.gru_hidden)
            self.step_embedding = nn.Parameter(torch.zeros(c.n_steps, c.gru_hidden))
            nn.init.normal_(self.step_embedding, std=0.1)
            self.dec_rnn = nn.GRU(c.latent_dim + c.gru_hidden, c.gru_hidden, batch_first=True)
            self.to_cells = nn.Linear(c.gru_hidden, c.n_voices * c.n_channels)

    def _inputs(self, x: torch.Tensor) -> torch.Tensor:
        hits = (x > 0).to(x.dtype)
        return torch.cat([hits, x], dim=-1) if self.config.velocities else hits

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x`` ``(batch, n_steps, n_voices)`` velocities in [0, 1] → ``(mu, logvar)`` ``(batch, latent_dim)``."""
        c = self.config
        if x.ndim != 3 or x.shape[1:] != (c.n_steps, c.n_voices):
            raise ParameterError(f"input shape {tuple(x.shape)} must be (batch, {c.n_steps}, {c.n_voices})")
        inp = self._inputs(x)
        if c.architecture == "mlp":
            h = self.encoder(inp.reshape(x.shape[0], -1))
        else:
            _, state = self.enc_rnn(inp)
            h = torch.cat([state[0], state[1]], dim=-1)
        mu, logvar = self.to_stats(h).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """``z`` ``(batch, latent_dim)`` → hit logits and velocities in (0, 1), ``(batch, n_steps, n_voices)``."""
        c = self.config
        if c.architecture == "mlp":
            out = self.decoder(z).reshape(z.shape[0], c.n_steps, c.n_voices * c.n_channels)
        else:
            steps = torch.cat([z[:, None, :].expand(-1, c.n_steps, -1),
                               self.step_embedding[None].expand(z.shape[0], -1, -1)], dim=-1)
            h, _ = self.dec_rnn(steps, torch.tanh(self.z_to_h0(z))[None])
            out = self.to_cells(h)
        logits = out[..., : c.n_voices]
        velocities = torch.sigmoid(out[..., c.n_voices:]) if c.velocities else None
        return logits, velocities

    def forward(self, x: torch.Tensor, *, generator: torch.Generator | None = None) -> GrooveOutput:
        mu, logvar = self.encode(x)
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device) if self.training else 0.0
        z = mu + torch.exp(0.5 * logvar) * eps
        logits, velocities = self.decode(z)
        return GrooveOutput(logits, velocities, mu, logvar, z)

    def loss(self, x: torch.Tensor, out: GrooveOutput, *, beta: float = 1.0) -> GrooveLoss:
        """Negative ELBO terms (see module docstring), means over the batch."""
        hits = (x > 0).to(x.dtype)
        n = len(x)
        bce = F.binary_cross_entropy_with_logits(out.hit_logits, hits, reduction="sum") / n
        if out.velocities is not None:
            vel = ((out.velocities - x) ** 2 * hits).sum() / n
        else:
            vel = torch.zeros((), dtype=x.dtype, device=x.device)
        kl = (-0.5 * (1 + out.logvar - out.mu**2 - out.logvar.exp())).sum() / n
        recon = bce + vel
        return GrooveLoss(recon + beta * kl, recon, bce, vel, kl)


def build_groove_model(config: GrooveVAEConfig, *, seed: int = 0) -> GrooveVAE:
    """A freshly initialised :class:`GrooveVAE`; weights depend only on ``config`` and ``seed``."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return GrooveVAE(config)


def save_groove_model(model: GrooveVAE, folder: str | Path, *, extra: dict[str, object] | None = None) -> Path:
    """Write ``folder/model.safetensors`` and ``folder/model.json`` (config + ``extra``) atomically."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    with atomic_path(folder / "model.safetensors") as tmp:
        save_file(tensors, str(tmp))
    atomic_write_json(folder / "model.json", {"config": model.config.to_dict(), "extra": extra or {},
                                              "format": "timbrespace.patterns.GrooveVAE/1"})
    return folder / "model.safetensors"


def load_groove_model(folder: str | Path) -> tuple[GrooveVAE, dict[str, object]]:
    """Read a model written by :func:`save_groove_model`; returns ``(model in eval mode, extra)``.

    Raises
    ------
    ConfigError
        Missing or inconsistent files.
    """
    folder = Path(folder)
    meta_path, weights = folder / "model.json", folder / "model.safetensors"
    if not meta_path.is_file() or not weights.is_file():
        raise ConfigError(f"{folder}: no groove model (model.json + model.safetensors)")
    try:
        meta = json.loads(meta_path.read_text())
        config = GrooveVAEConfig.from_dict(meta["config"])
    except (json.JSONDecodeError, KeyError) as exc:
        raise ConfigError(f"{meta_path}: unreadable model config ({exc})") from None
    model = GrooveVAE(config)
    try:
        model.load_state_dict(load_file(str(weights)))
    except (RuntimeError, OSError) as exc:
        raise ConfigError(f"{weights}: weights do not fit the config ({exc})") from None
    return model.eval(), dict(meta.get("extra", {}))
