"""The timbre pipeline: run layout, the run reopened, generation, interpolation,
evaluation through ``evaluate_any``, and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from timbrespace.datasets.ingest import ingest_folder
from timbrespace.errors import DatasetError, EvaluationError, ParameterError
from timbrespace.experiments import evaluate_any, read_run_card, train_timbre
from timbrespace.experiments.timbre import timbre_train_config
from timbrespace.experiments.timbre_notes import generate_note, interpolate_notes
from timbrespace.experiments.timbre_run import TIMBRE_FEATURE_NAME, TimbreRun
from timbrespace.models import VAEConfig, timbre_config
from timbrespace.timbre.build import build_timbre_folder


@pytest.fixture(scope="module")
def timbre_dataset(synthetic_notes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("timbre")
    build_timbre_folder(synthetic_notes, root / "folder", instrument="fake_guitar", descriptors=["Bright", "Dark"],
                        magnitudes=[0, 50, 100])
    ingest_folder(root / "folder", root / "ds", layout="seed002")
    return root / "ds"


@pytest.fixture(scope="module")
def timbre_run(timbre_dataset: Path) -> Path:
    out = timbre_dataset.parent / "run"
    train_timbre(timbre_dataset, out, descriptors=["Bright", "Dark"], model="tiny", epochs=2, seed=0)
    return out


@pytest.mark.xdist_group("experiments-timbre-run")
@pytest.mark.slow
def test_run_layout(timbre_run: Path, timbre_dataset: Path) -> None:
    for name in ("run.json", "config.yaml", "metrics.json", "report.html", "items.parquet", "history.json"):
        assert (timbre_run / name).is_file(), name
    for folder in ("checkpoints/last", "checkpoints/best", "logs/csv", "logs/tensorboard", "figures", "audio"):
        assert (timbre_run / folder).is_dir(), folder
    card = read_run_card(timbre_run)
    assert card.kind == "timbre" and card.dataset == str(timbre_dataset.resolve())
    config = yaml.safe_load((timbre_run / "config.yaml").read_text())
    assert config["descriptors"] == ["Bright", "Dark"] and config["magnitudes"] == [0.0, 50.0, 100.0]
    assert config["features"]["n_samples"] == 16317 and config["features"]["n_bins"] == 512
    assert VAEConfig.from_dict(config["model"]) == timbre_config("tiny", n_descriptors=2, n_pitches=23)
    assert config["training"]["epochs"] == 2 and config["training"]["batch_size"] == 16
    assert (timbre_dataset / "features" / f"{TIMBRE_FEATURE_NAME}.zarr").is_dir()  # stored with the dataset
    metrics = json.loads((timbre_run / "metrics.json").read_text())
    assert metrics["kind"] == "timbre" and metrics["train"]["n_train"] > 0
    notes = pd.DataFrame(metrics["generated_notes"])
    assert len(notes) == 6 and set(notes["descriptor"]) == {"Bright", "Dark"}  # 2 descriptors × 3 pitches
    html = (timbre_run / "report.html").read_text()
    for needle in ("Latent maps", "Generated notes", "measured_midi", "data:audio/wav;base64", "Training"):
        assert needle in html, needle
    assert len(list((timbre_run / "audio").glob("generated_*.wav"))) == 6


@pytest.mark.xdist_group("experiments-timbre-run")
@pytest.mark.slow
def test_run_reopened_generates_and_interpolates(timbre_run: Path) -> None:
    run = TimbreRun(timbre_run)
    assert run.descriptors == ["Bright", "Dark"] and run.pitches == list(range(64, 87))
    rows = np.arange(5)
    x = run.features_of(rows)
    assert x.shape == (5, 512, 64) and 0 <= x.min() and x.max() <= 1
    c = run.conditions_of(rows)
    assert c.shape == (5, 3) and np.all(c[:, 2] == run.items["magnitude"].to_numpy()[:5] / 100)
    z = run.encode(rows)
    assert z.shape == (5, 4)
    # blending conditions at t = 0 and 1 decodes like the end points' own conditions
    ends = run.decode_between(z[:2], c[0], c[1], np.array([0.0, 1.0]))
    np.testing.assert_allclose(ends, run.decode(z[:2], c[:2]), atol=1e-6)

    note = generate_note(run, "dark", 100, "E5")
    assert note.descriptor == "Dark" and note.pitch == 76 and note.audio.shape == note.original.shape == (16317,)
    assert np.all(np.isfinite(note.audio)) and note.x.shape == (512, 64)
    interp = interpolate_notes(run, ("Bright", 0, 64), ("Dark", 100, "E5"), 3)
    assert interp.linear.shape == interp.spherical.shape == (3, 16317) and interp.originals.shape == (2, 16317)
    with pytest.raises(ParameterError, match="allowed Bright, Dark"):
        generate_note(run, "Crunch", 100, 76)
    with pytest.raises(ParameterError, match="allowed 0, 50, 100"):
        generate_note(run, "Dark", 75, 76)
    with pytest.raises(ParameterError, match="allowed 2..16"):
        interpolate_notes(run, ("Bright", 0, 64), ("Dark", 100, 76), 17)


@pytest.mark.xdist_group("experiments-timbre-run")
@pytest.mark.slow
def test_evaluate_any_measures_quality(timbre_run: Path) -> None:
    result = evaluate_any(timbre_run)
    quality = result.metrics["timbre_quality"]
    assert quality["n_pitch_requests"] > 0 and 0 <= quality["pitch_accuracy_50c"] <= 1
    assert quality["pitch_accuracy_50c_originals"] >= 0.5  # pYIN finds most effected originals (0.75 measured)
    assert set(quality["centroid_monotonic"]) == {"Bright", "Dark"}
    assert json.loads((timbre_run / "metrics.json").read_text())["timbre_quality"] == quality
    assert "Quality on held-back notes" in result.report_path.read_text()


def test_bad_requests_fail_before_writing(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="allowed cpu, seed, tiny"):
        train_timbre(tmp_path / "ds", tmp_path / "run", model="huge")
    with pytest.raises(ParameterError, match="epochs=0"):
        timbre_train_config("cpu", epochs=0)
    with pytest.raises(DatasetError, match="does not exist"):
        train_timbre(tmp_path / "absent", tmp_path / "run")
    assert not (tmp_path / "run").exists()
    assert timbre_train_config("seed").lr == 5e-4 and timbre_train_config("seed").epochs == 300


@pytest.mark.xdist_group("experiments-timbre-run")
@pytest.mark.slow
def test_unknown_descriptor_is_refused_before_the_run_folder(timbre_dataset: Path, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="allowed Bright, Dark"):
        train_timbre(timbre_dataset, tmp_path / "run", descriptors=["Sparkly"])
    assert not (tmp_path / "run").exists()


def test_old_run_folder_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "checkpoints").mkdir()
    (tmp_path / "config.yaml").write_text("descriptors: [Bright]\n")
    (tmp_path / "checkpoints" / "model.json").write_text("{}")
    with pytest.raises(DatasetError, match="made by an older timbrespace.*train again"):
        TimbreRun(tmp_path)
    with pytest.raises(DatasetError, match="not a run folder"):
        evaluate_any(tmp_path / "checkpoints")


def _quick_evaluation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Evaluation writes metrics.json without drawing report.html, and measures the quality on 8
    held-back pitch requests and 1 interpolation pair, not 120 and 8 (pYIN and the sound measures
    are most of its seconds). The per-pitch centroid trends and the notes not measured do not
    depend on either; the report and the default quality are checked in test_run_layout and
    test_evaluate_any_measures_quality."""
    from timbrespace.experiments import timbre

    measure = timbre.measure_timbre_quality
    monkeypatch.setattr(timbre, "write_timbre_report", lambda run, **_: run.root / "report.html")
    monkeypatch.setattr(timbre, "measure_timbre_quality",
                        lambda run, **kw: measure(run, **{**kw, "max_requests": 8, "n_pairs": 1}))


