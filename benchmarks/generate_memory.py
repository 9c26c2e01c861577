"""Memory and speed of ``generate_dataset`` as the item count grows (issue 29).

Run (about a minute on 2 shared cores; ``--big`` about two more)::

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/generate_memory.py \
        [--sizes 5000 50000] [--big] [--repeats 3] [--audio-format wav|none] [--tmp DIR] \
        [--src OTHER/src ...]

Each run is a fresh child process that generates a cheap dataset (additive, 3 partials,
10 ms items at 8 kHz, random design) on 2 workers, and prints one row: wall time,
items/s, peak RSS of the main process and of the largest worker (``getrusage``), and
user/system CPU seconds of the main process and the workers together. ``--big`` adds
200,000 items. ``--src`` adds source trees to compare (e.g. an older checkout's
``src``). Repetitions are interleaved across sizes and trees (the machine is shared:
read the medians). Memory that is flat in the item count shows as equal peak RSS per row;
the last lines give the growth from the smallest to the largest size (issue 29's target:
at most 50 MB from 5,000 to 200,000 items, in every process).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

_CHILD = """
import json, resource, sys, time
from timbrespace.datasets import DatasetConfig, generate_dataset
n, fmt, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
config = DatasetConfig(
    name=f"mem-{n}", sound_model="additive", sample_rate=8000, duration_s=0.01,
    audio_format=fmt, fixed={"n_partials": 3},
    parameters={"f0_hz": {"min": 100, "max": 1000, "spacing": "log"},
                "decay_per_s": {"min": 0, "max": 10}},
    sampling={"method": "random", "n": n},
)
t0 = time.perf_counter()
generate_dataset(config, out, workers=2, progress=False)
dt = time.perf_counter() - t0
me = resource.getrusage(resource.RUSAGE_SELF)
kids = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"seconds": dt, "rss_mb": me.ru_maxrss / 1024, "worker_rss_mb": kids.ru_maxrss / 1024,
                  "user_s": me.ru_utime + kids.ru_utime, "sys_s": me.ru_stime + kids.ru_stime}))
"""


def child_run(n_items: int, audio_format: str, out: Path, src: str) -> dict[str, float]:
    """Generate ``n_items`` in a fresh process; its wall time, peak RSS and CPU times."""
    res = subprocess.run(
        [sys.executable, "-c", _CHILD, str(n_items), audio_format, str(out)],
        capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": src},
    )
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[5_000, 50_000], help="Item counts.")
    parser.add_argument("--big", action="store_true", help="Add a 200,000-item run (minutes).")
    parser.add_argument("--repeats", type=int, default=3, help="Runs per size, interleaved (median shown).")
    parser.add_argument("--audio-format", choices=["wav", "none"], default="wav")
    parser.add_argument("--tmp", type=Path, default=None, help="Scratch folder (default: a temporary one).")
    parser.add_argument("--src", nargs="*", default=[], help="More source trees to compare.")
    args = parser.parse_args()
    sizes = list(args.sizes) + ([200_000] if args.big else [])
    root = Path(tempfile.mkdtemp(prefix="ts-genmem-", dir=args.tmp))
    trees = [str(Path("src").resolve())] + [str(Path(s).resolve()) for s in args.src]
    runs: dict[tuple[int, str], list[dict[str, float]]] = {(n, t): [] for n in sizes for t in trees}
    try:
        for r in range(args.repeats):
            for n in sizes:
                for k, src in enumerate(trees):
                    out = root / f"d{n}-{r}-{k}"
                    runs[n, src].append(child_run(n, args.audio_format, out, src))
                    shutil.rmtree(out)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"audio_format {args.audio_format}, 2 workers, medians of {args.repeats} interleaved runs")
    print("| items | source | seconds | items/s | peak RSS main (MB) | peak RSS worker (MB) | user s | sys s "
          "| sys us/item |")
    print("|---|---|---|---|---|---|---|---|---|")
    medians: dict[tuple[int, str], dict[str, float]] = {}
    for (n, src), done in runs.items():
        med = medians[n, src] = {k: statistics.median(run[k] for run in done) for k in done[0]}
        print(
            f"| {n:,} | {src} | {med['seconds']:.1f} | {n / med['seconds']:,.0f} | {med['rss_mb']:.0f} "
            f"| {med['worker_rss_mb']:.0f} | {med['user_s']:.1f} | {med['sys_s']:.1f} "
            f"| {1e6 * med['sys_s'] / n:.0f} |"
        )
    if len(sizes) > 1:
        lo, hi = min(sizes), max(sizes)
        for src in trees:
            a, b = medians[lo, src], medians[hi, src]
            print(f"growth {lo:,} -> {hi:,} items, {src}: main process {b['rss_mb'] - a['rss_mb']:+.0f} MB, "
                  f"worker {b['worker_rss_mb'] - a['worker_rss_mb']:+.0f} MB")


if __name__ == "__main__":
    main()
