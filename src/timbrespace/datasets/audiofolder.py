"""Hugging Face ``audiofolder``: export a dataset as one, and read one for ingest.

The layout (``datasets.load_dataset("audiofolder", data_dir=FOLDER)``)::

    FOLDER/train/metadata.jsonl   one JSON object per line: file_name, item_id, factors, ...
    FOLDER/train/000000.wav
    FOLDER/valid/...              split folders; ``datasets`` names "valid" "validation"
    FOLDER/test/...

``datasets`` reads a split from each folder named like one (``train``, ``valid``,
``validation``, ``dev``, ``test``, ``eval``, ...) and joins each audio file to the row of
a ``metadata.csv``, ``metadata.jsonl`` or ``metadata.parquet`` whose ``file_name`` is its
path relative to that metadata file. The export writes JSON Lines because a CSV column
of ids such as ``"000000"`` is read back as the integer 0 (``datasets`` parses CSV with
pandas' type inference); JSON keeps strings and numbers apart.

On ingest, every metadata column besides ``file_name`` is a factor, except ``item_id``
(the ids), ``split``, ``variation``, ``silent``, ``source_path``, ``audio_path`` and
``<factor>_code`` (our own bookkeeping, written by the export); items in split folders
keep their split.

References
----------
Hugging Face ``datasets`` documentation, "Create an audio dataset" (AudioFolder).
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError
from timbrespace.utils.outputs import check_output_folder
from timbrespace.utils.paths import safe_name, safe_relpath

__all__ = [
    "EXPORT_MARKER",
    "AudiofolderItem",
    "METADATA_NAMES",
    "SPLIT_FOLDERS",
    "audiofolder_items",
    "export_hf_audiofolder",
    "find_audiofolder_metadata",
]

METADATA_NAMES = ("metadata.csv", "metadata.jsonl", "metadata.parquet")
#: Folder names ``datasets`` reads as splits (its train/validation/test keywords).
SPLIT_FOLDERS = ("train", "training", "validation", "valid", "val", "dev", "test", "testing",
                 "eval", "evaluation")
#: Written at the root of every export folder (hidden: ``datasets`` skips it); what lets
#: ``--overwrite`` tell an export it may replace from a folder it must not touch.
EXPORT_MARKER = ".timbrespace-export.json"
_AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".aif", ".aiff", ".mp3")
_NOT_FACTORS = ("file_name", "item_id", "split", "variation", "silent", "source_path", "audio_path")


@dataclass(frozen=True)
class AudiofolderItem:
    """One audio file of an audiofolder with its metadata row.

    Attributes
    ----------
    path : pathlib.Path
    item_id : str
        ``item_id`` column, else the file stem (or relative path, where stems repeat).
    labels : dict of str to Any
        Factor values.
    split : str or None
        The split folder it lies in.
    extra : dict of str to Any
        ``variation``, where the metadata has it.
    """

    path: Path
    item_id: str
    labels: dict[str, Any]
    split: str | None
    extra: dict[str, Any] = field(default_factory=dict)


def _json_value(value: Any) -> Any:
    value = value.item() if hasattr(value, "item") else value
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def export_hf_audiofolder(
    dataset: Dataset, out: str | os.PathLike[str], *, overwrite: bool = False
) -> Path:
    """Write ``dataset`` as a Hugging Face audiofolder, each item in its split's folder.

    Parameters
    ----------
    dataset : Dataset
        With audio.
    out : path-like
        Folder to create. Built beside it and renamed into place, so an interrupted
        export leaves nothing half-written.
    overwrite : bool
        Replace an earlier export at ``out`` (marked by :data:`EXPORT_MARKER`); never a
        folder that is not an export, the dataset's own folder or one holding it.

    Returns
    -------
    pathlib.Path
        ``out``: ``<split>/metadata.jsonl`` (``file_name``, ``item_id`` as a string,
        ``variation``, factor values and ``<factor>_code``, other metadata columns) and
        ``<split>/<audio file>`` (hard links where possible, copies otherwise).

    Raises
    ------
    DatasetError
        The dataset keeps no audio; ``out`` holds an export and ``overwrite`` is false;
        ``out`` holds something that is not an export; ``out`` is the dataset's folder or
        holds it.
    """
    out = Path(out)
    check_output_folder(out, marker=export_markers(out), what="export", overwrite=overwrite,
                        inputs=[dataset.root])
    if dataset.card.audio_format is None:
        raise DatasetError(f"{dataset.root}: this dataset keeps no audio (audio_format none); nothing to export")
    meta = dataset.metadata.reset_index(drop=True)
    columns = [c for c in meta.columns if c not in ("audio_path", "split")]
    # split folders and file names come from the metadata: checked before anything is written
    sources = [dataset.audio_path(i) for i in range(len(meta))]
    splits = [safe_name(s, what=f"{dataset.root}: item {i}: split", error=DatasetError)
              for i, s in enumerate(meta["split"])]
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.export-", dir=out.parent))
    try:
        lines: dict[str, list[str]] = {}
        for i, row in enumerate(meta.to_dict(orient="records")):
            split, src = splits[i], sources[i]
            name = src.name
            dst = staging / split / name
            dst.parent.mkdir(exist_ok=True)
            try:
                os.link(src, dst)
            except OSError:
                shutil.copyfile(src, dst)
            record = {"file_name": name, **{c: _json_value(row[c]) for c in columns}}
            record["item_id"] = str(row["item_id"])
            lines.setdefault(split, []).append(json.dumps(record, ensure_ascii=False))
        for split, rows in lines.items():
            (staging / split / "metadata.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
        write_export_marker(staging, "hf-audiofolder", dataset)
        if out.exists():
            backup = out.with_name(f".{out.name}.old-{os.getpid()}")
            os.replace(out, backup)
            os.replace(staging, out)
            shutil.rmtree(backup, ignore_errors=True)
        else:
            os.replace(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out


def write_export_marker(folder: Path, format: str, dataset: Dataset) -> None:
    """Mark ``folder`` as an export (:data:`EXPORT_MARKER`): its format and source dataset."""
    text = json.dumps({"format": format, "dataset": str(dataset.root.resolve())}) + "\n"
    (folder / EXPORT_MARKER).write_text(text, encoding="utf-8")


def _is_legacy_audiofolder_export(folder: Path) -> bool:
    """An hf-audiofolder export written before :data:`EXPORT_MARKER`: split folders holding
    only audio and a ``metadata.jsonl`` whose rows have our ``file_name`` and ``item_id``."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".")]
    if not entries:
        return False
    for split in entries:
        if not split.is_dir() or split.is_symlink() or not (split / "metadata.jsonl").is_file():
            return False
        for p in split.iterdir():
            if p.name != "metadata.jsonl" and (not p.is_file() or p.suffix.lower() not in _AUDIO_SUFFIXES):
                return False
        with open(split / "metadata.jsonl", encoding="utf-8") as fh:
            try:
                first = json.loads(fh.readline() or "null")
            except ValueError:
                return False
        if not isinstance(first, dict) or not {"file_name", "item_id"} <= first.keys():
            return False
    return True


