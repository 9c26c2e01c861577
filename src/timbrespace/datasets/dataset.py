"""The on-disk dataset: ``dataset.json`` + ``metadata.parquet`` + ``audio/`` + ``features/``.

Layout (DESIGN.md, "On disk")::

    DATASET/
      dataset.json          card (DatasetCard)
      metadata.parquet      item_id, audio_path, split, variation, <factor>, <factor>_code
      audio/<item_id>.wav   optional
      features/<name>.zarr  + <name>.json sidecar (written by timbrespace.features)

Every file is written atomically (temporary name, then rename).
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf

from timbrespace import __version__
from timbrespace.datasets.card import (
    CARD_NAME,
    METADATA_NAME,
    DatasetCard,
    FactorSpec,
    factor_table,
)
from timbrespace.datasets.sampling import sample_fixed_factor
from timbrespace.errors import AudioError, DatasetError, ParameterError
from timbrespace.utils.atomic import atomic_path, atomic_write_bytes, atomic_write_json
from timbrespace.utils.audio import encode_audio, read_mono
from timbrespace.utils.chunks import check_chunks
from timbrespace.utils.paths import safe_relpath

__all__ = ["Dataset", "write_card", "write_metadata", "write_metadata_chunks", "write_audio_file", "assign_splits",
           "assign_split_codes", "AUDIO_DIR", "FEATURES_DIR"]

AUDIO_DIR = "audio"
FEATURES_DIR = "features"


def write_card(root: str | Path, card: DatasetCard) -> Path:
    """Write ``dataset.json`` atomically (the library version is filled in)."""
    card.library_version = __version__
    return atomic_write_json(Path(root) / CARD_NAME, card.to_dict())


def write_metadata(root: str | Path, metadata: pd.DataFrame, *, check_ids: bool = True) -> Path:
    """Write ``metadata.parquet`` atomically (no pandas index, deterministic bytes).

    ``check_ids=False`` skips the duplicate-id check (a hash table of every id), for
    callers whose ids are unique by construction (generation: ids are item indices).
    """
    if "item_id" not in metadata.columns:
        raise DatasetError("metadata needs an 'item_id' column")
    if check_ids and metadata["item_id"].duplicated().any():
        dup = metadata.loc[metadata["item_id"].duplicated(), "item_id"].iloc[0]
        raise DatasetError(f"duplicate item_id {dup!r} in metadata")
    with atomic_path(Path(root) / METADATA_NAME) as tmp:
        metadata.reset_index(drop=True).to_parquet(tmp, index=False)
    return Path(root) / METADATA_NAME


# Rows per row group of a metadata.parquet written in chunks: a metadata of up to this many
# items has the bytes of one DataFrame.to_parquet. Larger groups hold more while written
# (issue 29: 65,536 rows left the main process 40 MB larger at 200k items, 16,384 rows 11 MB).
METADATA_ROW_GROUP = 16_384


def write_metadata_chunks(root: str | Path, chunks: Iterable[pd.DataFrame]) -> Path:
    """Write ``metadata.parquet`` atomically from consecutive chunks of rows, one row group each.

    The whole table is never in memory: only one chunk and the Parquet writer's state
    for one row group (issue 29: pyarrow's dictionary encoder holds about 200 bytes per
    row of a column of distinct floats while it writes a row group). A single chunk gives
    the bytes :func:`write_metadata` gives; the ids are not checked for duplicates.

    Parameters
    ----------
    root : path-like
        The dataset folder.
    chunks : iterable of pandas.DataFrame
        Rows in order, each chunk with the columns and dtypes of the first; at most
        ``METADATA_ROW_GROUP`` rows each, so that one chunk is one row group (an empty
        iterable writes nothing and raises).

    Returns
    -------
    pathlib.Path
        The metadata file.

    Raises
    ------
    DatasetError
        No chunk, or no ``item_id`` column.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = Path(root) / METADATA_NAME
    with atomic_path(target) as tmp:
        writer = None
        try:
            for chunk in chunks:
                if writer is None and "item_id" not in chunk.columns:
                    raise DatasetError("metadata needs an 'item_id' column")
                # what DataFrame.to_parquet(index=False) does, one row group at a time
                table = pa.Table.from_pandas(chunk, preserve_index=False,
                                             schema=None if writer is None else writer.schema)
                if writer is None:
                    writer = pq.ParquetWriter(tmp, table.schema, compression="snappy")
                writer.write_table(table)
            if writer is None:
                raise DatasetError("metadata without rows")
        finally:
            if writer is not None:
                writer.close()
    return target


