"""Disentanglement and reconstruction metrics (numpy / scikit-learn only, no torch).

One scoring function, :func:`evaluate_representation`, gives every number a run
reports; :func:`active_latents` is the one definition of an active latent. Every
function takes scikit-learn orientation: ``latents`` ``(n_samples, n_latents)``
and integer ``factors`` ``(n_samples, n_factors)``, and returns a typed result.
Definitions follow disentanglement_lib (Locatello et al. 2019).
"""

from timbrespace.metrics.activity import ACTIVE_VARIANCE, active_latents, kl_per_latent
from timbrespace.metrics.audio import (
    AudioMeasures,
    audio_measures,
    audio_spectral_convergence,
    f0_error_cents,
    loudness_error_db,
    multi_resolution_stft_distance,
)
from timbrespace.metrics.beta_vae import BetaVAEResult, beta_vae_score
from timbrespace.metrics.dci import DCIResult, dci, dci_from_importance
from timbrespace.metrics.explicitness import ExplicitnessResult, explicitness
from timbrespace.metrics.factor_vae import FactorVAEResult, factor_vae_score
from timbrespace.metrics.hits import HitScores, hit_scores
from timbrespace.metrics.mig import MIGResult, mig, mutual_info_matrix
from timbrespace.metrics.modularity import ModularityResult, modularity, modularity_from_mi
from timbrespace.metrics.reconstruction import (
    feature_mse,
    log_spectral_distance,
    spectral_convergence,
)
from timbrespace.metrics.sap import SAPResult, sap, sap_from_scores
from timbrespace.metrics.summary import (
    ALL_METRICS,
    ReferenceLatents,
    RepresentationScores,
    evaluate_representation,
)

__all__ = [
    "ACTIVE_VARIANCE",
    "ALL_METRICS",
    "AudioMeasures",
    "BetaVAEResult",
    "DCIResult",
    "ExplicitnessResult",
    "FactorVAEResult",
    "HitScores",
    "MIGResult",
    "ModularityResult",
    "ReferenceLatents",
    "RepresentationScores",
    "SAPResult",
    "active_latents",
    "audio_measures",
    "audio_spectral_convergence",
    "beta_vae_score",
    "dci",
    "dci_from_importance",
    "evaluate_representation",
    "explicitness",
    "f0_error_cents",
    "factor_vae_score",
    "kl_per_latent",
    "feature_mse",
    "hit_scores",
    "log_spectral_distance",
    "loudness_error_db",
    "mig",
    "multi_resolution_stft_distance",
    "modularity",
    "modularity_from_mi",
    "mutual_info_matrix",
    "sap",
    "sap_from_scores",
    "spectral_convergence",
]
