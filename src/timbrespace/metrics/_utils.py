"""Input validation and the discretisation/MI helpers shared by the metrics.

The helpers follow disentanglement_lib (``evaluation/metrics/utils.py``) but in
scikit-learn orientation: ``latents`` is ``(n_samples, n_latents)`` and ``factors`` is
``(n_samples, n_factors)``.
"""

from __future__ import annotations

import numpy as np
import sklearn.metrics

from timbrespace.errors import ParameterError

__all__ = [
    "check_latents_factors",
    "check_random_state",
    "discrete_entropy",
    "discrete_mutual_info",
    "histogram_discretize",
]


def check_latents_factors(
    latents: object, factors: object, *, name: str = "latents", min_samples: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a ``(latents, factors)`` pair and return them as float64 / int64 arrays.

    Raises
    ------
    ParameterError
        If either is not 2-D, the sample counts differ, latents are not finite, or
        factors are not integer codes.
    """
    z = np.asarray(latents)
    y = np.asarray(factors)
    if z.ndim != 2:
        raise ParameterError(f"{name} must be 2-D (n_samples, n_latents); got shape {z.shape}")
    if y.ndim == 1:
        y = y[:, None]
    if y.ndim != 2:
        raise ParameterError(f"factors must be 2-D (n_samples, n_factors); got shape {y.shape}")
    if z.shape[0] != y.shape[0]:
        raise ParameterError(
            f"{name} has {z.shape[0]} samples but factors has {y.shape[0]}: they must match"
        )
    if z.shape[0] < min_samples:
        raise ParameterError(f"{name} has {z.shape[0]} samples; at least {min_samples} needed")
    if z.shape[1] < 1 or y.shape[1] < 1:
        raise ParameterError(
            f"need at least one latent and one factor; got {name} {z.shape}, factors {y.shape}"
        )
    if not np.issubdtype(z.dtype, np.number) or not np.all(np.isfinite(z)):
        raise ParameterError(f"{name} must be finite numbers (found NaN/inf or non-numeric)")
    if not (np.issubdtype(y.dtype, np.integer) or np.issubdtype(y.dtype, np.bool_)):
        if (
            np.issubdtype(y.dtype, np.floating)
            and np.all(np.isfinite(y))
            and np.all(y == np.round(y))
        ):
            y = y.astype(np.int64)
        else:
            raise ParameterError(
                f"factors must be integer codes (dtype {y.dtype} given); encode physical "
                "values with timbrespace.datasets.encode_factor first"
            )
    return z.astype(np.float64, copy=False), y.astype(np.int64, copy=False)


def check_random_state(random_state: int | np.random.Generator | None) -> np.random.Generator:
    """Return a ``numpy.random.Generator`` from a seed or generator."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, (int, np.integer)):
        return np.random.default_rng(random_state)
    raise ParameterError(
        f"random_state={random_state!r} must be an int, None or numpy.random.Generator"
    )


def check_positive_int(value: int, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` if it is an integer >= ``minimum``, else raise ParameterError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(f"{name}={value!r} must be an integer >= {minimum}")
    return int(value)


def histogram_discretize(latents: np.ndarray, n_bins: int = 20) -> np.ndarray:
    """Discretise each latent into ``n_bins`` equal-width bins over its own range.

    Exactly disentanglement_lib's ``_histogram_discretize``: the edges are
    ``np.histogram(z, n_bins)[1][:-1]`` and codes come from ``np.digitize``, so they run
    1..n_bins (the maximum falls in the last bin).

    Parameters
    ----------
    latents : np.ndarray [shape=(n_samples, n_latents)]
    n_bins : int

    Returns
    -------
    np.ndarray [shape=(n_samples, n_latents), dtype=int64]
    """
    out = np.empty(latents.shape, dtype=np.int64)
    for i in range(latents.shape[1]):
        edges = np.histogram(latents[:, i], n_bins)[1][:-1]
        out[:, i] = np.digitize(latents[:, i], edges)
    return out


def discrete_mutual_info(codes: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """Mutual information in nats between every discrete latent and every factor.

    Returns
    -------
    np.ndarray [shape=(n_latents, n_factors), dtype=float64]
    """
    mi = np.empty((codes.shape[1], factors.shape[1]), dtype=np.float64)
    for i in range(codes.shape[1]):
        for j in range(factors.shape[1]):
            mi[i, j] = sklearn.metrics.mutual_info_score(factors[:, j], codes[:, i])
    return mi


def discrete_entropy(factors: np.ndarray) -> np.ndarray:
    """Entropy in nats of each discrete factor, ``H(v_k) = I(v_k; v_k)``.

    Returns
    -------
    np.ndarray [shape=(n_factors,), dtype=float64]
    """
    return np.array(
        [
            sklearn.metrics.mutual_info_score(factors[:, j], factors[:, j])
            for j in range(factors.shape[1])
        ],
        dtype=np.float64,
    )


def check_train_test(
    latents_train: object, factors_train: object, latents_test: object, factors_test: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Validate a train/test pair of (latents, factors) arrays of matching widths.

    Raises
    ------
    ParameterError
        Bad shapes, or train and test with different numbers of latents or factors.
    """
    z_tr, y_tr = check_latents_factors(latents_train, factors_train, name="latents_train")
    z_te, y_te = check_latents_factors(latents_test, factors_test, name="latents_test", min_samples=1)
    if z_tr.shape[1] != z_te.shape[1] or y_tr.shape[1] != y_te.shape[1]:
        raise ParameterError(
            f"train/test widths differ: latents {z_tr.shape[1]} vs {z_te.shape[1]}, "
            f"factors {y_tr.shape[1]} vs {y_te.shape[1]}"
        )
    return z_tr, y_tr, z_te, y_te
