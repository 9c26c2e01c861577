"""Atomic writes: write to a temporary name beside the target, then rename.

A killed process therefore never leaves a half-written file under the final name
(DESIGN.md, "On disk"). ``os.replace`` is atomic on POSIX within one file system.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike[str], *, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path in ``target``'s folder; rename it onto ``target`` on success.

    Parameters
    ----------
    target : path-like
        Final file name.
    suffix : str, optional
        Suffix of the temporary file (default: the target's own, so that writers that
        pick a format from the extension, e.g. soundfile, still work).

    Yields
    ------
    pathlib.Path
        Where to write. On an exception it is removed and the target is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{target.name}.", suffix=suffix if suffix is not None else target.suffix,
        dir=target.parent,
    )
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates 0600; give the file the permissions a plain open() would.
        if tmp_path.exists():
            os.chmod(tmp_path, 0o666 & ~_umask())
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(target: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``target`` atomically and return the target path."""
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


def atomic_write_files(folder: str | os.PathLike[str], files: Iterable[tuple[str, bytes]]) -> int:
    """Write many files into one folder, each atomically, with the fewest system calls.

    The guarantee of :func:`atomic_write_bytes` (a file appears under its name only when
    complete; a kill leaves at most one hidden temporary file, whose name starts with a
    dot), at four calls per file (open, write, close, rename) instead of about fifteen:
    the folder is created once, and the temporary name is fixed per process (one writer
    per folder and process), opened with mode ``0o666`` so the umask gives the file the
    permissions a plain ``open()`` would, with no ``chmod``.

    Parameters
    ----------
    folder : path-like
        Created if missing.
    files : iterable of (str, bytes)
        File name (no folder part) and contents; consumed lazily.

    Returns
    -------
    int
        Files written.
    """
    folder = os.fspath(folder)
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}")
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    n = 0
    for name, data in files:
        fd = os.open(tmp, flags, 0o666)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
            os.replace(tmp, os.path.join(folder, name))
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        n += 1
    return n


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically and return the target path."""
    return atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: str | os.PathLike[str], obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON (sorted keys, NaN refused) atomically."""
    text = json.dumps(obj, indent=indent, sort_keys=True, allow_nan=False, default=_json_default)
    return atomic_write_text(target, text + "\n")


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
