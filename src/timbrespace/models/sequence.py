"""GRU encoder and decoder over steps (the groove VAE of seed 004, after GrooVAE).

Items are sequences ``(n_steps, n_features)``: for drum patterns, steps of a bar and
voices of a drum map. The encoder reads the steps with a bidirectional GRU and maps its
two final states to ``(mu, logvar)``; the decoder feeds ``z`` (and the condition) with a
learned embedding of each step into a GRU whose first state is ``tanh(W z)``, and maps
each step's output to that step's features.

References
----------
Cho et al., "Learning phrase representations using RNN encoder-decoder for statistical
machine translation", EMNLP 2014 (GRU). Gillick et al., "Learning to groove with inverse
sequence transformations", ICML 2019 (GrooVAE: recurrent encoder and decoder of bars).
"""

from __future__ import annotations

import torch
from torch import nn

from timbrespace.models.config import VAEConfig

__all__ = ["GRUEncoder", "GRUDecoder"]

_STEP_EMBEDDING_STD = 0.1


def _steps(x: torch.Tensor, n_steps: int) -> torch.Tensor:
    """``(n, n_steps, f)`` or ``(n, channels, n_steps, f)`` -> ``(n, n_steps, channels * f)``."""
    if x.ndim == 4:
        x = x.transpose(1, 2)
    return x.reshape(x.shape[0], n_steps, -1)


class GRUEncoder(nn.Module):
    """Bidirectional GRU over steps; its two final states (and the condition) give ``(mu, logvar)``."""

    def __init__(self, config: VAEConfig, condition_dim: int = 0) -> None:
        super().__init__()
        self.n_steps, n_features = config.input_shape
        hidden = config.gru_hidden
        self.rnn = nn.GRU(
            n_features * config.likelihood_channels, hidden, batch_first=True, bidirectional=True
        )
        self.head = nn.Linear(2 * hidden + condition_dim, 2 * config.latent_dim)

    def forward(
        self, x: torch.Tensor, condition: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        _, state = self.rnn(_steps(x, self.n_steps))
        h = torch.cat([state[0], state[1]], dim=-1)
        if condition is not None:
            h = torch.cat([h, condition], dim=1)
        mu, logvar = self.head(h).chunk(2, dim=1)
        return mu, logvar


class GRUDecoder(nn.Module):
    """GRU driven by ``[z, condition, step embedding]`` at every step; output ``(n, [2,] n_steps, n_features)``."""

    def __init__(self, config: VAEConfig, condition_dim: int = 0) -> None:
        super().__init__()
        self.n_steps, self.n_features = config.input_shape
        self.channels = config.likelihood_channels
        hidden = config.gru_hidden
        n_in = config.latent_dim + condition_dim
        self.z_to_h0 = nn.Linear(n_in, hidden)
        self.step_embedding = nn.Parameter(torch.zeros(self.n_steps, hidden))
        nn.init.normal_(self.step_embedding, std=_STEP_EMBEDDING_STD)
        self.rnn = nn.GRU(n_in + hidden, hidden, batch_first=True)
        self.to_features = nn.Linear(hidden, self.n_features * self.channels)

    def forward(self, z: torch.Tensor, condition: torch.Tensor | None = None) -> torch.Tensor:
        if condition is not None:
            z = torch.cat([z, condition], dim=1)
        n = z.shape[0]
        steps = torch.cat(
            [
                z[:, None, :].expand(-1, self.n_steps, -1),
                self.step_embedding[None].expand(n, -1, -1),
            ],
            dim=-1,
        )
        h, _ = self.rnn(steps, torch.tanh(self.z_to_h0(z))[None])
        out = self.to_features(h)
        if self.channels == 1:
            return out
        # each step's outputs are [channel 0 features, channel 1 features]
        return out.reshape(n, self.n_steps, self.channels, self.n_features).transpose(1, 2)
