"""Benchmark of the drum-groove path: MIDI ingest, rendering, training speed.

Run: ``OMP_NUM_THREADS=1 .venv/bin/python benchmarks/patterns.py [GROOVES_DIR] [KIT_DIR]``
(defaults: ``../shared/data/grooves`` and ``../shared/data/drumkits/TR808EmulationKit``).
Prints one line per measurement; numbers depend on the machine's load.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch


def main() -> None:
    from timbrespace.experiments.drums import GrooveTrainConfig
    from timbrespace.models import groove_config
    from timbrespace.patterns import (
        build_groove_dataset,
        find_kit,
        load_patterns,
        read_midi,
        render_patterns,
    )
    from timbrespace.training import fit

    torch.set_num_threads(1)
    repo = Path(__file__).resolve().parents[1]
    grooves = Path(sys.argv[1]) if len(sys.argv) > 1 else repo.parent / "shared" / "data" / "grooves"
    kit_dir = Path(sys.argv[2]) if len(sys.argv) > 2 else repo.parent / "shared" / "data" / "drumkits" / "TR808EmulationKit"
    files = sorted(grooves.glob("*.mid"))

    t = time.perf_counter()
    n_bars = sum(len(read_midi(f).bars) for f in files)
    dt = time.perf_counter() - t
    print(f"read_midi: {len(files)} files, {n_bars} bars in {dt:.2f} s ({n_bars / dt:.0f} bars/s)")

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        report = build_groove_dataset(grooves, Path(tmp) / "ds")
        print(f"build_groove_dataset: {report.n_items} bars kept in {time.perf_counter() - t:.2f} s")
        x, _ = load_patterns(Path(tmp) / "ds", "train")

    kit = find_kit(kit_dir)
    loop = np.concatenate([x[:32]] * 1)
    t = time.perf_counter()
    y = render_patterns(loop, kit, bpm=120.0, sample_rate=44100)
    dt = time.perf_counter() - t
    print(f"render_patterns ({kit.name}): {len(loop)} bars = {len(y) / 44100:.1f} s of audio in {dt:.3f} s "
          f"({len(y) / 44100 / dt:.0f}x real time)")

    for arch in ("mlp", "gru"):
        config = groove_config(n_steps=x.shape[1], n_voices=x.shape[2], architecture=arch)
        train = GrooveTrainConfig(epochs=20).train_config(len(x))
        with tempfile.TemporaryDirectory() as tmp:
            t = time.perf_counter()
            fit(config, train, x, out_dir=tmp)
            dt = time.perf_counter() - t
        print(f"fit groove VAE {arch}: 20 epochs of {len(x)} bars in {dt:.2f} s ({dt / 20 * 1000:.0f} ms/epoch, "
              f"{20 * len(x) / dt:.0f} bars/s)")


if __name__ == "__main__":
    main()
