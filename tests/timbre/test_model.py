"""Conditional conv VAE: shapes, presets, a training step, slerp."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.timbre.model import ConditionalConvVAE, ConditionalVAEConfig, preset, slerp


def test_seed_preset_is_the_seed_architecture():
    cfg = preset("seed")
    assert cfg.filters == (512, 256, 128, 64, 32) and cfg.latent_dim == 128
    assert (
        cfg.strides[-1] == (2, 1)
        and cfg.recon_weight == 1e6
        and cfg.lr == 5e-4
        and cfg.batch_size == 64
    )
    assert cfg.bottleneck_shape == (32, 16, 4)
    model = ConditionalConvVAE(cfg)
    convs = [m for m in model.encoder.modules() if isinstance(m, torch.nn.Conv2d)]
    assert [c.out_channels for c in convs] == [512, 256, 128, 64, 32]
    assert [c.kernel_size for c in convs] == [(3, 3)] * 5


def test_shapes_and_condition_dependence():
    torch.manual_seed(0)
    model = ConditionalConvVAE(preset("tiny", n_descriptors=3)).eval()
    x = torch.rand(4, 1, 512, 64)
    c = torch.zeros(4, model.config.n_conditions)
    c[:, 0] = 1
    c[:, 3] = 0.5
    c[:, 4] = 1
    mu, logvar = model.encode(x, c)
    assert mu.shape == logvar.shape == (4, 4)
    x_hat = model.decode(mu, c)
    assert x_hat.shape == (4, 1, 512, 64) and 0 <= x_hat.min() and x_hat.max() <= 1
    c2 = c.clone()
    c2[:, 3] = 1.0  # another magnitude
    assert not torch.allclose(model.decode(mu, c2), x_hat)


def test_training_step_lowers_loss_and_eval_is_deterministic():
    torch.manual_seed(0)
    model = ConditionalConvVAE(preset("tiny", n_descriptors=2))
    x = torch.rand(8, 1, 512, 64)
    c = torch.zeros(8, model.config.n_conditions)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        x_hat, mu, logvar = model(x, c, generator=torch.Generator().manual_seed(1))
        loss = model.loss(x, x_hat, mu, logvar)[0]
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]
    model.eval()
    assert torch.equal(model(x, c)[0], model(x, c)[0])


def test_config_round_trip_and_errors():
    cfg = preset("cpu", n_descriptors=6)
    assert ConditionalVAEConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(ParameterError, match="allowed cpu, seed, tiny"):
        preset("huge")
    with pytest.raises(ConfigError, match="divisible"):
        ConditionalVAEConfig(input_shape=(500, 64)).validate()


def test_slerp():
    z0, z1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = slerp(z0, z1, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0], z0, atol=1e-12)
    np.testing.assert_allclose(path[-1], z1, atol=1e-12)
    angles = np.arctan2(path[:, 1], path[:, 0])
    np.testing.assert_allclose(np.diff(angles), np.pi / 8, atol=1e-12)  # constant angular speed
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-12)  # stays on the sphere
    np.testing.assert_allclose(slerp(z0, 3 * z0, np.array([0.5])), [[2.0, 0.0]])  # parallel: linear