def export_markers(out: Path) -> tuple[str, ...]:
    """The markers that make ``out`` an export ``--overwrite`` may replace (for
    :func:`~timbrespace.utils.outputs.check_output_folder`): :data:`EXPORT_MARKER`, or the
    split folders of an older hf-audiofolder export, which had none."""
    if out.is_dir() and not (out / EXPORT_MARKER).exists() and _is_legacy_audiofolder_export(out):
        return (EXPORT_MARKER, *sorted(p.name for p in out.iterdir() if not p.name.startswith(".")))
    return (EXPORT_MARKER,)


def find_audiofolder_metadata(folder: str | os.PathLike[str]) -> list[Path]:
    """The ``metadata.{csv,jsonl,parquet}`` files of an audiofolder (any depth), sorted."""
    folder = Path(folder)
    return sorted(p for p in folder.rglob("metadata.*") if p.name in METADATA_NAMES and p.is_file())


def _read_metadata(path: Path) -> pd.DataFrame:
    try:
        if path.suffix == ".csv":
            # ids and names stay text: "000123" must not become 123
            table = pd.read_csv(path, dtype={"file_name": str, "item_id": str})
        elif path.suffix == ".jsonl":
            table = pd.read_json(path, lines=True, dtype=False, convert_dates=False)
        else:
            table = pd.read_parquet(path)
    except (ValueError, OSError) as exc:
        raise DatasetError(f"{path}: unreadable metadata ({str(exc).splitlines()[0]})") from None
    if "file_name" not in table.columns:
        raise DatasetError(f"{path}: no 'file_name' column (columns: {', '.join(map(str, table.columns))})")
    return table


