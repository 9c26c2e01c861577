"""Numba kernels compile one process at a time (numba's cache is not safe otherwise)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np

from timbrespace.utils.compiled import compile_lock, njit

SRC = Path(__file__).resolve().parents[2] / "src"


@njit(cache=False)
def _scaled_sum(x, scale):  # noqa: ANN001, ANN202
    total = 0.0
    for value in x:
        total += value * scale
    return total


def test_kernel_compiles_per_signature_and_returns_its_value() -> None:
    """The wrapper returns the kernel's value for each argument type (int and float arrays)."""
    assert _scaled_sum(np.arange(4.0), 2.0) == 12.0
    assert _scaled_sum(np.arange(4), 0.5) == 3.0
    assert _scaled_sum(np.arange(4.0, dtype=np.float32), 1.0) == 6.0


def test_a_second_process_waits_for_the_compile_lock_then_loads_the_cache(tmp_path: Path) -> None:
    """While this process holds the lock, a process calling a new kernel waits; released, it
    compiles, writes numba's cache and returns the right value."""
    (tmp_path / "kern.py").write_text(textwrap.dedent("""
        from timbrespace.utils.compiled import njit

        @njit(cache=True)
        def add_one(x):
            return x + 1.0
    """))
    script = ("import time, numpy as np, kern; print('ready', flush=True); "
              "total = kern.add_one(np.arange(3.0)).sum(); print(time.time(), total)")
    env = {**os.environ, "PYTHONPATH": f"{tmp_path}{os.pathsep}{SRC}", "NUMBA_CACHE_DIR": str(tmp_path / "cache")}
    with compile_lock():
        proc = subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(4.0)  # a tiny kernel compiles in about 1 s
        released = time.time()
    out, _ = proc.communicate(timeout=120)
    finished, total = map(float, out.split())
    assert proc.returncode == 0 and total == 6.0
    assert finished >= released, "the kernel compiled while another process held the lock"
    assert list((tmp_path / "cache").rglob("*.nbi")), "numba's cache index was not written"
