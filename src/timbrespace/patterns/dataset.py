"""Groove datasets: a folder of MIDI files → bars on a grid, de-duplicated, split.

On disk (DESIGN.md, "On disk")::

    DATASET/
      dataset.json               card: source folder, drum map, grid, skipped files, counts
      metadata.parquet           item_id, audio_path (None), split, variation, source_file,
                                 bar_index, library, style, style_code, n_hits, bpm
      features/patterns.zarr     float32 (n_items, n_steps, n_voices), velocity in [0, 1]
      features/patterns.json     sidecar: drum map, voice names and GM notes, grid, "offsets"
      features/patterns_offsets.zarr
                                 float32 (n_items, n_steps, n_voices), micro-timing of each hit
                                 in steps, in [-0.5, 0.5], 0 where no hit

Together these are GrooVAE's matrices (Gillick et al. 2019): hits H = ``patterns > 0``,
velocities V = ``patterns``, offsets O. The offsets store has no sidecar of its own, so
the dataset still holds one feature set (``patterns``); the patterns sidecar names it
(``"offsets": {"store": "patterns_offsets.zarr", ...}``), and a dataset written before
offsets were kept has no such key (:func:`load_offsets` returns None).

``Dataset(root).load_features("patterns")`` reads the patterns back;
:func:`load_patterns` adds the split selection, :func:`load_offsets` the offsets.

Splits are drawn per *style group* (the ``style`` part of ``lib__style__variant.mid``,
trailing digits removed), not per bar, so variants of one groove (``50sRock``,
``50sRockPlus``) never sit on both sides of the train/test line. De-duplication runs after
the split with priority train → valid → test: a bar already in train is dropped from
valid and test, so held-out scores never count memorised bars.
"""

from __future__ import annotations

import logging
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from timbrespace.datasets import DatasetCard, FactorSpec, encode_factor
from timbrespace.datasets.card import CARD_NAME
from timbrespace.datasets.dataset import (
    FEATURES_DIR,
    Dataset,
    assign_splits,
    write_card,
    write_metadata,
)
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.patterns.drum_maps import get_drum_map
from timbrespace.patterns.midi import read_midi, steps_in_bar
from timbrespace.utils.atomic import atomic_write_json
from timbrespace.utils.limits import check_seed
from timbrespace.utils.outputs import check_output_folder, output_folder

__all__ = ["GrooveDatasetConfig", "IngestReport", "build_groove_dataset", "load_patterns", "load_offsets",
           "style_of", "PATTERNS_FEATURE", "OFFSETS_STORE"]

logger = logging.getLogger(__name__)

PATTERNS_FEATURE = "patterns"
OFFSETS_STORE = "patterns_offsets.zarr"
"""The offsets beside the patterns, in ``features/`` (no sidecar: not a feature set of its own)."""
_SPLIT_ORDER = ("train", "valid", "test")


@dataclass(frozen=True)
class GrooveDatasetConfig:
    """How MIDI files become a groove dataset.

    Parameters
    ----------
    steps_per_bar : int
        Steps in a 4/4 bar (16 default; seed 004 used 64).
    drum_map : {"magenta9", "seed8"}
    time_signature : tuple of (int, int)
        Meter kept; bars in other meters are counted in the card, not stored.
    dedup : {"hits", "pattern", "none"}
        Key of de-duplication: the hit grid only (velocities ignored), the exact velocity
        pattern, or nothing.
    drop_empty : bool
        Drop bars without a single hit.
    splits : tuple of (str, float)
        Split names and fractions of style groups (sum 1).
    split_by : {"style", "file"}
        Unit of the random split.
    seed : int
        Seed of the split.
    """

    steps_per_bar: int = 16
    drum_map: str = "magenta9"
    time_signature: tuple[int, int] = (4, 4)
    dedup: Literal["hits", "pattern", "none"] = "hits"
    drop_empty: bool = True
    splits: tuple[tuple[str, float], ...] = (("train", 0.8), ("valid", 0.1), ("test", 0.1))
    split_by: Literal["style", "file"] = "style"
    seed: int = 0

    def __post_init__(self) -> None:
        get_drum_map(self.drum_map)
        check_seed(self.seed)
        if self.dedup not in ("hits", "pattern", "none"):
            raise ParameterError(f"dedup={self.dedup!r}: allowed hits, pattern, none")
        if self.split_by not in ("style", "file"):
            raise ParameterError(f"split_by={self.split_by!r}: allowed style, file")
        if steps_in_bar(self.steps_per_bar / 4, self.time_signature) is None:
            raise ParameterError(
                f"steps_per_bar={self.steps_per_bar} gives no whole number of steps in a "
                f"{self.time_signature[0]}/{self.time_signature[1]} bar")


