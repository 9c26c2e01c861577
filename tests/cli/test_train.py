"""``timbrespace train`` and ``sweep`` end to end on a tiny generated dataset
(:func:`~timbrespace.experiments.train.train_dataset`, :func:`~timbrespace.experiments.sweep.sweep_dataset`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from timbrespace.cli import main
from timbrespace.datasets import Dataset, DatasetConfig, generate_dataset
from timbrespace.training import load_checkpoint


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    from timbrespace.features import FeatureConfig, compute_dataset_features

    config = DatasetConfig(
        name="tiny",
        sound_model="additive",
        sample_rate=8000,
        duration_s=0.1,
        seed=7,
        parameters={
            "f0_hz": {"min": 110, "max": 880, "n": 6, "spacing": "log"},
            "presence": {"values": ["all", "odd", "even"]},
        },
        splits={"train": 0.6, "valid": 0.2, "test": 0.2},
    )
    ds = generate_dataset(config, tmp_path_factory.mktemp("data") / "ds", workers=1, progress=False)
    compute_dataset_features(
        ds,
        FeatureConfig(
            kind="stft", n_fft=256, hop_length=128, output="db", normalization="minmax_item"
        ),
        name="spec",
        progress=False,
    )
    return ds


def _no_report(monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs score without drawing report.html (over half of a tiny run's seconds); the report
    of `train` and `evaluate` is checked in test_train_command_writes_checkpoint_and_latents."""
    from timbrespace.experiments import report

    monkeypatch.setattr(report, "write_run_report", lambda run_dir, **_: Path(run_dir) / "report.html")


