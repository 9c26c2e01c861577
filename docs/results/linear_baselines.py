"""Linear baselines for the default experiment: MIG of PCA and FastICA of the features.

No VAE: the default experiment's dataset and features (``additive-4factor``), flattened,
projected onto ``k`` principal components or ``k`` independent components (FastICA,
logcosh contrast, ``random_state`` 0..2), and scored with the same
:func:`timbrespace.metrics.mig` as a run. It answers "how much of the factor structure
is linear in the input?", the reference point the β-VAE numbers in
``default_experiment_search.md`` are read against.

Run (about a minute on 2 cores)::

    OMP_NUM_THREADS=2 .venv/bin/python docs/results/linear_baselines.py
"""

from __future__ import annotations

import tempfile
import warnings
from pathlib import Path

import numpy as np
from sklearn.decomposition import PCA, FastICA

from timbrespace.datasets import generate_dataset
from timbrespace.experiments import load_experiment_config
from timbrespace.features import compute_dataset_features
from timbrespace.metrics import mig


def main() -> None:
    config = load_experiment_config(None)
    with tempfile.TemporaryDirectory() as tmp:
        ds = generate_dataset(config.dataset, Path(tmp) / "ds", progress=False)
        name = compute_dataset_features(ds, config.features, name="baseline")
        x = ds.load_features(name).reshape(len(ds), -1).astype(np.float64)
        codes = ds.factor_codes
        factors = ds.factor_names
    print(f"{config.name}: {x.shape[0]} items × {x.shape[1]} features; factors {factors}")
    print(f"{'method':<14} {'k':>2} {'MIG':>6}  per factor")
    for k in (4, 6, 8, 10):
        result = mig(PCA(k, random_state=0).fit_transform(x), codes)
        print(f"{'PCA':<14} {k:>2} {result.score:6.3f}  {np.round(result.per_factor, 3).tolist()}")
        for seed in range(3):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # FastICA's convergence warnings
                sources = FastICA(k, random_state=seed, max_iter=1000).fit_transform(x)
            result = mig(sources, codes)
            label = f"FastICA seed {seed}"
            print(f"{label:<14} {k:>2} {result.score:6.3f}  {np.round(result.per_factor, 3).tolist()}")


if __name__ == "__main__":
    main()
