"""Worker processes that die with their parent (issue 18, rule 6).

A pool worker whose parent is killed with SIGKILL would otherwise live on and keep
writing into the output folder. On Linux the kernel kills it (``prctl`` with
``PR_SET_PDEATHSIG``); elsewhere a daemon thread watches the parent's pid.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
import time

__all__ = ["die_with_parent"]

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def _watch(parent_pid: int, interval_s: float) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval_s)
    os._exit(1)  # the parent is gone: nothing of this worker's is worth finishing


def die_with_parent(parent_pid: int, *, interval_s: float = 0.5) -> str:
    """Make this (worker) process exit when ``parent_pid`` dies, however it dies.

    Call it first thing in a pool's initializer with the parent's ``os.getpid()``.

    Parameters
    ----------
    parent_pid : int
        The pid of the process that started this one.
    interval_s : float
        Polling interval of the watchdog thread (platforms without ``prctl``).

    Returns
    -------
    str
        ``"prctl"`` (Linux: the kernel sends SIGKILL) or ``"watchdog"``.
    """
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        if libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0:
            if os.getppid() != parent_pid:  # the parent died before prctl took effect
                os._exit(1)
            return "prctl"
    threading.Thread(target=_watch, args=(parent_pid, interval_s), daemon=True, name="die-with-parent").start()
    return "watchdog"
