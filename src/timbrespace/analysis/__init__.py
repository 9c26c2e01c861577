"""Analyses and the HTML report: latent projections, MI heat maps, traversals,
descriptor maps, training curves (matplotlib figures built without pyplot), and an
unsupervised linear re-alignment of the latents (PCA, ICA)."""

from timbrespace.analysis.alignment import LatentAlignment, align_active_latents, align_latents
from timbrespace.analysis.descriptors import (
    SpectralDescriptors,
    descriptor_map,
    latent_slice,
    spectral_descriptors,
)
from timbrespace.analysis.figures import (
    history_frame,
    mi_heatmap,
    spectrogram_image,
    training_curves,
    traversal_grid,
)
from timbrespace.analysis.projection import latent_projection, project_latents
from timbrespace.analysis.report import Report
from timbrespace.analysis.rolls import piano_roll  # drum patterns
from timbrespace.analysis.traversal import (
    tile_traversal_frames,
    traversal_audio,
    traversal_gif,
    traversal_latents,
)

__all__ = [
    "LatentAlignment",
    "Report",
    "align_active_latents",
    "align_latents",
    "SpectralDescriptors",
    "descriptor_map",
    "history_frame",
    "latent_projection",
    "latent_slice",
    "mi_heatmap",
    "piano_roll",
    "project_latents",
    "spectral_descriptors",
    "spectrogram_image",
    "tile_traversal_frames",
    "training_curves",
    "traversal_audio",
    "traversal_gif",
    "traversal_grid",
    "traversal_latents",
]
