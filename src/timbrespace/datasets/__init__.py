"""Datasets with known factors: on-disk format, generation, ingest of real folders."""

from timbrespace.datasets.card import (
    CARD_NAME,
    METADATA_NAME,
    DatasetCard,
    FactorSpec,
    encode_factor,
)
from timbrespace.datasets.config import DatasetConfig, load_dataset_config
from timbrespace.datasets.dataset import (
    AUDIO_DIR,
    FEATURES_DIR,
    Dataset,
    assign_splits,
    write_audio_file,
    write_card,
    write_metadata,
)
from timbrespace.datasets.export import export_dataset
from timbrespace.datasets.generate import generate_dataset
from timbrespace.datasets.presets import list_presets, preset_path

__all__ = [
    "AUDIO_DIR",
    "CARD_NAME",
    "FEATURES_DIR",
    "METADATA_NAME",
    "Dataset",
    "DatasetConfig",
    "DatasetCard",
    "FactorSpec",
    "assign_splits",
    "encode_factor",
    "export_dataset",
    "generate_dataset",
    "list_presets",
    "load_dataset_config",
    "preset_path",
    "write_audio_file",
    "write_card",
    "write_metadata",
]
