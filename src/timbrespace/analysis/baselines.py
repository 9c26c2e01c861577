"""Linear references a model's score is read against: PCA / FastICA of the inputs, and
the model's own latents re-aligned without labels.

:func:`fit_linear_baseline` projects items onto their principal or independent
components; ``timbrespace run`` and the sweep report the MIG of those projections beside
every VAE. They answer "how much of the factor structure is linear in the input?": a VAE
that scores below ICA has not found the independent directions a linear method finds.
:func:`reference_latents` gathers these projections and the re-aligned latents
(:func:`~timbrespace.analysis.align_active_latents`) for
:func:`timbrespace.metrics.evaluate_representation`, which scores them with the same MIG.

References
----------
Hyvärinen & Oja, "Independent component analysis: algorithms and applications", Neural
Networks 13, 2000 (FastICA). Rolinek, Zietlow & Martius, "Variational autoencoders pursue
PCA directions (by accident)", CVPR 2019 (why PCA is the VAE's reference).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Literal

import numpy as np
from threadpoolctl import threadpool_limits

from timbrespace.analysis.alignment import align_active_latents, align_latents
from timbrespace.errors import ParameterError
from timbrespace.metrics import ReferenceLatents, active_latents

__all__ = ["BASELINE_METHODS", "fit_linear_baseline", "reference_latents"]

log = logging.getLogger(__name__)

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
        :func:`~timbrespace.analysis.align_latents`, i.e. a rotation of the same
        principal subspace.
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


def reference_latents(
    latents: np.ndarray,
    *,
    align: Literal["ica", "pca", "none"] = "ica",
    features: np.ndarray | None = None,
    baselines: Sequence[str] = BASELINE_METHODS,
    train: np.ndarray | None = None,
    random_state: int = 0,
) -> ReferenceLatents:
    """The reference representations a model's latents are scored beside.

    Both are analyses, never allowed to fail a run: a latent space that cannot be
    re-aligned (e.g. two active latents that copy each other) or features too few to fit
    the baselines are logged and left out.

    Parameters
    ----------
    latents : np.ndarray [shape=(n_items, n_latents)]
        The model's latent means ``mu``.
    align : {"ica", "pca", "none"}
        Re-align the active latents (:func:`~timbrespace.metrics.active_latents`) with
        :func:`~timbrespace.analysis.align_active_latents`; ``"none"``: skip.
    features : np.ndarray [shape=(n_items, ...)], optional
        The model's inputs; with them, :func:`fit_linear_baseline` of the flattened
        features with as many components as there are latents, for each of ``baselines``.
    baselines : sequence of {"pca", "ica"}
        Which linear baselines.
    train : np.ndarray of int, optional
        Rows the baselines are fitted on (default all).
    random_state : int
        Seed of FastICA (alignment and baselines).

    Returns
    -------
    ReferenceLatents
    """
    z = np.asarray(latents)
    aligned = None
    if align != "none":
        try:
            aligned = align_active_latents(z, align, active=active_latents(z), random_state=random_state)
        except ParameterError as exc:
            log.warning("latent re-alignment skipped: %s", exc)
    fitted: dict[str, np.ndarray] = {}
    if features is not None:
        flat = np.asarray(features).reshape(len(features), -1)
        rows = train if train is not None and len(train) else None
        for method in baselines:
            try:
                fitted[method] = fit_linear_baseline(flat, method, z.shape[1], train=rows, random_state=random_state)
            except ParameterError as exc:
                log.warning("linear baseline %s skipped: %s", method, exc)
                fitted = {}
                break
    return ReferenceLatents(aligned=aligned, aligned_method=align, linear_baselines=fitted)
