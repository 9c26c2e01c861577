"""Numba kernels compiled on first call, one process at a time.

numba's on-disk cache (``cache=True``) keeps an index file and a data file per function;
two processes that compile the same function at once can each rewrite one of them, and
a process that then loads the pair may crash (numba issues #4807 and #10128, both open).
Our kernels run in several processes at once on a fresh install: ``generate --workers``,
``sweep --jobs`` and the test suite's workers. So the first call of a kernel in each
process compiles it, for the argument types of that call, under an exclusive file lock;
the process that comes second waits, then loads what the first one wrote.

Importing numba takes about 0.3 s: commands that never call a kernel (``timbrespace
info``, ``--help``, reading configs) do not pay it (issue 29).
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

__all__ = ["COMPILE_LOCK", "compile_lock", "njit"]

F = TypeVar("F", bound=Callable[..., Any])

#: One lock file for every kernel: compiles are rare (once per kernel, argument types and
#: install) and short, so one lock costs nothing and cannot deadlock.
COMPILE_LOCK = Path(tempfile.gettempdir()) / f"timbrespace-numba-{os.getuid()}.lock"


@contextlib.contextmanager
def compile_lock() -> Iterator[None]:
    """Hold :data:`COMPILE_LOCK` (``flock``, exclusive) for the duration of the block.

    Released by the kernel when the process dies, so a killed holder never blocks the next.
    """
    with open(COMPILE_LOCK, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def njit(**options: Any) -> Callable[[F], F]:
    """``numba.njit(**options)``, compiled under :func:`compile_lock` on each new signature.

    Parameters
    ----------
    **options
        Passed to ``numba.njit`` (``cache=True``, ``nogil=True``, ``fastmath=True``...).

    Returns
    -------
    Callable
        A decorator. The decorated function takes the same arguments and returns what the
        kernel returns; numba is imported on its first call.
    """

    def wrap(fn: F) -> F:
        dispatcher: list[Any] = []
        compiled: set[tuple[Any, ...]] = set()  # argument types compiled in this process

        @functools.wraps(fn)
        def call(*args: Any) -> Any:
            import numba

            if not dispatcher:
                dispatcher.append(numba.njit(**options)(fn))
            signature = tuple(numba.typeof(a) for a in args)
            if signature not in compiled:
                with compile_lock():  # loads the machine code from the cache if another process wrote it
                    dispatcher[0].compile(signature)
                compiled.add(signature)
            return dispatcher[0](*args)

        return call  # type: ignore[return-value]

    return wrap
