"""Ctrl-C and SIGTERM during training (issue 32): a checkpoint to resume from, one line, 130/143.

A real ``timbrespace run`` in a subprocess gets the signal once its first checkpoint is
on disk; the same command then resumes it and finishes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


def _command(sandbox, tmp_path: Path) -> list[str]:
    """A tiny run of 40 epochs on a copy of the sandbox run's dataset (its features computed)."""
    dataset = tmp_path / "dataset"
    if not dataset.exists():
        shutil.copytree(sandbox.run / "dataset", dataset)
    return [sys.executable, "-m", "timbrespace", "run", str(sandbox.run / "config.yaml"), "--dataset", str(dataset),
            "--out", str(tmp_path / "run"), "--set", "training.epochs=40", "--no-progress"]


def _env() -> dict[str, str]:
    path = os.environ.get("PYTHONPATH")
    return {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{path}" if path else str(SRC), "OMP_NUM_THREADS": "1"}


def _interrupt(argv: list[str], run: Path, signum: int) -> tuple[int, str]:
    """Start ``argv``, send ``signum`` once ``run`` holds a training checkpoint; (exit code, stderr)."""
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env())
    state = run / "checkpoints" / "last" / "training_state.json"
    deadline = time.monotonic() + 240
    while not state.is_file() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=240)
    return proc.returncode, err


@pytest.mark.xdist_group("cli-sandbox")
@pytest.mark.slow
def test_sigterm_saves_resumes_and_finishes(sandbox, tmp_path):
    argv, run = _command(sandbox, tmp_path), tmp_path / "run"
    code, err = _interrupt(argv, run, signal.SIGTERM)
    lines = [line for line in err.splitlines() if line.startswith("interrupted at epoch")]
    assert code == 143, err
    assert lines and lines[0].endswith("run the same command to resume"), err
    assert "Traceback" not in err and "error:" not in err
    assert not (run / "metrics.json").exists()
    epoch = json.loads((run / "checkpoints" / "last" / "training_state.json").read_text())["epoch"]
    assert lines[0] == f"interrupted at epoch {epoch}; run the same command to resume"
    assert 1 <= epoch < 40
    done = subprocess.run(argv, capture_output=True, text=True, env=_env(), timeout=600)
    assert done.returncode == 0, done.stderr
    assert f"resuming {run / 'checkpoints' / 'last'} at epoch {epoch}" in done.stderr
    state = json.loads((run / "checkpoints" / "last" / "training_state.json").read_text())
    assert state["epoch"] == 40 and len(state["history"]) == 40
    assert json.loads((run / "metrics.json").read_text())["final_epoch"]["epoch"] == 39


@pytest.mark.xdist_group("cli-sandbox")
@pytest.mark.slow
def test_ctrl_c_saves_and_exits_130(sandbox, tmp_path):
    argv, run = _command(sandbox, tmp_path), tmp_path / "run"
    code, err = _interrupt(argv, run, signal.SIGINT)
    assert code == 130, err
    epoch = json.loads((run / "checkpoints" / "last" / "training_state.json").read_text())["epoch"]
    assert f"interrupted at epoch {epoch}; run the same command to resume" in err.splitlines()
    assert "Traceback" not in err and "error:" not in err and not (run / "metrics.json").exists()
