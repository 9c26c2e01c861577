"""The VAE family as ``torch.nn.Module``s: a config dataclass plus a module (DESIGN.md).

MLP, conv and GRU encoders/decoders; Gaussian (fixed or learned variance), Bernoulli and
hit/velocity and hit/velocity/offset (GrooVAE's H, V, O) likelihoods; β-VAE, capacity-annealed β-VAE, β-TCVAE, FactorVAE;
conditional VAEs on labels and continuous inputs. The seeds' models are configurations:
:func:`timbre_config` (seed 002's conditional conv VAE), :func:`groove_config` and
:func:`seed004_config` (the groove VAE).
"""

from timbrespace.models.config import VAEConfig
from timbrespace.models.losses import gaussian_kl, hvo_nll, permute_dims, tc_decomposition
from timbrespace.models.presets import (
    GROOVE_OUTPUTS,
    GROOVE_TASKS,
    TIMBRE_PRESETS,
    groove_config,
    groove_outputs,
    groove_task,
    recon_weight_to_variance,
    seed004_config,
    timbre_config,
)
from timbrespace.models.vae import VAE, LossTerms, VAEOutput, build_model

__all__ = [
    "VAEConfig",
    "VAE",
    "VAEOutput",
    "LossTerms",
    "build_model",
    "gaussian_kl",
    "hvo_nll",
    "permute_dims",
    "tc_decomposition",
    "TIMBRE_PRESETS",
    "timbre_config",
    "groove_config",
    "GROOVE_OUTPUTS",
    "groove_outputs",
    "GROOVE_TASKS",
    "groove_task",
    "seed004_config",
    "recon_weight_to_variance",
]