@pytest.mark.slow
def test_clean_notes_under_one_descriptor_only_train_and_evaluate(synthetic_notes: Path, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: training is never lost to evaluation; what cannot be measured is skipped and named."""
    import shutil

    _quick_evaluation(monkeypatch)
    folder = tmp_path / "folder"
    build_timbre_folder(synthetic_notes, folder, instrument="fake_guitar", descriptors=["Bright", "Dark"],
                        magnitudes=[0, 50, 100])
    clean = [p for p in folder.rglob("*") if p.is_dir() and p.name == "0" and p.parent.name == "Dark"]
    assert len(clean) == 1
    shutil.rmtree(clean[0])  # the clean notes are stored under Bright only
    ingest_folder(folder, tmp_path / "ds", layout="seed002")
    run = tmp_path / "run"
    train_timbre(tmp_path / "ds", run, model="tiny", epochs=1, seed=0, evaluate=True)  # default descriptors
    metrics = json.loads((run / "metrics.json").read_text())
    assert yaml.safe_load((run / "config.yaml").read_text())["descriptors"] == ["Bright", "Dark"]
    skipped = metrics["timbre_quality"]["not_measured"]
    assert skipped and all(s.startswith("(Dark, 0, ") for s in skipped)
    assert "Bright" in metrics["timbre_quality"]["centroid_monotonic"]
    assert (run / "checkpoints" / "last" / "model.safetensors").is_file() and metrics["train"]["n_train"] > 0


@pytest.mark.xdist_group("experiments-timbre-run")
def test_a_failing_evaluation_keeps_the_trained_model(timbre_dataset: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 18: training results are never lost to a later step; `evaluate` finishes the run."""
    def crash(*args, **kwargs):
        raise RuntimeError("quality crashed")

    monkeypatch.setattr("timbrespace.experiments.timbre.measure_timbre_quality", crash)
    run = tmp_path / "run"
    with pytest.raises(EvaluationError, match=r"kept in .*RuntimeError: quality crashed; run `timbrespace evaluate"):
        train_timbre(timbre_dataset, run, descriptors=["Bright", "Dark"], model="tiny", epochs=1, seed=0,
                     evaluate=True)
    weights = sorted((run / "checkpoints").rglob("model.safetensors"))
    kept = {p: p.read_bytes() for p in [*weights, run / "history.json"]}
    assert weights and json.loads((run / "metrics.json").read_text())["train"]["n_train"] > 0  # training's numbers
    monkeypatch.undo()
    _quick_evaluation(monkeypatch)  # `evaluate` finishes the run (report, default quality: test_evaluate_any_...)
    assert "timbre_quality" in evaluate_any(run).metrics
    assert {p: p.read_bytes() for p in kept} == kept
