"""Linear baselines of a sweep: PCA and FastICA scored with the sweep's metrics."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics import mig
from timbrespace.models import VAEConfig
from timbrespace.training import TrainConfig
from timbrespace.training.sweep import (
    METRIC_COLUMNS,
    SweepRow,
    fit_linear_baseline,
    plot_sweep,
    sweep,
)


def _mixed_grid(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four uniform grid factors (6 levels each) mixed linearly into 40 features.

    The mixing columns share one direction (cosines about 0.6), so principal
    components mix the factors; independent components recover them up to order,
    sign and scale.
    """
    rng = np.random.default_rng(seed)
    codes = np.array(list(itertools.product(range(6), repeat=4)))
    mixing = 0.8 * rng.normal(size=(40, 1)) + 0.6 * rng.normal(size=(40, 4))
    x = ((codes - 2.5) * np.array([1.0, 1.5, 2.0, 2.5])) @ mixing.T
    return x + 0.01 * rng.normal(size=x.shape), codes


def test_ica_recovers_linearly_mixed_factors_and_pca_does_not() -> None:
    x, codes = _mixed_grid()
    ica = mig(fit_linear_baseline(x, "ica", 4, random_state=0), codes)
    pca = mig(fit_linear_baseline(x, "pca", 4), codes)
    assert ica.score > 0.95 and min(ica.per_factor) > 0.9
    assert pca.score < 0.4


def test_baseline_is_fitted_on_the_train_rows_and_projects_every_row() -> None:
    x, codes = _mixed_grid()
    train = np.arange(0, len(x), 2)
    latents = fit_linear_baseline(x, "ica", 4, train=train, random_state=1)
    assert latents.shape == (len(x), 4) and latents.dtype == np.float64
    assert mig(latents, codes).score > 0.9
    # PCA fitted on the train rows: its scores there are centred on the train mean
    pca = fit_linear_baseline(x, "pca", 4, train=train)
    np.testing.assert_allclose(pca[train].mean(axis=0), 0.0, atol=1e-9)
    assert np.abs(pca[1::2].mean(axis=0)).max() > 1e-6


def test_baseline_is_deterministic() -> None:
    x, _ = _mixed_grid()
    first = fit_linear_baseline(x, "ica", 3, random_state=2)
    np.testing.assert_array_equal(first, fit_linear_baseline(x, "ica", 3, random_state=2))


@pytest.mark.parametrize(
    ("method", "k", "message"),
    [("nmf", 2, "method='nmf' unknown"), ("pca", 0, "n_components=0"), ("ica", 41, "1..40")],
)
def test_bad_baseline_settings_name_the_problem(method: str, k: int, message: str) -> None:
    x, _ = _mixed_grid()
    with pytest.raises(ParameterError, match=message):
        fit_linear_baseline(x, method, k)


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

    from timbrespace.training.sweep import linear_baselines

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
