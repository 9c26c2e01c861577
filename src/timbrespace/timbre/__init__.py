"""Semantic timbre (seed 002): the domain of notes described by descriptor, magnitude and pitch.

Effect chains per descriptor (:mod:`~timbrespace.timbre.effects`), a builder of the
seed-002 folder layout (:mod:`~timbrespace.timbre.build`) and the pitch and brightness
measures of notes (:mod:`~timbrespace.timbre.quality`). The model is a configuration of
the VAE family (:func:`timbrespace.models.timbre_config`), the spectrograms a
:class:`~timbrespace.features.FeatureConfig`, and training, generation and the report
are the timbre pipeline (:mod:`timbrespace.experiments.timbre`).
"""

from timbrespace.timbre.build import (
    SEED002_MAGNITUDES,
    SEED002_N_SAMPLES,
    SEED002_PITCHES,
    SEED002_SAMPLE_RATE,
    BuildResult,
    build_timbre_folder,
    load_clean_notes,
    parse_pitch,
    seed002_relpath,
)
from timbrespace.timbre.effects import (
    DESCRIPTORS,
    GROUPS,
    Descriptor,
    apply_descriptor,
    describe_chain,
)
from timbrespace.timbre.quality import measure_pitch_midi, monotonic_trend, weighted_centroid_hz

__all__ = [
    "BuildResult",
    "DESCRIPTORS",
    "Descriptor",
    "GROUPS",
    "SEED002_MAGNITUDES",
    "SEED002_N_SAMPLES",
    "SEED002_PITCHES",
    "SEED002_SAMPLE_RATE",
    "apply_descriptor",
    "build_timbre_folder",
    "describe_chain",
    "load_clean_notes",
    "measure_pitch_midi",
    "monotonic_trend",
    "parse_pitch",
    "seed002_relpath",
    "weighted_centroid_hz",
]
