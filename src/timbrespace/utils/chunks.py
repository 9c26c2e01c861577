"""A missing or cut zarr chunk must fail, not read as zeros.

Zarr reads a chunk file that is absent as the array's fill value (0.0): a feature set
that lost a chunk (a copy interrupted, a disk quota) trains on zeros without a word.
:func:`write_chunk_manifest` records every chunk file of a finished array, name and
size (``<array>.chunks.json`` beside ``<array>.zarr``); :func:`check_chunks` compares
the array with it before reading. An array without a manifest (written before it
existed) is checked against its chunk grid: every chunk the shape implies must exist,
since our arrays never rely on the fill value.
"""

from __future__ import annotations

import json
import math
import os
from itertools import product
from pathlib import Path

from timbrespace.errors import DatasetError
from timbrespace.utils.atomic import atomic_write_json

__all__ = ["MANIFEST_FORMAT", "check_chunks", "manifest_path", "write_chunk_manifest"]

MANIFEST_FORMAT = "timbrespace.chunks/1"
_AGAIN = "`timbrespace features` with the same --name recomputes a damaged set"


def manifest_path(array: str | os.PathLike[str]) -> Path:
    """``features/spec.zarr`` → ``features/spec.chunks.json``."""
    array = Path(array)
    return array.with_name(f"{array.stem}.chunks.json")


def _chunk_files(array: Path) -> dict[str, int]:
    return {p.relative_to(array).as_posix(): p.stat().st_size
            for p in sorted(array.rglob("*")) if p.is_file() and p.name not in ("zarr.json", ".zarray", ".zattrs",
                                                                                 ".zgroup", "zarr.lock")}


def write_chunk_manifest(array: str | os.PathLike[str]) -> Path:
    """Record the chunk files of the finished zarr ``array`` (relative name → size in bytes).

    Returns
    -------
    pathlib.Path
        The manifest, written atomically.
    """
    array = Path(array)
    return atomic_write_json(manifest_path(array), {"format": MANIFEST_FORMAT, "chunks": _chunk_files(array)})


def _expected_chunks(array: Path) -> list[str] | None:
    """The chunk files a zarr v3 array's shape and regular grid imply (``None``: not such an array)."""
    try:
        meta = json.loads((array / "zarr.json").read_text())
        shape = [int(n) for n in meta["shape"]]
        grid = [int(n) for n in meta["chunk_grid"]["configuration"]["chunk_shape"]]
        encoding = meta["chunk_key_encoding"]
        separator = encoding.get("configuration", {}).get("separator", "/" if encoding["name"] == "default" else ".")
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if meta.get("chunk_grid", {}).get("name") != "regular" or len(shape) != len(grid):
        return None
    counts = [math.ceil(n / c) if c else 0 for n, c in zip(shape, grid, strict=True)]
    prefix = ["c"] if encoding["name"] == "default" else []
    return [separator.join([*prefix, *map(str, idx)]) for idx in product(*(range(n) for n in counts))]


def check_chunks(array: str | os.PathLike[str]) -> None:
    """Fail when a chunk file of ``array`` is missing or not its recorded size.

    Raises
    ------
    DatasetError
        A chunk named in the manifest is missing or has another size; or, without a
        manifest, a chunk the array's shape implies is missing. The message names the
        file and what to do.
    """
    array = Path(array)
    manifest = manifest_path(array)
    if manifest.is_file():
        try:
            recorded = json.loads(manifest.read_text())["chunks"]
        except (OSError, ValueError, KeyError, TypeError):
            raise DatasetError(f"{manifest}: unreadable chunk manifest; compute the features again "
                               f"({_AGAIN})") from None
        for name, size in recorded.items():
            path = array / name
            if not path.is_file():
                raise DatasetError(f"{path}: a chunk of the stored features is missing; compute them again "
                                   f"({_AGAIN})")
            if path.stat().st_size != size:
                raise DatasetError(f"{path}: a chunk of the stored features holds {path.stat().st_size} bytes, "
                                   f"not the {size} written (truncated or replaced); compute them again ({_AGAIN})")
        return
    expected = _expected_chunks(array)
    for name in expected or ():
        if not (array / name).is_file():
            raise DatasetError(f"{array / name}: a chunk of the stored features is missing (it would read as "
                               f"zeros); compute them again ({_AGAIN})")
