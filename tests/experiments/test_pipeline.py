"""The whole `timbrespace run` pipeline on a tiny config: run folder, metrics, report, determinism."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from timbrespace.datasets.ingest import ingest_folder
from timbrespace.errors import ConfigError, DatasetError
from timbrespace.experiments import load_experiment_config, run_experiment
from timbrespace.experiments.pipeline import training_note

TINY = {
    "name": "tiny",
    "seed": 3,
    "dataset": {
        "sound_model": "additive",
        "sample_rate": 8000,
        "duration_s": 0.25,
        "fixed": {"n_partials": 12},
        "parameters": {
            "f0_hz": {"min": 150, "max": 600, "n": 3, "spacing": "log"},
            "slope_db_per_octave": {"min": -12, "max": -3, "n": 3},
            "inharmonicity": {"values": [0.0, 0.004]},
            "decay_per_s": {"values": [2.0, 10.0]},
        },
        "splits": {"train": 0.6, "valid": 0.2, "test": 0.2},
    },
    "features": {
        "kind": "stft",
        "n_fft": 256,
        "hop_length": 128,
        "output": "db",
        "normalization": "standardize",
    },
    "model": {"latent_dim": 3, "hidden_sizes": [32], "beta": 2.0},
    "training": {"epochs": 2, "batch_size": 16, "num_threads": 1},
    "evaluation": {
        "n_traversal_steps": 3,
        "n_traversal_latents": 2,
        "n_reconstructions": 2,
        "n_iter": 4,
    },
}


def _write(tmp_path: Path, cfg: dict) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("runs")
    cfg = load_experiment_config(_write(tmp, TINY))
    a = run_experiment(cfg, out=tmp / "a", progress=False, workers=1)
    with pytest.MonkeyPatch.context() as mp:  # b is compared by its dataset and metrics; a's report is checked
        mp.setattr("timbrespace.experiments.report.write_run_report", lambda run_dir, **_: Path(run_dir) / "report.html")
        b = run_experiment(cfg, out=tmp / "b", progress=False, workers=2)
    return a, b


@pytest.mark.xdist_group("experiments-tiny-runs")
def test_run_folder_contents(tiny_runs):
    a, _ = tiny_runs
    for name in ("config.yaml", "metrics.json", "report.html", "latents.npz"):
        assert (a.run_dir / name).is_file(), name
    assert any((a.run_dir / "checkpoints").rglob("*.safetensors"))
    resolved = yaml.safe_load((a.run_dir / "config.yaml").read_text())
    assert resolved["dataset"]["sound_model"] == "additive" and resolved["features"]["n_fft"] == 256


@pytest.mark.xdist_group("experiments-tiny-runs")
def test_metrics_json_schema(tiny_runs):
    a, _ = tiny_runs
    m = json.loads((a.run_dir / "metrics.json").read_text())
    assert m["n_items"] == 36
    assert m["factors"] == ["f0_hz", "slope_db_per_octave", "inharmonicity", "decay_per_s"]
    # the scores are those of the stored latents (oracle: metrics.mig on latents.npz), and
    # the score before training those of latents_at_init.npz
    from timbrespace.metrics import mig

    with np.load(a.run_dir / "latents.npz") as data:
        assert data["mu"].shape == (36, 3) and list(data["factor_names"]) == m["factors"]
        mu, codes = data["mu"], data["factor_codes"]
    with np.load(a.run_dir / "latents_at_init.npz") as data:
        mu_at_init = data["mu"]
    final = mig(mu, codes, n_bins=20)
    assert m["mig"] == pytest.approx(final.score, abs=1e-9)
    assert [m["per_factor"][f]["mig"] for f in m["factors"]] == pytest.approx(final.per_factor, abs=1e-9)
    assert m["mig_at_init"] == pytest.approx(mig(mu_at_init, codes, n_bins=20).score, abs=1e-9)
    assert m["training_gain"] == pytest.approx(m["mig"] - m["mig_at_init"])
    assert set(m["dci"]) >= {"disentanglement", "completeness", "informativeness"}
    assert set(m["per_factor"]) == set(m["factors"])
    assert m["reconstruction"]["feature_mse"] > 0
    assert 0.0 < m["reconstruction"]["spectral_convergence"] < 2.0
    assert m["runtime_s"] > 0
    assert np.asarray(m["mi_nats"]).shape == (3, 4)
    aligned = m["aligned"]  # the unsupervised ICA re-alignment, reported beside the score
    assert aligned["method"] == "ica" and 0.0 <= aligned["mig"] <= 1.0
    assert set(aligned["per_factor"]) == set(m["factors"])
    assert set(aligned["latents"]) <= {0, 1, 2}
    baselines = m["linear_baselines"]  # PCA / FastICA of the features: the reference
    assert baselines["n_components"] == 3
    for method in ("pca", "ica"):
        assert 0.0 <= baselines[method]["mig"] <= 1.0
        assert set(baselines[method]["per_factor"]) == set(m["factors"])


@pytest.mark.xdist_group("experiments-tiny-runs")
def test_report_is_self_contained(tiny_runs):
    a, _ = tiny_runs
    html = (a.run_dir / "report.html").read_text()
    assert html.count("<img") >= 4 + 3  # curves, MI map, 4 projections, traversals, reconstructions
    assert html.count("<audio") >= 2 + 2 * 2
    assert 'src="http' not in html
    assert "ICA re-alignment" in html
    # the references as a table, the resolved config and the package versions
    assert "FastICA of the features (3 components)" in html and "model latents, ICA re-aligned" in html
    assert "<pre><code>name: tiny" in html and "<td>torch</td>" in html and "<td>lightning</td>" in html
    assert html.count('preload="metadata"') == html.count("<audio")
    # every figure kept under figures/ is the one on the page (drawn once)
    kept = sorted((a.run_dir / "figures").glob("*.png"))
    assert len(kept) >= 4 and all(base64.b64encode(p.read_bytes()).decode("ascii") in html for p in kept)


@pytest.mark.xdist_group("experiments-tiny-runs")
def test_same_config_and_seed_give_identical_results(tiny_runs):
    """Dataset bytes and metrics identical, whatever the worker count (timings excepted)."""
    a, b = tiny_runs
    for rel in ("dataset/metadata.parquet", "dataset/dataset.json", "dataset/audio/000007.wav"):
        assert (a.run_dir / rel).read_bytes() == (b.run_dir / rel).read_bytes(), rel
    ma = json.loads((a.run_dir / "metrics.json").read_text())
    mb = json.loads((b.run_dir / "metrics.json").read_text())
    for m in (ma, mb):
        for key in ("runtime_s", "stage_times_s", "dataset", "checkpoint"):
            m.pop(key)
    assert ma == mb


@pytest.mark.xdist_group("experiments-tiny-runs")
def test_finished_run_is_not_overwritten(tiny_runs, tmp_path):
    a, _ = tiny_runs
    before = (a.run_dir / "metrics.json").read_bytes()
    cfg = load_experiment_config(_write(tmp_path, TINY))
    with pytest.raises(ConfigError, match="already holds a finished run"):
        run_experiment(cfg, out=a.run_dir, progress=False)
    assert (a.run_dir / "metrics.json").read_bytes() == before


def test_run_on_ingested_real_notes(notes_dir, tmp_path, monkeypatch):
    from timbrespace.experiments import pipeline

    monkeypatch.setattr(pipeline, "N_RESYNTHESISED", 4)  # phase retrieval of 4 test items, not 32: not tested here
    ds = ingest_folder(notes_dir, tmp_path / "notes")
    cfg = load_experiment_config(
        _write(
            tmp_path,
            {
                **TINY,
                "dataset": None,
                "features": {**TINY["features"], "n_fft": 512, "hop_length": 512},
            },
        )
    )
    result = run_experiment(cfg, out=tmp_path / "run", dataset=ds.root, progress=False)
    assert result.metrics["factors"] == ["instrument_str", "pitch", "velocity"]
    assert set(result.metrics["per_factor"]) == {"instrument_str", "pitch", "velocity"}
    assert result.metrics["n_items"] == 276


def test_bad_training_settings_fail_before_the_run_folder_is_made(tmp_path):
    for overrides, match in [
        ({"training.devices": 2}, "training.devices=2: `timbrespace run` trains on one device"),
        ({"training.epochs": 0}, "epochs=0 must be a positive integer"),
        ({"training.init": "ica"}, "training.init='ica' starts the model's linear paths"),
        ({"training.init": "svd"}, "init='svd' is not allowed"),
    ]:
        with pytest.raises(ConfigError, match=match):  # refused at load, before any stage
            run_experiment(load_experiment_config(_write(tmp_path, TINY), overrides=overrides),
                           out=tmp_path / "r", progress=False)
        assert not (tmp_path / "r").exists()


@pytest.mark.long(12)
def test_a_run_from_an_ica_start_records_it(tmp_path, monkeypatch):
    from timbrespace.experiments import report
    from timbrespace.training import load_checkpoint

    monkeypatch.setattr(report, "write_run_report", lambda run_dir, **_: Path(run_dir) / "report.html")  # not read
    cfg = load_experiment_config(
        _write(tmp_path, TINY), overrides={"model.linear_skip": True, "training.init": "ica"}
    )
    result = run_experiment(cfg, out=tmp_path / "r", progress=False, workers=1)
    resolved = yaml.safe_load((result.run_dir / "config.yaml").read_text())
    assert resolved["training"]["init"] == "ica" and resolved["model"]["linear_skip"] is True
    assert load_checkpoint(result.metrics["checkpoint"]).config.linear_skip
    from timbrespace.metrics import mig

    with np.load(result.run_dir / "latents.npz") as data:  # the score is that of the stored latents
        assert result.metrics["mig"] == pytest.approx(mig(data["mu"], data["factor_codes"]).score, abs=1e-9)
    again = run_experiment(cfg, out=tmp_path / "again", progress=False, workers=2)
    for key in ("mig", "dci", "per_factor", "reconstruction"):
        assert again.metrics[key] == result.metrics[key]  # the ICA start is seeded too


def test_missing_dataset_is_one_clear_error(tmp_path):
    cfg = load_experiment_config(_write(tmp_path, TINY))
    with pytest.raises(DatasetError, match="does not exist"):
        run_experiment(cfg, out=tmp_path / "r", dataset=tmp_path / "nope", progress=False)
    assert not (tmp_path / "r").exists()


@pytest.mark.xdist_group("experiments-tiny-runs")
def test_evaluate_recomputes_the_same_numbers(tiny_runs):
    from timbrespace.experiments import evaluate_run
    from timbrespace.models import build_model
    from timbrespace.training import load_checkpoint, save_checkpoint

    a, _ = tiny_runs
    before = json.loads((a.run_dir / "metrics.json").read_text())
    # `run` scores the last model; a different "best" checkpoint must not change the numbers
    last = load_checkpoint(a.run_dir / "checkpoints" / "last")
    save_checkpoint(build_model(last.config, seed=123), a.run_dir / "checkpoints" / "best")
    result = evaluate_run(a.run_dir)
    after = json.loads((a.run_dir / "metrics.json").read_text())
    assert result.report_path.is_file()
    for key in ("mig", "dci", "per_factor", "mi_nats", "reconstruction", "linear_baselines"):
        assert after[key] == before[key], key
    assert after["active_latents"] == before["active_latents"] <= 3


def test_evaluate_refuses_a_folder_that_is_not_a_run(tmp_path):
    from timbrespace.experiments import evaluate_run

    with pytest.raises(DatasetError, match="not a run folder"):
        evaluate_run(tmp_path)


def test_an_unalignable_latent_space_skips_the_aligned_block_without_failing() -> None:
    from timbrespace.analysis import reference_latents
    from timbrespace.metrics import evaluate_representation

    x = np.linspace(-1, 1, 40)
    codes = (np.arange(40) % 4)[:, None]

    def scores(mu: np.ndarray) -> dict:
        refs = reference_latents(mu, align="ica")
        return evaluate_representation(mu, codes, metrics=("mig",), references=refs,
                                       factor_names=["f"]).to_dict()

    assert "aligned" not in scores(np.c_[x, x, np.zeros(40)])  # two active latents that copy each other
    ok = scores(np.c_[x, np.cos(3 * x), np.zeros(40)])
    assert ok["aligned"]["latents"] == [0, 1] and 0.0 <= ok["aligned"]["mig"] <= 1.0


def test_linear_baselines_score_pca_and_ica_of_the_features() -> None:
    import itertools

    from timbrespace.analysis import reference_latents
    from timbrespace.metrics import evaluate_representation

    rng = np.random.default_rng(0)
    codes = np.array(list(itertools.product(range(5), repeat=3)))
    mixing = 0.8 * rng.normal(size=(40, 1)) + 0.6 * rng.normal(size=(40, 3))
    x = (((codes - 2.0) * [1.0, 1.5, 2.0]) @ mixing.T).reshape(-1, 5, 8)  # 5 × 8 "features"
    names = ["a", "b", "c"]
    mu = rng.normal(size=(len(x), 3))

    def baselines(train: np.ndarray) -> dict:
        refs = reference_latents(mu, align="none", features=x, train=train)
        scores = evaluate_representation(mu, codes, metrics=("mig",), references=refs, factor_names=names)
        return scores.to_dict().get("linear_baselines", {})

    out = baselines(np.arange(len(x)))
    assert out["n_components"] == 3
    assert out["ica"]["mig"] > 0.8 and out["pca"]["mig"] < 0.5  # ICA unmixes, PCA does not
    assert set(out["ica"]["per_factor"]) == set(names)
    # more components than training items: the baselines are skipped, the run goes on
    assert baselines(np.arange(2)) == {}


def test_decoder_refinement_improves_the_sound_and_leaves_the_latents(tmp_path, monkeypatch):
    """Same run with and without refinement: identical latents and scores, a closer resynthesis."""
    from timbrespace.experiments import report

    monkeypatch.setattr(report, "write_run_report", lambda run_dir, **_: Path(run_dir) / "report.html")  # not tested here
    # dB as they are, read as they are (offset 0, scale 1: no standardisation), as before it
    # existed: a 2-epoch model standardising its dB inputs decodes about the mean item (SC 0.995),
    # from which 40 epochs of refinement move the spectral loss by 2 % only
    tiny = {**TINY, "features": {**TINY["features"], "normalization": "none"},
            "model": {**TINY["model"], "output_variance": 0.5, "input_offset": 0.0, "input_scale": 1.0}}
    path = _write(tmp_path, tiny)
    plain = run_experiment(load_experiment_config(path), out=tmp_path / "plain", progress=False)
    refined = run_experiment(load_experiment_config(path, overrides={"training.refine_epochs": 40}),
                             out=tmp_path / "refined", dataset=tmp_path / "plain" / "dataset", progress=False)
    np.testing.assert_array_equal(np.load(tmp_path / "plain" / "latents.npz")["mu"],
                                  np.load(tmp_path / "refined" / "latents.npz")["mu"])
    assert refined.metrics["mig"] == plain.metrics["mig"]
    sc_plain = plain.metrics["reconstruction"]["spectral_convergence"]
    sc_refined = refined.metrics["reconstruction"]["spectral_convergence"]
    assert sc_refined < 0.8 * sc_plain
    info = refined.metrics["reconstruction"]["decoder_refinement"]
    assert info["epochs"] == 40 and info["spectral_loss_last"] < info["spectral_loss_first"]
    assert "decoder_refinement" not in plain.metrics["reconstruction"]
    # the audio measure takes every test item here (up to 32, spread over the split)
    assert refined.metrics["reconstruction"]["n_resynthesised"] == min(32, refined.metrics["n_test"])


def test_resynthesis_decodes_the_items_it_compares_with(tmp_path, monkeypatch):
    """The audio measure's items are spread over the test split; each resynthesis is decoded
    from that item's own features (not from the first test items')."""
    from timbrespace.experiments import pipeline, report
    from timbrespace.training import decode_array, encode_array, load_checkpoint

    monkeypatch.setattr(report, "write_run_report", lambda run_dir, **_: Path(run_dir) / "report.html")
    monkeypatch.setattr(pipeline, "N_RESYNTHESISED", 3)
    seen = {}
    real_invert = pipeline.invert

    def spy(features, sidecar, **kwargs):
        seen["features"], seen["indices"] = np.array(features), np.array(kwargs["indices"])
        return real_invert(features, sidecar, **kwargs)

    monkeypatch.setattr(pipeline, "invert", spy)
    cfg = load_experiment_config(_write(tmp_path, {**TINY, "evaluation": {**TINY["evaluation"], "n_reconstructions": 1}}))
    result = run_experiment(cfg, out=tmp_path / "run", progress=False)
    from timbrespace.datasets import Dataset

    ds = Dataset(tmp_path / "run" / "dataset")
    test = ds.split_indices("test")
    assert len(test) > 3 and len(seen["indices"]) == 3
    assert seen["indices"][0] == test[0] and seen["indices"][-1] == test[-1]  # spread, not the first three
    model = load_checkpoint(tmp_path / "run" / "checkpoints" / "last")
    x = ds.load_features("run_features", seen["indices"])
    np.testing.assert_allclose(seen["features"], decode_array(model, encode_array(model, x)), rtol=1e-5, atol=1e-5)
    assert result.metrics["reconstruction"]["n_resynthesised"] == 3


def test_training_note_says_when_a_score_is_no_result():
    assert training_note(0.50, 0.0, {"pca": 0.20, "ica": 0.26}) is None
    assert training_note(0.27, 0.0, {"pca": 0.20, "ica": 0.26}) == (
        "MIG 0.270 is within 0.02 of the ICA baseline (0.260): the model adds nothing a linear method does not find")
    assert training_note(0.45, 0.443, {"ica": 0.26}) == (
        "MIG 0.450 is not 0.02 above its value at init (0.443): training did not raise the overall score")
    both = training_note(0.27, 0.26, {"ica": 0.26})
    assert both is not None and "ICA baseline" in both and "at init" in both
    assert training_note(0.30, None, {}) is None


@pytest.mark.long(25)
def test_shipped_real_notes_weak_runs_with_its_level_latent(notes_dir, tmp_path, monkeypatch):
    from timbrespace.experiments import pipeline

    # every check is on the scores at init; resynthesising 4 test items (not 32) runs the same
    # phase retrieval in a fifth of the time
    monkeypatch.setattr(pipeline, "N_RESYNTHESISED", 4)
    ds = ingest_folder(notes_dir, tmp_path / "notes")
    cfg = load_experiment_config("real-notes-weak", overrides={"training.epochs": 1, "training.refine_epochs": 1})
    spec = cfg.model.shift
    assert spec.level and not spec.level_to_decoder and spec.f0_curve_cents > 0  # phase 5's decoder
    assert spec.f0_curve_stage == "refinement"  # phase 6: the curve trains in the refinement only
    result = run_experiment(cfg, out=tmp_path / "run", dataset=ds.root, progress=False, workers=1)
    m = result.metrics
    assert m["reconstruction"]["decoder_refinement"]["epochs"] == 1
    with np.load(result.run_dir / "latents_at_init.npz") as data:
        mu0 = data["mu"]
    codes = ds.factor_codes
    level = mu0[:, cfg.model.shift.level_index]
    others = np.delete(mu0, cfg.model.shift.level_index, axis=1)
    assert np.ptp(others, axis=0).max() < 1e-5  # the learned latents start alike for every item
    assert abs(level.mean()) < 0.3 and 0.8 < level.std() < 1.2  # the peak, standardised on the train split
    velocity = codes[:, list(m["factors"]).index("velocity")]
    assert level[velocity == 1].mean() - level[velocity == 0].mean() > 1.0  # velocity 100 is louder than 50
    assert m["per_factor_at_init"]["velocity"] > 0.5 and m["mig_at_init"] > 0.3


@pytest.mark.slow
def test_a_dataset_with_one_factor_is_scored_and_reported(tmp_path):
    """A 1-D grid used to fail after training ("DCI needs >= 2 factors"): every score that
    applies is computed, the rest is None, and the report is written."""
    cfg = {**TINY, "dataset": {**TINY["dataset"], "parameters": {"f0_hz": {"min": 150, "max": 600, "n": 12,
                                                                           "spacing": "log"}}}}
    result = run_experiment(load_experiment_config(_write(tmp_path, cfg)), out=tmp_path / "run", workers=1,
                            progress=False)
    m = json.loads((result.run_dir / "metrics.json").read_text())
    assert m["mig"] is not None and m["dci"]["disentanglement"] is None
    assert m["dci"]["completeness"] is not None and list(m["per_factor"]) == ["f0_hz"]
    assert (result.run_dir / "report.html").is_file()


@pytest.mark.xdist_group("experiments-tiny-runs")
def test_evaluate_keeps_the_runs_own_times(tiny_runs, tmp_path, monkeypatch):
    """`evaluate` used to overwrite runtime_s with its own seconds and drop the training stages."""
    import shutil

    from timbrespace.experiments import report
    from timbrespace.experiments.pipeline import evaluate_run

    # the report stage still runs and is timed, without drawing (evaluate's report: test_evaluate_recomputes_...)
    monkeypatch.setattr(report, "write_run_report", lambda run_dir, **_: Path(run_dir) / "report.html")
    run = tmp_path / "copy"
    shutil.copytree(tiny_runs[0].run_dir, run)
    before = json.loads((run / "metrics.json").read_text())
    after = evaluate_run(run).metrics
    assert after["runtime_s"] == before["runtime_s"] and after["evaluate_runtime_s"] > 0
    assert set(before["stage_times_s"]) <= set(after["stage_times_s"])
