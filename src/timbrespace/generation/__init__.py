"""Generation: latent sampling, interpolation, traversals, and decoding to features.

Decoded features go back to audio through the feature inverse
(``timbrespace.features.invert``).
"""

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
