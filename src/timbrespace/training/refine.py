"""Decoder refinement: a second training stage that improves the sound, not the latents.

After the VAE has trained, :func:`refine_decoder` freezes the encoder and trains the
decoder alone on the posterior means ``mu`` of the training items with a spectral loss
on linear magnitudes,

    ``L = || |X| - |X^| ||_F / || |X| ||_F + LOG_WEIGHT * mean | ln |X| - ln |X^| |``

(spectral convergence plus a log-magnitude L1: the single-resolution STFT loss of Arık
et al. 2019 and Yamamoto et al. 2020). The loose Gaussian likelihood that lets a VAE
disentangle (e.g. ``output_variance`` 0.05 of the feature range, about ±25 dB for dB
features) barely asks the decoder for the levels of the loud partials, which is what a
listener (and the resynthesis spectral convergence) hears; this stage asks for exactly
that. The encoder, and so every latent and every disentanglement score, stays as
trained: RAVE trains its decoder again the same way, with the encoder frozen, in its
second stage (Caillon & Esling 2021).

References
----------
Caillon & Esling, "RAVE: A variational autoencoder for fast and high-quality neural audio
synthesis", arXiv:2111.05011, 2021 (two-stage training). Arık, Jun & Diamos, "Fast
spectrogram inversion using multi-head convolutional neural networks", IEEE SPL 2019, and
Yamamoto, Song & Kim, "Parallel WaveGAN", ICASSP 2020 (spectral convergence + log STFT
magnitude loss).
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np
import torch
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from timbrespace.errors import TrainingError
from timbrespace.models.vae import VAE

__all__ = ["FeatureScale", "refine_decoder", "spectral_loss"]

FeatureScale = Literal["db", "magnitude"]
LOG_WEIGHT = 0.05
MAGNITUDE_FLOOR = 1e-5  # |X| below this counts as this in the log term (features' amin)


def spectral_loss(x: torch.Tensor, x_hat: torch.Tensor, scale: FeatureScale) -> torch.Tensor:
    """Spectral convergence plus log-magnitude L1 of features, averaged over the items.

    Parameters
    ----------
    x, x_hat : torch.Tensor [shape=(n, *feature_shape), dtype=float32]
        Target and decoded features.
    scale : {"db", "magnitude"}
        ``"db"``: features are ``20 log10 |X|``; ``"magnitude"``: ``|X|``.

    Returns
    -------
    torch.Tensor
        Scalar ``mean_i SC_i + LOG_WEIGHT * mean |ln |X| - ln |X^||`` (module docstring).
    """
    return _Targets(x, scale).loss(torch.arange(x.shape[0]), x_hat)


class _Targets:
    """The target side of :func:`spectral_loss` for a set of items, computed once.

    Refinement reads the same items every epoch: their magnitudes, norms and logs are
    computed here once instead of at every step (the same values, so the same loss).
    """

    def __init__(self, x: torch.Tensor, scale: FeatureScale) -> None:
        self.x, self.scale = x, scale
        n = x.shape[0]
        self.mag = torch.pow(10.0, x / 20.0) if scale == "db" else x.clamp_min(MAGNITUDE_FLOOR)
        self.norm = self.mag.reshape(n, -1).norm(dim=1).clamp_min(MAGNITUDE_FLOOR)
        self.log_mag = None if scale == "db" else torch.log(self.mag)

    def loss(self, rows: torch.Tensor, x_hat: torch.Tensor) -> torch.Tensor:
        """:func:`spectral_loss` of items ``rows`` against ``x_hat`` ``(len(rows), *feature_shape)``."""
        mag = self.mag[rows]
        if self.scale == "db":
            mag_hat = torch.pow(10.0, x_hat / 20.0)
            log_error = (self.x[rows] - x_hat).abs() * (math.log(10.0) / 20.0)
        else:
            assert self.log_mag is not None
            mag_hat = x_hat.clamp_min(MAGNITUDE_FLOOR)
            log_error = (self.log_mag[rows] - torch.log(mag_hat)).abs()
        n = mag.shape[0]
        sc = (mag - mag_hat).reshape(n, -1).norm(dim=1) / self.norm[rows]
        return sc.mean() + LOG_WEIGHT * log_error.mean()


def refine_decoder(
    model: VAE,
    x_train: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    lr: float,
    seed: int,
    scale: FeatureScale,
    c_train: np.ndarray | None = None,
    progress: bool = False,
) -> list[float]:
    """Train ``model``'s decoder alone on its encoder's ``mu`` with :func:`spectral_loss`.

    Parameters
    ----------
    model : VAE
        A trained model; its decoder's weights change in place, nothing else does.
    x_train : np.ndarray [shape=(n_train, *input_shape), dtype=float32]
        The training items (features on ``scale``).
    epochs, batch_size : int
        Passes over the items and items per Adam step.
    lr : float
        Adam learning rate, decayed to 0 on a cosine over the stage.
    seed : int
        Seeds the item order (same inputs and seed: the same weights).
    scale : {"db", "magnitude"}
        How the features relate to linear magnitude.
    c_train : np.ndarray [shape=(n_train, n_conditions)], optional
        Conditions of a conditional model.
    progress : bool
        Show a bar (epochs, loss) on stderr.

    Returns
    -------
    list of float
        The mean loss of each epoch.

    Raises
    ------
    TrainingError
        If the loss becomes NaN or infinite (the caller keeps the unrefined checkpoint).
    """
    x = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32))
    c = None if c_train is None else torch.from_numpy(np.ascontiguousarray(c_train))
    model.eval()
    with torch.no_grad():
        mu = model.encode(x, c)[0]
    start = getattr(model.decoder, "start_refinement", None)
    if start is not None:  # e.g. a harmonic decoder's f0 curve held flat until now
        start()
    targets = _Targets(x, scale)
    params = list(model.decoder.parameters())
    optimiser = torch.optim.Adam(params, lr=lr, foreach=True)
    steps_per_epoch = math.ceil(len(x) / batch_size)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimiser, T_max=max(1, epochs * steps_per_epoch))
    generator = torch.Generator().manual_seed(seed)
    history: list[float] = []
    bar = Progress(TextColumn("[bold]refine decoder"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                   TextColumn("spectral loss {task.fields[loss]}"), console=Console(stderr=True), disable=not progress)
    with bar:
        task = bar.add_task("refine", total=epochs, loss="-")
        for epoch in range(epochs):
            history.append(_epoch(model, optimiser, schedule, targets, c, mu, batch_size, generator, epoch))
            bar.update(task, advance=1, loss=f"{history[-1]:.4g}")
    for p in params:
        p.grad = None
    return history


def _epoch(model: VAE, optimiser: torch.optim.Optimizer, schedule: torch.optim.lr_scheduler.LRScheduler,
           targets: _Targets, c: torch.Tensor | None, mu: torch.Tensor, batch_size: int,
           generator: torch.Generator, epoch: int) -> float:
    """One pass over the items in a fresh order; the mean loss."""
    n = len(mu)
    order = torch.randperm(n, generator=generator)
    total = 0.0
    for start in range(0, n, batch_size):
        rows = order[start:start + batch_size]
        loss = targets.loss(rows, model.decode(mu[rows], None if c is None else c[rows]))
        if not torch.isfinite(loss):
            raise TrainingError(f"decoder refinement: the spectral loss is {loss.item()} at epoch {epoch}")
        optimiser.zero_grad(set_to_none=True)
        loss.backward()
        optimiser.step()
        schedule.step()
        total += float(loss.detach()) * len(rows)
    return total / n
