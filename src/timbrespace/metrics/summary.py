"""All disentanglement metrics of one representation in one call, for ``metrics.json``,
sweeps and the report.

MIG and modularity are computed on the training split (as disentanglement_lib, which
draws ``num_train`` points); DCI, SAP and explicitness fit on train and score on test;
the β-VAE and FactorVAE scores sample pairs/batches from train and test together.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from timbrespace.errors import ParameterError
from timbrespace.metrics._utils import check_latents_factors
from timbrespace.metrics.beta_vae import BetaVAEResult, beta_vae_score
from timbrespace.metrics.dci import DCIResult, dci
from timbrespace.metrics.explicitness import ExplicitnessResult, explicitness
from timbrespace.metrics.factor_vae import FactorVAEResult, factor_vae_score
from timbrespace.metrics.mig import MIGResult, mig
from timbrespace.metrics.modularity import ModularityResult, modularity
from timbrespace.metrics.sap import SAPResult, sap

__all__ = ["ALL_METRICS", "DisentanglementSummary", "evaluate_representation"]

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
class DisentanglementSummary:
    """Results of :func:`evaluate_representation`; a metric not requested is ``None``.

    Attributes
    ----------
    mig, dci, sap, modularity, explicitness, beta_vae, factor_vae : result or None
    timings_s : dict of str to float
        Wall time of each metric, seconds.
    """

    mig: MIGResult | None = None
    dci: DCIResult | None = None
    sap: SAPResult | None = None
    modularity: ModularityResult | None = None
    explicitness: ExplicitnessResult | None = None
    beta_vae: BetaVAEResult | None = None
    factor_vae: FactorVAEResult | None = None
    timings_s: dict[str, float] = field(default_factory=dict)

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


def evaluate_representation(
    latents_train: np.ndarray,
    factors_train: np.ndarray,
    latents_test: np.ndarray,
    factors_test: np.ndarray,
    *,
    metrics: Sequence[str] = ALL_METRICS,
    random_state: int = 0,
    n_bins: int = 20,
    n_train_points: int = 10_000,
    n_eval_points: int = 5_000,
) -> DisentanglementSummary:
    """Compute the requested disentanglement metrics.

    Parameters
    ----------
    latents_train, latents_test : array-like of shape (n_samples, n_latents)
    factors_train, factors_test : array-like of shape (n_samples, n_factors), int
    metrics : sequence of str, default=ALL_METRICS
        Any of ``"mig"``, ``"dci"``, ``"sap"``, ``"modularity"``, ``"explicitness"``,
        ``"beta_vae"``, ``"factor_vae"``.
    random_state : int, default=0
    n_bins : int, default=20
        Histogram bins for MIG and modularity.
    n_train_points, n_eval_points : int, default=10000, 5000
        Points for the β-VAE and FactorVAE scores.

    Returns
    -------
    DisentanglementSummary

    Raises
    ------
    ParameterError
        On an unknown metric name or bad arrays (from the metrics themselves).
    """
    unknown = sorted(set(metrics) - set(ALL_METRICS))
    if unknown:
        raise ParameterError(f"unknown metrics {unknown}; allowed {list(ALL_METRICS)}")
    z_tr, y_tr = check_latents_factors(latents_train, factors_train, name="latents_train")
    z_te, y_te = check_latents_factors(
        latents_test, factors_test, name="latents_test", min_samples=1
    )
    z_all, y_all = np.concatenate([z_tr, z_te]), np.concatenate([y_tr, y_te])
    runners = {
        "mig": lambda: mig(z_tr, y_tr, n_bins=n_bins),
        "dci": lambda: dci(z_tr, y_tr, z_te, y_te, random_state=random_state),
        "sap": lambda: sap(z_tr, y_tr, z_te, y_te),
        "modularity": lambda: modularity(z_tr, y_tr, n_bins=n_bins),
        "explicitness": lambda: explicitness(z_tr, y_tr, z_te, y_te, random_state=random_state),
        "beta_vae": lambda: beta_vae_score(
            z_all, y_all, n_train=n_train_points, n_eval=n_eval_points, random_state=random_state
        ),
        "factor_vae": lambda: factor_vae_score(
            z_all, y_all, n_train=n_train_points, n_eval=n_eval_points, random_state=random_state
        ),
    }
    results: dict[str, object] = {}
    timings: dict[str, float] = {}
    for name in ALL_METRICS:
        if name not in metrics:
            continue
        start = time.perf_counter()
        results[name] = runners[name]()
        timings[name] = time.perf_counter() - start
        logger.info("%s computed in %.2f s", name, timings[name])
    return DisentanglementSummary(**results, timings_s=timings)  # type: ignore[arg-type]
