"""Features of a whole dataset on disk: ``features/<name>.zarr`` + ``features/<name>.json``.

The zarr array (float32, chunked along items by ``batch_size``) is written chunk by
chunk; a chunk already on disk is skipped, so an interrupted run resumes. Per-item
min/max (``minmax_item``) go to a companion array ``<name>.item_stats.zarr`` next to it
while running (so that a resumed run still knows them) and into the sidecar at the end.
The sidecar is written last, atomically: a feature set is complete when its JSON exists.
Just before it, ``<name>.chunks.json`` records every chunk file and its size, which
``Dataset.load_features`` checks (:mod:`timbrespace.utils.chunks`): a lost chunk fails
with its file named instead of reading as zeros.
``standardize`` statistics are fitted on the ``train`` split first (all items if the
dataset has no train split) and kept in the array's attributes.
"""

from __future__ import annotations

import logging
import re
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from timbrespace.errors import DatasetError, ParameterError
from timbrespace.features.api import make_sidecar
from timbrespace.features.config import FeatureConfig
from timbrespace.features.normalization import NormStats, apply_normalization, item_minmax
from timbrespace.features.transforms import forward
from timbrespace.utils.atomic import atomic_write_json
from timbrespace.utils.chunks import check_chunks, manifest_path, write_chunk_manifest
from timbrespace.utils.lock import folder_lock
from timbrespace.utils.paths import safe_name

__all__ = ["AudioItems", "InversionSummary", "compute_dataset_features", "default_feature_name", "invert_items"]

logger = logging.getLogger(__name__)

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+-]*$")


class AudioItems(Protocol):
    """What :func:`compute_dataset_features` reads from a dataset: the part of
    :class:`timbrespace.datasets.Dataset` it needs (features know nothing else of datasets)."""

    root: Path
    metadata: pd.DataFrame
    card: Any  # ``.n_samples``: samples per item, or 0/None for a ragged dataset

    def __len__(self) -> int: ...

    @property
    def sample_rate(self) -> int: ...

    @property
    def item_ids(self) -> list[str]: ...

    @property
    def features_dir(self) -> Path: ...

    def audio_path(self, index: int) -> Path: ...

    def load_audio(self, indices: Sequence[int] | np.ndarray | None = None) -> np.ndarray: ...

    def split_indices(self, split: str) -> np.ndarray: ...

    def feature_sidecar(self, name: str) -> dict[str, Any]: ...

    def load_features(self, name: str, indices: Sequence[int] | np.ndarray | None = None) -> np.ndarray: ...


def default_feature_name(config: FeatureConfig) -> str:
    """A readable name such as ``stft_1024_256_db`` or ``mel_2048_512_128_db_minmax_item``.

    Examples
    --------
    >>> from timbrespace.features import FeatureConfig, default_feature_name
    >>> default_feature_name(FeatureConfig(kind="stft", n_fft=1024, hop_length=256, output="db"))
    'stft_1024_256_db'
    >>> default_feature_name(FeatureConfig(kind="mel", n_fft=2048, hop_length=512,
    ...                                    normalization="minmax_item"))
    'mel_2048_512_128_db_minmax_item'
    """
    parts = [config.kind]
    if config.kind == "cqt":
        parts += [str(config.hop_length), str(config.n_bins), str(config.bins_per_octave)]
    elif config.kind == "nsgt":
        parts += [str(config.bins_per_octave)]
    else:
        parts += [str(config.n_fft), str(config.hop_length)]
    if config.kind == "mel":
        parts.append(str(config.n_mels))
    if config.single_frame:
        parts.append("frame")
    parts.append(str(config.output))
    if config.normalization != "none":
        parts.append(config.normalization)
    return "_".join(parts)


