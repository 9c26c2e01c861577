"""``fit`` for the seeds' models: continuous condition inputs, a one-item last batch,
the best checkpoint after a warm-up, and the groove VAE (GRU, hit/velocity likelihood)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from timbrespace.errors import ParameterError
from timbrespace.models import VAEConfig, groove_config
from timbrespace.training import TrainConfig, decode_array, encode_array, fit, load_checkpoint

CONDITIONAL = VAEConfig(
    input_shape=(8,), latent_dim=2, hidden_sizes=(16,), condition_classes=(3,), condition_continuous=1
)


def _data(n: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Items whose level is the continuous condition and whose shape is the label."""
    rng = np.random.default_rng(seed)
    label = rng.integers(0, 3, n)
    level = rng.uniform(0.2, 1.0, n)
    base = np.stack([np.roll(np.linspace(0, 1, 8), 2 * k) for k in range(3)])
    x = (base[label] * level[:, None] + 0.01 * rng.normal(size=(n, 8))).astype(np.float32)
    return x, np.column_stack([label, level]).astype(np.float32)


def test_continuous_conditions_train_and_steer_the_decoder(tmp_path: Path) -> None:
    x, c = _data()
    result = fit(CONDITIONAL, TrainConfig(epochs=30, batch_size=16, lr=1e-2, seed=0), x, out_dir=tmp_path, c_train=c)
    assert result.history[-1].train_recon < 0.5 * result.history[0].train_recon
    z = np.zeros((2, 2), np.float32)
    quiet, loud = decode_array(result.model, z, np.array([[1, 0.3], [1, 0.9]], np.float32))
    # the decoded level follows the continuous input (the model learned x ∝ level)
    assert loud.max() > quiet.max() + 0.2
    mu = encode_array(result.model, x, c)
    assert mu.shape == (60, 2)
    again = load_checkpoint(tmp_path / "checkpoints" / "last")
    assert again.config.condition_continuous == 1


@pytest.mark.parametrize(
    ("c", "match"),
    [
        (None, "continuous input"),
        (np.zeros((60, 1), np.float32), r"expected finite \(60, 2\)"),
        (np.column_stack([np.full(60, 0.5), np.ones(60)]), "integer labels"),
        (np.column_stack([np.full(60, 3.0), np.ones(60)]), "outside 0..n_classes-1"),
        (np.column_stack([np.zeros(60), np.full(60, np.nan)]), "finite"),
    ],
)
def test_bad_conditions_are_parameter_errors(tmp_path: Path, c: np.ndarray | None, match: str) -> None:
    x, _ = _data()
    with pytest.raises(ParameterError, match=match):
        fit(CONDITIONAL, TrainConfig(epochs=1), x, out_dir=tmp_path, c_train=c)
    assert not (tmp_path / "checkpoints").exists()


def test_batchnorm_conv_trains_on_a_last_batch_of_one_item(tmp_path: Path) -> None:
    """Seed 002 skipped one-item batches for BatchNorm; conv BatchNorm normalises over space too."""
    model = VAEConfig(input_shape=(8, 8), latent_dim=2, architecture="conv", conv_channels=(2,), hidden_sizes=(8,))
    x = np.random.default_rng(0).random((17, 8, 8), dtype=np.float32)  # 17 = 2 * 8 + 1
    result = fit(model, TrainConfig(epochs=1, batch_size=8), x, out_dir=tmp_path)
    assert len(result.history) == 1 and np.isfinite(result.history[0].train_loss)


def test_best_checkpoint_starts_afresh_at_best_from_epoch(tmp_path: Path) -> None:
    x, _ = _data()
    model = VAEConfig(input_shape=(8,), latent_dim=2, hidden_sizes=(16,), beta=50.0)
    # β rises from 0 over the first epochs: early losses are lower only because β is smaller
    config = TrainConfig(epochs=4, batch_size=20, beta_schedule="linear", warmup_steps=9, best_from_epoch=3, seed=0)
    fit(model, config, x, out_dir=tmp_path)
    state = json.loads((tmp_path / "checkpoints" / "last" / "training_state.json").read_text())
    history = state["history"]
    assert history[0]["train_loss"] < history[3]["train_loss"]  # the warm-up epochs look better
    assert state["best_loss"] == pytest.approx(history[3]["train_loss"])  # but epoch 3 is the best
    best = load_checkpoint(tmp_path / "checkpoints" / "best")
    last = load_checkpoint(tmp_path / "checkpoints" / "last")
    assert all(torch.equal(a, b) for a, b in zip(best.state_dict().values(), last.state_dict().values(), strict=True))


@pytest.mark.parametrize("architecture", ["mlp", "gru"])
def test_groove_vae_learns_through_fit(tmp_path: Path, architecture: str) -> None:
    rng = np.random.default_rng(0)
    x = np.zeros((64, 16, 9), np.float32)
    x[:, ::4, 0] = rng.uniform(0.5, 1, (64, 4))
    x[:, 4::8, 1] = 0.9
    x[rng.random(64) < 0.5, ::2, 2] = 0.6
    cfg = groove_config(architecture=architecture, latent_dim=2, hidden_sizes=(32,), gru_hidden=16)
    train = TrainConfig(epochs=6, batch_size=16, lr=3e-3, seed=1)
    a = fit(cfg, train, x, out_dir=tmp_path / "a")
    b = fit(cfg, train, x, out_dir=tmp_path / "b")
    assert [r.to_dict() for r in a.history] == [r.to_dict() for r in b.history]
    assert a.history[-1].train_recon < a.history[0].train_recon
