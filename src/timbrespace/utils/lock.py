"""One writer per folder: a lock file that names its holder's pid.

A second writer gets a clear error naming the holder; a lock whose pid is dead (the
holder was killed) is taken over. The lock file is created with ``O_EXCL``, so two
processes can never both believe they hold it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from pathlib import Path

from timbrespace.errors import DatasetError

__all__ = ["LOCK_NAME", "folder_lock"]

LOCK_NAME = ".timbrespace.lock"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def _holder(lock: Path) -> tuple[int, str] | None:
    try:
        pid_text, _, host = lock.read_text().partition(" ")
        return int(pid_text), host.strip()
    except (OSError, ValueError):
        return None


@contextlib.contextmanager
def folder_lock(folder: str | os.PathLike[str], *, what: str = "writer") -> Iterator[Path]:
    """Hold ``folder/.timbrespace.lock`` for the duration of the block.

    Parameters
    ----------
    folder : path-like
        The folder being written (created if missing, and removed again on exit if it
        is still empty then, so a command that fails leaves nothing behind).
    what : str
        Named in the error a second writer gets (e.g. ``"generate"``).

    Raises
    ------
    DatasetError
        If a live process on this host already holds the lock, or the folder cannot be
        created.
    """
    folder = Path(folder)
    created = [d for d in (folder, *folder.parents) if not d.exists()]  # deepest first
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DatasetError(f"{folder}: cannot write ({exc.strerror or exc})") from None
    lock = folder / LOCK_NAME
    me = f"{os.getpid()} {socket.gethostname()}"
    for _ in range(3):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _holder(lock)
            if holder is not None and holder[1] == socket.gethostname() and not _alive(holder[0]):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()  # stale: its holder is dead
                continue
            if holder is None:
                time.sleep(0.05)  # written this instant by another process; look again
                continue
            raise DatasetError(
                f"{folder} is being written by another {what} (pid {holder[0]} on {holder[1]}); "
                f"wait for it, or remove {lock} if that process is gone"
            ) from None
        except OSError as exc:  # a folder this user may not write
            raise DatasetError(f"{folder}: cannot write ({exc.strerror or exc})") from None
        with os.fdopen(fd, "w") as fh:
            fh.write(me)
        break
    else:
        raise DatasetError(f"{folder}: could not take the lock {lock}")
    try:
        yield lock
    finally:
        with contextlib.suppress(FileNotFoundError):
            if lock.read_text() == me:
                lock.unlink()
        for made in created:  # rmdir only succeeds while empty: nothing was written there
            try:
                made.rmdir()
            except OSError:
                break
