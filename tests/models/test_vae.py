"""Tests of the VAE family: shapes, loss convention, objectives, conditioning, train/eval steps."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.models import VAEConfig, build_model, gaussian_kl, permute_dims, tc_decomposition
from timbrespace.models.losses import log_normal

MLP = VAEConfig(input_shape=(12,), latent_dim=3, hidden_sizes=(16,))
CONV = VAEConfig(
    input_shape=(1, 20, 9),
    latent_dim=3,
    architecture="conv",
    hidden_sizes=(16,),
    conv_channels=(4, 6),
    conv_strides=((2, 2), (2, 1)),
)


@pytest.mark.parametrize("objective", ["beta_vae", "annealed", "tcvae", "factorvae"])
@pytest.mark.parametrize("base", [MLP, CONV], ids=["mlp", "conv"])
def test_every_objective_trains_a_few_steps(base: VAEConfig, objective: str) -> None:
    config = VAEConfig.from_dict(
        {**base.to_dict(), "objective": objective, "dataset_size": 64, "beta": 4.0}
    )
    model = build_model(config, seed=0)
    g = torch.Generator().manual_seed(0)
    x = torch.rand((32, *config.input_shape), generator=g)
    opt = torch.optim.Adam(model.vae_parameters(), lr=1e-2)
    losses = []
    for step in range(15):
        out = model(x, generator=g)
        terms = model.loss(x, out, step=step)
        assert out.x_hat.shape == x.shape and out.mu.shape == (32, 3)
        assert terms.loss.ndim == 0 and torch.isfinite(terms.loss)
        opt.zero_grad()
        terms.loss.backward()
        opt.step()
        if objective == "factorvae":
            d_loss = model.discriminator_loss(out.z.detach(), generator=g)
            assert abs(float(d_loss.detach()) - math.log(2)) < 0.5  # near chance at the start
        losses.append(float(terms.recon.detach()))
    assert losses[-1] < losses[0]  # reconstruction improves on a fixed batch


@torch.no_grad()
def test_loss_convention_sum_over_dims_mean_over_batch() -> None:
    """recon = 0.5 * SSE / variance per item, KL summed over latents, both batch means: no hidden β≈1000."""
    model = build_model(
        VAEConfig(input_shape=(1024,), latent_dim=10, hidden_sizes=(8,), beta=1.0), seed=0
    )
    x = torch.rand(5, 1024, generator=torch.Generator().manual_seed(1))
    out = model(x, generator=torch.Generator().manual_seed(2))
    terms = model.loss(x, out)
    sse = ((x - out.x_hat) ** 2).sum(dim=1).mean()
    kl = (0.5 * (out.mu**2 + out.logvar.exp() - 1 - out.logvar)).sum(dim=1).mean()
    assert float(terms.recon) == pytest.approx(float(sse), rel=1e-5)  # output_variance 0.5 -> SSE
    assert float(terms.kl) == pytest.approx(float(kl), rel=1e-5)
    assert float(terms.loss) == pytest.approx(float(sse + kl), rel=1e-5)
    assert float(model.loss(x, out, beta=4.0).loss) == pytest.approx(float(sse + 4 * kl), rel=1e-5)


@torch.no_grad()
def test_bernoulli_and_learned_variance_likelihoods() -> None:
    x = (torch.rand(6, 10, generator=torch.Generator().manual_seed(0)) > 0.5).float()
    bern = build_model(
        VAEConfig(input_shape=(10,), latent_dim=2, hidden_sizes=(8,), likelihood="bernoulli"),
        seed=0,
    )
    out = bern(x)
    assert float(out.x_hat.min()) >= 0 and float(out.x_hat.max()) <= 1
    p = out.x_hat.double()
    naive = -(x * p.log() + (1 - x) * (1 - p).log()).sum(dim=1).mean()
    assert float(bern.loss(x, out).recon) == pytest.approx(float(naive), rel=1e-4)
    learned = build_model(
        VAEConfig(
            input_shape=(10,),
            latent_dim=2,
            hidden_sizes=(8,),
            learn_variance=True,
            output_variance=2.0,
        ),
        seed=0,
    )
    out = learned(x)
    var = 2.0
    naive = (0.5 * (math.log(2 * math.pi * var) + (x - out.x_hat) ** 2 / var)).sum(dim=1).mean()
    assert float(learned.loss(x, out).recon) == pytest.approx(float(naive), rel=1e-5)
    assert learned.output_logvar is not None and learned.output_logvar.shape == (10,)


@torch.no_grad()
def test_annealed_capacity_is_linear_then_flat() -> None:
    model = build_model(
        VAEConfig(
            input_shape=(4,),
            latent_dim=2,
            hidden_sizes=(4,),
            objective="annealed",
            capacity_max=10.0,
            capacity_steps=100,
        )
    )
    assert [model.capacity(s) for s in (0, 50, 100, 1000)] == [0.0, 5.0, 10.0, 10.0]
    x = torch.rand(3, 4)
    out = model(x)
    terms = model.loss(x, out, beta=7.0, step=50)
    assert float(terms.loss) == pytest.approx(
        float(terms.recon + 7.0 * (terms.kl - 5.0).abs()), rel=1e-6
    )


def test_tc_decomposition_sums_to_sampled_kl_and_matches_naive_loop() -> None:
    g = torch.Generator().manual_seed(3)
    z, mu, logvar = (
        torch.randn(6, 3, generator=g),
        torch.randn(6, 3, generator=g),
        torch.randn(6, 3, generator=g) * 0.3,
    )
    n_data = 1000
    mi, tc, dim_kl = tc_decomposition(z, mu, logvar, dataset_size=n_data)
    sampled_kl = (
        log_normal(z, mu, logvar).sum(1) - log_normal(z, torch.zeros(1), torch.zeros(1)).sum(1)
    ).mean()
    assert float(mi + tc + dim_kl) == pytest.approx(float(sampled_kl), abs=1e-4)
    # naive log q(z_i) by an explicit double loop
    log_qz = []
    for i in range(6):
        terms = [float(log_normal(z[i], mu[j], logvar[j]).sum()) for j in range(6)]
        log_qz.append(np.logaddexp.reduce(terms) - math.log(6 * n_data))
    log_qzx = log_normal(z, mu, logvar).sum(1).numpy()
    assert float(mi) == pytest.approx(float(np.mean(log_qzx - np.array(log_qz))), abs=1e-4)


def test_permute_dims_permutes_each_column() -> None:
    z = torch.arange(20.0).reshape(10, 2)
    zp = permute_dims(z, generator=torch.Generator().manual_seed(0))
    for d in range(2):
        assert sorted(zp[:, d].tolist()) == z[:, d].tolist()
    assert not torch.equal(zp, z)


def test_gaussian_kl_zero_at_prior() -> None:
    assert float(gaussian_kl(torch.zeros(2, 5), torch.zeros(2, 5)).abs().max()) == 0.0
    assert float(gaussian_kl(torch.ones(1, 4), torch.zeros(1, 4))[0]) == pytest.approx(2.0)


@pytest.mark.parametrize("encoding", ["onehot", "embedding"])
def test_conditional_conv_vae_decodes_with_labels(encoding: str) -> None:
    config = VAEConfig(
        input_shape=(1, 32, 8),
        latent_dim=4,
        architecture="conv",
        conv_channels=(4, 8),
        hidden_sizes=(16,),
        condition_classes=(3, 4, 5),
        condition_encoding=encoding,
    )
    model = build_model(config, seed=0).eval()
    c = torch.tensor([[0, 1, 2], [2, 3, 4]])
    z = torch.zeros(2, 4)
    x_hat = model.decode(z, c)
    assert x_hat.shape == (2, 1, 32, 8)
    assert not torch.allclose(x_hat[0], x_hat[1])  # same z, different labels -> different output
    out = model(torch.rand(2, 1, 32, 8), c)
    assert out.mu.shape == (2, 4)
    with pytest.raises(ParameterError, match="c is required"):
        model.decode(z)
    with pytest.raises(ParameterError, match="expected"):
        model.decode(z, torch.tensor([[0, 1], [1, 1]]))


def test_conv_decoder_matches_odd_input_shapes_and_uses_channels_last() -> None:
    for shape in [(17, 5), (3, 31, 12), (1, 512, 64)]:
        config = VAEConfig(
            input_shape=shape,
            latent_dim=2,
            architecture="conv",
            conv_channels=(2, 2, 2),
            hidden_sizes=(),
        )
        model = build_model(config)
        assert model(torch.rand(2, *shape)).x_hat.shape == (2, *shape)
    conv_weight = model.encoder.conv[0].weight
    assert conv_weight.is_contiguous(memory_format=torch.channels_last)


def test_training_step_changes_weights_eval_step_does_not() -> None:
    model = build_model(CONV, seed=0)
    x = torch.rand(8, *CONV.input_shape)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.eval()
    with torch.no_grad():
        model.loss(x, model(x))
    assert all(
        torch.equal(before[k], v) for k, v in model.state_dict().items()
    )  # incl. BatchNorm stats
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    model.loss(x, model(x)).loss.backward()
    opt.step()
    changed = [k for k, v in model.state_dict().items() if not torch.equal(before[k], v)]
    assert "encoder.conv.0.weight" in changed and "decoder.deconv.0.weight" in changed


def test_build_model_seed_is_reproducible_and_leaves_global_rng_alone() -> None:
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = build_model(MLP, seed=5)
    after = torch.rand(3)
    b = build_model(MLP, seed=5)
    assert torch.equal(expected, after)
    assert all(
        torch.equal(x, y)
        for x, y in zip(a.state_dict().values(), b.state_dict().values(), strict=True)
    )


def test_config_json_round_trip_and_validation() -> None:
    for config in (
        MLP,
        CONV,
        VAEConfig(input_shape=(4,), condition_classes=(3,), objective="tcvae"),
    ):
        assert VAEConfig.from_json(config.to_json()) == config
    with pytest.raises(ConfigError, match="objective='vq'"):
        VAEConfig(input_shape=(4,), objective="vq")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="unknown model config keys"):
        VAEConfig.from_dict({"input_shape": [4], "latentdim": 3})
    with pytest.raises(ConfigError, match="conv_kernel_size=4"):
        VAEConfig(input_shape=(8, 8), architecture="conv", conv_kernel_size=4)
    with pytest.raises(ConfigError, match="architecture='conv'"):
        VAEConfig(input_shape=(8,), architecture="conv")


def test_a_config_without_input_shape_validates_the_rest_and_cannot_be_built() -> None:
    """An experiment's model section: the shape comes from the features, the rest is checked at load."""
    config = VAEConfig.from_dict({"latent_dim": 3, "architecture": "conv", "beta": 2.0})
    assert config.input_shape is None and config.beta == 2.0
    with pytest.raises(ConfigError, match="architecture='rnn' is not allowed"):
        VAEConfig(architecture="rnn")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="input_shape is not set"):
        build_model(config)
    built = build_model(dataclasses.replace(config, input_shape=(16, 8), conv_channels=(2,), hidden_sizes=()))
    assert built.config.input_shape == (16, 8)


