"""Fixed cost of scoring a representation (issue 29): ``evaluate_representation``.

Run (about a minute on 2 shared cores)::

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/metrics.py \
        [RUN/latents.npz ...] [--repeats 3] [--estimator gbt hist]

Scores each latents file (a run's ``latents.npz``: ``mu``, ``logvar``,
``factor_codes``, ``split``; default: synthetic latents, 1,000 items x 4 latents x
4 factors of 5-8 levels) with every metric, train/test from the file's split, and prints
the median wall and CPU seconds (the machine is shared: CPU time is the steadier
measure), DCI's share, and DCI's values, per DCI estimator. Repetitions are interleaved.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import numpy as np

from timbrespace.metrics.summary import evaluate_representation


def synthetic(n_items: int = 1000, seed: int = 0) -> dict[str, np.ndarray]:
    """Latents that are noisy, mixed copies of 4 factors (levels 8, 5, 5, 5)."""
    rng = np.random.default_rng(seed)
    factors = np.stack([rng.integers(0, k, n_items) for k in (8, 5, 5, 5)], axis=1)
    mix = np.eye(4) + 0.3 * rng.standard_normal((4, 4))
    mu = (factors / factors.max(axis=0)) @ mix + 0.1 * rng.standard_normal((n_items, 4))
    split = np.where(rng.random(n_items) < 0.8, "train", "test")
    return {"mu": mu, "logvar": np.full_like(mu, -2.0), "factor_codes": factors, "split": split}


def score(data: dict[str, np.ndarray], estimator: str) -> tuple[float, float, float, object]:
    """Wall s, CPU s, DCI wall s and the DCI result of one evaluate_representation."""
    split = np.asarray(data["split"]).astype(str)
    train, test = np.flatnonzero(split == "train"), np.flatnonzero(split == "test")
    t0, c0 = time.perf_counter(), time.process_time()
    scores = evaluate_representation(
        data["mu"], data["factor_codes"], train=train, test=test, logvar=data["logvar"],
        dci_estimator=estimator,
    )
    return time.perf_counter() - t0, time.process_time() - c0, scores.timings_s["dci"], scores.dci


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("latents", nargs="*", type=Path, help="latents.npz files (default: synthetic).")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--estimator", nargs="+", default=["gbt"], choices=["gbt", "hist"])
    args = parser.parse_args()
    inputs = {str(p): dict(np.load(p, allow_pickle=True)) for p in args.latents} or {"synthetic": synthetic()}
    times: dict[tuple[str, str], list[tuple[float, float, float]]] = {}
    results: dict[tuple[str, str], object] = {}
    score(next(iter(inputs.values())), "gbt")  # warm-up: imports, first-call costs
    for _ in range(args.repeats):
        for name, data in inputs.items():
            for est in args.estimator:
                wall, cpu, dci_s, dci = score(data, est)
                times.setdefault((name, est), []).append((wall, cpu, dci_s))
                results[name, est] = dci
    print(f"medians of {args.repeats} interleaved runs")
    print("| latents | DCI estimator | wall s | CPU s | DCI wall s | D | C | I test |")
    print("|---|---|---|---|---|---|---|---|")
    for (name, est), runs in times.items():
        wall, cpu, dci_s = (statistics.median(r[k] for r in runs) for k in range(3))
        d = results[name, est]
        print(
            f"| {name} | {est} | {wall:.2f} | {cpu:.2f} | {dci_s:.2f} | {d.disentanglement:.4f} "
            f"| {d.completeness:.4f} | {d.informativeness_test:.4f} |"
        )


if __name__ == "__main__":
    main()
