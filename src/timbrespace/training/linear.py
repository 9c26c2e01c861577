"""Linear starts: a VAE's linear paths set to the PCA / FastICA solution of the features.

:func:`linear_start` uses the projection of
:func:`timbrespace.analysis.fit_linear_baseline` (the reference the sweep and
``timbrespace run`` score beside every VAE) to *initialise* a VAE with linear paths
(``VAEConfig(linear_skip=True)``): the encoder's linear map starts at the standardised
FastICA sources and the decoder's at the least-squares map back. No labels are used:
like a PCA initialisation, the start is unsupervised.

Why (docs/results/default_experiment_search.md, fourth and fifth sessions): on the
default experiment a β-VAE from a random start follows the features' principal
directions (MIG near PCA's 0.04), while FastICA of the same features scores 0.28. A
β-VAE whose linear paths start at the ICA solution and stay there (``linear_lr=0``)
keeps that alignment (0.27 over ten seeds) while its hidden layers learn the
reconstruction; when the linear paths learn too, training drifts back towards the
principal directions.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from timbrespace.errors import ConfigError, ParameterError

if TYPE_CHECKING:
    from timbrespace.models import VAE

__all__ = ["LINEAR_STARTS", "linear_start"]

LINEAR_STARTS = ("pca", "ica")


def _linear_sources(x: np.ndarray, method: str, n_components: int, seed: int) -> np.ndarray:
    """PCA scores of ``x`` or FastICA (logcosh, unit-variance) of them, on one BLAS thread.

    The same computation as :func:`timbrespace.analysis.fit_linear_baseline` (a test
    holds them equal); kept here so that training does not depend on the analysis layer.
    """
    from sklearn.decomposition import PCA, FastICA

    if not 1 <= n_components <= min(x.shape):
        raise ParameterError(
            f"latent_dim={n_components} must be in 1..{min(x.shape)} for a linear start "
            f"(training items {x.shape[0]}, features {x.shape[1]})"
        )
    # One BLAS thread: FastICA amplifies the last-bit differences that threaded BLAS gives
    # the PCA, so the same seed must not give other sources on other thread counts.
    with threadpool_limits(1):
        scores = PCA(n_components, random_state=seed).fit(x).transform(x)
        if method == "pca":
            return scores
        if x.shape[0] <= n_components:
            raise ParameterError(
                f"an ICA start needs more training items ({x.shape[0]}) than latents ({n_components})"
            )
        centred = scores - scores.mean(axis=0)
        if np.linalg.matrix_rank(centred) < n_components:
            raise ParameterError("the training items' principal scores are rank-deficient: no ICA start")
        ica = FastICA(whiten="unit-variance", random_state=seed, max_iter=2000)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a convergence warning still gives a usable start
            ica.fit(centred)
        return centred @ np.asarray(ica.components_, dtype=np.float64).T


def linear_start(
    model: VAE,
    x_train: np.ndarray,
    method: str = "ica",
    *,
    seed: int = 0,
    posterior_logvar: float = -6.0,
) -> VAE:
    """Set a linear-skip VAE's linear paths to a PCA or FastICA solution of ``x_train``.

    The sources ``s = fit_linear_baseline(x_train, method, latent_dim)``
    (:func:`timbrespace.analysis.fit_linear_baseline`) are
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
        FastICA (logcosh) or principal components, as
        :func:`timbrespace.analysis.fit_linear_baseline`.
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
        ``latent_dim`` components.

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
    if method not in LINEAR_STARTS:
        raise ParameterError(
            f"init method={method!r} unknown; choose from {list(LINEAR_STARTS)}"
        )
    x = np.asarray(x_train, dtype=np.float64)
    if x.shape[1:] != tuple(config.input_shape):
        raise ParameterError(
            f"x_train has shape {x.shape}; expected (n_items, {', '.join(map(str, config.input_shape))})"
        )
    x = x.reshape(len(x), -1)
    k = config.latent_dim
    s = _linear_sources(x, method, k, seed)
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
