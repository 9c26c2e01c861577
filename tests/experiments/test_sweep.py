"""Sweeps: the grid check, the linear-baseline rows, the figure."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.analysis.test_baselines import _mixed_grid
from timbrespace.errors import ParameterError
from timbrespace.experiments.sweep import (
    METRIC_COLUMNS,
    SweepRow,
    plot_sweep,
    sweep,
)
from timbrespace.models import VAEConfig
from timbrespace.training import TrainConfig


def test_sweep_refuses_an_unknown_baseline_before_training(tmp_path: Path) -> None:
    config = VAEConfig(input_shape=(8,), latent_dim=2, hidden_sizes=(4,))
    with pytest.raises(ParameterError, match=r"baselines \['nmf'\] unknown"):
        sweep(
            None,  # type: ignore[arg-type]  # never opened: the check comes first
            features="spec",
            model_configs=[config],
            betas=[1.0],
            seeds=[0],
            train_config=TrainConfig(),
            out_dir=tmp_path,
            baselines=["pca", "nmf"],
        )
    assert not any(tmp_path.iterdir())


def _row(model: str, beta: float, seed: int, score: float) -> SweepRow:
    metrics = dict.fromkeys(METRIC_COLUMNS, score)
    return SweepRow(model, beta, seed, f"{model}-{seed}", 0, 0.0, 0.0, 1.0, **metrics, n_active_latents=2)


def test_plot_draws_baselines_as_reference_lines(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt

    rows = [
        _row("pca", float("nan"), 0, 0.03),
        _row("ica", float("nan"), 0, 0.3),
        _row("ica", float("nan"), 1, 0.2),
        _row("beta_vae", 1.0, 0, 0.1),
        _row("beta_vae", 4.0, 0, 0.12),
    ]
    seen: list[float] = []
    original = plt.Axes.axhline

    def spy(self: plt.Axes, y: float = 0, *args: object, **kwargs: object) -> object:
        seen.append(float(y))
        return original(self, y, *args, **kwargs)

    plt.Axes.axhline = spy  # type: ignore[method-assign]
    try:
        path = plot_sweep(rows, tmp_path / "sweep.png")
    finally:
        plt.Axes.axhline = original  # type: ignore[method-assign]
    assert path.stat().st_size > 1000
    # one PCA and one ICA line (the mean over seeds) in each of the seven panels
    assert sorted(set(np.round(seen, 6))) == [0.03, 0.25] and len(seen) == 14


def test_a_baseline_that_cannot_be_fitted_is_left_out(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Three training items and three components: PCA fits, ICA cannot (needs n > k)."""
    import pandas as pd

    from timbrespace.experiments.sweep import linear_baselines

    x, codes = _mixed_grid()

    class Tiny:  # the part of Dataset the baselines read
        factor_codes = codes[:4]
        metadata = pd.DataFrame({"split": ["train"] * 3 + ["test"]})

        def __len__(self) -> int:
            return 4

        def load_features(self, name: str) -> np.ndarray:
            return x[:4].reshape(4, 5, 8)

        def split_indices(self, split: str) -> np.ndarray:
            return np.arange(3)

    dataset = Tiny()
    with caplog.at_level("WARNING"):
        rows = linear_baselines(dataset, features="f", n_components=3)  # type: ignore[arg-type]
    assert [r.run for r in rows] == ["pca"]
    assert "linear baseline ica skipped" in caplog.text
