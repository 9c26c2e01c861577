"""One writer per folder: a second is refused, a stale lock is taken over."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from timbrespace.errors import DatasetError
from timbrespace.utils.lock import LOCK_NAME, folder_lock


def test_second_writer_is_refused_and_lock_released(tmp_path):
    with folder_lock(tmp_path, what="generate"):
        assert (tmp_path / LOCK_NAME).read_text().startswith(f"{os.getpid()} ")
        with pytest.raises(DatasetError, match=r"another generate \(pid \d+"):
            with folder_lock(tmp_path, what="generate"):
                pass
    assert not (tmp_path / LOCK_NAME).exists()
    with folder_lock(tmp_path):
        pass


def test_lock_of_a_dead_process_is_taken_over(tmp_path):
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(proc.stdout)
    (tmp_path / LOCK_NAME).write_text(f"{dead_pid} {socket.gethostname()}")
    with folder_lock(tmp_path):
        assert (tmp_path / LOCK_NAME).read_text().startswith(f"{os.getpid()} ")


def test_lock_held_by_another_live_process_is_refused(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / LOCK_NAME).write_text(f"{holder.pid} {socket.gethostname()}")
        with pytest.raises(DatasetError, match=f"pid {holder.pid}"):
            with folder_lock(tmp_path):
                pass
        assert (tmp_path / LOCK_NAME).exists()
    finally:
        holder.kill()
        holder.wait()
