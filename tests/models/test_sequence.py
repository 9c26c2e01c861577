"""The groove VAE as a configuration of the family: GRU architecture, hit/velocity likelihood."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.models import VAEConfig, build_model, groove_config, seed004_config
from timbrespace.models.losses import hit_velocity_nll
from timbrespace.training import load_checkpoint, save_checkpoint


def _toy(n: int = 5) -> torch.Tensor:
    x = torch.zeros(n, 16, 9)
    x[:, ::4, 0] = 0.8
    x[:, 4::8, 1] = 0.9
    return x


def test_seed004_architecture() -> None:
    cfg = seed004_config()
    model = build_model(cfg, seed=0)
    first = model.encoder.body[0]
    assert (first.in_features, first.out_features) == (512, 800)
    assert model.encoder.head.out_features == 2 * 2 and cfg.likelihood == "bernoulli"
    assert model.decoder.net[-1].out_features == 512


@pytest.mark.parametrize("architecture", ["mlp", "gru"])
def test_architectures_with_velocities(architecture: str) -> None:
    cfg = groove_config(architecture=architecture, latent_dim=3, hidden_sizes=(32,), gru_hidden=16)
    model = build_model(cfg, seed=0)
    out = model(_toy(), generator=torch.Generator().manual_seed(0))
    assert out.x_logits.shape == (5, 2, 16, 9) and out.x_hat.shape == (5, 16, 9)
    assert out.mu.shape == (5, 3)
    hits, velocities = model.hits_and_velocities(out.mu)
    assert hits.shape == velocities.shape == (5, 16, 9)
    assert ((velocities > 0) & (velocities < 1)).all() and ((hits > 0) & (hits < 1)).all()
    torch.testing.assert_close(out.x_hat, torch.sigmoid(out.x_logits[:, 0]) * torch.sigmoid(out.x_logits[:, 1]))
    with pytest.raises(ParameterError, match="shape"):
        model.encode(torch.zeros(2, 8, 9))


def test_config_errors() -> None:
    with pytest.raises(ConfigError, match="architecture"):
        groove_config(architecture="transformer")
    with pytest.raises(ConfigError, match="n_steps, n_features"):
        VAEConfig(input_shape=(144,), architecture="gru")
    with pytest.raises(ConfigError, match="'mlp' or 'gru'"):
        VAEConfig(input_shape=(16, 9), architecture="conv", likelihood="hit_velocity")
    with pytest.raises(ConfigError, match="likelihood='gaussian' only"):
        VAEConfig(input_shape=(16, 9), likelihood="bernoulli", output_activation="sigmoid")
    with pytest.raises(ConfigError, match="logvar_bounds"):
        VAEConfig(input_shape=(4,), logvar_bounds=(3.0, -3.0))


def test_hit_velocity_loss_against_naive_grovae() -> None:
    g = torch.Generator().manual_seed(0)
    x = torch.where(torch.rand(6, 16, 9, generator=g) < 0.2, torch.rand(6, 16, 9, generator=g), torch.zeros(6, 16, 9))
    logits = torch.randn(6, 2, 16, 9, generator=g)
    hits = (x > 0).float()
    naive = [
        F.binary_cross_entropy_with_logits(logits[i, 0], hits[i], reduction="sum")
        + sum((torch.sigmoid(logits[i, 1, s, v]) - x[i, s, v]) ** 2 for s in range(16) for v in range(9) if x[i, s, v] > 0)
        for i in range(6)
    ]
    torch.testing.assert_close(hit_velocity_nll(x, logits), torch.stack(naive), rtol=1e-5, atol=1e-5)
    # variance 0.25 doubles the velocity term
    doubled = hit_velocity_nll(x, logits, velocity_variance=0.25) - hit_velocity_nll(x, logits)
    bce = F.binary_cross_entropy_with_logits(logits[:, 0], hits, reduction="none").flatten(1).sum(1)
    torch.testing.assert_close(doubled, hit_velocity_nll(x, logits) - bce, rtol=1e-5, atol=1e-5)


@torch.no_grad()
def test_velocity_loss_masked_to_hits() -> None:
    model = build_model(groove_config(hidden_sizes=(16,)), seed=0).eval()
    silent = torch.zeros(4, 16, 9)
    out = model(silent)
    bce_only = F.binary_cross_entropy_with_logits(out.x_logits[:, 0], silent, reduction="sum") / 4
    assert float(model.loss(silent, out).recon) == pytest.approx(float(bce_only), rel=1e-6)
    x = torch.zeros(1, 16, 9)
    x[0, 0, 0] = 0.5
    out = model(x, generator=torch.Generator().manual_seed(0))
    hits = (x > 0).float()
    expected = F.binary_cross_entropy_with_logits(out.x_logits[:, 0], hits, reduction="sum") + (
        torch.sigmoid(out.x_logits[0, 1, 0, 0]) - 0.5
    ) ** 2
    assert float(model.loss(x, out).recon) == pytest.approx(float(expected), rel=1e-6)


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    cfg = groove_config(architecture="gru", latent_dim=4, gru_hidden=8)
    model = build_model(cfg, seed=3)
    save_checkpoint(model, tmp_path)
    again = load_checkpoint(tmp_path)
    assert again.config == cfg
    z = torch.randn(3, 4)
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.decode_logits(z), again.decode_logits(z))
    assert not any(p.suffix in (".pt", ".pkl", ".ckpt") for p in tmp_path.iterdir())


def test_hits_only_model_and_gaussian_refusal() -> None:
    model = build_model(groove_config(velocities=False, hidden_sizes=(8,)), seed=0)
    hits, velocities = model.hits_and_velocities(torch.zeros(2, 8))
    assert hits.shape == (2, 16, 9) and velocities is None
    gaussian = build_model(VAEConfig(input_shape=(16, 9), hidden_sizes=(8,)), seed=0)
    with pytest.raises(ParameterError, match="bernoulli"):
        gaussian.hits_and_velocities(torch.zeros(2, 10))
