"""Sanity on real images: a Bernoulli β-VAE on scikit-learn's 8x8 handwritten digits (as the seeds' MNIST check)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from timbrespace.generation import decode_array, encode_array, traverse
from timbrespace.models import VAEConfig
from timbrespace.training import TrainConfig, fit


@pytest.mark.slow
def test_bernoulli_beta_vae_learns_digits(tmp_path: Path) -> None:
    from sklearn.datasets import load_digits

    digits = load_digits()
    x = (digits.images / 16.0).astype(np.float32)  # (1797, 8, 8) intensities in [0, 1]
    x_train, x_test = x[:1500], x[1500:]
    config = VAEConfig(
        input_shape=(8, 8), latent_dim=4, hidden_sizes=(128,), likelihood="bernoulli", beta=1.0
    )
    result = fit(
        config,
        TrainConfig(epochs=15, batch_size=64, lr=3e-3, seed=0),
        x_train,
        x_test,
        out_dir=tmp_path,
    )

    # Soft targets: BCE has a floor (the pixels' own entropy). Compare the excess over that
    # floor with the excess of predicting every pixel by its training mean.
    def bce(p: np.ndarray) -> float:
        p = np.clip(p, 1e-7, 1 - 1e-7)
        return float(np.mean(-(x_test * np.log(p) + (1 - x_test) * np.log(1 - p)).sum(axis=(1, 2))))

    floor = bce(x_test)
    baseline = bce(np.broadcast_to(x_train.mean(axis=0), x_test.shape))
    assert result.history[-1].val_recon - floor < 0.75 * (baseline - floor)
    mu = encode_array(result.model, x_test)
    x_hat = decode_array(result.model, mu)
    assert x_hat.shape == x_test.shape and 0.0 <= x_hat.min() and x_hat.max() <= 1.0
    # latents carry the digit identity: nearest class centroid in latent space beats chance (10 %) by far
    labels = digits.target[1500:]
    centroids = np.stack([mu[labels == k].mean(axis=0) for k in range(10)])
    predicted = np.argmin(((mu[:, None, :] - centroids[None]) ** 2).sum(-1), axis=1)
    assert np.mean(predicted == labels) > 0.5
    # a traversal of the most active latent changes the decoded image
    grid = traverse(
        np.zeros(4, np.float32), [int(np.argmax(mu.var(axis=0)))], np.linspace(-2, 2, 5)
    )
    images = decode_array(result.model, grid.reshape(-1, 4))
    assert np.abs(images[0] - images[-1]).mean() > 0.05
