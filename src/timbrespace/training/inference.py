"""Batched encode/decode between numpy arrays and a trained model (eval mode, no grad)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
import torch

from timbrespace.errors import ParameterError
from timbrespace.models import VAE

__all__ = ["encode_array", "decode_array", "reconstruct_array", "eval_mode"]

M = TypeVar("M", bound=torch.nn.Module)


@contextmanager
def eval_mode(model: M) -> Iterator[M]:
    """``model`` in eval mode for the block; its mode before is restored after, on an error too.

    Inference on a model that may be training (a callback, a report during a run) must not
    leave it in eval mode, nor run with dropout or batch-norm statistics updating. Gradients
    are not turned off: combine with :func:`torch.no_grad` where none are wanted.

    Parameters
    ----------
    model : torch.nn.Module
        Its ``training`` flag is read before and given back (``model.train(was_training)``,
        which sets every submodule to it).

    Yields
    ------
    torch.nn.Module
        ``model`` itself, in eval mode.

    Examples
    --------
    >>> import torch
    >>> from timbrespace.training import eval_mode
    >>> model = torch.nn.Dropout(0.5)
    >>> with eval_mode(model):
    ...     model.training, bool((model(torch.ones(4)) == 1).all())
    (False, True)
    >>> model.training
    True
    """
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _device(model: VAE) -> torch.device:
    return next(model.parameters()).device


def _labels(model: VAE, c: np.ndarray | None, n: int) -> np.ndarray | None:
    if c is None:
        return None
    c = np.asarray(c)
    if c.ndim == 1:
        c = c[:, None]
    if c.shape[0] != n:
        raise ParameterError(f"c has {c.shape[0]} rows; expected {n} (one condition row per item)")
    # labels alone are integers; with continuous inputs the whole row is float
    return c.astype(np.float32) if model.config.condition_continuous else c.astype(np.int64)


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ParameterError(f"batch_size={batch_size} must be a positive integer")


@torch.no_grad()
def encode_array(
    model: VAE,
    x: np.ndarray,
    c: np.ndarray | None = None,
    *,
    batch_size: int = 1024,
    return_logvar: bool = False,
) -> np.ndarray | tuple[np.ndarray, np.ndarray]:
    """Posterior means ``mu`` of items ``x``.

    Parameters
    ----------
    model : VAE
        Trained model (put in eval mode for the call, its mode restored afterwards).
    x : np.ndarray [shape=(n, *item_shape)]
        Items.
    c : np.ndarray [shape=(n, n_conditions)], optional
        Conditions of a conditional model (integer labels, then continuous inputs).
    batch_size : int
        Items per forward pass (memory bound).
    return_logvar : bool
        Also return ``logvar``.

    Returns
    -------
    mu : np.ndarray [shape=(n, latent_dim), dtype=float32]
        The latents in scikit-learn orientation (what the metrics take).
    logvar : np.ndarray [shape=(n, latent_dim), dtype=float32]
        Only with ``return_logvar``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.models import VAEConfig, build_model
    >>> from timbrespace.training import encode_array
    >>> model = build_model(VAEConfig(input_shape=(16,), latent_dim=2, hidden_sizes=(8,)), seed=0)
    >>> x = np.random.default_rng(0).random((50, 16), dtype=np.float32)
    >>> mu = encode_array(model, x)
    >>> mu.shape, mu.dtype
    ((50, 2), dtype('float32'))
    >>> mu, logvar = encode_array(model, x, return_logvar=True)
    >>> logvar.shape
    (50, 2)
    """
    _check_batch_size(batch_size)
    x = np.asarray(x, dtype=np.float32)
    if x.shape[1:] != model.config.item_shape:
        raise ParameterError(
            f"x has shape {x.shape}; expected (n, {', '.join(map(str, model.config.item_shape))})"
        )
    c = _labels(model, c, x.shape[0])
    device = _device(model)
    mus, logvars = [], []
    with eval_mode(model):
        for start in range(0, x.shape[0], batch_size):
            xb = torch.from_numpy(x[start : start + batch_size]).to(device)
            cb = None if c is None else torch.from_numpy(c[start : start + batch_size]).to(device)
            mu, logvar = model.encode(xb, cb)
            mus.append(mu.float().cpu().numpy())
            logvars.append(logvar.float().cpu().numpy())
    latent_dim = model.config.latent_dim
    mu_all = np.concatenate(mus) if mus else np.zeros((0, latent_dim), np.float32)
    if return_logvar:
        return mu_all, (
            np.concatenate(logvars) if logvars else np.zeros((0, latent_dim), np.float32)
        )
    return mu_all


@torch.no_grad()
def decode_array(
    model: VAE, z: np.ndarray, c: np.ndarray | None = None, *, batch_size: int = 1024
) -> np.ndarray:
    """Mean of the likelihood (Gaussian mean, Bernoulli probabilities) at latents ``z``.

    Parameters
    ----------
    model : VAE
        Trained model (eval mode for the call, its mode restored afterwards).
    z : np.ndarray [shape=(n, latent_dim)]
        Latents.
    c : np.ndarray [shape=(n, n_conditions)], optional
        Conditions of a conditional model (integer labels, then continuous inputs).
    batch_size : int
        Latents per forward pass.

    Returns
    -------
    np.ndarray [shape=(n, *item_shape), dtype=float32]

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.models import VAEConfig, build_model
    >>> from timbrespace.training import decode_array
    >>> model = build_model(VAEConfig(input_shape=(16,), latent_dim=2, hidden_sizes=(8,)), seed=0)
    >>> z = np.linspace(-2, 2, 5, dtype=np.float32)[:, None].repeat(2, axis=1)  # a line in z
    >>> decode_array(model, z).shape  # (n, *input_shape)
    (5, 16)
    """
    _check_batch_size(batch_size)
    z = np.asarray(z, dtype=np.float32)
    if z.ndim != 2 or z.shape[1] != model.config.latent_dim:
        raise ParameterError(f"z has shape {z.shape}; expected (n, {model.config.latent_dim})")
    c = _labels(model, c, z.shape[0])
    device = _device(model)
    outs = []
    with eval_mode(model):
        for start in range(0, z.shape[0], batch_size):
            zb = torch.from_numpy(z[start : start + batch_size]).to(device)
            cb = None if c is None else torch.from_numpy(c[start : start + batch_size]).to(device)
            outs.append(model.decode(zb, cb).float().cpu().contiguous().numpy())
    if not outs:
        return np.zeros((0, *model.config.item_shape), np.float32)
    return np.concatenate(outs)


def reconstruct_array(
    model: VAE, x: np.ndarray, c: np.ndarray | None = None, *, batch_size: int = 1024
) -> np.ndarray:
    """``decode_array(encode_array(x))``: reconstructions from the posterior means, ``(n, *input_shape)``.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.models import VAEConfig, build_model
    >>> from timbrespace.training import reconstruct_array
    >>> model = build_model(VAEConfig(input_shape=(4, 4), latent_dim=2, hidden_sizes=(8,)), seed=0)
    >>> x = np.random.default_rng(0).random((3, 4, 4), dtype=np.float32)
    >>> reconstruct_array(model, x).shape
    (3, 4, 4)
    """
    mu = encode_array(model, x, c, batch_size=batch_size)
    return decode_array(model, mu, c, batch_size=batch_size)