def _open_or_create(path: Path, shape: tuple[int, ...], chunks: tuple[int, ...], attrs: dict[str, Any]) -> Any:
    import zarr

    if path.exists():
        try:
            arr = zarr.open_array(str(path), mode="r+")
            if tuple(arr.shape) == shape and tuple(arr.chunks) == chunks and dict(arr.attrs) == attrs:
                return arr
        except Exception as exc:  # unreadable leftovers from a killed run: start again
            logger.debug("cannot reuse %s (%s)", path, exc)
        logger.info("%s holds other features or is damaged: recomputing", path)
        shutil.rmtree(path)
    arr = zarr.create_array(store=str(path), shape=shape, chunks=chunks, dtype="float32", fill_value=0.0)
    arr.attrs.update(attrs)
    return arr


def _chunk_done(path: Path, chunk_index: int, ndim: int) -> bool:
    # zarr 3 default chunk keys: c/<i>/0/0...; a chunk file exists once it was written
    return (path / "c" / str(chunk_index) / Path(*(["0"] * (ndim - 1)))).is_file()


def compute_dataset_features(
    dataset: AudioItems,
    config: FeatureConfig | Mapping[str, Any],
    *,
    name: str | None = None,
    batch_size: int = 256,
    progress: bool = False,
    overwrite: bool = False,
) -> str:
    """Compute features for every item of a dataset and store them with their sidecar.

    Parameters
    ----------
    dataset : Dataset
        An opened :class:`timbrespace.datasets.Dataset` (anything with its
        :class:`AudioItems` interface).
    config : FeatureConfig or dict
    name : str, optional
        Feature set name (default :func:`default_feature_name`).
    batch_size : int
        Items per batch and per zarr chunk.
    progress : bool
        Show a progress bar (rich).
    overwrite : bool
        Replace a complete feature set of this name computed with another config
        (refused otherwise). The same config is never recomputed; an incomplete set
        (no sidecar: an interrupted run) is resumed or replaced.

    Returns
    -------
    str
        The feature set name; read it back with ``dataset.load_features(name)`` and
        ``dataset.feature_sidecar(name)``.

    Raises
    ------
    ParameterError
        Bad name or batch size, a frame length (``n_fft``) longer than the items or a
        frequency bound at or above Nyquist (:meth:`FeatureConfig.check_audio`;
        ``FeatureConfigError`` for a bad config).
    DatasetError
        Unreadable audio; a complete feature set ``name`` with another config and no
        ``overwrite``; another process computing features of this dataset.
    """
    ds = dataset
    cfg = config if isinstance(config, FeatureConfig) else FeatureConfig(**dict(config))
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ParameterError(f"batch_size={batch_size!r} must be a positive integer")
    name = name or default_feature_name(cfg)
    if not _NAME_RE.match(name):
        raise ParameterError(f"name={name!r} must be letters, digits, '_', '-', '.', '+' (not starting with a symbol)")
    n_items = len(ds)
    if n_items == 0:
        raise DatasetError(f"{ds.root}: no items to compute features for")
    n_samples = cfg.n_samples or _n_samples(ds)
    cfg.check_audio(n_samples, ds.sample_rate)
    out_dir = ds.features_dir
    with folder_lock(out_dir, what="features"):
        return _compute_locked(ds, cfg, name, batch_size, progress, overwrite, n_samples)