def test_adaptive_shared_mask_and_averages_on_hand_made_posteriors():
    from timbrespace.models.losses import adaptive_shared_mask, average_posteriors, label_loss

    mu1 = torch.tensor([[0.0, 0.0, 0.0]])
    mu2 = torch.tensor([[0.0, 3.0, 0.1]])  # latent 1 differs a lot, latent 2 a little
    lv = torch.zeros(1, 3)
    assert adaptive_shared_mask(mu1, lv, mu2, lv).tolist() == [[True, False, True]]
    mu, logvar = average_posteriors(mu1, lv, mu2, torch.full((1, 3), math.log(3.0)), mode="gvae")
    torch.testing.assert_close(mu, torch.tensor([[0.0, 1.5, 0.05]]))
    torch.testing.assert_close(logvar.exp(), torch.full((1, 3), 2.0))
    mu, logvar = average_posteriors(mu1, lv, mu2, torch.full((1, 3), math.log(3.0)), mode="mlvae")
    torch.testing.assert_close(logvar.exp(), torch.full((1, 3), 1.5))  # 2 * 1 * 3 / (1 + 3)
    torch.testing.assert_close(mu, torch.tensor([[0.0, 0.75, 0.025]]))  # precision-weighted
    codes = torch.tensor([[0, 2]])
    value = label_loss(torch.tensor([[0.0, 0.0, 9.0]]), codes, torch.tensor([3, 3]))
    expected = math.log(2.0) + (-math.log(0.5))  # BCE(0.5, 0) + BCE(0.5, 1)
    assert value.item() == pytest.approx(expected, rel=1e-6)


def test_pair_loss_shares_the_close_latents():
    config = VAEConfig(input_shape=(8,), latent_dim=3, hidden_sizes=(16,), objective="ada_gvae")
    model = build_model(config, seed=0)
    x1, x2 = torch.rand(4, 8), torch.rand(4, 8)
    terms = model.pair_loss(x1, x2, generator=torch.Generator().manual_seed(0))
    assert torch.isfinite(terms.loss) and terms.loss > 0
    with pytest.raises(ParameterError, match="ada_gvae"):
        build_model(VAEConfig(input_shape=(8,), latent_dim=3), seed=0).pair_loss(x1, x2)
