"""Atomic writes: write to a temporary name beside the target, then rename.

A killed process therefore never leaves a half-written file under the final name
(DESIGN.md, "On disk"). ``os.replace`` is atomic on POSIX within one file system.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from timbrespace.errors import DatasetError


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

    The guarantee of :func:`atomic_write_bytes`: a file appears under its name only when
    complete. On Linux each file is an unnamed inode (``O_TMPFILE``) linked under its
    name once written (open, write, link, close): the folder is changed once per file
    instead of twice (a create and a rename), which is most of the kernel's time on
    ext4 (issue 29), and a kill leaves nothing behind. Elsewhere, or where the file system
    refuses ``O_TMPFILE`` (e.g. NFS), or a file of that name exists already, the file goes
    to a hidden per-process temporary name first (one writer per folder and process) and
    is renamed (open, write, close, rename): a kill leaves at most that hidden file, whose
    name starts with a dot. Files are created with mode ``0o666`` less the umask, as a
    plain ``open()`` would.

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
    n = 0
    dir_fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        linking = hasattr(os, "O_TMPFILE") and os.path.isdir("/proc/self/fd")
        for name, data in files:
            if linking:
                try:
                    _link_unnamed(dir_fd, name, data)
                    n += 1
                    continue
                except FileExistsError:
                    pass  # replaced below, as a rename does
                except OSError as exc:
                    if exc.errno not in _NO_TMPFILE:
                        raise
                    linking = False
            _write_renamed(dir_fd, name, data)
            n += 1
    finally:
        os.close(dir_fd)
    return n


# errno of a file system or kernel without O_TMPFILE (or without /proc/self/fd links)
_NO_TMPFILE = {errno.EOPNOTSUPP, errno.EISDIR, errno.EINVAL, errno.ENOENT, errno.EPERM, errno.EXDEV}


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _link_unnamed(dir_fd: int, name: str, data: bytes) -> None:
    """Write ``data`` to an unnamed file in ``dir_fd``'s folder, then link it as ``name``."""
    fd = os.open(".", os.O_WRONLY | os.O_TMPFILE | os.O_CLOEXEC, 0o666, dir_fd=dir_fd)
    try:
        _write_all(fd, data)
        os.link(f"/proc/self/fd/{fd}", name, dst_dir_fd=dir_fd, follow_symlinks=True)
    finally:
        os.close(fd)


def _write_renamed(dir_fd: int, name: str, data: bytes) -> None:
    """Write ``data`` to a hidden per-process name in ``dir_fd``'s folder, then rename it to ``name``."""
    tmp = f".tmp-{os.getpid()}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0), 0o666, dir_fd=dir_fd)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp, dir_fd=dir_fd)
        raise


def atomic_write_text(target: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``target`` atomically and return the target path."""
    return atomic_write_bytes(target, text.encode("utf-8"))


def atomic_write_json(target: str | os.PathLike[str], obj: Any, *, indent: int = 2) -> Path:
    """Write ``obj`` as JSON (sorted keys, NaN refused) atomically."""
    text = json.dumps(obj, indent=indent, sort_keys=True, allow_nan=False, default=_json_default)
    return atomic_write_text(target, text + "\n")


def read_json(path: str | os.PathLike[str], what: str) -> Any:
    """The JSON value in file ``path``; ``what`` names it in the error.

    Raises
    ------
    DatasetError
        ``"{path}: unreadable {what} (ExcType)"`` if the file is missing, unreadable, not UTF-8 or not JSON.
    """
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DatasetError(f"{path}: unreadable {what} ({type(exc).__name__})") from None


def _json_default(obj: Any) -> Any:
    import numpy as np

    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"{type(obj).__name__} is not JSON serialisable")