@dataclass(frozen=True)
class IngestReport:
    """What :func:`build_groove_dataset` read, kept and dropped."""

    n_files: int
    n_bars_read: int
    n_items: int
    n_empty: int
    n_duplicates: int
    n_other_meter: int
    split_counts: dict[str, int] = field(default_factory=dict)
    skipped_files: dict[str, str] = field(default_factory=dict)


def style_of(path: str | Path) -> tuple[str, str]:
    """``(library, style)`` from a file name ``lib__style__variant.mid`` (trailing digits dropped).

    Examples
    --------
    >>> style_of("stdlib__50srock__50sRockPlus.mid")
    ('stdlib', '50srock')
    >>> style_of("pflib__8beat2.mid")
    ('pflib', '8beat')
    """
    parts = Path(path).stem.split("__")
    library, style = (parts[0], parts[1]) if len(parts) >= 2 else ("", parts[0])
    return library, (re.sub(r"\d+$", "", style) or style).lower()


def build_groove_dataset(midi_dir: str | Path, out: str | Path, *,
                         config: GrooveDatasetConfig | None = None, overwrite: bool = False) -> IngestReport:
    """Read every ``*.mid``/``*.midi`` under ``midi_dir`` and write a groove dataset to ``out``.

    Broken files are logged by name, listed in the card (``extra.skipped_files``) and
    skipped. See the module docstring for the layout, split and de-duplication rules.

    Parameters
    ----------
    midi_dir : path-like
    out : path-like
        Dataset folder (created). A dataset already there is replaced only with
        ``overwrite``; a folder that is not a dataset, or one holding ``midi_dir``, never.
    config : GrooveDatasetConfig, optional
    overwrite : bool
        Replace the dataset already at ``out``.

    Returns
    -------
    IngestReport

    Raises
    ------
    DatasetError
        ``midi_dir`` is missing, holds no MIDI files, or no bar survives; ``out`` holds
        a dataset (without ``overwrite``) or anything else; another writer holds ``out``.
    """
    cfg = config or GrooveDatasetConfig()
    midi_dir, out = Path(midi_dir), Path(out)
    if not midi_dir.is_dir():
        raise DatasetError(f"MIDI folder {midi_dir} does not exist")
    files = sorted(p for p in midi_dir.rglob("*") if p.suffix.lower() in (".mid", ".midi") and p.is_file())
    if not files:
        raise DatasetError(f"{midi_dir}: no .mid/.midi files")
    check_output_folder(out, marker=CARD_NAME, what="dataset", overwrite=overwrite, inputs=[midi_dir])

    read = _read_bars(files, midi_dir, cfg)
    meta = read.meta
    unit = meta["style"] if cfg.split_by == "style" else meta["source_file"]
    groups = sorted(unit.unique().tolist())
    labels = assign_splits(len(groups), dict(cfg.splits), seed=cfg.seed)
    meta["split"] = unit.map(dict(zip(groups, labels, strict=True))).astype(str)

    keep, n_empty, n_dup = _kept_bars(read.x, meta["split"], cfg)
    x, o, meta = read.x[keep], read.offsets[keep], meta[keep].reset_index(drop=True)
    if len(x) == 0:
        raise DatasetError(f"{midi_dir}: no drum bar: every bar is empty (no drum notes on MIDI channel 10: "
                           f"{n_empty}) or a duplicate ({n_dup})")
    meta, style_spec = _item_table(meta, x)

    dmap = get_drum_map(cfg.drum_map)
    split_counts = {s: int((meta["split"] == s).sum()) for s, _ in cfg.splits}
    skipped, n_other = read.skipped, read.n_other_meter
    report = IngestReport(len(files), read.n_bars_read, len(x), n_empty, n_dup, n_other, split_counts, skipped)
    with output_folder(out, marker=CARD_NAME, what="dataset", command="drums ingest", overwrite=overwrite,
                       inputs=[midi_dir]):
        _write_array(out, f"{PATTERNS_FEATURE}.zarr", x)
        _write_array(out, OFFSETS_STORE, o)
        atomic_write_json(out / FEATURES_DIR / f"{PATTERNS_FEATURE}.json", {
            "kind": "drum_pattern", "drum_map": dmap.name, "voice_names": dmap.voice_names,
            "output_notes": dmap.output_notes.tolist(), "steps_per_bar": x.shape[1],
            "steps_per_quarter": cfg.steps_per_bar / 4, "time_signature": list(cfg.time_signature),
            "velocity": "MIDI velocity / 127, 0 = no hit", "shape": list(x.shape),
            "offsets": {"store": OFFSETS_STORE, "unit": "steps", "range": [-0.5, 0.5],
                        "meaning": "onset minus its nearest step, of the hit kept in each cell; 0 = no hit"},
        })
        write_metadata(out, meta)
        cfg_dict = asdict(cfg)
        card = DatasetCard(
            name=out.name, source={"kind": "ingest", "layout": "midi_grooves", "path": str(midi_dir)},
            factors=[style_spec], sample_rate=0, n_samples=None, n_items=len(x), seed=cfg.seed,
            splits=split_counts, audio_format=None,
            extra={"patterns": {"config": cfg_dict, "feature": PATTERNS_FEATURE},
                   "ingest": {k: v for k, v in asdict(report).items()}},
        )
        write_card(out, card)
    logger.debug("%s: %d bars from %d files (%d duplicates, %d empty, %d in other meters, %d files skipped)",
                out, len(x), len(files) - len(skipped), n_dup, n_empty, n_other, len(skipped))
    return report


