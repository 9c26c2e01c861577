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
    from timbrespace.patterns import (
        build_groove_dataset,
        find_kit,
        load_patterns,
        read_midi,
        render_patterns,
    )
    from timbrespace.patterns.model import GrooveVAEConfig
    from timbrespace.patterns.training import GrooveTrainConfig, train_groove_vae

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
        t = time.perf_counter()
        train_groove_vae(x, GrooveVAEConfig(architecture=arch), GrooveTrainConfig(epochs=20))
        dt = time.perf_counter() - t
        print(f"train_groove_vae {arch}: 20 epochs of {len(x)} bars in {dt:.2f} s ({dt / 20 * 1000:.0f} ms/epoch)")


if __name__ == "__main__":
    main()
