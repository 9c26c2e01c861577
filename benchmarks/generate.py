"""Benchmark of the dataset engine: speed against a DSGenerator-style loop, memory, scaling.

Run (a few minutes on 2 cores)::

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/generate.py [--quick] [--tmp DIR]

Prints three tables:

1. End-to-end x-realtime (render + write WAV + metadata) of ``generate_dataset`` on 1 and
   2 workers against a DSGenerator-style sequential loop (one render call per item,
   ``soundfile.write`` per file, one JSON parameter file per item, as seed 003 did).
2. Peak RSS of a 100,000-item dataset (0.1 s items at 8 kHz, WAV to a temporary folder),
   measured in a child process (its own peak and its workers' peak).
3. Items/s at 10,000 vs 100,000 items (linear scaling means equal rates).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from timbrespace.datasets import DatasetConfig, generate_dataset
from timbrespace.datasets.design import build_design
from timbrespace.synths import get_sound_model


def speed_config(n_f0: int) -> DatasetConfig:
    """Seed-001-like items: additive, 1 s at 8 kHz, 10 partials."""
    return DatasetConfig(
        name="bench-speed",
        sound_model="additive",
        sample_rate=8000,
        duration_s=1.0,
        fixed={"n_partials": 10},
        parameters={
            "f0_hz": {"min": 100, "max": 1000, "n": n_f0, "spacing": "log"},
            "presence": {"values": ["all", "odd"]},
            "decay_per_s": {"values": [0, 2, 4, 8]},
        },
    )


def scale_config(n_items: int) -> DatasetConfig:
    """Short items for the memory and scaling runs: 0.1 s at 8 kHz, random design."""
    return DatasetConfig(
        name=f"bench-{n_items}",
        sound_model="additive",
        sample_rate=8000,
        duration_s=0.1,
        fixed={"n_partials": 5},
        parameters={
            "f0_hz": {"min": 100, "max": 1000, "spacing": "log"},
            "decay_per_s": {"min": 0, "max": 10},
        },
        sampling={"method": "random", "n": n_items},
    )


def dsgenerator_loop(config: DatasetConfig, out: Path) -> float:
    """Seed 003's way: one render call per setting, one WAV and one JSON per file."""
    out.mkdir(parents=True)
    model = get_sound_model(config.sound_model)
    design = build_design(config)
    t0 = time.perf_counter()
    for s in range(design.n_settings):
        params = {**config.fixed, **{k: design.values[s, j] for j, k in enumerate(design.names)}}
        audio = model.render(
            params,
            sample_rate=config.sample_rate,
            duration_s=config.item_duration_s,
            seed=config.seed,
            item_index=[s],
        )[0]
        stem = "--".join(f"{k}-{design.values[s, j]:05.2f}" for j, k in enumerate(design.names))
        sf.write(out / f"{stem}.wav", audio, config.sample_rate, subtype="FLOAT")
        (out / f"{stem}.params").write_text(
            json.dumps({k: float(v) for k, v in zip(design.names, design.values[s], strict=True)})
        )
    return time.perf_counter() - t0


def timed_generate(config: DatasetConfig, out: Path, workers: int) -> float:
    t0 = time.perf_counter()
    generate_dataset(config, out, workers=workers, progress=False)
    return time.perf_counter() - t0


def child_run(n_items: int, workers: int, out: Path) -> dict[str, float]:
    """Generate in a child process; return its wall time and peak RSS (self, workers)."""
    code = (
        "import json, resource, sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from generate import scale_config\n"
        "from timbrespace.datasets import generate_dataset\n"
        f"t0 = time.perf_counter()\n"
        f"generate_dataset(scale_config({n_items}), {str(out)!r}, workers={workers}, progress=False)\n"
        "dt = time.perf_counter() - t0\n"
        "me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'seconds': dt, 'rss_mb': me / 1024, 'worker_rss_mb': kids / 1024}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="Smaller runs (10k instead of 100k items)."
    )
    parser.add_argument(
        "--tmp", type=Path, default=None, help="Scratch folder (default: a temporary one)."
    )
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="ts-bench-", dir=args.tmp))
    try:
        cfg = speed_config(25 if not args.quick else 10)
        audio_s = cfg.n_items * cfg.item_duration_s
        print(
            f"## 1. end-to-end, {cfg.n_items} items of {cfg.item_duration_s:g} s at {cfg.sample_rate} Hz"
        )
        print("| method | seconds | items/s | x realtime |")
        print("|---|---|---|---|")
        for label, fn in [
            ("DSGenerator-style loop", lambda: dsgenerator_loop(cfg, root / "dsg")),
            ("generate_dataset, 1 worker", lambda: timed_generate(cfg, root / "w1", 1)),
            ("generate_dataset, 2 workers", lambda: timed_generate(cfg, root / "w2", 2)),
        ]:
            dt = fn()
            print(f"| {label} | {dt:.2f} | {cfg.n_items / dt:,.0f} | {audio_s / dt:,.0f} |")
        sizes = (10_000, 100_000) if not args.quick else (2_000, 10_000)
        print(
            f"\n## 2-3. short items (0.1 s at 8 kHz, WAV), {' vs '.join(f'{n:,}' for n in sizes)} items, 2 workers"
        )
        print(
            "| items | seconds | items/s | x realtime | peak RSS main (MB) | peak RSS worker (MB) |"
        )
        print("|---|---|---|---|---|---|")
        for n in sizes:
            r = child_run(n, 2, root / f"s{n}")
            print(
                f"| {n:,} | {r['seconds']:.1f} | {n / r['seconds']:,.0f} | {n * 0.1 / r['seconds']:,.0f} "
                f"| {r['rss_mb']:.0f} | {r['worker_rss_mb']:.0f} |"
            )
            shutil.rmtree(root / f"s{n}")
        print(
            f"\n(this process: peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB; "
            f"numpy {np.__version__})"
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