def audiofolder_items(
    folder: str | os.PathLike[str], factors: list[str] | None = None
) -> tuple[list[AudiofolderItem], list[str], list[str]]:
    """Read an audiofolder's metadata: its items, factor names and unmatched files.

    Parameters
    ----------
    folder : path-like
        Holding ``metadata.csv``/``.jsonl``/``.parquet`` at its root or in split folders.
    factors : list of str, optional
        Metadata columns to use as factors (default: every column that is not
        bookkeeping, see the module docstring).

    Returns
    -------
    items : list of AudiofolderItem
        Sorted by ``item_id``.
    factors : list of str
    unmatched : list of str
        Metadata rows whose file is missing, as paths relative to ``folder``.

    Raises
    ------
    DatasetError
        No metadata, no ``file_name`` column, no factor column, files both inside and
        outside split folders, or repeated ids.
    ParameterError
        A requested factor is not a column.
    """
    from timbrespace.errors import ParameterError

    folder = Path(folder)
    files = find_audiofolder_metadata(folder)
    if not files:
        raise DatasetError(f"{folder}: no {', '.join(METADATA_NAMES)} with a file_name column")
    tables = []
    for path in files:
        table = _read_metadata(path)
        # a row may name only a file in the metadata's folder or below: nothing outside is read
        table["__path"] = [path.parent / safe_relpath(name, what=f"{path}: row {k + 1}: file_name", error=DatasetError)
                           for k, name in enumerate(table["file_name"])]
        table["__row"] = [f"{path}: row {k + 1}" for k in range(len(table))]
        tables.append(table)
    rows = pd.concat(tables, ignore_index=True)
    columns = [str(c) for c in rows.columns if c not in ("__path", "__row")]
    bookkeeping = set(_NOT_FACTORS) | {f"{c}_code" for c in columns}
    available = [c for c in columns if c not in bookkeeping]
    if factors is None:
        factors = available
        if not factors:
            raise DatasetError(f"{folder}: the metadata has no column besides {', '.join(sorted(set(columns)))} "
                               "to use as a factor")
    for f in factors:
        if f not in columns:
            raise ParameterError(f"factor {f!r} is not a metadata column; available: {', '.join(available)}")
    items: list[AudiofolderItem] = []
    unmatched: list[str] = []
    stems = Counter(Path(p).stem for p in rows["__path"])
    for row in rows.to_dict(orient="records"):
        path: Path = row["__path"]
        rel = path.relative_to(folder) if path.is_relative_to(folder) else path
        if not path.is_file():
            unmatched.append(str(rel))
            continue
        parts = Path(rel).parts
        split = parts[0] if len(parts) > 1 and parts[0].lower() in SPLIT_FOLDERS else None
        item_id = row.get("item_id")
        if item_id is None or pd.isna(item_id):
            stem = path.stem
            item_id = stem if stems[stem] == 1 else Path(rel).with_suffix("").as_posix().replace("/", "--")
        else:  # the id names the item's audio file in the dataset
            safe_name(item_id, what=f"{row['__row']}: item_id", error=DatasetError)
        extra = {"variation": int(row["variation"])} if "variation" in row and not pd.isna(row["variation"]) else {}
        items.append(AudiofolderItem(path, str(item_id), {f: _json_value(row[f]) for f in factors}, split, extra))
    in_splits = {item.split is not None for item in items}
    if len(in_splits) > 1:
        raise DatasetError(f"{folder}: some files lie in split folders ({', '.join(SPLIT_FOLDERS[:6])}, ...) and "
                           "some do not; put every file in one, or none")
    repeated = [i for i, n in Counter(item.item_id for item in items).items() if n > 1]
    if repeated:
        dup = repeated[0]
        raise DatasetError(f"{folder}: item_id {dup!r} appears twice in the metadata")
    items.sort(key=lambda item: item.item_id)
    return items, list(factors), unmatched