@pytest.mark.long(15)
@pytest.mark.parametrize("model", ["beta_vae", "cvae", "factorvae"])
def test_train_command_writes_checkpoint_and_latents(
    tiny_dataset: Dataset, tmp_path: Path, model: str, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    run = tmp_path / "run"
    main(
        [
            "train",
            str(tiny_dataset.root),
            "--features",
            "spec",
            "--objective",
            model,
            "--epochs",
            "2",
            "--latent-dim",
            "3",
            "--batch-size",
            "8",
            "--conv-channels",
            "4,8",
            "--hidden",
            "16",
            "--out",
            str(run),
            "--no-progress",
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["epochs"] == 2 and np.isfinite(summary["train_loss"])
    from timbrespace.experiments import read_run_card

    assert read_run_card(run).kind == "train"  # the run layout every kind shares
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["mig"] == summary["mig"] and metrics["active_latents"] == summary["n_active_latents"]
    assert set(metrics["per_factor"]) == set(tiny_dataset.factor_names)
    trained = load_checkpoint(run / "checkpoints" / "last")
    assert trained.config.architecture == "conv" and trained.config.input_shape == (129, 7)
    if model == "cvae":
        assert trained.config.condition_classes == (6, 3)
        assert not (run / "report.html").exists()  # a conditional encoder sees the factors
    else:  # the layout every kind shares, scored as `run` scores, and `evaluate` redoes it
        assert (run / "config.yaml").is_file() and (run / "report.html").stat().st_size > 10_000
        assert 0.0 <= metrics["mig_at_init"] <= 1.0 and "dci" in metrics and "reconstruction" in metrics
        _no_report(monkeypatch)  # `evaluate` would redraw the report just checked; its scores are checked here
        main(["evaluate", str(run)])
        again = json.loads((run / "metrics.json").read_text())
        assert again["mig"] == pytest.approx(metrics["mig"], abs=1e-12)
    with np.load(run / "latents.npz") as data:
        # the score is that of the stored latents (oracle: metrics.mig)
        from timbrespace.metrics import mig

        assert summary["mig"] == pytest.approx(mig(data["mu"], data["factor_codes"]).score, abs=1e-9)
        assert data["mu"].shape == (18, 3) and data["logvar"].shape == (18, 3)
        assert data["factor_codes"].shape == (18, 2) and len(data["item_id"]) == 18
        assert list(data["factor_names"]) == tiny_dataset.factor_names
        assert sorted(set(data["split"])) == ["test", "train", "valid"]


def test_sweep_command_writes_table_and_figure(
    tiny_dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import pandas as pd

    out = tmp_path / "sweep"
    args = [
        "sweep",
        str(tiny_dataset.root),
        "--features",
        "spec",
        "--objectives",
        "beta_vae",
        "--beta",
        "1,4",
        "--seeds",
        "1",
        "--epochs",
        "1",
        "--latent-dim",
        "2",
        "--batch-size",
        "8",
        "--conv-channels",
        "4",
        "--hidden",
        "8",
        "--dci-estimator",
        "hist",
        "--out",
        str(out),
    ]
    main(args)
    table = pd.read_csv(out / "sweep.csv")
    # the linear baselines come first: PCA once, ICA per seed
    assert list(table["model"]) == ["pca", "ica", "beta_vae", "beta_vae"]
    assert list(table["run"][:2]) == ["pca", "ica-seed0"] and table["beta"][:2].isna().all()
    assert list(table["beta"][2:]) == [1.0, 4.0] and (table["epochs"][:2] == 0).all()
    assert table["mig"].between(0, 1).all() and table["modularity"].between(0, 1).all()
    assert table["mig_ica"].between(0, 1).all()
    assert table["n_active_latents"].between(0, 2).all()
    assert (out / "sweep.png").stat().st_size > 1000
    printed = capsys.readouterr().out
    assert "2 runs" in printed and "best MIG" in printed and "beta_vae-beta" in printed
    assert "linear baseline pca: MIG" in printed and "linear baseline ica: MIG" in printed
    # a second call finds the runs finished and does not train them again
    stamp = (
        (out / "beta_vae-beta1-seed0" / "checkpoints" / "last" / "model.safetensors")
        .stat()
        .st_mtime_ns
    )
    main(args)
    assert (
        out / "beta_vae-beta1-seed0" / "checkpoints" / "last" / "model.safetensors"
    ).stat().st_mtime_ns == stamp


def test_sweep_command_refuses_an_unknown_baseline(
    tiny_dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as info:
        main(["sweep", str(tiny_dataset.root), "--baselines", "pca,nmf", "--out", str(out)])
    assert info.value.code == 2
    assert "baselines ['nmf'] unknown" in capsys.readouterr().err
    assert not out.exists()  # refused before anything is written


def test_sweep_command_refuses_a_bad_init_before_generating_an_experiment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as info:
        main(["sweep", "additive-4factor", "--init", "random,svd", "--out", str(out)])
    assert info.value.code == 2
    assert "inits ['svd'] not allowed" in capsys.readouterr().err
    assert not out.exists()  # the experiment's dataset was not generated


def test_train_and_sweep_from_an_ica_start(
    tiny_dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import pandas as pd

    _no_report(monkeypatch)

    common = ["--features", "spec", "--epochs", "1", "--latent-dim", "2", "--batch-size", "8"]
    common += ["--architecture", "mlp", "--hidden", "8"]
    main(
        [
            "train",
            str(tiny_dataset.root),
            *common,
            "--init",
            "ica",
            "--no-progress",
            "--out",
            str(tmp_path / "r"),
        ]
    )
    summary = json.loads(capsys.readouterr().out)
    metrics = json.loads((tmp_path / "r" / "metrics.json").read_text())
    from timbrespace.metrics import mig

    with np.load(tmp_path / "r" / "latents.npz") as data:  # the score is that of the stored latents
        assert summary["mig"] == metrics["mig"] == pytest.approx(mig(data["mu"], data["factor_codes"]).score)
    trained = load_checkpoint(tmp_path / "r" / "checkpoints" / "last")
    assert trained.config.linear_skip and trained.encoder.skip is not None
    out = tmp_path / "sweep"
    main(
        ["sweep", str(tiny_dataset.root), *common, "--beta", "1", "--seeds", "1"]
        + ["--init", "random,ica", "--baselines", "none", "--dci-estimator", "hist"]
        + ["--out", str(out)]
    )
    table = pd.read_csv(out / "sweep.csv")
    assert list(table["model"]) == ["beta_vae", "beta_vae+ica"]
    assert list(table["init"]) == ["random", "ica"]
    assert list(table["run"]) == ["beta_vae-beta1-seed0", "beta_vae-ica-beta1-seed0"]
    assert load_checkpoint(
        out / "beta_vae-ica-beta1-seed0" / "checkpoints" / "last"
    ).config.linear_skip


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--objective", "vqvae"], "--objective='vqvae' is not allowed"),
        (["--init", "svd"], "--init='svd' is not allowed"),
        (["--init", "ica", "--architecture", "conv"], "use architecture mlp"),
    ],
)
def test_train_command_refuses_a_bad_option(
    tiny_dataset: Dataset,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    with pytest.raises(SystemExit) as info:
        main(
            [
                "train",
                str(tiny_dataset.root),
                "--features",
                "spec",
                *args,
                "--out",
                str(tmp_path / "r"),
            ]
        )
    assert info.value.code == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.long(42)
def test_train_command_data_parallel_on_two_cpu_processes(
    tiny_dataset: Dataset, tmp_path: Path
) -> None:
    """DDP (gloo) with two CPU processes: one summary, files written once.

    The launcher re-runs the command for rank 1, so this runs the CLI in a subprocess.
    Rank 0 alone prints the summary and writes the checkpoint; both ranks keep the same
    (process-averaged) history, so the summary's loss is the history's.
    """
    import os
    import subprocess
    import sys

    run = tmp_path / "run"
    command = [sys.executable, "-m", "timbrespace", "train", str(tiny_dataset.root)]
    command += ["--features", "spec", "--architecture", "mlp", "--hidden", "16"]
    command += ["--latent-dim", "2", "--epochs", "2", "--batch-size", "4"]
    command += ["--devices", "2", "--threads", "1", "--out", str(run), "--no-progress"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONWARNINGS": "ignore"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count('"run"') == 1
    summary = json.loads(done.stdout)
    history = json.loads((run / "history.json").read_text())
    assert [r["epoch"] for r in history] == [0, 1]
    assert summary["train_loss"] == pytest.approx(history[-1]["train_loss"])
    trained = load_checkpoint(run / "checkpoints" / "last")
    assert trained.config.latent_dim == 2
    with np.load(run / "latents.npz") as data:
        assert data["mu"].shape == (18, 2) and np.isfinite(data["mu"]).all()


def test_sweep_command_runs_weak_and_few_label_rows(
    tiny_dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--objectives ... ada_gvae`` and ``--labelled-fraction``: every regime in one table, each
    row with its MIG before training."""
    import pandas as pd

    out = tmp_path / "sweep"
    main([
        "sweep", str(tiny_dataset.root), "--features", "spec", "--objectives", "beta_vae,ada_gvae",
        "--labelled-fraction", "0,0.5", "--beta", "1", "--seeds", "1", "--epochs", "1",
        "--latent-dim", "2", "--batch-size", "8", "--architecture", "mlp", "--hidden", "8",
        "--dci-estimator", "hist", "--baselines", "none", "--out", str(out),
    ])
    table = pd.read_csv(out / "sweep.csv")
    # pairs or labels, not both: ada_gvae runs unsupervised by labels only
    assert list(table["model"]) == ["beta_vae", "beta_vae+labels0.5", "ada_gvae"]
    assert list(table["labelled_fraction"]) == [0.0, 0.5, 0.0]
    assert table["mig_at_init"].between(0, 1).all() and table["mig"].between(0, 1).all()
    assert "3 runs" in capsys.readouterr().out


@pytest.mark.parametrize("fraction", ["1.5", "-0.1", "x"])
def test_sweep_command_refuses_a_bad_labelled_fraction(tiny_dataset: Dataset, tmp_path: Path, fraction: str) -> None:
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(tiny_dataset.root), "--labelled-fraction", fraction, "--out", str(out)])
    assert exit_info.value.code == 2 and not out.exists()


@pytest.mark.long(20)
def test_sweep_command_in_parallel_matches_one_job(tiny_dataset: Dataset, tmp_path: Path) -> None:
    """``--jobs 2`` trains runs in worker processes; with ``--threads 1`` every run's latents
    are byte-identical to a one-job sweep's."""
    common = [
        "--features", "spec", "--objectives", "beta_vae,tcvae", "--beta", "1", "--seeds", "1",
        "--epochs", "1", "--latent-dim", "2", "--batch-size", "8", "--architecture", "mlp",
        "--hidden", "8", "--dci-estimator", "hist", "--baselines", "none", "--threads", "1",
    ]
    main(["sweep", str(tiny_dataset.root), *common, "--out", str(tmp_path / "one")])
    main(["sweep", str(tiny_dataset.root), *common, "--jobs", "2", "--out", str(tmp_path / "two")])
    for run in ("beta_vae-beta1-seed0", "tcvae-beta1-seed0"):
        one, two = (np.load(tmp_path / o / run / "latents.npz") for o in ("one", "two"))
        assert np.array_equal(one["mu"], two["mu"])


def test_sweep_command_refuses_zero_jobs(tiny_dataset: Dataset, tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", str(tiny_dataset.root), "--jobs", "0", "--out", str(out)])
    assert exit_info.value.code == 2 and not out.exists()


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_train_into_an_existing_run_needs_overwrite_or_resume(
    tiny_dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _no_report(monkeypatch)
    run = tmp_path / "run"
    args = ["train", str(tiny_dataset.root), "--features", "spec", "--architecture", "mlp", "--hidden", "8",
            "--latent-dim", "2", "--epochs", "1", "--batch-size", "8", "--out", str(run), "--no-progress"]
    main(args)
    before = _tree(run)
    with pytest.raises(SystemExit) as info:
        main([*args, "--seed", "1"])
    assert info.value.code == 2
    assert "already exists and holds a run; choose another --out or pass --overwrite" in capsys.readouterr().err
    assert _tree(run) == before
    main([*args, "--resume"])  # the run is complete: resumed as it is
    assert (run / "checkpoints" / "last").exists()
    main([*args, "--seed", "1", "--overwrite"])
    assert _tree(run) != before  # replaced: another seed's weights
    assert not (run / ".timbrespace.lock").exists()


def test_train_never_replaces_a_folder_that_is_not_a_run_or_the_dataset(
    tiny_dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("keep me")
    for out, message in [(tmp_path / "notes", "is not a timbrespace run"),
                         (tiny_dataset.root, "or holds it; writing there would destroy it")]:
        with pytest.raises(SystemExit) as info:
            main(["train", str(tiny_dataset.root), "--features", "spec", "--epochs", "1", "--out", str(out),
                  "--overwrite", "--no-progress"])
        assert info.value.code == 2
        assert message in capsys.readouterr().err
    assert (tmp_path / "notes" / "todo.txt").read_text() == "keep me"
