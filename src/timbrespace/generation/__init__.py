"""Generation: latent sampling, interpolation, traversals, decoding to features, and
encoding a recording (:func:`encode_audio`).

Decoded features go back to audio through the feature inverse
(``timbrespace.features.invert``).
"""

from timbrespace.generation.audio import EncodedAudio, encode_audio
from timbrespace.generation.latent import (
    decode_grid,
    interpolate,
    lerp,
    sample_prior,
    slerp,
    traverse,
)
from timbrespace.training.inference import decode_array, encode_array, reconstruct_array

__all__ = [
    "EncodedAudio",
    "encode_audio",
    "sample_prior",
    "lerp",
    "slerp",
    "interpolate",
    "traverse",
    "decode_grid",
    "encode_array",
    "decode_array",
    "reconstruct_array",
]