def _compute_locked(ds: AudioItems, cfg: FeatureConfig, name: str, batch_size: int, progress: bool,
                    overwrite: bool, n_samples: int) -> str:
    """:func:`compute_dataset_features` once the arguments are valid and the lock is held."""
    n_items = len(ds)
    out_dir = ds.features_dir
    sidecar_path = out_dir / f"{name}.json"
    zarr_path = out_dir / f"{name}.zarr"
    sr = ds.sample_rate
    probe = _load(ds, np.array([0]), n_samples)
    item_shape = forward(probe, cfg, sample_rate=sr).shape[1:]
    if sidecar_path.is_file():
        import json

        old = json.loads(sidecar_path.read_text())
        same = old.get("config") == cfg.model_dump(mode="json") and old.get("n_samples") == n_samples
        if zarr_path.exists() and same:
            try:
                check_chunks(zarr_path)
            except DatasetError as exc:  # damaged: computed again, as the error message says
                logger.warning("%s", str(exc).split("; ")[0] + "; recomputing")
            else:
                logger.info("features %r already complete", name)
                return name
        elif not overwrite:
            raise DatasetError(
                f"{ds.root}: feature set {name!r} exists with another config; choose another --name or pass --overwrite"
            )
        shutil.rmtree(zarr_path, ignore_errors=True)
    sidecar_path.unlink(missing_ok=True)
    manifest_path(zarr_path).unlink(missing_ok=True)

    attrs: dict[str, Any] = {"config": cfg.model_dump(mode="json"), "sample_rate": sr, "n_samples": n_samples}
    if cfg.normalization == "standardize":
        attrs.update(_standardize_stats(ds, cfg, batch_size, n_samples, zarr_path, attrs))
    arr = _open_or_create(zarr_path, (n_items, *item_shape), (batch_size, *item_shape), attrs)
    stats_path = out_dir / f"{name}.item_stats.zarr"
    stats_arr = None
    if cfg.normalization == "minmax_item":
        stats_arr = _open_or_create(stats_path, (n_items, 2), (batch_size, 2), attrs)
    starts = list(range(0, n_items, batch_size))
    for chunk_index, start in enumerate(_progress(starts, f"features {name}") if progress else starts):
        if _chunk_done(zarr_path, chunk_index, arr.ndim) and (
            stats_arr is None or _chunk_done(stats_path, chunk_index, 2)
        ):
            continue
        idx = np.arange(start, min(start + batch_size, n_items))
        arr[start : start + len(idx)] = _normalized_chunk(ds, idx, n_samples, cfg, attrs, stats_arr, start)
    norm: dict[str, Any] = {"kind": cfg.normalization}
    if stats_arr is not None:
        stats = np.asarray(stats_arr[:], dtype=np.float64)
        norm.update(item_min=stats[:, 0].tolist(), item_max=stats[:, 1].tolist())
    elif cfg.normalization == "standardize":
        norm.update(mean=attrs["mean"], std=attrs["std"], fitted_on="train" if _has_train(ds) else "all")
    norm["value_range"] = _value_range(arr, batch_size)
    sidecar = make_sidecar(cfg, sample_rate=sr, n_samples=n_samples, shape=item_shape, normalization=norm)
    sidecar["item_ids"] = ds.item_ids
    write_chunk_manifest(zarr_path)  # before the sidecar, which marks the set complete
    atomic_write_json(sidecar_path, sidecar)
    if stats_arr is not None:
        shutil.rmtree(stats_path, ignore_errors=True)
    logger.info("wrote %s (%d items, shape %s)", zarr_path, n_items, item_shape)
    return name


def _value_range(arr: Any, batch_size: int) -> list[float]:
    """Smallest and largest stored value, read one chunk at a time (memory bounded by the batch)."""
    lo, hi = np.inf, -np.inf
    for start in range(0, arr.shape[0], batch_size):
        chunk = np.asarray(arr[start : start + batch_size])
        lo, hi = min(lo, float(chunk.min())), max(hi, float(chunk.max()))
    return [lo, hi]


def _standardize_stats(ds: AudioItems, cfg: FeatureConfig, batch_size: int, n_samples: int, zarr_path: Path,
                       attrs: dict[str, Any]) -> dict[str, Any]:
    """Per-row mean and std: those of an interrupted run of the same features, or fitted now."""
    previous = _stored_attrs(zarr_path)
    if all(previous.get(k) == v for k, v in attrs.items()) and "mean" in previous and "std" in previous:
        return {"mean": previous["mean"], "std": previous["std"]}  # resume: keep the fitted statistics
    mean, std = _fit_standardize(ds, cfg, batch_size, n_samples)
    return {"mean": mean.tolist(), "std": std.tolist()}


