"""``run_benchmark`` at tiny sizes: every (dataset, model) cell or a dash, resume, refused folders."""

from __future__ import annotations

import dataclasses
import json
import re

import pandas as pd
import pytest

from timbrespace.errors import ParameterError
from timbrespace.experiments.benchmark import check_benchmark_options, run_benchmark
from timbrespace.experiments.benchmark_datasets import FULL, QUICK, BenchmarkSettings, DatasetSize
from timbrespace.experiments.benchmark_table import MODEL_LABELS

TINY = BenchmarkSettings(
    profile="tiny",
    sizes={
        "seed000-richness": DatasetSize({"n_harmonics": 4, "last_gain": 5}, duration_s=0.15),
        "seed001-additive": DatasetSize(
            {"f0_hz": 3, "slope_db_per_octave": 2, "presence": 2, "inharmonicity": 2, "decay_per_s": 2},
            duration_s=0.3),
        "seed002-semantic": DatasetSize({"descriptors": 2, "magnitudes": 2, "pitches": 4}),
        "seed004-grooves": DatasetSize(),
    },
    epochs=2, batch_size=8, hidden_sizes=(16,), groove_epochs=2, n_resynthesised=2, n_iter=1,
)


def _mig_table(md: str) -> dict[str, list[str]]:
    """Rows of the MIG overview: dataset title -> its cells."""
    section = md.split("## MIG (dataset × model)")[1].split("##")[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| dataset")]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in r.strip("|").split("|")] for r in rows)}


@pytest.mark.slow
def test_every_cell_is_a_score_or_a_dash(tmp_path):
    models = ["beta_vae", "shift", "ada_gvae"]
    result = run_benchmark(tmp_path / "bench", settings=TINY, datasets=["seed000-richness", "seed001-additive"],
                           models=models, seeds=1)
    md = result.markdown.read_text()
    header = next(line for line in md.splitlines() if line.startswith("| dataset |"))
    assert [MODEL_LABELS[m] for m in models] == [c.strip() for c in header.strip("|").split("|")][1:4]
    table = _mig_table(md)
    assert set(table) == {"seed 000 richness", "seed 001 additive"}
    for title, cells in table.items():
        assert len(cells) == len(models) + 2, (title, cells)
        for cell in cells:
            assert re.fullmatch(r"\d\.\d{3}|–\[\^\d+\]", cell), (title, cell)
    # the shift-VAE has no pitch factor to find on seed 000: a dash and its footnote
    assert table["seed 000 richness"][1].startswith("–[^")
    assert "needs a pitch factor" in md
    assert re.fullmatch(r"\d\.\d{3}", table["seed 001 additive"][1])
    frame = pd.read_csv(result.csv)
    done = frame[frame.status == "done"]
    assert set(done.model) == {"beta_vae", "shift", "ada_gvae", "pca", "ica", "inverse"}
    assert len(done[done.model == "shift"]) == 1 and (done[done.model == "shift"].dataset == "seed001-additive").all()
    assert done[done.model.isin(models)].mig.between(0, 1).all()
    assert (done[done.model.isin(models)].spectral_convergence > 0).all()
    assert result.figure.stat().st_size > 1000
    jobs = sorted(p.name for p in (tmp_path / "bench" / "jobs").iterdir())
    assert len(jobs) == 2 + 2 + 3 and all(j.endswith(".json") for j in jobs)  # baselines + model jobs


@pytest.mark.slow
def test_a_rerun_skips_finished_jobs(tmp_path):
    out = tmp_path / "bench"
    first = run_benchmark(out, settings=TINY, datasets=["seed000-richness"], models=["beta_vae"], seeds=1)
    assert (first.n_trained, first.n_skipped) == (2, 0)  # baselines, beta_vae seed 0
    stamps = {p: p.stat().st_mtime_ns for p in [*(out / "jobs").iterdir(), *(out / "runs").rglob("*.safetensors")]}
    second = run_benchmark(out, settings=TINY, datasets=["seed000-richness"], models=["beta_vae", "tcvae"], seeds=1)
    assert (second.n_trained, second.n_skipped) == (1, 2)
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps  # nothing finished was trained or written again
    assert (out / "jobs" / "seed000-richness--tcvae--seed0.json").is_file()
    rows = pd.read_csv(second.csv)
    assert set(rows.model) == {"beta_vae", "tcvae", "pca", "ica", "inverse"}
    # a job killed in flight (no job file) is run again; its training resumes from its checkpoint
    (out / "jobs" / "seed000-richness--tcvae--seed0.json").unlink()
    third = run_benchmark(out, settings=TINY, datasets=["seed000-richness"], models=["beta_vae", "tcvae"], seeds=1)
    assert (third.n_trained, third.n_skipped) == (1, 2)


def test_folders_that_are_not_this_study_are_refused(tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    with pytest.raises(ParameterError, match="not a benchmark folder"):
        run_benchmark(other, settings=TINY, datasets=["seed000-richness"], models=["beta_vae"], seeds=1)
    assert sorted(p.name for p in other.iterdir()) == ["notes.txt"]
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "benchmark.json").write_text(json.dumps({"format": "timbrespace.benchmark",
                                                      "settings": QUICK.to_dict()}))
    with pytest.raises(ParameterError, match="'quick' benchmark made with other settings"):
        run_benchmark(bench, settings=TINY, datasets=["seed000-richness"], models=["beta_vae"], seeds=1)
    afile = tmp_path / "file"
    afile.write_text("x")
    with pytest.raises(ParameterError, match="is a file"):
        run_benchmark(afile, settings=TINY, datasets=["seed000-richness"], seeds=1)


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"datasets": ["seed009"]}, "'seed009' not allowed"),
    ({"models": ["vae"]}, "'vae' not allowed"),
    ({"models": []}, "none given"),
    ({"models": ["tcvae", "tcvae"]}, "gives tcvae twice"),
    ({"seeds": 0}, "seeds=0 must be in 1..100"),
    ({"devices": 0}, "devices=0 not allowed"),
    ({"devices": 2}, "devices=2 not allowed: each job trains on one device"),
])
def test_bad_options(kwargs, needle):
    options = {"datasets": None, "models": None, "seeds": 3, "devices": None, **kwargs}
    with pytest.raises(ParameterError, match=re.escape(needle)):
        check_benchmark_options(**options)


