"""Research prototype (not in the library yet): a β-VAE initialised at the features' ICA.

Fourth-session finding (see ``default_experiment_search.md``): a β-VAE trained from a
random start follows the principal directions (MIG about PCA's), but one *started* at
FastICA's solution of the same features keeps most of ICA's factor alignment while its
nonlinear part improves the reconstruction. No labels are used anywhere: the start is
an unsupervised linear map, as a PCA initialisation would be.

Model: encoder ``mu, logvar = L_e(x) + MLP_e(x)`` and decoder ``x_hat = L_d(z) +
MLP_d(z)`` (one hidden layer of 256 ReLU units, the default experiment's size; the
MLPs' output layers start at zero). Objective: the default experiment's β-VAE
(Gaussian likelihood with variance 0.5, β 2 with a linear warm-up over 1,000 steps,
60 epochs, batch 32, Adam 1e-3). With ``--init ica`` the linear maps start as the
affine least-squares fits x → s and s → x, where s are the standardised FastICA
sources (``fit_linear_baseline(x, "ica", latent_dim)`` on the train split), and the
posterior log-variance starts at -6.

Run (about 15 s per seed on one core)::

    OMP_NUM_THREADS=1 .venv/bin/python docs/results/ica_init_prototype.py --init ica --seeds 0,1,2
    OMP_NUM_THREADS=1 .venv/bin/python docs/results/ica_init_prototype.py --init random --seeds 0,1,2
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

from timbrespace.datasets import generate_dataset
from timbrespace.experiments import load_experiment_config
from timbrespace.features import compute_dataset_features
from timbrespace.metrics import mig
from timbrespace.models.losses import gaussian_kl
from timbrespace.training.sweep import fit_linear_baseline


class LinearPlusMLP(nn.Module):
    """``linear(v) + mlp(v)``; the MLP's output layer starts at zero."""

    def __init__(self, n_in: int, n_out: int, hidden: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_in, n_out)
        self.mlp = nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, n_out))
        nn.init.zeros_(self.mlp[2].weight)
        nn.init.zeros_(self.mlp[2].bias)

    def forward(self, v: torch.Tensor) -> torch.Tensor:
        return self.linear(v) + self.mlp(v)


def _ica_start(x: np.ndarray, train: np.ndarray, latent_dim: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Affine least-squares maps x → s and s → x (rows: weights, last row: bias)."""
    s = fit_linear_baseline(x, "ica", latent_dim, train=train, random_state=seed)
    s = (s - s[train].mean(axis=0)) / s[train].std(axis=0)
    encode, *_ = np.linalg.lstsq(np.c_[x[train], np.ones(len(train))], s[train], rcond=None)
    decode, *_ = np.linalg.lstsq(np.c_[s[train], np.ones(len(train))], x[train], rcond=None)
    return encode, decode


def train_one(x: np.ndarray, train: np.ndarray, codes: np.ndarray, *, init: str, seed: int,
              latent_dim: int = 6, beta: float = 2.0, epochs: int = 60) -> tuple[float, list[float], float]:
    """Train one model; return (MIG of mu, MIG per factor, last batch's reconstruction NLL)."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    noise = torch.Generator().manual_seed(seed)
    encoder = LinearPlusMLP(x.shape[1], 2 * latent_dim, 256)
    decoder = LinearPlusMLP(latent_dim, x.shape[1], 256)
    if init == "ica":
        enc, dec = _ica_start(x.astype(np.float64), train, latent_dim, seed)
        with torch.no_grad():
            encoder.linear.weight.zero_()
            encoder.linear.bias.zero_()
            encoder.linear.weight[:latent_dim] = torch.tensor(enc[:-1].T, dtype=torch.float32)
            encoder.linear.bias[:latent_dim] = torch.tensor(enc[-1], dtype=torch.float32)
            encoder.linear.bias[latent_dim:] = -6.0
            decoder.linear.weight.copy_(torch.tensor(dec[:-1].T, dtype=torch.float32))
            decoder.linear.bias.copy_(torch.tensor(dec[-1], dtype=torch.float32))
    params = [*encoder.parameters(), *decoder.parameters()]
    optimizer = torch.optim.Adam(params, lr=1e-3)
    data = torch.from_numpy(x.astype(np.float32))
    step, recon = 0, torch.tensor(0.0)
    for _ in range(epochs):
        order = rng.permutation(train)
        for start in range(0, len(order), 32):
            batch = data[order[start : start + 32]]
            out = encoder(batch)
            mu, logvar = out[:, :latent_dim], out[:, latent_dim:]
            z = mu + torch.exp(0.5 * logvar) * torch.randn(mu.shape, generator=noise)
            recon = ((batch - decoder(z)) ** 2).sum(dim=1).mean()  # Gaussian NLL, variance 0.5
            loss = recon + beta * min(1.0, step / 1000) * gaussian_kl(mu, logvar).mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
    with torch.no_grad():
        mu = encoder(data)[:, :latent_dim].numpy()
    result = mig(mu, codes)
    return result.score, [float(v) for v in result.per_factor], float(recon.detach())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--init", choices=("ica", "random"), default="ica")
    parser.add_argument("--seeds", default="0,1,2")
    args = parser.parse_args()
    torch.set_num_threads(1)
    config = load_experiment_config(None)
    with tempfile.TemporaryDirectory() as tmp:
        ds = generate_dataset(config.dataset_config("built-in"), Path(tmp) / "ds", progress=False)
        name = compute_dataset_features(ds, config.feature_config("built-in"), name="proto")
        x = ds.load_features(name).reshape(len(ds), -1)
        codes, train, factors = ds.factor_codes, ds.split_indices("train"), ds.factor_names
    scores = []
    for seed in (int(s) for s in args.seeds.split(",")):
        score, per_factor, recon = train_one(x, train, codes, init=args.init, seed=seed)
        scores.append(score)
        per = ", ".join(f"{f} {v:.3f}" for f, v in zip(factors, per_factor, strict=True))
        print(f"init={args.init} seed={seed}: MIG {score:.3f} ({per}); reconstruction NLL {recon:.1f}")
    print(f"init={args.init}: mean MIG {np.mean(scores):.3f}, sd {np.std(scores):.3f} over {len(scores)} seeds")


if __name__ == "__main__":
    main()
