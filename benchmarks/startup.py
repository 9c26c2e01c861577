"""Start-up time of commands that do not train (issue 29: target <= 1.5 s).

Run (seconds)::

    PYTHONPATH=src .venv/bin/python benchmarks/startup.py [--dataset DIR] [--repeats 5] \
        [--src OTHER/src ...]

Times ``python -m timbrespace --help``, ``python -c "import timbrespace.cli"``,
``python -m timbrespace synths`` and, with
``--dataset``, ``python -m timbrespace info DIR``, each in a fresh process, repetitions
interleaved across commands and source trees (``--src`` adds trees to compare, e.g. an
older checkout's ``src``). Prints medians of wall time and of CPU time (user + system,
which a machine shared with other processes inflates less than wall time).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path


def timed(cmd: list[str], src: str) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``cmd`` with ``src`` first on the path."""
    env = {**os.environ, "PYTHONPATH": src}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", type=Path, default=None, help="A dataset folder for `info`.")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--src", nargs="*", default=[], help="More source trees to compare.")
    args = parser.parse_args()
    py = sys.executable
    commands = {
        "--help": [py, "-m", "timbrespace", "--help"],
        "import timbrespace.cli": [py, "-c", "import timbrespace.cli"],
        "synths": [py, "-m", "timbrespace", "synths"],
    }
    if args.dataset is not None:
        commands["info DATASET"] = [py, "-m", "timbrespace", "info", str(args.dataset)]
    trees = [str(Path("src").resolve())] + [str(Path(s).resolve()) for s in args.src]
    times: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for _ in range(args.repeats):
        for name, cmd in commands.items():
            for src in trees:
                times.setdefault((name, src), []).append(timed(cmd, src))
    print(f"medians of {args.repeats} interleaved runs")
    print("| command | source | wall s | CPU s |")
    print("|---|---|---|---|")
    for (name, src), runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"| {name} | {src} | {wall:.2f} | {cpu:.2f} |")


if __name__ == "__main__":
    main()