def test_settings_round_trip_to_json():
    assert json.loads(json.dumps(QUICK.to_dict())) == QUICK.to_dict()
    assert dataclasses.replace(QUICK, epochs=1).to_dict() != QUICK.to_dict()
    assert set(QUICK.sizes) == {"seed000-richness", "seed000-additive-bandpass", "seed000-fm-moog",
                                "seed001-additive", "seed003-pop", "seed002-semantic", "seed004-grooves"}


@pytest.mark.slow
def test_real_notes_and_grooves(tmp_path, shared_data):
    result = run_benchmark(tmp_path / "bench", settings=TINY, datasets=["seed002-semantic", "seed004-grooves"],
                           models=["beta_vae"], seeds=1, data_dir=shared_data)
    frame = pd.read_csv(result.csv)
    groove = frame[frame.model == "groove_vae"]
    assert len(groove) == 1 and groove.hit_f1.between(0, 1).all() and groove.baseline_f1.between(0, 1).all()
    semantic = frame[(frame.dataset == "seed002-semantic") & (frame.model == "beta_vae")]
    assert len(semantic) == 1 and semantic.mig.between(0, 1).all()
    md = result.markdown.read_text()
    assert "seed 004 grooves: held-out hit F1" in md and "seed 002 semantic notes" in md


def test_missing_real_data_is_a_dash(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run_benchmark(tmp_path / "bench", settings=TINY, datasets=["seed000-richness", "seed004-grooves"],
                           models=["beta_vae"], seeds=1, data_dir=tmp_path / "empty")
    md = result.markdown.read_text()
    assert "| groove VAE | –[^1]" in md and "real data not found" in md
    assert not list((tmp_path / "bench" / "jobs").glob("seed004-grooves*"))  # a later run with the data does them


def test_nothing_to_run_without_the_real_data_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ParameterError, match="are built from real data, and .* holds no grooves/ or notes/"):
        run_benchmark(tmp_path / "bench", settings=TINY, datasets=["seed002-semantic", "seed004-grooves"],
                      seeds=1, data_dir=tmp_path / "empty")
    for bad in (tmp_path / "nowhere", tmp_path / "afile"):
        with pytest.raises(ParameterError, match="is not a folder; give the folder holding notes/ and grooves/"):
            run_benchmark(tmp_path / "bench", settings=TINY, datasets=["seed004-grooves"], seeds=1, data_dir=bad)
    assert not (tmp_path / "bench").exists()


