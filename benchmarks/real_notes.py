"""CPU per epoch of the ``real-notes-weak`` recipe: its VAE training and its decoder refinement.

Run (a few minutes on 2 cores)::

    OMP_NUM_THREADS=1 PYTHONPATH=src .venv/bin/python benchmarks/real_notes.py \
        [--dataset DATASET] [--epochs 3] [--refine-epochs 6] [--repeats 3] [--src OLD/src ...]

``DATASET`` is ``../shared/data/notes`` ingested (``timbrespace ingest``); without it the
script ingests that folder into a temporary one. Each measurement is a fresh process that
computes the recipe's features, then :func:`timbrespace.training.fit` (one torch thread,
the recipe's model, pairs and batch size) for ``--epochs`` VAE epochs and
``--refine-epochs`` refinement epochs, and prints the process CPU seconds (user + system)
per VAE epoch and per refinement epoch (medians; each stage's first epoch, with its
warm-up, left out).

``--src`` adds source trees to compare (e.g. ``git archive OLD src | tar -x -C /tmp/old``,
then ``--src /tmp/old/src``): repetitions alternate between the trees (A B A B ...), and
the script prints medians and each tree's ratio to the first (``src``, this checkout).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SHARED_NOTES = Path(__file__).resolve().parents[2] / "shared" / "data" / "notes"


def measure(dataset: str, epochs: int, refine_epochs: int) -> dict[str, float]:
    """One measurement in this process: CPU seconds per VAE epoch and per refinement epoch."""
    import dataclasses

    import lightning as L

    from timbrespace.datasets import Dataset
    from timbrespace.experiments import load_experiment_config
    from timbrespace.experiments.train import supervision_for
    from timbrespace.features import compute_dataset_features
    from timbrespace.training import fit

    config = load_experiment_config("real-notes-weak")
    ds = Dataset(dataset)
    name = compute_dataset_features(ds, config.features, name="bench_real_notes", overwrite=True, progress=False)
    x = ds.load_features(name)
    train_idx = ds.split_indices("train")
    marks: dict[str, list[float]] = {"epoch_start": [], "epoch_end": []}

    class Clock(L.Callback):
        def on_train_epoch_start(self, trainer, pl_module):  # noqa: ANN001
            marks["epoch_start"].append(time.process_time())

        def on_train_epoch_end(self, trainer, pl_module):  # noqa: ANN001
            marks["epoch_end"].append(time.process_time())

    # refinement epochs timed where they run (the stage's own set-up and checkpoint write left out)
    import timbrespace.training.refine as refine

    epoch_fn, refine_cpu = refine._epoch, []

    def timed_epoch(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        t0 = time.process_time()
        loss = epoch_fn(*args, **kwargs)
        refine_cpu.append(time.process_time() - t0)
        return loss

    refine._epoch = timed_epoch
    model_config = dataclasses.replace(config.model, input_shape=tuple(int(s) for s in x.shape[1:]))
    training = dataclasses.replace(config.training, epochs=epochs, refine_epochs=refine_epochs,
                                   enable_progress_bar=False)
    with tempfile.TemporaryDirectory() as out:
        fit(model_config, training, x[train_idx], out_dir=out, callbacks=[Clock()],
            **supervision_for(ds, train_idx, config.model, config.training),
            feature_scale=config.features.magnitude_scale)
    vae = [b - a for a, b in zip(marks["epoch_start"][1:], marks["epoch_end"][1:], strict=True)]
    return {"vae_epoch_cpu_s": statistics.median(vae), "refine_epoch_cpu_s": statistics.median(refine_cpu[1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", help="ingested ../shared/data/notes (default: ingest it to a temporary folder)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--refine-epochs", type=int, default=6)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--src", nargs="*", default=[], help="other source trees to compare")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # a single measurement, as JSON
    args = parser.parse_args()
    if args.one:
        print(json.dumps(measure(args.dataset, args.epochs, args.refine_epochs)))
        return
    here = str(Path(__file__).resolve().parents[1] / "src")
    trees = [here, *args.src]
    with tempfile.TemporaryDirectory() as tmp:
        dataset = args.dataset
        if dataset is None:
            dataset = str(Path(tmp) / "notes")
            subprocess.run([sys.executable, "-m", "timbrespace", "ingest", str(SHARED_NOTES), "--out", dataset],
                           env={**os.environ, "PYTHONPATH": here}, check=True, stdout=subprocess.DEVNULL)
        results: dict[str, list[dict[str, float]]] = {t: [] for t in trees}
        for r in range(args.repeats):
            for tree in trees:
                cmd = [sys.executable, __file__, "--one", "--dataset", dataset, "--epochs", str(args.epochs),
                       "--refine-epochs", str(args.refine_epochs)]
                env = {**os.environ, "PYTHONPATH": tree, "OMP_NUM_THREADS": "1"}
                out = subprocess.run(cmd, env=env, check=True, capture_output=True, text=True).stdout
                results[tree].append(json.loads(out.strip().splitlines()[-1]))
                print(f"repeat {r + 1} {tree}: {results[tree][-1]}", flush=True)
    base = {k: statistics.median(m[k] for m in results[here]) for k in results[here][0]}
    print(f"\n{'tree':<40} {'VAE epoch CPU s':>16} {'refine epoch CPU s':>19} {'VAE x':>7} {'refine x':>9}")
    for tree in trees:
        med = {k: statistics.median(m[k] for m in results[tree]) for k in base}
        print(f"{tree:<40} {med['vae_epoch_cpu_s']:>16.2f} {med['refine_epoch_cpu_s']:>19.3f} "
              f"{med['vae_epoch_cpu_s'] / base['vae_epoch_cpu_s']:>7.2f} "
              f"{med['refine_epoch_cpu_s'] / base['refine_epoch_cpu_s']:>9.2f}")
    print("(x: CPU of that tree / CPU of this checkout's src; > 1 means this checkout is faster)")


if __name__ == "__main__":
    main()
