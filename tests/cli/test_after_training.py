"""Training results are never lost to a later step (issue 18): when the evaluation after
``train`` or ``run`` fails, the checkpoints, ``history.json`` and config stay as training
wrote them, the command prints one ``error:`` line that says where they are, exits non-zero,
and ``timbrespace evaluate RUN`` finishes the run afterwards."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import yaml

from tests.cli_run import run_cli
from timbrespace.datasets import Dataset, DatasetConfig, generate_dataset
from timbrespace.errors import DatasetError

TRAINED = ("checkpoints", "history.json", "train_config.json")


@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    from timbrespace.features import FeatureConfig, compute_dataset_features

    config = DatasetConfig(name="tiny", sound_model="additive", sample_rate=8000, duration_s=0.1, seed=7,
                           parameters={"f0_hz": {"min": 110, "max": 880, "n": 6, "spacing": "log"},
                                       "presence": {"values": ["all", "odd", "even"]}},
                           splits={"train": 0.6, "valid": 0.2, "test": 0.2})
    ds = generate_dataset(config, tmp_path_factory.mktemp("data") / "ds", workers=1, progress=False)
    compute_dataset_features(ds, FeatureConfig(kind="stft", n_fft=256, hop_length=128, output="db",
                                               normalization="minmax_item"), name="spec", progress=False)
    return ds


def _trained(run: Path) -> dict[str, str]:
    """SHA-256 of every file training wrote (checkpoints, history, train config)."""
    files = [p for name in TRAINED for p in sorted((run / name).rglob("*") if (run / name).is_dir() else [run / name])]
    return {str(p.relative_to(run)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files if p.is_file()}


def _fail_scoring(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    def score_run(*args, **kwargs):
        raise error

    monkeypatch.setattr("timbrespace.experiments.pipeline.score_run", score_run)


def _one_error_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1 and "Traceback" not in text, text
    return lines[0]


@pytest.mark.long(8)
@pytest.mark.parametrize(("error", "code"), [(RuntimeError("scorer crashed"), 1),
                                             (DatasetError("factor codes unreadable"), 2)])
def test_train_keeps_the_trained_model_when_evaluation_fails(
    tiny_dataset: Dataset, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    error: Exception, code: int,
) -> None:
    run = tmp_path / "run"
    _fail_scoring(monkeypatch, error)
    exit_code, text = run_cli(["train", str(tiny_dataset.root), "--features", "spec", "--epochs", "2",
                               "--latent-dim", "2", "--batch-size", "8", "--architecture", "mlp", "--hidden", "8",
                               "--no-progress", "--out", str(run)], capsys)
    line = _one_error_line(text)
    assert exit_code == code, text
    assert f"training finished and is kept in {run}" in line and str(error) in line
    assert f"timbrespace evaluate {run}" in line
    kept = _trained(run)
    assert any(name.endswith("model.safetensors") for name in kept), kept
    assert len(json.loads((run / "history.json").read_text())) == 2  # the metrics of both epochs
    assert not (run / "metrics.json").exists()

    monkeypatch.undo()
    # `evaluate` finishes the run; its report is drawn and checked in the `run` test below
    monkeypatch.setattr("timbrespace.experiments.report.write_run_report", lambda run_dir, **_: run_dir)
    exit_code, text = run_cli(["evaluate", str(run)], capsys)
    assert exit_code == 0, text
    assert json.loads((run / "metrics.json").read_text())["mig"] is not None
    assert _trained(run) == kept  # evaluating later changes nothing training wrote


@pytest.mark.slow
def test_run_keeps_the_trained_model_when_evaluation_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.experiments.test_pipeline import TINY

    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump(TINY, sort_keys=False))
    run = tmp_path / "run"
    _fail_scoring(monkeypatch, RuntimeError("scorer crashed"))
    exit_code, text = run_cli(["run", str(config), "--workers", "1", "--no-progress", "--out", str(run)], capsys)
    line = _one_error_line(text)
    assert exit_code == 1, text
    assert f"training finished and is kept in {run}" in line and "RuntimeError: scorer crashed" in line
    kept = _trained(run)
    assert any(name.endswith("model.safetensors") for name in kept), kept
    assert len(json.loads((run / "history.json").read_text())) == TINY["training"]["epochs"]
    assert (run / "config.yaml").is_file() and not (run / "metrics.json").exists()

    monkeypatch.undo()
    exit_code, text = run_cli(["evaluate", str(run)], capsys)
    assert exit_code == 0, text
    assert (run / "metrics.json").is_file() and (run / "report.html").is_file()
    assert _trained(run) == kept
