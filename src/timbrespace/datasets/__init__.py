"""Datasets with known factors: on-disk format, generation, ingest of real folders.

``TorchDataset`` (a ``torch.utils.data.Dataset`` over a dataset folder) is imported on
first use, so that the rest does not load torch.
"""

from typing import Any

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
from timbrespace.datasets.pairs import PairSampler
from timbrespace.datasets.presets import list_presets, preset_path

__all__ = [
    "PairSampler",
    "AUDIO_DIR",
    "CARD_NAME",
    "FEATURES_DIR",
    "METADATA_NAME",
    "Dataset",
    "DatasetConfig",
    "DatasetCard",
    "FactorSpec",
    "TorchDataset",
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


def __getattr__(name: str) -> Any:
    if name == "TorchDataset":
        from timbrespace.datasets.torch import TorchDataset

        return TorchDataset
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