def test_the_table_is_the_whole_study_after_a_subset_run(tmp_path):
    """A run of a subset (another model, another seed count) leaves earlier finished jobs in the table."""
    out = tmp_path / "bench"
    run_benchmark(out, settings=TINY, datasets=["seed000-richness"], models=["beta_vae"], seeds=1)
    second = run_benchmark(out, settings=TINY, datasets=["seed000-richness"], models=["tcvae"], seeds=1)
    assert second.n_trained == 1
    assert set(pd.read_csv(second.csv).model) == {"beta_vae", "tcvae", "pca", "ica", "inverse"}
    md = second.markdown.read_text()
    assert MODEL_LABELS["beta_vae"] in md and MODEL_LABELS["tcvae"] in md


@pytest.mark.parametrize("settings", [QUICK, FULL], ids=["quick", "full"])
def test_shrunk_presets_keep_the_seed_factors(settings):
    from timbrespace.datasets import load_dataset_config, preset_path
    from timbrespace.experiments.benchmark_datasets import BENCHMARK_DATASETS, _shrunk_preset

    for spec in (d for d in BENCHMARK_DATASETS if d.source == "preset"):
        config = _shrunk_preset(spec, settings.sizes[spec.name])
        seed = load_dataset_config(preset_path(spec.preset))
        assert list(config.parameters) == list(seed.parameters)
        for name, sweep in config.parameters.items():  # same range, fewer values
            if sweep.values is None:
                assert (sweep.min, sweep.max) == (seed.parameters[name].min, seed.parameters[name].max)
        limit = (150, 600) if settings is QUICK else (600, 20000)
        assert limit[0] <= config.n_items <= limit[1], (spec.name, config.n_items)


def test_devices_pass_through_to_training(tmp_path):
    result = run_benchmark(tmp_path / "bench", settings=dataclasses.replace(TINY, n_resynthesised=0),
                           datasets=["seed000-richness"], models=["beta_vae"], seeds=1, devices=1)
    config = json.loads((tmp_path / "bench" / "runs" / "seed000-richness--beta_vae--seed0" / "train_config.json")
                        .read_text())
    assert (config["accelerator"], config["devices"], config["num_threads"]) == ("auto", 1, None)
    assert result.n_trained == 2


def test_a_second_writer_is_refused(tmp_path):
    import os
    import socket

    from timbrespace.errors import DatasetError
    from timbrespace.utils.lock import LOCK_NAME

    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / LOCK_NAME).write_text(f"{os.getpid()} {socket.gethostname()}")  # a live holder
    with pytest.raises(DatasetError, match="being written by another benchmark"):
        run_benchmark(bench, settings=TINY, datasets=["seed000-richness"], models=["beta_vae"], seeds=1)
    assert sorted(p.name for p in bench.iterdir()) == [LOCK_NAME]


def test_a_failed_job_is_a_footnoted_dash_and_retried(tmp_path, monkeypatch):
    import timbrespace.experiments.benchmark as benchmark
    from timbrespace.errors import TrainingError

    def nan_loss(*args, **kwargs):
        raise TrainingError("the loss became NaN at epoch 1")

    out = tmp_path / "bench"
    monkeypatch.setattr(benchmark, "_train", nan_loss)
    first = run_benchmark(out, settings=TINY, datasets=["seed000-richness"], models=["tcvae"], seeds=1)
    assert _mig_table(first.markdown.read_text())["seed 000 richness"][0] == "–[^1]"
    assert "failed: the loss became NaN" in first.markdown.read_text()
    assert not (out / "jobs" / "seed000-richness--tcvae--seed0.json").exists()
    monkeypatch.undo()
    second = run_benchmark(out, settings=TINY, datasets=["seed000-richness"], models=["tcvae"], seeds=1)
    assert (second.n_trained, second.n_skipped) == (1, 1)


def test_a_jobs_run_is_a_train_run_that_evaluate_opens(tmp_path):
    """From a new user's trial: `evaluate` (and `encode`, `explore`) on a job's run folder said
    "made by an older timbrespace (no run.json)"; a job's run is a `train` run now."""
    from timbrespace.experiments import evaluate_run
    from timbrespace.experiments.runs import read_run_card

    out = tmp_path / "bench"
    result = run_benchmark(out, settings=TINY, datasets=["seed000-richness"], models=["beta_vae"], seeds=1)
    run = out / "runs" / "seed000-richness--beta_vae--seed0"
    assert read_run_card(run).kind == "train"
    evaluation = evaluate_run(run)
    job = pd.read_csv(result.csv).query("model == 'beta_vae'").iloc[0]
    assert evaluation.metrics["mig"] == pytest.approx(job.mig, abs=1e-6)  # the CSV keeps 6 decimals