@dataclass(frozen=True)
class _ReadBars:
    """The bars of the grid's meter read from the MIDI files, one metadata row each, and what was passed over."""

    x: np.ndarray  # [shape=(n, n_steps, n_voices), dtype=float32] velocities
    offsets: np.ndarray  # [shape=(n, n_steps, n_voices), dtype=float32] micro-timing in steps
    meta: pd.DataFrame  # source_file, bar_index, library, style, bpm
    skipped: dict[str, str]  # file (relative to the MIDI folder) → why it could not be read
    n_bars_read: int
    n_other_meter: int


def _read_bars(files: list[Path], midi_dir: Path, cfg: GrooveDatasetConfig) -> _ReadBars:
    """Read each file's bars in ``cfg.time_signature``; an unreadable file is logged and skipped.

    Raises
    ------
    DatasetError
        No bar of the meter in any readable file.
    """
    skipped: dict[str, str] = {}
    rows: list[dict[str, object]] = []
    bars: list[np.ndarray] = []
    bar_offsets: list[np.ndarray] = []
    n_bars_read = n_other = 0
    for f in files:
        try:
            groove = read_midi(f, drum_map=cfg.drum_map, steps_per_bar=cfg.steps_per_bar)
        except DatasetError as exc:
            logger.warning("skipping %s", exc)
            skipped[str(f.relative_to(midi_dir))] = str(exc)
            continue
        n_bars_read += len(groove.bars) + len(groove.skipped)
        patterns, offsets, indices = groove.patterns_and_offsets(cfg.time_signature)
        n_other += len(groove.bars) + len(groove.skipped) - len(indices)
        library, style = style_of(f)
        for pattern, offset, index in zip(patterns, offsets, indices, strict=True):
            bars.append(pattern)
            bar_offsets.append(offset)
            rows.append({"source_file": str(f.relative_to(midi_dir)), "bar_index": int(index),
                         "library": library, "style": style, "bpm": groove.bpm})
    if not bars:
        why = f" ({len(skipped)} of {len(files)} files skipped, e.g. {next(iter(skipped.values()))})" if skipped else ""
        raise DatasetError(
            f"{midi_dir}: no {cfg.time_signature[0]}/{cfg.time_signature[1]} bars in any readable file{why}")
    return _ReadBars(np.stack(bars).astype(np.float32), np.stack(bar_offsets).astype(np.float32), pd.DataFrame(rows),
                     skipped, n_bars_read, n_other)


def _kept_bars(x: np.ndarray, split: pd.Series, cfg: GrooveDatasetConfig) -> tuple[np.ndarray, int, int]:
    """``(keep mask, n_empty, n_duplicates)``: empty bars (``cfg.drop_empty``) and repeats (``cfg.dedup``) dropped.

    Of repeated bars the first is kept in split order (train, valid, test), then file order,
    so that a test bar repeating a training bar is the one dropped.
    """
    keep = np.ones(len(x), bool)
    hits = (x > 0).reshape(len(x), -1)
    n_empty = 0
    if cfg.drop_empty:
        empty = ~hits.any(axis=1)
        n_empty = int(empty.sum())
        keep &= ~empty
    n_dup = 0
    if cfg.dedup != "none":
        keys = hits if cfg.dedup == "hits" else x.reshape(len(x), -1)
        seen: set[bytes] = set()
        split_rank = {s: k for k, s in enumerate(_SPLIT_ORDER)}
        order = sorted(range(len(x)), key=lambda i: (split_rank.get(split.iat[i], 99), i))
        for i in order:
            if not keep[i]:
                continue
            key = np.packbits(keys[i]).tobytes() if cfg.dedup == "hits" else keys[i].tobytes()
            if key in seen:
                keep[i] = False
                n_dup += 1
            else:
                seen.add(key)
    return keep, n_empty, n_dup