def write_audio_file(path: str | Path, audio: np.ndarray, sample_rate: int, *, subtype: str | None = None) -> Path:
    """Write one mono item atomically as WAV (float32 by default) or FLAC (PCM 24).

    The samples are written as they are: no clipping (float WAV keeps peaks above 1).
    The default encoders give the same bytes on every run (libsndfile's float WAV would
    stamp a PEAK chunk with the time). ``subtype`` forces a libsndfile subtype.
    """
    path = Path(path)
    audio = np.asarray(audio, dtype=np.float32)
    if subtype is None:
        return atomic_write_bytes(path, encode_audio(audio, sample_rate, path.suffix))
    fmt = "FLAC" if path.suffix.lower() == ".flac" else "WAV"
    buf = io.BytesIO()
    sf.write(buf, audio, sample_rate, format=fmt, subtype=subtype)
    return atomic_write_bytes(path, buf.getvalue())


def assign_splits(n_items: int, fractions: dict[str, float], *, seed: int) -> np.ndarray:
    """Reproducible random split labels.

    Parameters
    ----------
    n_items : int
    fractions : dict of str to float
        e.g. ``{"train": 0.8, "valid": 0.1, "test": 0.1}``; must sum to 1.
    seed : int

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=object]
        Split name of each item; counts are ``round(fraction * n_items)`` with the
        remainder going to the first split.

    Examples
    --------
    >>> from timbrespace.datasets import assign_splits
    >>> labels = assign_splits(10, {"train": 0.8, "test": 0.2}, seed=0)
    >>> labels.tolist()
    ['test', 'train', 'train', 'train', 'train', 'train', 'train', 'train', 'train', 'test']
    """
    return np.array(list(fractions), dtype=object)[assign_split_codes(n_items, fractions, seed=seed)]


def assign_split_codes(n_items: int, fractions: dict[str, float], *, seed: int) -> np.ndarray:
    """:func:`assign_splits` as indices into ``list(fractions)``, one byte per item.

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=uint8]

    Raises
    ------
    ParameterError
        Fractions that are negative, do not sum to 1, or are more than 256.

    Examples
    --------
    >>> from timbrespace.datasets.dataset import assign_split_codes
    >>> assign_split_codes(10, {"train": 0.8, "test": 0.2}, seed=0).tolist()
    [1, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    """
    total = sum(fractions.values())
    if not fractions or abs(total - 1.0) > 1e-6 or any(v < 0 for v in fractions.values()):
        raise ParameterError(f"split fractions {fractions} must be non-negative and sum to 1")
    if len(fractions) > 256:
        raise ParameterError(f"{len(fractions)} splits: at most 256")
    names = list(fractions)
    counts = [int(round(fractions[k] * n_items)) for k in names]
    counts[0] += n_items - sum(counts)
    codes = np.repeat(np.arange(len(names), dtype=np.uint8), counts)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EED]))
    return codes[rng.permutation(n_items)]


