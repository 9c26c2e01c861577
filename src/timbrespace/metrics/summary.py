"""The one scoring function: every metric of one representation, for ``metrics.json``,
the train summary, sweeps, ``evaluate`` and the report.

:func:`evaluate_representation` scores latents against known factor codes and returns a
:class:`RepresentationScores`, whose :meth:`~RepresentationScores.to_dict` is the
score block of ``RUN/metrics.json``. The item sets follow ``timbrespace run``: MIG and
modularity on every item (``mi_items="all"``; ``"train"`` as disentanglement_lib, which
draws ``num_train`` points); DCI, SAP and explicitness fit on ``train`` and score on
``test``; the β-VAE and FactorVAE scores sample pairs/batches from train and test
together. Active latents are :func:`~timbrespace.metrics.active_latents` (the one
definition).

Reference representations of the same items (:class:`ReferenceLatents`: the latents
after an unsupervised re-alignment, linear baselines of the inputs) are scored with the
same MIG beside the model's own; they are computed elsewhere
(:func:`timbrespace.analysis.reference_latents`), since fitting them is an analysis,
not a metric.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from timbrespace.errors import ParameterError
from timbrespace.metrics._utils import check_latents_factors
from timbrespace.metrics.activity import active_latents, kl_per_latent
from timbrespace.metrics.beta_vae import BetaVAEResult, beta_vae_score
from timbrespace.metrics.dci import DCIResult, dci
from timbrespace.metrics.explicitness import ExplicitnessResult, explicitness
from timbrespace.metrics.factor_vae import FactorVAEResult, factor_vae_score
from timbrespace.metrics.mig import MIGResult, mig
from timbrespace.metrics.modularity import ModularityResult, modularity
from timbrespace.metrics.sap import SAPResult, sap

__all__ = ["ALL_METRICS", "ReferenceLatents", "RepresentationScores", "evaluate_representation"]

logger = logging.getLogger(__name__)

ALL_METRICS: tuple[str, ...] = (
    "mig",
    "dci",
    "sap",
    "modularity",
    "explicitness",
    "beta_vae",
    "factor_vae",
)


@dataclass(frozen=True)
class ReferenceLatents:
    """Other representations of the same items, scored with MIG beside the model's latents.

    Attributes
    ----------
    aligned : np.ndarray [shape=(n_items, n_latents)] or None
        The latents after an unsupervised linear re-alignment of the active ones
        (:func:`timbrespace.analysis.align_active_latents`); ``None``: not computed.
    aligned_method : str
        How they were re-aligned (``"ica"`` or ``"pca"``).
    linear_baselines : mapping of str to np.ndarray [shape=(n_items, n_components)]
        Linear projections of the inputs (no model) by method, e.g. ``{"pca": ..., "ica": ...}``
        (:func:`timbrespace.analysis.fit_linear_baseline`).
    """

    aligned: np.ndarray | None = None
    aligned_method: str = "ica"
    linear_baselines: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class RepresentationScores:
    """What :func:`evaluate_representation` measured; a metric not computed is ``None``.

    Attributes
    ----------
    factor_names : tuple of str
    factor_levels : tuple of int
        Levels of each factor (the dataset card's, or the distinct codes).
    active : np.ndarray [shape=(n_latents,), dtype=bool]
        :func:`~timbrespace.metrics.active_latents` of the latents.
    kl_per_latent_nats : np.ndarray [shape=(n_latents,)] or None
        :func:`~timbrespace.metrics.kl_per_latent`, when log-variances were given.
    mig, dci, sap, modularity, explicitness, beta_vae, factor_vae : result or None
    aligned : MIGResult or None
        MIG of :attr:`ReferenceLatents.aligned`.
    aligned_method : str or None
    linear_baselines : dict of str to MIGResult
        MIG of each linear baseline.
    timings_s : dict of str to float
        Wall time of each metric, seconds.
    """

    factor_names: tuple[str, ...]
    factor_levels: tuple[int, ...]
    active: np.ndarray
    kl_per_latent_nats: np.ndarray | None = None
    mig: MIGResult | None = None
    dci: DCIResult | None = None
    sap: SAPResult | None = None
    modularity: ModularityResult | None = None
    explicitness: ExplicitnessResult | None = None
    beta_vae: BetaVAEResult | None = None
    factor_vae: FactorVAEResult | None = None
    aligned: MIGResult | None = None
    aligned_method: str | None = None
    linear_baselines: dict[str, MIGResult] = field(default_factory=dict)
    timings_s: dict[str, float] = field(default_factory=dict)

    @property
    def n_active(self) -> int:
        """Number of active latents."""
        return int(np.sum(self.active))

    def as_dict(self) -> dict[str, float]:
        """Flat ``name -> float`` of the headline numbers (JSON-ready, no NaN)."""
        out: dict[str, float] = {}
        if self.mig is not None:
            out["mig"] = self.mig.score
        if self.dci is not None:
            out["dci_disentanglement"] = self.dci.disentanglement
            out["dci_completeness"] = self.dci.completeness
            out["dci_informativeness_train"] = self.dci.informativeness_train
            out["dci_informativeness_test"] = self.dci.informativeness_test
        if self.sap is not None:
            out["sap"] = self.sap.score
        if self.modularity is not None:
            out["modularity"] = self.modularity.score
        if self.explicitness is not None:
            out["explicitness_train"] = self.explicitness.score_train
            out["explicitness_test"] = self.explicitness.score_test
        if self.beta_vae is not None:
            out["beta_vae_score"] = self.beta_vae.score
        if self.factor_vae is not None:
            out["factor_vae_score"] = self.factor_vae.score
        return {k: float(v) for k, v in out.items() if np.isfinite(v)}

    def per_factor_frame(self, factor_names: Sequence[str] | None = None) -> pd.DataFrame:
        """One row per factor: MIG gap, DCI completeness and test accuracy, SAP gap,
        explicitness test AUC (columns present for the metrics computed)."""
        columns: dict[str, np.ndarray] = {}
        if self.mig is not None:
            columns["mig"] = self.mig.per_factor
        if self.dci is not None:
            columns["dci_completeness"] = self.dci.completeness_per_factor
            columns["dci_accuracy_test"] = self.dci.informativeness_test_per_factor
        if self.sap is not None:
            columns["sap"] = self.sap.per_factor
        if self.explicitness is not None:
            columns["explicitness_test"] = self.explicitness.per_factor_test
        frame = pd.DataFrame(columns)
        if factor_names is not None:
            if len(factor_names) != len(frame):
                raise ParameterError(
                    f"factor_names has {len(factor_names)} names for {len(frame)} factors"
                )
            frame.insert(0, "factor", list(factor_names))
        return frame

    def to_dict(self) -> dict[str, Any]:
        """The score block of ``metrics.json`` (plain JSON types, ``None`` for NaN).

        Keys: ``mig``, ``mi_nats``; ``dci`` (``disentanglement``, ``completeness``,
        ``informativeness``, ``informativeness_train``, ``informativeness_test``) and
        ``dci_importance``; ``per_factor`` (``n_levels`` and, when computed, ``mig``,
        ``entropy_nats``, ``best_latent``, ``dci_completeness``, ``dci_informativeness``);
        ``active_latents`` (count) and ``kl_per_latent_nats``; ``sap``, ``modularity``,
        ``explicitness``, ``beta_vae``, ``factor_vae`` (headline scores); ``aligned``
        (``method``, ``latents``, ``mig``, ``per_factor``, ``mi_nats``) and
        ``linear_baselines`` (``n_components``, then ``mig`` and ``per_factor`` per
        method). Blocks of metrics not computed are left out.
        """
        out: dict[str, Any] = {"active_latents": self.n_active}
        if self.kl_per_latent_nats is not None:
            out["kl_per_latent_nats"] = np.round(self.kl_per_latent_nats, 6).tolist()
        if self.mig is not None:
            out["mig"] = _num(self.mig.score)
            out["mi_nats"] = np.round(self.mig.mi, 9).tolist()
        if self.dci is not None:
            d = self.dci
            out["dci"] = {
                "disentanglement": _num(d.disentanglement),
                "completeness": _num(d.completeness),
                "informativeness": _num(d.informativeness_test),
                "informativeness_train": _num(d.informativeness_train),
                "informativeness_test": _num(d.informativeness_test),
            }
            out["dci_importance"] = np.round(d.importance, 9).tolist()
        out["per_factor"] = {name: self._factor_row(k) for k, name in enumerate(self.factor_names)}
        for name in ("sap", "modularity", "beta_vae", "factor_vae"):
            result = getattr(self, name)
            if result is not None:
                out[name] = _num(result.score)
        if self.explicitness is not None:
            out["explicitness"] = _num(self.explicitness.score_test)
        if self.aligned is not None:
            out["aligned"] = {
                "method": self.aligned_method,
                "latents": np.flatnonzero(self.active).tolist(),
                "mig": _num(self.aligned.score),
                "per_factor": self._per_factor_mig(self.aligned),
                "mi_nats": np.round(self.aligned.mi, 9).tolist(),
            }
        if self.linear_baselines:
            first = next(iter(self.linear_baselines.values()))
            block: dict[str, Any] = {"n_components": int(first.mi.shape[0])}
            for method, result in self.linear_baselines.items():
                block[method] = {"mig": _num(result.score), "per_factor": self._per_factor_mig(result)}
            out["linear_baselines"] = block
        return out

    def _factor_row(self, k: int) -> dict[str, Any]:
        row: dict[str, Any] = {"n_levels": int(self.factor_levels[k])}
        if self.mig is not None:
            row.update(
                mig=_num(self.mig.per_factor[k]),
                entropy_nats=_num(self.mig.factor_entropy[k]),
                best_latent=int(np.argmax(self.mig.mi[:, k])),
            )
        if self.dci is not None:
            row.update(
                dci_completeness=_num(self.dci.completeness_per_factor[k]),
                dci_informativeness=_num(self.dci.informativeness_test_per_factor[k]),
            )
        return row

    def _per_factor_mig(self, result: MIGResult) -> dict[str, float | None]:
        return {name: _num(result.per_factor[k]) for k, name in enumerate(self.factor_names)}


def evaluate_representation(
    latents: np.ndarray,
    factors: np.ndarray,
    *,
    train: np.ndarray | None = None,
    test: np.ndarray | None = None,
    logvar: np.ndarray | None = None,
    factor_names: Sequence[str] | None = None,
    factor_levels: Sequence[int] | None = None,
    metrics: Sequence[str] = ALL_METRICS,
    mi_items: Literal["all", "train"] = "all",
    references: ReferenceLatents | None = None,
    n_bins: int = 20,
    random_state: int = 0,
    dci_estimator: Literal["gbt", "hist"] = "gbt",
    n_train_points: int = 10_000,
    n_eval_points: int = 5_000,
    on_error: Literal["raise", "warn"] = "raise",
) -> RepresentationScores:
    """Score a representation against known factors: the one scoring function.

    Parameters
    ----------
    latents : array-like of shape (n_items, n_latents)
        Codes of every item (e.g. the encoder means ``mu``).
    factors : array-like of shape (n_items, n_factors), int
        Ground-truth factor codes.
    train, test : array-like of int, optional
        Item indices the supervised metrics fit on (``train``) and score on (``test``).
        Default: every item for ``train``, and ``train`` for ``test``.
    logvar : array-like of shape (n_items, n_latents), optional
        Posterior log-variances; gives ``kl_per_latent_nats``.
    factor_names : sequence of str, optional
        Default ``factor0``, ``factor1``, ...
    factor_levels : sequence of int, optional
        Levels of each factor (default: the number of distinct codes).
    metrics : sequence of str, default=ALL_METRICS
        Any of ``"mig"``, ``"dci"``, ``"sap"``, ``"modularity"``, ``"explicitness"``,
        ``"beta_vae"``, ``"factor_vae"``.
    mi_items : {"all", "train"}
        Items of MIG and modularity (and of the reference MIGs): every item
        (``timbrespace run``) or the ``train`` items (disentanglement_lib).
    references : ReferenceLatents, optional
        Re-aligned latents and linear baselines, each scored with MIG.
    n_bins : int, default=20
        Histogram bins for MIG and modularity.
    random_state : int, default=0
        Seed of DCI's trees, explicitness and the sampled scores.
    dci_estimator : {"gbt", "hist"}
        DCI's per-factor classifier (:func:`~timbrespace.metrics.dci`).
    n_train_points, n_eval_points : int, default=10000, 5000
        Points for the β-VAE and FactorVAE scores.
    on_error : {"raise", "warn"}
        ``"warn"``: a metric that fails for this dataset (e.g. modularity or DCI with one
        factor) is logged and left ``None`` instead of raising.

    Returns
    -------
    RepresentationScores
        ``.to_dict()`` is the score block of ``metrics.json``.

    Raises
    ------
    ParameterError
        On an unknown metric or ``mi_items``, bad arrays or indices (from the metrics
        themselves with ``on_error="raise"``).

    References
    ----------
    Locatello, F. et al. (2019). Challenging Common Assumptions in the Unsupervised
    Learning of Disentangled Representations. ICML (disentanglement_lib).

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.metrics import evaluate_representation
    >>> rng = np.random.default_rng(0)
    >>> factors = rng.integers(0, 5, size=(200, 2))
    >>> latents = factors + 0.1 * rng.standard_normal((200, 2))
    >>> scores = evaluate_representation(latents, factors, train=np.arange(200) < 100,
    ...                                  metrics=("mig", "sap"), factor_names=["f0", "decay"])
    >>> scores.factor_levels, scores.active.tolist(), round(scores.mig.score, 3)
    ((5, 5), [True, True], 0.916)
    >>> scores.dci is None  # not asked for
    True
    """
    unknown = sorted(set(metrics) - set(ALL_METRICS))
    if unknown:
        raise ParameterError(f"unknown metrics {unknown}; allowed {list(ALL_METRICS)}")
    if mi_items not in ("all", "train"):
        raise ParameterError(f"mi_items={mi_items!r} is not one of 'all', 'train'")
    z, y = check_latents_factors(latents, factors)
    tr = _indices(train, len(z), "train")
    te = tr if test is None else _indices(test, len(z), "test")
    mi_rows = np.arange(len(z)) if mi_items == "all" else tr
    names = tuple(factor_names) if factor_names is not None else tuple(f"factor{k}" for k in range(y.shape[1]))
    levels = tuple(int(v) for v in factor_levels) if factor_levels is not None else tuple(
        int(np.unique(y[:, k]).size) for k in range(y.shape[1])
    )
    if len(names) != y.shape[1] or len(levels) != y.shape[1]:
        raise ParameterError(
            f"factor_names ({len(names)}) and factor_levels ({len(levels)}) need one entry per factor ({y.shape[1]})"
        )
    metrics = _applicable(metrics, n_latents=z.shape[1], n_factors=y.shape[1])
    runners = _runners(z, y, tr, te, mi_rows, n_bins=n_bins, random_state=random_state,
                       dci_estimator=dci_estimator, n_train_points=n_train_points, n_eval_points=n_eval_points)
    results: dict[str, Any] = {}
    timings: dict[str, float] = {}
    for name in ALL_METRICS:
        if name in metrics:
            start = time.perf_counter()
            results[name] = _guarded(name, runners[name], on_error)
            timings[name] = time.perf_counter() - start
            logger.debug("%s computed in %.2f s", name, timings[name])
    refs = references or ReferenceLatents()

    def score_mig(other: np.ndarray) -> MIGResult:
        return mig(np.asarray(other)[mi_rows], y[mi_rows], n_bins=n_bins)

    if refs.aligned is not None:
        results["aligned"] = _guarded("aligned MIG", lambda: score_mig(refs.aligned), on_error)
        results["aligned_method"] = refs.aligned_method
    baselines = {m: _guarded(f"{m} MIG", lambda r=r: score_mig(r), on_error) for m, r in refs.linear_baselines.items()}
    return RepresentationScores(
        factor_names=names,
        factor_levels=levels,
        active=active_latents(z),
        kl_per_latent_nats=None if logvar is None else kl_per_latent(z, logvar),
        linear_baselines={m: r for m, r in baselines.items() if r is not None},
        timings_s=timings,
        **results,
    )


# Metrics undefined below these sizes (their papers' definitions): (latents, factors).
_NEEDS: dict[str, tuple[int, int]] = {
    "dci": (2, 1), "modularity": (1, 2), "sap": (2, 1), "beta_vae": (1, 2), "factor_vae": (1, 2),
}


def _applicable(metrics: Sequence[str], *, n_latents: int, n_factors: int) -> tuple[str, ...]:
    """``metrics`` less those undefined for this many latents and factors, each skip said in one line.

    A dataset with one factor (a 1-D grid, one-shots labelled by one column) still gets
    MIG, SAP, explicitness and DCI's completeness and informativeness (its
    disentanglement is ``None``); modularity and the sampled β-VAE and FactorVAE scores
    need two factors or more.
    """
    kept, skipped = [], []
    for name in metrics:
        need_latents, need_factors = _NEEDS.get(name, (1, 1))
        (kept if n_latents >= need_latents and n_factors >= need_factors else skipped).append(name)
    if skipped:
        logger.warning("%s not computed: defined for >= 2 factors (or latents) only (this representation "
                       "has %d factor%s and %d latent%s)", ", ".join(skipped), n_factors,
                       "" if n_factors == 1 else "s", n_latents, "" if n_latents == 1 else "s")
    return tuple(kept)


def _runners(z: np.ndarray, y: np.ndarray, tr: np.ndarray, te: np.ndarray, mi_rows: np.ndarray, *,
             n_bins: int, random_state: int, dci_estimator: str, n_train_points: int,
             n_eval_points: int) -> dict[str, Callable[[], Any]]:
    """One call per metric, on its items: MI metrics on ``mi_rows``, supervised ones
    train → test, the sampled scores on train and test together."""
    both = np.concatenate([tr, te[~np.isin(te, tr)]])
    sampled = {"n_train": n_train_points, "n_eval": n_eval_points, "random_state": random_state}
    return {
        "mig": lambda: mig(z[mi_rows], y[mi_rows], n_bins=n_bins),
        "dci": lambda: dci(z[tr], y[tr], z[te], y[te], random_state=random_state,
                           estimator=dci_estimator),  # type: ignore[arg-type]
        "sap": lambda: sap(z[tr], y[tr], z[te], y[te]),
        "modularity": lambda: modularity(z[mi_rows], y[mi_rows], n_bins=n_bins),
        "explicitness": lambda: explicitness(z[tr], y[tr], z[te], y[te], random_state=random_state),
        "beta_vae": lambda: beta_vae_score(z[both], y[both], **sampled),
        "factor_vae": lambda: factor_vae_score(z[both], y[both], **sampled),
    }


def _indices(rows: np.ndarray | None, n: int, name: str) -> np.ndarray:
    if rows is None:
        return np.arange(n)
    idx = np.asarray(rows)
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ParameterError(f"{name} must be a non-empty 1-D array of item indices; got {idx!r:.80}")
    if idx.min() < 0 or idx.max() >= n:
        raise ParameterError(f"{name} indices must be in 0..{n - 1}; got {idx.min()}..{idx.max()}")
    return idx.astype(np.int64)


def _guarded(name: str, job: Callable[[], Any], on_error: str) -> Any:
    if on_error == "raise":
        return job()
    try:
        return job()
    except Exception as exc:  # a metric undefined for this dataset must not lose the others
        logger.warning("%s not computed: %s", name, exc)
        return None


def _num(x: Any) -> float | None:
    x = float(x)
    return x if np.isfinite(x) else None