def _item_table(meta: pd.DataFrame, x: np.ndarray) -> tuple[pd.DataFrame, FactorSpec]:
    """The metadata table of the kept bars in its column order, and the style factor's spec."""
    style_codes, style_spec = encode_factor(meta["style"].to_numpy(), name="style", doc="groove style from the file name")
    meta.insert(0, "item_id", [f"{Path(s).stem}-bar{b:03d}" for s, b in zip(meta["source_file"], meta["bar_index"], strict=True)])
    meta.insert(1, "audio_path", pd.Series([None] * len(meta), dtype=object))
    meta.insert(3, "variation", 0)
    meta["style_code"] = style_codes
    meta["n_hits"] = (x > 0).reshape(len(x), -1).sum(axis=1).astype(np.int64)
    meta = meta[["item_id", "audio_path", "split", "variation", "source_file", "bar_index", "library",
                 "style", "style_code", "n_hits", "bpm"]]
    return meta, style_spec


def _write_array(root: Path, name: str, x: np.ndarray) -> None:
    import zarr

    features = root / FEATURES_DIR
    features.mkdir(parents=True, exist_ok=True)
    target = features / name
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=features))
    try:
        # every chunk written, zeros too: a missing chunk is how a damaged store shows (utils.chunks)
        arr = zarr.create_array(str(tmp), shape=x.shape, dtype="float32", chunks=(min(len(x), 4096), *x.shape[1:]),
                                overwrite=True, config={"write_empty_chunks": True})
        arr[:] = x
        if target.exists():
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def load_patterns(dataset: str | Path | Dataset, split: str | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Patterns and metadata rows of a groove dataset (one split or all).

    Returns
    -------
    patterns : np.ndarray [shape=(n, n_steps, n_voices), dtype=float32]
    metadata : pandas.DataFrame, n rows, index reset.

    Raises
    ------
    DatasetError
        Not a groove dataset, or no such split.
    """
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    if PATTERNS_FEATURE not in ds.feature_names():
        raise DatasetError(f"{ds.root}: not a groove dataset (no features/{PATTERNS_FEATURE}.zarr); "
                           "make one with `timbrespace drums ingest`")
    idx = ds.split_indices(split) if split is not None else np.arange(len(ds))
    return ds.load_features(PATTERNS_FEATURE, idx), ds.metadata.iloc[idx].reset_index(drop=True)


def load_offsets(dataset: str | Path | Dataset, split: str | None = None) -> np.ndarray | None:
    """Micro-timing offsets of a groove dataset's hits (one split or all), or None if it has none.

    Rows are those of :func:`load_patterns` for the same ``split``.

    Returns
    -------
    np.ndarray [shape=(n, n_steps, n_voices), dtype=float32] or None
        Steps in [-0.5, 0.5], 0 where no hit; None for a dataset ingested before offsets
        were kept (re-ingest it to get them).

    Raises
    ------
    DatasetError
        Not a groove dataset, no such split, or the offsets store is damaged.
    """
    import zarr

    from timbrespace.utils.chunks import check_chunks

    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    if PATTERNS_FEATURE not in ds.feature_names():
        raise DatasetError(f"{ds.root}: not a groove dataset (no features/{PATTERNS_FEATURE}.zarr); "
                           "make one with `timbrespace drums ingest`")
    spec = ds.feature_sidecar(PATTERNS_FEATURE).get("offsets")
    if not isinstance(spec, dict) or spec.get("store") != OFFSETS_STORE:
        return None
    path = ds.features_dir / OFFSETS_STORE
    if not path.is_dir():
        raise DatasetError(f"{ds.root}: features/{OFFSETS_STORE} is missing (its sidecar names it)")
    check_chunks(path)
    arr = zarr.open_array(str(path), mode="r")
    if tuple(arr.shape) != tuple(ds.feature_sidecar(PATTERNS_FEATURE)["shape"]):
        raise DatasetError(f"{ds.root}: features/{OFFSETS_STORE} has shape {tuple(arr.shape)}, the patterns "
                           f"{tuple(ds.feature_sidecar(PATTERNS_FEATURE)['shape'])}")
    idx = ds.split_indices(split) if split is not None else np.arange(len(ds))
    return np.asarray(arr.oindex[np.asarray(idx, np.int64)], dtype=np.float32) if len(idx) else \
        np.zeros((0, *arr.shape[1:]), np.float32)