def _normalized_chunk(ds: AudioItems, idx: np.ndarray, n_samples: int, cfg: FeatureConfig, attrs: dict[str, Any],
                      stats_arr: Any, start: int) -> np.ndarray:
    """Features of items ``idx``, normalised; ``minmax_item`` ranges go to ``stats_arr``."""
    raw = forward(_load(ds, idx, n_samples), cfg, sample_rate=ds.sample_rate)
    if cfg.normalization == "minmax_item":
        lo, hi = item_minmax(raw)
        stats_arr[start : start + len(idx)] = np.stack([lo, hi], axis=1).astype(np.float32)
        return apply_normalization(raw, "minmax_item", item_min=lo, item_max=hi)
    if cfg.normalization == "standardize":
        return apply_normalization(raw, "standardize", mean=np.asarray(attrs["mean"]), std=np.asarray(attrs["std"]))
    return raw


def _stored_attrs(path: Path) -> dict[str, Any]:
    import zarr

    if not path.exists():
        return {}
    try:
        return dict(zarr.open_array(str(path), mode="r").attrs)
    except Exception:
        return {}


def _has_train(ds: AudioItems) -> bool:
    return "split" in ds.metadata and bool((ds.metadata["split"] == "train").any())


def _n_samples(ds: AudioItems) -> int:
    """Samples per item: the card's, or the longest file of a ragged dataset."""
    if ds.card.n_samples:
        return int(ds.card.n_samples)
    import soundfile as sf

    return max(sf.info(str(ds.audio_path(i))).frames for i in range(len(ds)))


def _load(ds: AudioItems, indices: np.ndarray, n_samples: int) -> np.ndarray:
    audio = ds.load_audio(indices)
    if audio.shape[1] != n_samples:  # ragged dataset: every batch to the same length
        fixed = np.zeros((len(audio), n_samples), dtype=np.float32)
        m = min(n_samples, audio.shape[1])
        fixed[:, :m] = audio[:, :m]
        audio = fixed
    return audio


def _fit_standardize(ds: AudioItems, cfg: FeatureConfig, batch_size: int, n_samples: int) -> tuple[np.ndarray, np.ndarray]:
    idx_all = ds.split_indices("train") if _has_train(ds) else np.arange(len(ds))
    stats = NormStats()
    for start in range(0, len(idx_all), batch_size):
        audio = _load(ds, idx_all[start : start + batch_size], n_samples)
        stats.update(forward(audio, cfg, sample_rate=ds.sample_rate))
    return stats.mean_std()


def _progress(items: list[int], label: str) -> Any:
    from rich.console import Console
    from rich.progress import track

    return track(items, description=label, console=Console(stderr=True))  # stdout stays the command's output


