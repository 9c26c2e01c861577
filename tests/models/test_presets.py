"""Seed 002's conditional conv VAE as a configuration of the family (models/presets.py)."""

from __future__ import annotations

import pytest
import torch

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.models import (
    TIMBRE_PRESETS,
    VAEConfig,
    build_model,
    recon_weight_to_variance,
    timbre_config,
)
from timbrespace.models.layers import conv_shapes


def _c(n: int, descriptor: int = 0, pitch: int = 0, magnitude: float = 0.5) -> torch.Tensor:
    return torch.tensor([[descriptor, pitch, magnitude]] * n, dtype=torch.float32)


def test_seed_preset_is_the_seed_architecture() -> None:
    cfg = timbre_config("seed", n_descriptors=19, n_pitches=23)
    assert cfg.conv_channels == (512, 256, 128, 64, 32) and cfg.latent_dim == 128
    assert cfg.strides[-1] == (2, 1) and cfg.hidden_sizes == () and cfg.conv_kernel_size == 3
    assert conv_shapes(cfg)[-1] == (16, 4)  # the seed's (32, 16, 4) bottleneck
    assert cfg.output_activation == "sigmoid" and cfg.condition_continuous == 1
    # 1e6 * pixel-mean MSE == 0.5 * SSE / variance over 512 * 64 pixels
    assert cfg.output_variance == pytest.approx(0.5 * 512 * 64 / 1e6)
    model = build_model(cfg, seed=0)
    convs = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [512, 256, 128, 64, 32]
    assert [c.kernel_size for c in convs] == [(3, 3)] * 5
    assert TIMBRE_PRESETS == ("cpu", "seed", "tiny")


@torch.no_grad()
def test_loss_is_the_seeds_weighted_mse_plus_kl() -> None:
    """recon_weight · mean((x̂ − x)²) + KL, the seed's loss, is what the Gaussian likelihood gives."""
    for weight in (1e6, 32768.0):
        cfg = timbre_config("tiny", n_descriptors=2, n_pitches=3,
                            output_variance=recon_weight_to_variance(weight, 512 * 64))
        model = build_model(cfg, seed=0).eval()
        x = torch.rand(3, 512, 64, generator=torch.Generator().manual_seed(0))
        out = model(x, _c(3), generator=torch.Generator().manual_seed(1))
        terms = model.loss(x, out)
        seed_recon = weight * ((out.x_hat - x) ** 2).mean()
        seed_kl = torch.mean(-0.5 * torch.sum(1 + out.logvar - out.mu**2 - out.logvar.exp(), dim=1))
        assert float(terms.recon) == pytest.approx(float(seed_recon), rel=1e-4)
        assert float(terms.loss) == pytest.approx(float(seed_recon + seed_kl), rel=1e-4)


def test_shapes_and_condition_dependence() -> None:
    model = build_model(timbre_config("tiny", n_descriptors=3, n_pitches=23), seed=0).eval()
    x = torch.rand(4, 512, 64, generator=torch.Generator().manual_seed(0))
    c = _c(4, descriptor=0, pitch=1, magnitude=0.5)
    with torch.no_grad():
        mu, logvar = model.encode(x, c)
        assert mu.shape == logvar.shape == (4, 4)
        x_hat = model.decode(mu, c)
        assert x_hat.shape == (4, 512, 64) and 0 <= x_hat.min() and x_hat.max() <= 1
        louder = c.clone()
        louder[:, 2] = 1.0  # another magnitude (the continuous input)
        assert not torch.allclose(model.decode(mu, louder), x_hat)
        other = c.clone()
        other[:, 1] = 7  # another pitch (a label)
        assert not torch.allclose(model.decode(mu, other), x_hat)
        assert float(logvar.min()) >= -20 and float(logvar.max()) <= 10
    with pytest.raises(ParameterError, match=r"expected \(n, 3\)"):
        model.encode(x, c[:, :2])


def test_training_step_lowers_loss_and_eval_is_deterministic() -> None:
    model = build_model(timbre_config("tiny", n_descriptors=2, n_pitches=2), seed=0)
    x = torch.rand(8, 512, 64, generator=torch.Generator().manual_seed(0))
    c = _c(8)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        out = model(x, c, generator=torch.Generator().manual_seed(1))
        loss = model.loss(x, out).loss
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    model.eval()
    with torch.no_grad():
        assert torch.equal(model.decode(model.encode(x, c)[0], c), model.decode(model.encode(x, c)[0], c))


def test_config_round_trip_and_errors() -> None:
    cfg = timbre_config("cpu", n_descriptors=6, n_pitches=23, beta=2.0)
    assert VAEConfig.from_dict(cfg.to_dict()) == cfg and cfg.beta == 2.0
    with pytest.raises(ParameterError, match="allowed cpu, seed, tiny"):
        timbre_config("huge", n_descriptors=2, n_pitches=2)
    with pytest.raises(ConfigError, match="condition_classes"):
        timbre_config("tiny", n_descriptors=1, n_pitches=23)
    with pytest.raises(ParameterError, match="recon_weight"):
        recon_weight_to_variance(0.0, 10)


def test_any_input_shape_decodes_to_itself() -> None:
    """The seed needed shapes divisible by its strides; the family's decoder lands on any shape."""
    model = build_model(timbre_config("tiny", n_descriptors=2, n_pitches=2, input_shape=(500, 61)), seed=0)
    out = model(torch.rand(2, 500, 61), _c(2))
    assert out.x_hat.shape == (2, 500, 61)
