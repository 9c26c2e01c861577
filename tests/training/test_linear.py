"""Linear starts: a linear-skip VAE set to the features' FastICA / PCA solution."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from tests.analysis.test_baselines import _mixed_grid
from timbrespace.analysis import fit_linear_baseline
from timbrespace.errors import ConfigError, ParameterError
from timbrespace.metrics import mig
from timbrespace.models import VAEConfig, build_model
from timbrespace.training import (
    TrainConfig,
    encode_array,
    fit,
    linear_start,
)

SKIP = VAEConfig(input_shape=(40,), latent_dim=4, hidden_sizes=(16,), linear_skip=True)


def _standardised(s: np.ndarray) -> np.ndarray:
    return (s - s.mean(axis=0)) / s.std(axis=0)


def _encode(model: torch.nn.Module, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with torch.no_grad():
        mu, logvar = model.encode(torch.as_tensor(x, dtype=torch.float32))
    return mu.numpy().astype(np.float64), logvar.numpy()


def test_a_linear_skip_model_starts_as_its_linear_paths() -> None:
    model = build_model(SKIP, seed=0)
    x = torch.randn(5, 40)
    z = torch.randn(5, 4)
    mu, logvar = model.encode(x)
    expected = model.encoder.skip(x)
    torch.testing.assert_close(torch.cat([mu, logvar], dim=1), expected)
    torch.testing.assert_close(model.decode(z), model.decoder.skip(z))
    # the hidden paths are live: a step of training moves them off zero
    assert model.encoder.head.weight.abs().max() == 0 and model.encoder.body[0].weight.std() > 0


def test_ica_start_reproduces_the_standardised_sources_and_recovers_the_factors() -> None:
    x, codes = _mixed_grid()
    model = linear_start(build_model(SKIP, seed=0), x, "ica", seed=3)
    mu, logvar = _encode(model, x)
    sources = _standardised(fit_linear_baseline(x, "ica", 4, random_state=3))
    np.testing.assert_allclose(mu, sources, atol=1e-3)
    np.testing.assert_array_equal(logvar, -6.0)
    assert mig(mu, codes).score > 0.95
    # the decoder's linear path is the least-squares map back: rank-4 data plus 0.01 noise
    with torch.no_grad():
        x_hat = model.decode(torch.as_tensor(mu, dtype=torch.float32)).numpy()
    assert np.sqrt(np.mean((x_hat - x) ** 2)) < 0.02 < np.std(x)


def test_pca_start_gives_the_principal_scores() -> None:
    x, codes = _mixed_grid()
    model = linear_start(build_model(SKIP, seed=0), x, "pca")
    mu, _ = _encode(model, x)
    np.testing.assert_allclose(mu, _standardised(fit_linear_baseline(x, "pca", 4)), atol=1e-3)
    assert mig(mu, codes).score < 0.4  # principal directions mix the factors


def test_labels_of_a_conditional_model_get_zero_linear_weights() -> None:
    x, _ = _mixed_grid()
    config = dataclasses.replace(SKIP, condition_classes=(3,))
    model = linear_start(build_model(config, seed=0), x, "ica")
    assert model.encoder.skip.weight[:, 40:].abs().max() == 0
    assert model.decoder.skip.weight[:, 4:].abs().max() == 0


@pytest.mark.parametrize(
    ("config", "method", "shape", "error", "message"),
    [
        (dataclasses.replace(SKIP, linear_skip=False), "ica", (40,), ConfigError, "linear_skip"),
        (SKIP, "nmf", (40,), ParameterError, "method='nmf' unknown"),
        (SKIP, "ica", (39,), ParameterError, r"expected \(n_items, 40\)"),
    ],
)
def test_bad_linear_starts_name_the_problem(
    config: VAEConfig, method: str, shape: tuple[int, ...], error: type, message: str
) -> None:
    x = np.random.default_rng(0).normal(size=(50, *shape))
    with pytest.raises(error, match=message):
        linear_start(build_model(config, seed=0), x, method)


def test_linear_skip_needs_an_mlp() -> None:
    with pytest.raises(ConfigError, match="linear_skip=True needs architecture='mlp'"):
        VAEConfig(input_shape=(1, 16, 8), architecture="conv", linear_skip=True)


def test_old_model_configs_load_without_linear_skip() -> None:
    data = SKIP.to_dict()
    assert data["linear_skip"] is True and VAEConfig.from_dict(data) == SKIP
    del data["linear_skip"]
    assert VAEConfig.from_dict(data).linear_skip is False


def test_fit_from_an_ica_start_keeps_the_alignment_and_is_deterministic(tmp_path: Path) -> None:
    x, codes = _mixed_grid()
    x = x.astype(np.float32)
    config = TrainConfig(epochs=3, batch_size=64, seed=1, init="ica")
    a = fit(SKIP, config, x, out_dir=tmp_path / "a")
    b = fit(SKIP, config, x, out_dir=tmp_path / "b")
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)
    ica = mig(encode_array(a.model, x), codes).score
    random = fit(SKIP, dataclasses.replace(config, init="random"), x, out_dir=tmp_path / "r")
    assert ica > 0.9 > mig(encode_array(random.model, x), codes).score


def test_init_is_validated() -> None:
    with pytest.raises(ConfigError, match="init='svd' is not allowed"):
        TrainConfig(init="svd")
    x, _ = _mixed_grid()
    plain = dataclasses.replace(SKIP, linear_skip=False)
    with pytest.raises(ConfigError, match="set model linear_skip: true"):
        fit(plain, TrainConfig(epochs=1, init="ica"), x.astype(np.float32), out_dir="unused")


def test_linear_lr_zero_keeps_the_linear_start_while_the_residual_learns(tmp_path: Path) -> None:
    x, _ = _mixed_grid()
    x = x.astype(np.float32)
    start = linear_start(build_model(SKIP, seed=1), x, "ica", seed=1)
    config = TrainConfig(epochs=2, batch_size=64, seed=1, init="ica", linear_lr=0.0)
    trained = fit(SKIP, config, x, out_dir=tmp_path).model
    for path in ("encoder", "decoder"):
        before, after = getattr(start, path).skip, getattr(trained, path).skip
        torch.testing.assert_close(after.weight, before.weight, rtol=0, atol=0)
        torch.testing.assert_close(after.bias, before.bias, rtol=0, atol=0)
    assert trained.encoder.head.weight.abs().max() > 0  # the residual path moved
    with pytest.raises(ConfigError, match="linear_lr=-1"):
        TrainConfig(linear_lr=-1.0)


@pytest.mark.parametrize("fit_under_test", ["baseline", "start"])
def test_the_linear_fit_runs_on_one_blas_thread_whatever_the_callers_setting(
    monkeypatch: pytest.MonkeyPatch, fit_under_test: str
) -> None:
    """FastICA amplifies threaded BLAS's last-bit noise into other sources (0.27 vs 0.31 MIG
    on the default experiment), so the PCA before it must see one thread."""
    import sklearn.decomposition
    from threadpoolctl import threadpool_info, threadpool_limits

    seen: list[int] = []
    original = sklearn.decomposition.PCA.fit

    def spy(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        seen.extend(pool["num_threads"] for pool in threadpool_info())
        return original(self, *args, **kwargs)

    monkeypatch.setattr(sklearn.decomposition.PCA, "fit", spy)
    x, _ = _mixed_grid()
    with threadpool_limits(2):
        if fit_under_test == "baseline":
            fit_linear_baseline(x, "ica", 4)
        else:
            linear_start(build_model(SKIP, seed=0), x, "ica")
    assert seen and set(seen) == {1}


@pytest.mark.parametrize("method", ["ica", "pca"])
def test_the_linear_start_uses_exactly_the_baselines_sources(method: str) -> None:
    """training keeps its own FastICA fit (it may not import analysis): the same numbers."""
    from timbrespace.training.linear import _linear_sources

    x, _ = _mixed_grid()
    np.testing.assert_array_equal(
        _linear_sources(x, method, 4, 5), fit_linear_baseline(x, method, 4, random_state=5)
    )
