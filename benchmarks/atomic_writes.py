"""Cost of writing many small files atomically (issue 29): CPU per file, three ways.

Run (seconds)::

    PYTHONPATH=src .venv/bin/python benchmarks/atomic_writes.py [--n 3000] [--repeats 3] [--tmp DIR]

``plain``: open, write, close under the final name (not atomic: the floor).
``atomic_write_bytes``: one call per file (temporary from ``mkstemp``, ``chmod``, rename;
what generation did before). ``atomic_write_files``: one call for all of them (a fixed
per-process temporary name, rename; what generation does). Prints the median CPU
(user + system) per file of each; run it with ``--tmp`` on the file system a dataset
goes to (a tmpfs and a loaded ext4 differ by a factor of 50).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from timbrespace.utils.atomic import atomic_write_bytes, atomic_write_files

DATA = b"\0" * 400  # a 10 ms float32 WAV at 8 kHz is 364 bytes


def plain(folder: Path, n: int) -> None:
    folder.mkdir()
    for i in range(n):
        (folder / f"{i:06d}.wav").write_bytes(DATA)


def one_call_each(folder: Path, n: int) -> None:
    for i in range(n):
        atomic_write_bytes(folder / f"{i:06d}.wav", DATA)


def one_call(folder: Path, n: int) -> None:
    atomic_write_files(folder, ((f"{i:06d}.wav", DATA) for i in range(n)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="Files per run.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tmp", type=Path, default=None, help="Where to write (default: a temporary folder).")
    args = parser.parse_args()
    ways: dict[str, Callable[[Path, int], None]] = {
        "plain (not atomic)": plain, "atomic_write_bytes per file": one_call_each,
        "atomic_write_files": one_call,
    }
    cpu: dict[str, list[float]] = {k: [] for k in ways}
    for _ in range(args.repeats):
        for name, way in ways.items():
            root = Path(tempfile.mkdtemp(prefix="ts-writes-", dir=args.tmp))
            before = resource.getrusage(resource.RUSAGE_SELF)
            way(root / "audio", args.n)
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu[name].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
            assert len(os.listdir(root / "audio")) == args.n
            shutil.rmtree(root)
    print(f"{args.n} files of {len(DATA)} bytes, medians of {args.repeats} interleaved runs")
    print("| way | CPU us per file |")
    print("|---|---|")
    for name, runs in cpu.items():
        print(f"| {name} | {1e6 * statistics.median(runs) / args.n:.0f} |")


if __name__ == "__main__":
    main()
