"""Analyses and the HTML report: latent projections, MI heat maps, traversals,
descriptor maps, training curves (matplotlib figures built without pyplot), an
unsupervised linear re-alignment of the latents (PCA, ICA) and linear baselines of the
features (PCA, FastICA)."""

from timbrespace.analysis.alignment import LatentAlignment, align_active_latents, align_latents
from timbrespace.analysis.baselines import BASELINE_METHODS, fit_linear_baseline, reference_latents
from timbrespace.analysis.descriptors import (
    SpectralDescriptors,
    descriptor_map,
    latent_slice,
    spectral_descriptors,
)
from timbrespace.analysis.feature_display import physical_features, spectrogram_axes
from timbrespace.analysis.figures import (
    history_frame,
    mi_heatmap,
    sweep_figure,
    training_curves,
)
from timbrespace.analysis.projection import latent_projection, project_latents
from timbrespace.analysis.report import Report, figure_png
from timbrespace.analysis.rolls import feel_histograms, piano_roll  # drum patterns
from timbrespace.analysis.spectrograms import (
    SpectrogramAxes,
    spectrogram_image,
    spectrogram_row,
    traversal_grid,
)
from timbrespace.analysis.traversal import (
    render_frames,
    tile_traversal_frames,
    traversal_audio,
    traversal_gif,
)

__all__ = [
    "BASELINE_METHODS",
    "LatentAlignment",
    "Report",
    "SpectrogramAxes",
    "align_active_latents",
    "align_latents",
    "SpectralDescriptors",
    "descriptor_map",
    "figure_png",
    "fit_linear_baseline",
    "history_frame",
    "latent_projection",
    "latent_slice",
    "mi_heatmap",
    "physical_features",
    "feel_histograms",
    "piano_roll",
    "project_latents",
    "reference_latents",
    "render_frames",
    "spectral_descriptors",
    "spectrogram_axes",
    "spectrogram_image",
    "spectrogram_row",
    "sweep_figure",
    "tile_traversal_frames",
    "training_curves",
    "traversal_audio",
    "traversal_gif",
    "traversal_grid",
]
