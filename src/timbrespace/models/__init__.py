"""The VAE family as ``torch.nn.Module``s: a config dataclass plus a module (DESIGN.md).

MLP and conv encoders/decoders, Gaussian (fixed or learned variance) and Bernoulli
likelihoods, β-VAE, capacity-annealed β-VAE, β-TCVAE, FactorVAE and conditional VAEs.
"""

from timbrespace.models.config import VAEConfig
from timbrespace.models.losses import gaussian_kl, permute_dims, tc_decomposition
from timbrespace.models.vae import VAE, LossTerms, VAEOutput, build_model

__all__ = [
    "VAEConfig",
    "VAE",
    "VAEOutput",
    "LossTerms",
    "build_model",
    "gaussian_kl",
    "permute_dims",
    "tc_decomposition",
]
