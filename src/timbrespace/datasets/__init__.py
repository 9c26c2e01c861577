"""Datasets with known factors: on-disk format, generation, ingest of real folders."""

from timbrespace.datasets.card import CARD_NAME, METADATA_NAME, DatasetCard, FactorSpec, encode_factor
from timbrespace.datasets.dataset import (
    AUDIO_DIR,
    FEATURES_DIR,
    Dataset,
    assign_splits,
    write_audio_file,
    write_card,
    write_metadata,
)

__all__ = [
    "AUDIO_DIR",
    "CARD_NAME",
    "FEATURES_DIR",
    "METADATA_NAME",
    "Dataset",
    "DatasetCard",
    "FactorSpec",
    "assign_splits",
    "encode_factor",
    "write_audio_file",
    "write_card",
    "write_metadata",
]
