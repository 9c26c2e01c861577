from __future__ import annotations

import json

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics import evaluate_representation, mig

from ._fixtures import grid_factors, identity_latents


def _split(latents: np.ndarray, factors: np.ndarray):
    order = np.random.default_rng(0).permutation(len(latents))
    cut = int(0.7 * len(order))
    return latents[order[:cut]], factors[order[:cut]], latents[order[cut:]], factors[order[cut:]]


def test_identity_summary() -> None:
    factors = grid_factors((5, 4, 3), repeats=4)
    parts = _split(identity_latents(factors, noise=0.05), factors)
    summary = evaluate_representation(*parts, n_train_points=500, n_eval_points=300)
    flat = summary.as_dict()
    assert set(flat) == {
        "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness_train",
        "dci_informativeness_test", "sap", "modularity", "explicitness_train",
        "explicitness_test", "beta_vae_score", "factor_vae_score",
    }  # fmt: skip
    assert flat["mig"] == pytest.approx(mig(parts[0], parts[1]).score)
    for name in ("dci_disentanglement", "modularity", "beta_vae_score", "factor_vae_score"):
        assert flat[name] > 0.95, name
    json.dumps(flat, allow_nan=False)
    frame = summary.per_factor_frame(["f0", "slope", "decay"])
    assert list(frame["factor"]) == ["f0", "slope", "decay"]
    assert frame.shape == (3, 6)
    assert list(summary.timings_s) == [
        "mig", "dci", "sap", "modularity", "explicitness", "beta_vae", "factor_vae",
    ]  # fmt: skip


def test_subset_and_unknown() -> None:
    factors = grid_factors((3, 3), repeats=3)
    parts = _split(identity_latents(factors), factors)
    summary = evaluate_representation(*parts, metrics=["mig", "modularity"])
    assert summary.dci is None and set(summary.as_dict()) == {"mig", "modularity"}
    with pytest.raises(ParameterError, match="unknown metrics"):
        evaluate_representation(*parts, metrics=["irs"])
