"""``fit`` under data parallelism (DDP, gloo) with two CPU processes, and the strategies refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

_DDP_SCRIPT = """
import json, sys
import numpy as np
from timbrespace.models import VAEConfig
from timbrespace.training import TrainConfig, fit

x = np.random.default_rng(0).random((64, 12)).astype("float32")
model = VAEConfig(input_shape=(12,), latent_dim=2, hidden_sizes=(8,))
train = TrainConfig(epochs=2, batch_size=8, devices=2, num_threads=1, seed=3)
result = fit(model, train, x[:48], x[48:], out_dir=sys.argv[1])
weights = float(sum(p.double().sum() for p in result.model.parameters()))
history = [r.to_dict() for r in result.history]
print("RANK", json.dumps({"rank": result.global_rank, "history": history, "weights": weights}))
"""


@pytest.mark.long(18)
def test_data_parallel_ranks_end_with_the_same_weights_and_history(tmp_path: Path) -> None:
    """Both DDP processes print what they hold after ``fit``: gradients are averaged
    (same weights) and the epoch sums are added over the shards (same history)."""
    import os
    import subprocess
    import sys

    script = tmp_path / "ddp_fit.py"
    script.write_text(_DDP_SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "run")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    ranks = [json.loads(line[5:]) for line in done.stdout.splitlines() if line.startswith("RANK ")]
    assert sorted(r["rank"] for r in ranks) == [0, 1]
    assert ranks[0]["weights"] == ranks[1]["weights"]
    assert ranks[0]["history"] == ranks[1]["history"] and len(ranks[0]["history"]) == 2
    assert json.loads((tmp_path / "run" / "history.json").read_text()) == ranks[0]["history"]


def test_spawning_strategies_are_refused() -> None:
    from timbrespace.errors import ConfigError
    from timbrespace.training import TrainConfig
    from timbrespace.training.fitting import _strategy

    with pytest.raises(ConfigError, match="strategy='ddp_spawn' is not supported"):
        TrainConfig(strategy="ddp_spawn")
    assert _strategy(TrainConfig(devices=2)) == "ddp"
    assert _strategy(TrainConfig(devices=1)) == "auto"
    assert _strategy(TrainConfig(devices="auto")) == "auto"