class Dataset:
    """A dataset folder opened for reading.

    Parameters
    ----------
    root : path-like
        Folder holding ``dataset.json`` and ``metadata.parquet``.

    Raises
    ------
    DatasetError
        If the folder, the card or the metadata is missing or unreadable.

    Examples
    --------
    >>> import tempfile
    >>> from timbrespace.datasets import Dataset, DatasetConfig, generate_dataset
    >>> config = DatasetConfig(name="tiny", sound_model="additive", sample_rate=8000,
    ...                        duration_s=0.1, splits={"train": 0.5, "test": 0.5},
    ...                        parameters={"f0_hz": {"min": 220, "max": 440, "n": 3},
    ...                                    "decay_per_s": {"min": 0, "max": 10, "n": 2}})
    >>> tmp = tempfile.TemporaryDirectory()
    >>> _ = generate_dataset(config, tmp.name + "/tiny", workers=0, progress=False)
    >>> ds = Dataset(tmp.name + "/tiny")
    >>> len(ds), ds.sample_rate, ds.factor_names
    (6, 8000, ['f0_hz', 'decay_per_s'])
    >>> ds.factor_codes.tolist()  # (n_items, n_factors) int64: a 3 x 2 grid
    [[0, 0], [0, 1], [1, 0], [1, 1], [2, 0], [2, 1]]
    >>> ds.factor_values["f0_hz"].tolist()
    [220.0, 220.0, 330.0, 330.0, 440.0, 440.0]
    >>> ds.load_audio(ds.split_indices("train")).shape  # (n, n_samples) float32
    (3, 800)
    >>> tmp.cleanup()
    """

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        if self.root.exists() and not self.root.is_dir():
            raise DatasetError(f"{self.root} is a file, not a dataset folder")
        if not self.root.is_dir():
            raise DatasetError(f"dataset folder {self.root} does not exist")
        self.card = DatasetCard.read(self.root)
        meta_path = self.root / METADATA_NAME
        if not meta_path.is_file():
            raise DatasetError(f"{self.root}: no {METADATA_NAME} (was generation interrupted? run it again to resume)")
        # Only the file's footer is read here: the rows are read on first use of
        # `metadata`, so opening a dataset (e.g. at the end of a generation) costs no
        # memory per item (issue 29).
        import pyarrow.parquet as pq

        try:
            n_rows = pq.ParquetFile(meta_path).metadata.num_rows
        except Exception as exc:  # pyarrow raises several types for corrupt files
            raise DatasetError(f"{meta_path}: unreadable metadata ({exc})") from None
        if n_rows != self.card.n_items:
            raise DatasetError(f"{self.root}: card says {self.card.n_items} items, metadata has {n_rows}")
        self._n_items = int(n_rows)
        self._metadata: pd.DataFrame | None = None

    @property
    def metadata(self) -> pd.DataFrame:
        """One row per item (``item_id``, ``audio_path``, ``split``, factors, ...), read on first use.

        Raises
        ------
        DatasetError
            If the file's rows are unreadable.
        """
        if self._metadata is None:
            meta_path = self.root / METADATA_NAME
            try:
                self._metadata = pd.read_parquet(meta_path)
            except Exception as exc:  # pyarrow raises several types for corrupt files
                raise DatasetError(f"{meta_path}: unreadable metadata ({exc})") from None
        return self._metadata

    # ------------------------------------------------------------------ basics
    def __len__(self) -> int:
        return self._n_items

    def __repr__(self) -> str:
        return f"Dataset({str(self.root)!r}, n_items={len(self)}, factors={self.factor_names})"

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def sample_rate(self) -> int:
        return self.card.sample_rate

    @property
    def factors(self) -> list[FactorSpec]:
        return self.card.factors

    @property
    def factor_names(self) -> list[str]:
        return self.card.factor_names

    @property
    def item_ids(self) -> list[str]:
        return self.metadata["item_id"].astype(str).tolist()

    @property
    def factor_codes(self) -> np.ndarray:
        """Integer codes, ``np.ndarray [shape=(n_items, n_factors), dtype=int64]``."""
        return factor_table(self.metadata, self.factors)

    @property
    def factor_values(self) -> pd.DataFrame:
        """Physical factor values, one column per factor."""
        return self.metadata[self.factor_names]

    def split_indices(self, split: str | Sequence[str]) -> np.ndarray:
        """Item indices of a split (or of several), in item order.

        Raises
        ------
        DatasetError
            If the dataset has no such split.
        """
        names = [split] if isinstance(split, str) else list(split)
        available = sorted(self.metadata["split"].unique().tolist()) if "split" in self.metadata else []
        for s in names:
            if s not in available:
                raise DatasetError(f"{self.root}: no split {s!r}; splits: {', '.join(available) or 'none'}")
        return np.flatnonzero(self.metadata["split"].isin(names).to_numpy())

    # ------------------------------------------------------------------ audio
    def audio_path(self, index: int) -> Path:
        rel = self.metadata["audio_path"].iloc[index]
        if rel is None or (isinstance(rel, float) and np.isnan(rel)):
            raise DatasetError(f"{self.root}: item {index} has no audio (features-only dataset)")
        # the metadata may name only files inside the dataset's folder
        return self.root / safe_relpath(rel, what=f"{self.root}: item {index}: audio_path", error=DatasetError)

    def load_audio(self, indices: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Read items' audio.

        Parameters
        ----------
        indices : sequence of int, optional
            Items to read (default: all).

        Returns
        -------
        np.ndarray [shape=(n, n_samples), dtype=float32]
            Padded with zeros or trimmed to the card's ``n_samples`` (or the longest item
            if the dataset is ragged).

        Raises
        ------
        DatasetError
            A file is missing or unreadable (named).
        """
        idx = np.arange(len(self)) if indices is None else np.asarray(indices, dtype=np.int64)
        items: list[np.ndarray] = []
        for i in idx:
            path = self.audio_path(int(i))
            try:
                y, sr = read_mono(path)
            except AudioError as exc:
                raise DatasetError(str(exc)) from None
            if sr != self.sample_rate:
                raise DatasetError(f"{path}: sample rate {sr} Hz, dataset says {self.sample_rate} Hz")
            items.append(y)
        n_samples = self.card.n_samples or max((len(y) for y in items), default=0)
        out = np.zeros((len(items), n_samples), dtype=np.float32)
        for k, y in enumerate(items):
            m = min(n_samples, len(y))
            out[k, :m] = y[:m]
        return out

    # ------------------------------------------------------------------ features
    @property
    def features_dir(self) -> Path:
        return self.root / FEATURES_DIR

    def feature_names(self) -> list[str]:
        """Names of the stored feature sets (those with a sidecar)."""
        if not self.features_dir.is_dir():
            return []
        return sorted(p.stem for p in self.features_dir.glob("*.json") if (self.features_dir / f"{p.stem}.zarr").exists())

    def feature_sidecar(self, name: str) -> dict[str, Any]:
        """The JSON sidecar of feature set ``name`` (transform + normalisation)."""
        path = self.features_dir / f"{name}.json"
        if not path.is_file():
            raise DatasetError(
                f"{self.root}: no features {name!r}; available: {', '.join(self.feature_names()) or 'none'}"
            )
        return json.loads(path.read_text())

    def load_features(self, name: str, indices: Sequence[int] | np.ndarray | None = None) -> np.ndarray:
        """Read stored features ``(n, ...)`` float32 from ``features/<name>.zarr``.

        Raises
        ------
        DatasetError
            No such feature set, or a chunk file of it is missing or cut short
            (:func:`timbrespace.utils.chunks.check_chunks`).
        """
        import zarr

        self.feature_sidecar(name)
        path = self.features_dir / f"{name}.zarr"
        check_chunks(path)  # a missing chunk would read as zeros
        arr = zarr.open_array(str(path), mode="r")
        if indices is None:
            return np.asarray(arr[:], dtype=np.float32)
        idx = np.asarray(indices, dtype=np.int64)
        return np.asarray(arr.oindex[idx], dtype=np.float32) if idx.size else np.zeros((0, *arr.shape[1:]), np.float32)

    # ------------------------------------------------------------------ sampling
    def sample_fixed_factor(self, factor_index: int, n: int, *,
                            random_state: int | np.random.Generator | None = None) -> tuple[np.ndarray, int]:
        """Indices of ``n`` items sharing one value of factor ``factor_index`` (and that code).

        For the β-VAE and FactorVAE scores; see
        :func:`timbrespace.datasets.sampling.sample_fixed_factor`.
        """
        return sample_fixed_factor(self.factor_codes, factor_index, n, random_state=random_state)
