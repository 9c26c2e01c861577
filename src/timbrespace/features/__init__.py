"""Spectral representations, their inverses and normalisation (see DESIGN.md).

Transforms (``FeatureConfig.kind``): ``stft``, ``mdct``, ``cqt``, ``mel``, ``nsgt``; each
batch of audio ``(n_items, n_samples)`` gives float32 features ``(n_items, n_rows[,
n_frames])`` and a JSON-able sidecar from which :func:`invert` gets audio back.
"""

from timbrespace.features.api import extract, invert
from timbrespace.features.config import (
    FeatureConfig,
    FeatureConfigError,
    FeatureResult,
    InversionResult,
)
from timbrespace.features.mdct import imdct, mdct
from timbrespace.features.phase import StftGeometry, griffinlim, pghi, retrieve_phase
from timbrespace.features.spectra import linear_magnitude
from timbrespace.features.store import compute_dataset_features, default_feature_name

__all__ = [
    "FeatureConfig",
    "FeatureConfigError",
    "FeatureResult",
    "InversionResult",
    "StftGeometry",
    "compute_dataset_features",
    "default_feature_name",
    "extract",
    "griffinlim",
    "imdct",
    "invert",
    "linear_magnitude",
    "mdct",
    "pghi",
    "retrieve_phase",
]
