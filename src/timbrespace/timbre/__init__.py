"""Semantic timbre (seed 002): notes described by descriptor, magnitude and pitch.

Effect chains per descriptor (:mod:`~timbrespace.timbre.effects`), a builder of the
seed-002 folder layout (:mod:`~timbrespace.timbre.build`), the invertible seed
representation (:mod:`~timbrespace.timbre.preprocess`), a conditional conv VAE
(:mod:`~timbrespace.timbre.model`), training and run folders
(:mod:`~timbrespace.timbre.run`), generation and interpolation
(:mod:`~timbrespace.timbre.generate`), latent maps and quality measures.
"""

from timbrespace.timbre.build import (
    SEED002_MAGNITUDES,
    SEED002_N_SAMPLES,
    SEED002_PITCHES,
    SEED002_SAMPLE_RATE,
    BuildResult,
    build_timbre_folder,
    load_clean_notes,
    seed002_relpath,
)
from timbrespace.timbre.effects import (
    DESCRIPTORS,
    GROUPS,
    Descriptor,
    apply_descriptor,
    describe_chain,
)
from timbrespace.timbre.generate import (
    GeneratedNote,
    Interpolation,
    generate_note,
    interpolate_notes,
    parse_pitch,
    write_generated,
    write_interpolation,
)
from timbrespace.timbre.latent_map import latent_map, project_latents
from timbrespace.timbre.model import (
    PRESETS,
    ConditionalConvVAE,
    ConditionalVAEConfig,
    preset,
    slerp,
)
from timbrespace.timbre.preprocess import (
    Spectrograms,
    TimbrePreprocessing,
    from_spectrogram,
    magnitude_stft,
    spectrogram_magnitudes,
    to_spectrogram,
)
from timbrespace.timbre.quality import TimbreQuality, evaluate_run
from timbrespace.timbre.run import DEFAULT_DESCRIPTORS, TimbreRun, TrainSummary, train_timbre

__all__ = [
    "BuildResult",
    "ConditionalConvVAE",
    "ConditionalVAEConfig",
    "DEFAULT_DESCRIPTORS",
    "DESCRIPTORS",
    "Descriptor",
    "GROUPS",
    "GeneratedNote",
    "Interpolation",
    "PRESETS",
    "SEED002_MAGNITUDES",
    "SEED002_N_SAMPLES",
    "SEED002_PITCHES",
    "SEED002_SAMPLE_RATE",
    "Spectrograms",
    "TimbrePreprocessing",
    "TimbreQuality",
    "TimbreRun",
    "TrainSummary",
    "apply_descriptor",
    "build_timbre_folder",
    "describe_chain",
    "evaluate_run",
    "from_spectrogram",
    "generate_note",
    "interpolate_notes",
    "latent_map",
    "load_clean_notes",
    "magnitude_stft",
    "parse_pitch",
    "preset",
    "project_latents",
    "seed002_relpath",
    "slerp",
    "spectrogram_magnitudes",
    "to_spectrogram",
    "train_timbre",
    "write_generated",
    "write_interpolation",
]
