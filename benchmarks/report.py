"""Fixed cost of a run's report (issue 29: target <= 5 s): ``write_run_report``.

Run (each repetition re-evaluates the run: about half a minute on 2 shared cores)::

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/report.py RUN \
        [--repeats 3] [--src OLD/src ...] [--profile report.prof]

``RUN`` is a finished ``timbrespace run`` folder (e.g. ``timbrespace run --out RUN``, the
default experiment). It is copied once to a temporary folder (its dataset linked, not
copied, when it lives elsewhere), and each repetition runs ``evaluate_run`` on the copy
in a fresh process, timing only its call of ``write_run_report``: the report as a run
writes it, matplotlib's first drawing included, the scores and resynthesis it is given
computed before the clock starts. Repetitions are interleaved across source trees
(``--src`` adds trees to compare: ``git archive OLD src | tar -x -C /tmp/old`` and
``--src /tmp/old/src``). Prints medians of wall and CPU seconds (user + system of the
process during the call; the machine is shared: CPU time is the steadier measure).
``--profile FILE`` writes a cProfile of one call (this tree) instead.
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
import time
from pathlib import Path

_MARK = "report-seconds "


def child(run_dir: Path, profile: Path | None) -> None:
    """In a fresh process: evaluate ``run_dir`` and print the report's wall and CPU seconds."""
    import timbrespace.experiments.report as report_module
    from timbrespace.experiments.pipeline import evaluate_run

    write = report_module.write_run_report

    def timed_write(*args: object, **kwargs: object) -> Path:
        if profile is not None:
            import cProfile

            with cProfile.Profile() as prof:
                path = write(*args, **kwargs)
            prof.dump_stats(profile)
            return path
        wall, cpu = time.perf_counter(), time.process_time()
        path = write(*args, **kwargs)
        print(_MARK + json.dumps([time.perf_counter() - wall, time.process_time() - cpu]), flush=True)
        return path

    report_module.write_run_report = timed_write  # _evaluate imports it at call time
    evaluate_run(run_dir)


def timed(run_dir: Path, src: str) -> tuple[float, float]:
    """Wall and CPU seconds of one ``write_run_report`` with ``src`` first on the path."""
    env = {**os.environ, "PYTHONPATH": src, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "1")}
    done = subprocess.run([sys.executable, __file__, str(run_dir), "--child"], env=env, check=True,
                          capture_output=True, text=True)
    line = next(s for s in done.stdout.splitlines() if s.startswith(_MARK))
    wall, cpu = json.loads(line[len(_MARK):])
    return wall, cpu


def copy_run(run_dir: Path, into: Path) -> Path:
    """A copy of the run folder to evaluate, so that the original is not rewritten."""
    copy = into / run_dir.name
    shutil.copytree(run_dir, copy, symlinks=True, ignore=shutil.ignore_patterns("report.html", "figures"))
    return copy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path, help="A finished run folder.")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--src", nargs="*", default=[], help="More source trees to compare.")
    parser.add_argument("--profile", type=Path, default=None, help="Write a cProfile of one report here.")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.run, args.profile)
        return
    with tempfile.TemporaryDirectory(prefix="report-bench-") as tmp:
        copy = copy_run(args.run.resolve(), Path(tmp))
        if args.profile is not None:
            child(copy, args.profile.resolve())
            print(f"wrote {args.profile}")
            return
        trees = [str(Path("src").resolve())] + [str(Path(s).resolve()) for s in args.src]
        times: dict[str, list[tuple[float, float]]] = {src: [] for src in trees}
        for _ in range(args.repeats):
            for src in trees:
                times[src].append(timed(copy, src))
    print(f"write_run_report of {args.run}: medians of {args.repeats} interleaved runs")
    print("| source | wall s | CPU s | runs (wall/CPU) |")
    print("|---|---|---|---|")
    for src, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        each = ", ".join(f"{w:.1f}/{c:.1f}" for w, c in runs)
        print(f"| {src} | {wall:.2f} | {cpu:.2f} | {each} |")


if __name__ == "__main__":
    main()
