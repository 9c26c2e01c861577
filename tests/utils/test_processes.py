"""die_with_parent: a worker exits when its parent is SIGKILLed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import psutil

PARENT = """
import multiprocessing as mp, sys, time
from timbrespace.utils.processes import die_with_parent

def child(parent_pid):
    print(die_with_parent(parent_pid), flush=True)
    time.sleep(60)

if __name__ == "__main__":
    import os
    p = mp.get_context("fork").Process(target=child, args=(os.getpid(),))
    p.start()
    time.sleep(60)
"""


def test_worker_dies_within_seconds_of_its_parent(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True, env=os.environ.copy())
    assert proc.stdout.readline().strip() in ("prctl", "watchdog")
    children = psutil.Process(proc.pid).children()
    assert len(children) == 1
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    start = time.monotonic()
    gone, alive = psutil.wait_procs(children, timeout=5)
    assert not alive and time.monotonic() - start < 5
