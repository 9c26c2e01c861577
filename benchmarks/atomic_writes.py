"""Cost of writing many small files atomically (issue 29): CPU per file, four ways.

Run (seconds)::

    PYTHONPATH=src .venv/bin/python benchmarks/atomic_writes.py [--n 3000] [--repeats 3] [--writers 2] [--tmp DIR]

``plain``: open, write, close under the final name (not atomic: the floor).
``atomic_write_bytes``: one call per file (temporary from ``mkstemp``, ``chmod``, rename;
what generation did first). ``renamed``: a fixed per-process hidden temporary name, then a
rename (``atomic_write_files`` where ``O_TMPFILE`` is missing; what generation did next).
``atomic_write_files``: on Linux an unnamed file linked under its name (what generation
does). ``--writers 2`` runs two processes writing into the same folder at once, as
generation's two workers do (the folder's lock is shared). Prints the median CPU (user +
system) per file of each; run it with ``--tmp`` on the file system a dataset goes to (a
tmpfs and a loaded ext4 differ by a factor of 50).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import shutil
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path

from timbrespace.utils.atomic import _write_renamed, atomic_write_bytes, atomic_write_files

DATA = b"\0" * 400  # a 10 ms float32 WAV at 8 kHz is 364 bytes


def plain(folder: Path, names: range) -> None:
    for i in names:
        (folder / f"{i:06d}.wav").write_bytes(DATA)


def one_call_each(folder: Path, names: range) -> None:
    for i in names:
        atomic_write_bytes(folder / f"{i:06d}.wav", DATA)


def renamed(folder: Path, names: range) -> None:
    dir_fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        for i in names:
            _write_renamed(dir_fd, f"{i:06d}.wav", DATA)
    finally:
        os.close(dir_fd)


def one_call(folder: Path, names: range) -> None:
    atomic_write_files(folder, ((f"{i:06d}.wav", DATA) for i in names))


def run(way: Callable[[Path, range], None], folder: Path, n: int, writers: int) -> float:
    """CPU seconds (user + system, every writer) to write ``n`` files into ``folder``."""
    folder.mkdir(parents=True)
    self0 = resource.getrusage(resource.RUSAGE_SELF)
    kids0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    if writers == 1:
        way(folder, range(n))
    else:
        ctx = multiprocessing.get_context("fork")
        procs = [ctx.Process(target=way, args=(folder, range(k, n, writers))) for k in range(writers)]
        for p in procs:
            p.start()
        for p in procs:
            p.join()
    self1 = resource.getrusage(resource.RUSAGE_SELF)
    kids1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    assert len(os.listdir(folder)) == n
    return sum(b - a for a, b in [(self0.ru_utime, self1.ru_utime), (self0.ru_stime, self1.ru_stime),
                                   (kids0.ru_utime, kids1.ru_utime), (kids0.ru_stime, kids1.ru_stime)])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=3000, help="Files per run.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--writers", type=int, default=1, help="Processes writing into the folder at once.")
    parser.add_argument("--tmp", type=Path, default=None, help="Where to write (default: a temporary folder).")
    args = parser.parse_args()
    ways: dict[str, Callable[[Path, range], None]] = {
        "plain (not atomic)": plain, "atomic_write_bytes per file": one_call_each,
        "renamed (hidden temporary)": renamed, "atomic_write_files (unnamed, linked)": one_call,
    }
    cpu: dict[str, list[float]] = {k: [] for k in ways}
    for _ in range(args.repeats):
        for name, way in ways.items():
            root = Path(tempfile.mkdtemp(prefix="ts-writes-", dir=args.tmp))
            cpu[name].append(run(way, root / "audio", args.n, args.writers))
            shutil.rmtree(root)
    print(f"{args.n} files of {len(DATA)} bytes, {args.writers} writer(s), medians of {args.repeats} "
          "interleaved runs")
    print("| way | CPU us per file |")
    print("|---|---|")
    for name, runs in cpu.items():
        print(f"| {name} | {1e6 * statistics.median(runs) / args.n:.0f} |")


if __name__ == "__main__":
    main()
