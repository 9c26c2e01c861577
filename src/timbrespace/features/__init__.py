"""Spectral representations, their inverses and normalisation (see DESIGN.md).

Transforms (``FeatureConfig.kind``): ``stft``, ``mdct``, ``cqt``, ``mel``, ``nsgt``; each
batch of audio ``(n_items, n_samples)`` gives float32 features ``(n_items, n_rows[,
n_frames])`` and a JSON-able sidecar (typed: :class:`FeatureSidecar`) from which
:func:`invert` gets audio back. :func:`stft_magnitude` is the one STFT of the package.
"""

from timbrespace.features.api import as_sidecar, extract, invert
from timbrespace.features.config import (
    FeatureConfig,
    FeatureConfigError,
    FeatureResult,
    InversionResult,
)
from timbrespace.features.mdct import imdct, mdct
from timbrespace.features.phase import StftGeometry, griffinlim, pghi, retrieve_phase
from timbrespace.features.sidecar import SIDECAR_FORMAT, FeatureSidecar, NormalizationStats
from timbrespace.features.spectra import linear_magnitude
from timbrespace.features.store import (
    AudioItems,
    InversionSummary,
    compute_dataset_features,
    default_feature_name,
    invert_items,
)
from timbrespace.features.transforms import stft_magnitude

__all__ = [
    "SIDECAR_FORMAT",
    "AudioItems",
    "FeatureConfig",
    "FeatureConfigError",
    "FeatureResult",
    "FeatureSidecar",
    "InversionResult",
    "InversionSummary",
    "NormalizationStats",
    "StftGeometry",
    "as_sidecar",
    "compute_dataset_features",
    "default_feature_name",
    "extract",
    "griffinlim",
    "imdct",
    "invert",
    "invert_items",
    "linear_magnitude",
    "mdct",
    "pghi",
    "retrieve_phase",
    "stft_magnitude",
]
