"""Linear references and linear starts: PCA / FastICA of the features.

:func:`fit_linear_baseline` projects items onto their principal or independent
components; the sweep and ``timbrespace run`` report the MIG of those projections
beside every VAE. :func:`linear_start` uses the same projection to *initialise* a VAE
with linear paths (``VAEConfig(linear_skip=True)``): the encoder's linear map starts at
the standardised FastICA sources and the decoder's at the least-squares map back. No
labels are used: like a PCA initialisation, the start is unsupervised.

Why (docs/results/default_experiment_search.md, fourth and fifth sessions): on the
default experiment a β-VAE from a random start follows the features' principal
directions (MIG near PCA's 0.04), while FastICA of the same features scores 0.28. A
β-VAE whose linear paths start at the ICA solution and stay there (``linear_lr=0``)
keeps that alignment (0.27 over ten seeds) while its hidden layers learn the
reconstruction; when the linear paths learn too, training drifts back towards the
principal directions.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from timbrespace.errors import ConfigError, ParameterError

if TYPE_CHECKING:
    from timbrespace.models import VAE

__all__ = ["BASELINE_METHODS", "fit_linear_baseline", "linear_start"]

BASELINE_METHODS = ("pca", "ica")


def fit_linear_baseline(
    x: np.ndarray,
    method: str,
    n_components: int,
    *,
    train: np.ndarray | None = None,
    random_state: int = 0,
) -> np.ndarray:
    """Project items onto their principal or independent components.

    Parameters
    ----------
    x : np.ndarray [shape=(n_items, n_features)]
        One flattened item per row.
    method : {"pca", "ica"}
        ``pca``: the scores on the first ``n_components`` principal components.
        ``ica``: FastICA (logcosh contrast, unit-variance sources) of those scores, with
        :func:`timbrespace.analysis.align_latents`.
    n_components : int
        Components kept, at most ``min(n_train, n_features)``.
    train : np.ndarray of int, optional
        Rows the projection is fitted on (default all); every row is projected.
    random_state : int
        Seed of the randomised SVD (large inputs) and of FastICA's start. The result
        does not depend on the number of BLAS threads: the fit runs on one.

    Returns
    -------
    np.ndarray [shape=(n_items, n_components), dtype=float64]

    Raises
    ------
    ParameterError
        Unknown ``method``, ``n_components`` outside ``1..min(n_train, n_features)``,
        or (``ica``) no more training items than components.
    """
    from sklearn.decomposition import PCA

    from timbrespace.analysis.alignment import align_latents

    if method not in BASELINE_METHODS:
        raise ParameterError(f"method={method!r} unknown; choose from {list(BASELINE_METHODS)}")
    x = np.asarray(x, dtype=np.float64)
    fit_rows = x if train is None else x[train]
    if not 1 <= n_components <= min(fit_rows.shape):
        raise ParameterError(
            f"n_components={n_components} must be in 1..{min(fit_rows.shape)} "
            f"(training items {fit_rows.shape[0]}, features {fit_rows.shape[1]})"
        )
    # One BLAS thread: FastICA amplifies the last-bit differences that threaded BLAS gives
    # the PCA, so the same seed must not give other sources on other thread counts.
    with threadpool_limits(1):
        latents = PCA(n_components, random_state=random_state).fit(fit_rows).transform(x)
    if method == "ica":
        ica = align_latents(
            latents if train is None else latents[train], "ica", random_state=random_state
        )
        latents = ica.transform(latents)
    return latents


def linear_start(
    model: VAE,
    x_train: np.ndarray,
    method: str = "ica",
    *,
    seed: int = 0,
    posterior_logvar: float = -6.0,
) -> VAE:
    """Set a linear-skip VAE's linear paths to a PCA or FastICA solution of ``x_train``.

    The sources ``s = fit_linear_baseline(x_train, method, latent_dim)`` are
    standardised (zero mean, unit variance: the prior's moments). The encoder's linear
    path becomes the least-squares affine map ``x -> s`` for ``mu`` (minimum-norm when
    there are more features than items, which reproduces ``s`` exactly) and the constant
    ``posterior_logvar`` for ``logvar``; the decoder's becomes the least-squares affine
    map ``s -> x``. The hidden paths' last layers are zero (``linear_skip``), so the
    model starts as this linear encoder/decoder pair. Label inputs of a conditional
    model get zero weights.

    Parameters
    ----------
    model : VAE
        Built with ``VAEConfig(architecture="mlp", linear_skip=True)``; changed in place.
    x_train : np.ndarray [shape=(n_items, *input_shape)]
        Training items (features). Only these are used: no labels, no validation items.
    method : {"ica", "pca"}
        FastICA (logcosh) or principal components, as :func:`fit_linear_baseline`.
    seed : int
        Seed of the randomised SVD and of FastICA's start.
    posterior_logvar : float
        Initial posterior log-variance (-6: standard deviation 0.05).

    Returns
    -------
    VAE
        ``model``, for chaining.

    Raises
    ------
    ConfigError
        If the model has no linear paths (``linear_skip=False``).
    ParameterError
        Unknown ``method``, ``x_train`` not matching the model, or too few items for
        ``latent_dim`` components (see :func:`fit_linear_baseline`).

    References
    ----------
    Hyvärinen & Oja, "Independent component analysis: algorithms and applications",
    Neural Networks 13, 2000 (FastICA). The residual start is ours (fifth session).
    """
    config = model.config
    if not config.linear_skip:
        raise ConfigError(
            f"init={method!r} needs a model with linear paths: set model linear_skip: true "
            "(architecture mlp)"
        )
    if method not in BASELINE_METHODS:
        raise ParameterError(
            f"init method={method!r} unknown; choose from {list(BASELINE_METHODS)}"
        )
    x = np.asarray(x_train, dtype=np.float64)
    if x.shape[1:] != tuple(config.input_shape):
        raise ParameterError(
            f"x_train has shape {x.shape}; expected (n_items, {', '.join(map(str, config.input_shape))})"
        )
    x = x.reshape(len(x), -1)
    k = config.latent_dim
    s = fit_linear_baseline(x, method, k, random_state=seed)
    s = (s - s.mean(axis=0)) / np.maximum(s.std(axis=0), 1e-12)
    ones = np.ones((len(x), 1))
    with threadpool_limits(1):
        encode, *_ = np.linalg.lstsq(np.hstack([x, ones]), s, rcond=None)
        decode, *_ = np.linalg.lstsq(np.hstack([s, ones]), x, rcond=None)
    encoder_skip, decoder_skip = model.encoder.skip, model.decoder.skip
    with torch.no_grad():
        encoder_skip.weight.zero_()
        encoder_skip.bias.zero_()
        encoder_skip.weight[:k, : x.shape[1]] = torch.as_tensor(encode[:-1].T)
        encoder_skip.bias[:k] = torch.as_tensor(encode[-1])
        encoder_skip.bias[k:] = posterior_logvar
        decoder_skip.weight.zero_()
        decoder_skip.weight[:, :k] = torch.as_tensor(decode[:-1].T)
        decoder_skip.bias.copy_(torch.as_tensor(decode[-1]))
    return model
