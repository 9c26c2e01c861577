from __future__ import annotations

import json

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.metrics import ReferenceLatents, evaluate_representation, mig

from ._fixtures import grid_factors, identity_latents


def _split(n: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(0).permutation(n)
    cut = int(0.7 * n)
    return order[:cut], order[cut:]


def test_identity_summary() -> None:
    factors = grid_factors((5, 4, 3), repeats=4)
    latents = identity_latents(factors, noise=0.05)
    train, test = _split(len(factors))
    summary = evaluate_representation(
        latents, factors, train=train, test=test, mi_items="train", n_train_points=500, n_eval_points=300
    )
    flat = summary.as_dict()
    assert set(flat) == {
        "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness_train",
        "dci_informativeness_test", "sap", "modularity", "explicitness_train",
        "explicitness_test", "beta_vae_score", "factor_vae_score",
    }  # fmt: skip
    assert flat["mig"] == pytest.approx(mig(latents[train], factors[train]).score)
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
    latents = identity_latents(factors)
    train, test = _split(len(factors))
    summary = evaluate_representation(latents, factors, train=train, test=test, metrics=["mig", "modularity"])
    assert summary.dci is None and set(summary.as_dict()) == {"mig", "modularity"}
    with pytest.raises(ParameterError, match="unknown metrics"):
        evaluate_representation(latents, factors, metrics=["irs"])
    with pytest.raises(ParameterError, match="mi_items='test'"):
        evaluate_representation(latents, factors, mi_items="test")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match=r"train indices must be in 0\.\.26"):
        evaluate_representation(latents, factors, train=np.array([0, 27]))


def test_mi_items_all_is_the_run_s_mig_on_every_item() -> None:
    factors = grid_factors((4, 3), repeats=5)
    latents = identity_latents(factors, noise=0.3, seed=2)
    train, test = _split(len(factors))
    scores = evaluate_representation(latents, factors, train=train, test=test, metrics=["mig", "dci"])
    assert scores.mig.score == mig(latents, factors).score
    assert scores.mig.score != mig(latents[train], factors[train]).score


def test_to_dict_is_the_metrics_json_score_block() -> None:
    """The keys ``timbrespace run`` has always written, with the run's rounding, and the
    references scored with the same MIG."""
    factors = grid_factors((4, 3), repeats=5)
    latents = np.c_[identity_latents(factors, noise=0.1), np.zeros(len(factors))]  # one dead latent
    logvar = np.full(latents.shape, -2.0)
    rng = np.random.default_rng(0)
    refs = ReferenceLatents(aligned=latents[:, ::-1].copy(), aligned_method="pca",
                            linear_baselines={"pca": rng.normal(size=(60, 3)), "ica": latents})
    train, test = _split(len(factors))
    scores = evaluate_representation(
        latents, factors, train=train, test=test, logvar=logvar, factor_names=["a", "b"],
        factor_levels=[4, 3], metrics=["mig", "dci"], references=refs, n_bins=10,
    )
    out = json.loads(json.dumps(scores.to_dict(), allow_nan=False))
    assert set(out) == {"mig", "mi_nats", "dci", "dci_importance", "per_factor", "active_latents",
                        "kl_per_latent_nats", "aligned", "linear_baselines"}
    assert out["active_latents"] == 2 and scores.active.tolist() == [True, True, False]
    assert out["mig"] == mig(latents, factors, n_bins=10).score
    assert out["mi_nats"] == np.round(mig(latents, factors, n_bins=10).mi, 9).tolist()
    assert set(out["dci"]) == {"disentanglement", "completeness", "informativeness",
                               "informativeness_train", "informativeness_test"}
    assert out["per_factor"]["b"]["n_levels"] == 3 and out["per_factor"]["a"]["best_latent"] == 0
    assert set(out["per_factor"]["a"]) == {"mig", "n_levels", "entropy_nats", "best_latent",
                                           "dci_completeness", "dci_informativeness"}
    # mean KL of N(mu, e^-2) from N(0, 1), per latent (the dead latent: mu = 0)
    expected_kl = np.mean(0.5 * (latents**2 + np.exp(-2.0) + 2.0 - 1.0), axis=0)
    np.testing.assert_allclose(out["kl_per_latent_nats"], np.round(expected_kl, 6))
    assert out["aligned"]["method"] == "pca" and out["aligned"]["latents"] == [0, 1]
    assert out["aligned"]["mig"] == mig(latents[:, ::-1], factors, n_bins=10).score
    assert out["linear_baselines"]["n_components"] == 3
    assert out["linear_baselines"]["ica"]["mig"] == out["mig"]
    assert set(out["linear_baselines"]["pca"]["per_factor"]) == {"a", "b"}


def test_a_metric_undefined_for_the_shape_is_skipped_even_with_on_error_raise(caplog: pytest.LogCaptureFixture) -> None:
    factors = grid_factors((4,), repeats=10)  # one factor, one latent: DCI needs two latents
    latents = identity_latents(factors, noise=0.1)
    with caplog.at_level("WARNING"):
        scores = evaluate_representation(latents, factors, metrics=["mig", "dci"])
    assert scores.dci is None and scores.mig is not None and "dci not computed" in caplog.text


def test_one_factor_scores_what_applies(caplog) -> None:
    """A 1-D grid: MIG, SAP, DCI completeness/informativeness; modularity and the sampled
    scores are skipped with one line, never an error."""
    import logging

    rng = np.random.default_rng(1)
    y = np.repeat(np.arange(8), 25)[:, None]
    z = np.column_stack([y[:, 0] + 0.05 * rng.normal(size=200), rng.normal(size=(200, 2))])
    with caplog.at_level(logging.WARNING):
        scores = evaluate_representation(z, y, train=np.arange(0, 200, 2), test=np.arange(1, 200, 2))
    out = scores.to_dict()
    assert out["mig"] > 0.5 and out["dci"]["disentanglement"] is None and out["dci"]["completeness"] > 0.5
    assert out["sap"] is not None
    assert scores.modularity is None and scores.beta_vae is None and scores.factor_vae is None
    skips = [r.getMessage() for r in caplog.records if "not computed" in r.getMessage()]
    assert len(skips) == 1 and "modularity" in skips[0]
