"""Linear re-alignment of a latent space: look for the factors up to a rotation.

A β-VAE's objective is nearly invariant to rotations of its latent space wherever the
decoder treats two directions alike, so a model can encode every factor along a
straight line in ``mu`` space and still mix them across axes, which MIG then punishes.
Fitting an unsupervised linear map to the latent means shows whether that is what
happened: independent component analysis (FastICA) recovers independent sources that
were mixed linearly, and the factors of a grid dataset are independent by design.
The map uses no labels; it is the latent-space analogue of GANSpace's PCA directions.

A re-aligned space is an analysis of the trained model, not the model's own code: the
run reports MIG on ``mu`` as its score and the aligned MIG beside it.

References
----------
Hyvärinen, A., Oja, E. (2000). Independent component analysis: algorithms and
applications. Neural Networks 13. Härkönen, E. et al. (2020). GANSpace: discovering
interpretable GAN controls. NeurIPS. Rolinek, M. et al. (2019). Variational
autoencoders pursue PCA directions (by accident). CVPR.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from threadpoolctl import threadpool_limits

from timbrespace.errors import ParameterError
from timbrespace.metrics import active_latents

__all__ = ["LatentAlignment", "align_active_latents", "align_latents"]

ALIGNMENTS = ("pca", "ica")


@dataclass(frozen=True)
class LatentAlignment:
    """An affine map ``aligned = (latents - mean) @ components.T`` and its inverse.

    Attributes
    ----------
    method : {"pca", "ica"}
    mean : np.ndarray [shape=(n_latents,), dtype=float64]
        Mean of the fitted latents.
    components : np.ndarray [shape=(n_latents, n_latents), dtype=float64]
        Unmixing matrix; row ``k`` is the direction in latent space of aligned axis ``k``.
    mixing : np.ndarray [shape=(n_latents, n_latents), dtype=float64]
        Its inverse: ``latents = aligned @ mixing.T + mean``.
    """

    method: str
    mean: np.ndarray
    components: np.ndarray
    mixing: np.ndarray

    def transform(self, latents: np.ndarray) -> np.ndarray:
        """Aligned coordinates ``(n, n_latents)`` (float64) of latents ``(n, n_latents)``."""
        return (np.asarray(latents, dtype=np.float64) - self.mean) @ self.components.T

    def inverse_transform(self, aligned: np.ndarray) -> np.ndarray:
        """Latents ``(n, n_latents)`` (float64) of aligned coordinates, e.g. to decode a traversal."""
        return np.asarray(aligned, dtype=np.float64) @ self.mixing.T + self.mean


def align_latents(
    latents: np.ndarray,
    method: Literal["pca", "ica"] = "ica",
    *,
    random_state: int = 0,
    max_iter: int = 2000,
) -> LatentAlignment:
    """Fit an unsupervised linear re-alignment of latent means (no factor labels).

    Parameters
    ----------
    latents : np.ndarray [shape=(n_samples, n_latents)]
        Latent means ``mu`` of a dataset.
    method : {"pca", "ica"}
        ``"pca"``: rotate onto the principal axes (orthogonal, variance-ordered).
        ``"ica"``: FastICA (logcosh contrast) on the whitened latents; each aligned axis
        has unit variance.
    random_state : int
        FastICA's initial unmixing matrix (the result is deterministic for a given value).
    max_iter : int
        FastICA iterations.

    Returns
    -------
    LatentAlignment
        Apply it with ``.transform(latents)``; invert with ``.inverse_transform``.

    Raises
    ------
    ParameterError
        For an unknown method, fewer than ``n_latents + 1`` samples, non-finite latents
        or a degenerate (rank-deficient) latent space.
    """
    if method not in ALIGNMENTS:
        raise ParameterError(f"alignment method {method!r} is not one of {', '.join(ALIGNMENTS)}")
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] <= z.shape[1]:
        raise ParameterError(f"latents must be (n_samples, n_latents) with n_samples > n_latents; got {z.shape}")
    if not np.all(np.isfinite(z)):
        raise ParameterError("latents contain NaN or inf")
    mean = z.mean(axis=0)
    centred = z - mean
    if np.linalg.matrix_rank(centred) < z.shape[1]:
        raise ParameterError(
            "latents are rank-deficient (a latent is constant or a copy of others); "
            "align the active latents only"
        )
    with threadpool_limits(1):
        if method == "pca":
            _, _, vt = np.linalg.svd(centred, full_matrices=False)
            # sign convention: the largest loading of each axis is positive
            signs = np.sign(vt[np.arange(len(vt)), np.argmax(np.abs(vt), axis=1)])
            components = vt * signs[:, None]
            mixing = components.T
        else:
            from sklearn.decomposition import FastICA

            ica = FastICA(whiten="unit-variance", random_state=random_state, max_iter=max_iter)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # a convergence warning still gives a usable map
                ica.fit(centred)
            components = np.asarray(ica.components_, dtype=np.float64)
            mixing = np.linalg.inv(components)
    return LatentAlignment(method=method, mean=mean, components=components, mixing=mixing)


def align_active_latents(
    latents: np.ndarray,
    method: Literal["pca", "ica"] = "ica",
    *,
    active: np.ndarray | None = None,
    random_state: int = 0,
) -> np.ndarray:
    """Re-align the active latents with :func:`align_latents`; pass the others through.

    Parameters
    ----------
    latents : np.ndarray [shape=(n_samples, n_latents)]
        Latent means ``mu``.
    method : {"pca", "ica"}
    active : np.ndarray [shape=(n_latents,), dtype=bool], optional
        Which latents to align. Default: the active ones
        (:func:`timbrespace.metrics.active_latents`: ``Var(mu_k) > 0.01``).
    random_state : int

    Returns
    -------
    np.ndarray [shape=(n_samples, n_latents), dtype=float64]
        The active columns replaced by their aligned coordinates; with fewer than two
        active latents, the latents unchanged.

    Raises
    ------
    ParameterError
        As :func:`align_latents` (e.g. active latents that are copies of each other).
    """
    z = np.asarray(latents, dtype=np.float64).copy()
    if z.ndim != 2:
        raise ParameterError(f"latents must be (n_samples, n_latents); got {z.shape}")
    mask = active_latents(z) if active is None else np.asarray(active, dtype=bool)
    if mask.shape != (z.shape[1],):
        raise ParameterError(f"active must have one flag per latent ({z.shape[1]}); got shape {mask.shape}")
    if mask.sum() >= 2:
        z[:, mask] = align_latents(z[:, mask], method, random_state=random_state).transform(z[:, mask])
    return z