def invert_items(
    dataset: AudioItems,
    features: str,
    out_dir: str | Path,
    *,
    items: Sequence[str] | None = None,
    array: np.ndarray | None = None,
    method: str = "auto",
    n_iter: int | None = None,
    batch_size: int = 64,
    overwrite: bool = False,
    progress: bool = False,
) -> InversionSummary:
    """Turn a stored feature set (or a model's output in its layout) back into WAV files.

    Parameters
    ----------
    dataset : Dataset
        An opened :class:`timbrespace.datasets.Dataset` holding feature set ``features``.
    features : str
        Feature set name; its sidecar says how to invert it.
    out_dir : path-like
        Folder for ``<item_id>.wav`` (float32 WAV at the sidecar's sample rate).
    items : sequence of str, optional
        Item ids to invert (default: every item).
    array : np.ndarray [shape=(n, *item_shape)], optional
        Features to invert instead of the stored ones (e.g. decoded by a model): one row
        per item of ``items``, or one per item of the dataset.
    method, n_iter :
        As :func:`~timbrespace.features.invert`.
    batch_size : int
        Items per inversion batch.
    overwrite : bool
        Replace WAV files already in ``out_dir`` under the names this writes (an earlier
        inversion's); refused otherwise, before anything is written.
    progress : bool
        A bar over the batches on stderr.

    Returns
    -------
    InversionSummary
        Files written and the spectral convergence of each phase-retrieved item.

    Raises
    ------
    ParameterError
        Unknown or repeated item ids, an ``array`` of the wrong length, a bad ``batch_size``,
        or ``n_iter`` outside ``0..1000``.
    DatasetError
        Missing feature set; ``out_dir`` a file, inside the dataset, or holding a file
        this would write (without ``overwrite``).
    """
    from timbrespace.features.api import as_sidecar, invert
    from timbrespace.features.phase import check_n_iter
    from timbrespace.utils.atomic import atomic_write_bytes
    from timbrespace.utils.audio import encode_audio, peak_safe
    from timbrespace.utils.progress import track

    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size <= 0:
        raise ParameterError(f"batch_size={batch_size!r} must be a positive integer")
    check_n_iter(n_iter)
    sidecar = as_sidecar(dataset.feature_sidecar(features))
    ids = dataset.item_ids
    indices = _item_indices(ids, items)
    if array is not None and len(array) not in (len(indices), len(ids)):
        raise ParameterError(f"array has {len(array)} rows; expected {len(indices)} or {len(ids)}")
    if array is not None and len(array) == len(ids):
        array = array[indices]
    out = Path(out_dir)
    names = [safe_name(ids[int(k)], what=f"{dataset.root}: item_id", error=DatasetError) + ".wav" for k in indices]
    _check_inversion_folder(out, names, dataset.root, overwrite)
    written: list[Path] = []
    convergence: list[float] = []
    starts = range(0, len(indices), batch_size)
    for start in track(starts, "invert", enabled=progress, unit=f"batches of {batch_size} items"):
        idx = indices[start : start + batch_size]
        feats = dataset.load_features(features, idx) if array is None else array[start : start + batch_size]
        result = invert(feats, sidecar, method=method, n_iter=n_iter, indices=idx, return_info=True)
        if result.spectral_convergence is not None:
            convergence.extend(float(v) for v in result.spectral_convergence)
        for k, y in zip(idx, result.audio, strict=True):
            path = out / f"{ids[int(k)]}.wav"
            written.append(atomic_write_bytes(path, encode_audio(peak_safe(y, name=str(path)), sidecar.sample_rate,
                                                                 ".wav")))
    return InversionSummary(tuple(written), np.asarray(convergence, dtype=np.float64))


def _check_inversion_folder(out: Path, names: list[str], dataset_root: Path, overwrite: bool) -> None:
    """Refuse an ``out`` that would lose what the user has: a file, the dataset, earlier WAVs."""
    if out.exists() and not out.is_dir():
        raise DatasetError(f"--out {out} is a file, not a folder; choose another --out")
    root = Path(dataset_root).resolve()
    if out.resolve() == root or root in out.resolve().parents:
        raise DatasetError(f"--out {out} is inside the dataset {dataset_root}; writing there would change it: "
                           "choose another --out")
    existing = [name for name in names if (out / name).exists()]
    if existing and not overwrite:
        shown = ", ".join(existing[:3]) + (" …" if len(existing) > 3 else "")
        raise DatasetError(f"--out {out} already holds {len(existing)} of the {len(names)} WAV files this would "
                           f"write ({shown}); nothing was replaced: choose another --out or pass --overwrite")


def _item_indices(ids: list[str], items: Sequence[str] | None) -> np.ndarray:
    if not items:
        return np.arange(len(ids))
    lookup = {item_id: k for k, item_id in enumerate(ids)}
    missing = [w for w in items if w not in lookup]
    if missing:
        raise ParameterError(f"items: unknown item ids {missing[:5]}")
    twice = sorted({w for w in items if list(items).count(w) > 1})
    if twice:  # one file per item: a repeated id would be written twice and counted twice
        raise ParameterError(f"items: item ids given more than once {twice[:5]}; give each once")
    return np.array([lookup[w] for w in items], dtype=np.int64)


@dataclass(frozen=True)
class InversionSummary:
    """What :func:`invert_items` wrote.

    Attributes
    ----------
    paths : tuple of Path
        One WAV file per item.
    spectral_convergence : np.ndarray [shape=(n_retrieved,), dtype=float64]
        Per item whose phase was retrieved (empty for exact inverses).
    """

    paths: tuple[Path, ...]
    spectral_convergence: np.ndarray
