"""The groove VAE as a configuration of the family: GRU architecture, hit/velocity likelihood,
and GrooVAE's hits, velocities and offsets (``hvo``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.models import (
    VAEConfig,
    build_model,
    groove_config,
    groove_outputs,
    hvo_nll,
    seed004_config,
)
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


def _toy_hvo(n: int = 5) -> torch.Tensor:
    """Velocities and offsets ``(n, 2, 16, 9)``: the toy bars, the hi-hat a third of a step late."""
    v = _toy(n)
    o = torch.zeros_like(v)
    o[:, 4::8, 1] = 1 / 3
    return torch.stack([v, o], dim=1)


def test_groove_outputs_option() -> None:
    assert groove_config() == groove_config(outputs="hv") and groove_config().likelihood == "hit_velocity"
    assert groove_config(outputs="hits") == groove_config(velocities=False)
    hvo = groove_config(outputs="hvo")
    assert hvo.likelihood == "hvo" and hvo.item_shape == (2, 16, 9) and hvo.likelihood_channels == 3
    assert groove_config().item_shape == (16, 9)
    assert [groove_outputs(groove_config(outputs=o)) for o in ("hits", "hv", "hvo")] == ["hits", "hv", "hvo"]
    assert seed004_config().likelihood == "bernoulli"  # the seed's 8-voice hits-only MLP stays
    with pytest.raises(ConfigError, match=r"outputs='hov' is not allowed: one of hits, hv, hvo"):
        groove_config(outputs="hov")
    with pytest.raises(ConfigError, match="velocities=False"):
        groove_config(outputs="hvo", velocities=False)
    with pytest.raises(ConfigError, match="'mlp' or 'gru'"):
        VAEConfig(input_shape=(16, 9), architecture="conv", likelihood="hvo")
    with pytest.raises(ConfigError, match="not a groove model"):
        groove_outputs(VAEConfig(input_shape=(16, 9)))


@pytest.mark.parametrize("architecture", ["mlp", "gru"])
def test_hvo_architectures(architecture: str) -> None:
    cfg = groove_config(architecture=architecture, latent_dim=3, hidden_sizes=(32,), gru_hidden=16, outputs="hvo")
    model = build_model(cfg, seed=0)
    x = _toy_hvo()
    out = model(x, generator=torch.Generator().manual_seed(0))
    assert out.x_logits.shape == (5, 3, 16, 9) and out.x_hat.shape == (5, 2, 16, 9) and out.mu.shape == (5, 3)
    hits, velocities = model.hits_and_velocities(out.mu)
    offsets = model.offsets(out.mu)
    assert hits.shape == velocities.shape == offsets.shape == (5, 16, 9)
    assert (offsets.abs() < 0.5).all()
    p = torch.sigmoid(out.x_logits[:, 0])
    torch.testing.assert_close(out.x_hat[:, 1], p * 0.5 * torch.tanh(out.x_logits[:, 2]))
    with pytest.raises(ParameterError, match=r"expected \(n, 2, 16, 9\)"):
        model.encode(_toy())  # velocities alone: the offsets are missing
    with pytest.raises(ParameterError, match="offsets needs likelihood 'hvo'"):
        build_model(groove_config(hidden_sizes=(8,)), seed=0).offsets(torch.zeros(1, 8))


def test_hvo_loss_against_naive_grovae() -> None:
    g = torch.Generator().manual_seed(0)
    v = torch.where(torch.rand(6, 16, 9, generator=g) < 0.2, torch.rand(6, 16, 9, generator=g), torch.zeros(6, 16, 9))
    o = torch.where(v > 0, torch.rand(6, 16, 9, generator=g) - 0.5, torch.zeros(6, 16, 9))
    x = torch.stack([v, o], dim=1)
    logits = torch.randn(6, 3, 16, 9, generator=g)
    naive = [
        F.binary_cross_entropy_with_logits(logits[i, 0], (v[i] > 0).float(), reduction="sum")
        + sum((torch.sigmoid(logits[i, 1, s, k]) - v[i, s, k]) ** 2 + (0.5 * torch.tanh(logits[i, 2, s, k]) - o[i, s, k]) ** 2
              for s in range(16) for k in range(9) if v[i, s, k] > 0)
        for i in range(6)
    ]
    torch.testing.assert_close(hvo_nll(x, logits), torch.stack(naive), rtol=1e-5, atol=1e-5)
    # the hit and velocity terms are hit_velocity's: with the offset on target only they are left
    exact = logits.clone()
    exact[:, 2] = torch.atanh((2 * o).clamp(-0.999999, 0.999999))
    torch.testing.assert_close(hvo_nll(x, exact), hit_velocity_nll(v, logits[:, :2]), rtol=1e-4, atol=1e-4)


def _real_bars(grooves_dir: Path, names: tuple[str, ...]) -> torch.Tensor:
    from timbrespace.patterns.midi import read_midi

    bars = []
    for name in names:
        patterns, offsets, _ = read_midi(grooves_dir / name).patterns_and_offsets()
        bars.append(np.stack([patterns, offsets], axis=1))
    return torch.from_numpy(np.concatenate(bars).astype(np.float32))


def test_hvo_model_fits_real_offsets_better_than_the_grid(grooves_dir: Path) -> None:
    """A tiny HVO model learns a handful of real grooves' micro-timing (triplet and laid-back feels among them)."""
    x = _real_bars(grooves_dir, ("stdlib__jazzrock__JazzRockWalkSusPlus.mid", "stdlib__rb__R&BFill.mid",
                                 "stdlib__merengue__MerengueSus.mid", "stdlib__fastblues__FastBlues1.mid"))
    assert x.shape == (18, 2, 16, 9)
    hits = x[:, 0] > 0
    model = build_model(groove_config(latent_dim=4, hidden_sizes=(64,), outputs="hvo", beta=0.1), seed=0)
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(300):
        optimiser.zero_grad()
        terms = model.loss(x, model(x, generator=gen))
        terms.loss.backward()
        optimiser.step()
        losses.append(float(terms.loss.detach()))
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    model.eval()
    with torch.no_grad():
        offsets = model.offsets(model.encode(x)[0])
    model_mae = float((offsets - x[:, 1])[hits].abs().mean())
    grid_mae = float(x[:, 1][hits].abs().mean())
    # measured: 0.030 steps against 0.082 on the grid (loss 67 → 1.9)
    assert model_mae < 0.5 * grid_mae, (model_mae, grid_mae)
