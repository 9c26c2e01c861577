"""A ``torch.utils.data.Dataset`` that streams items from a dataset folder.

Nothing is loaded up front: each ``__getitem__`` reads one item's audio file or one row
of a ``features/<name>.zarr`` array, so memory does not grow with the dataset (seed
002 loaded everything). Works with ``DataLoader(num_workers=...)``: the zarr array is
opened lazily in each worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset as _TorchDataset

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError

__all__ = ["TorchDataset"]


class TorchDataset(_TorchDataset):
    """Items of a :class:`~timbrespace.datasets.Dataset` as tensors, read one at a time.

    Parameters
    ----------
    dataset : Dataset or path-like
        The dataset (or its folder).
    features : str, optional
        Name of a stored feature set (``features/<name>.zarr``); default: the raw audio.
    split : str or sequence of str, optional
        Restrict to these splits (default: every item).
    indices : sequence of int, optional
        Restrict to these positions (after ``split``).
    transform : callable, optional
        Applied to the float32 tensor ``x`` of each item.

    Notes
    -----
    Item ``k`` is a dict:

    - ``x``: ``torch.Tensor [shape=(n_samples,), dtype=float32]``, the audio padded or
      trimmed to the card's ``n_samples`` (at the dataset's ``sample_rate``), or the
      stored feature row with its own shape (e.g. ``(n_bins, n_frames)``); after
      ``transform``;
    - ``factors``: ``torch.Tensor [shape=(n_factors,), dtype=int64]``, the item's factor
      codes in ``dataset.factor_names`` order;
    - ``index``: ``int``, the item's index in the whole dataset (its metadata row).

    The default ``collate_fn`` of a ``DataLoader`` stacks them into a batch dict
    (``x`` of shape ``(batch, ...)``); worker processes each reopen the zarr array.

    Raises
    ------
    DatasetError
        No audio and no ``features``, an unknown feature set, or an unknown split.

    Examples
    --------
    >>> import tempfile
    >>> from torch.utils.data import DataLoader
    >>> from timbrespace.datasets import DatasetConfig, TorchDataset, generate_dataset
    >>> config = DatasetConfig(name="tiny", sound_model="additive", sample_rate=8000,
    ...                        duration_s=0.1, splits={"train": 0.5, "test": 0.5},
    ...                        parameters={"f0_hz": {"min": 220, "max": 440, "n": 3},
    ...                                    "decay_per_s": {"min": 0, "max": 10, "n": 2}})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     train = TorchDataset(generate_dataset(config, tmp, workers=0, progress=False),
    ...                          split="train")
    ...     batch = next(iter(DataLoader(train, batch_size=2)))
    >>> len(train), tuple(batch["x"].shape), tuple(batch["factors"].shape)
    (3, (2, 800), (2, 2))

    On a dataset folder, shuffled, on two worker processes:

    >>> loader = DataLoader(TorchDataset("data/seed003-pop", split="train"), batch_size=32,
    ...                     shuffle=True, num_workers=2)  # doctest: +SKIP
    """

    def __init__(
        self,
        dataset: Dataset | str,
        *,
        features: str | None = None,
        split: str | Sequence[str] | None = None,
        indices: Sequence[int] | None = None,
        transform: Callable[[torch.Tensor], torch.Tensor] | None = None,
    ) -> None:
        self.dataset = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
        self.features = features
        if features is not None:
            self.dataset.feature_sidecar(features)  # raises with the available names
        elif self.dataset.card.audio_format is None:
            raise DatasetError(f"{self.dataset.root}: no audio stored; pass features=<name>")
        idx = (
            self.dataset.split_indices(split) if split is not None else np.arange(len(self.dataset))
        )
        if indices is not None:
            idx = idx[np.asarray(indices, dtype=np.int64)]
        self.indices = np.asarray(idx, dtype=np.int64)
        self.codes = self.dataset.factor_codes
        self.transform = transform
        self._array: Any = None

    def __len__(self) -> int:
        return int(self.indices.size)

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_array"] = None  # reopened in each DataLoader worker
        return state

    def _load(self, i: int) -> np.ndarray:
        if self.features is None:
            return self.dataset.load_audio([i])[0]
        if self._array is None:
            import zarr

            from timbrespace.utils.chunks import check_chunks

            path = self.dataset.features_dir / f"{self.features}.zarr"
            check_chunks(path)
            self._array = zarr.open_array(str(path), mode="r")
        return np.asarray(self._array[i], dtype=np.float32)

    def __getitem__(self, k: int) -> dict[str, Any]:
        i = int(self.indices[k])
        x = torch.from_numpy(np.ascontiguousarray(self._load(i)))
        if self.transform is not None:
            x = self.transform(x)
        return {"x": x, "factors": torch.from_numpy(self.codes[i].copy()), "index": i}
