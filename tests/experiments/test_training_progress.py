"""training_progress: whether a run's training finished, from its last checkpoint (issue 32)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from timbrespace.experiments.runs import TrainingProgress, training_progress


def _state(run: Path, folder: str = "last", **meta: object) -> None:
    path = run / "checkpoints" / folder / "training_state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(meta))


@pytest.mark.parametrize("meta, expected", [
    ({"epoch": 3, "train_config": {"epochs": 400}}, TrainingProgress(3, 400, False)),
    ({"epoch": 400, "train_config": {"epochs": 400}}, TrainingProgress(400, 400, True)),
    ({"epoch": 12, "stop_reason": "early_stopping", "train_config": {"epochs": 400}}, TrainingProgress(12, 400, True)),
    ({"epoch": 5, "train_config": {"epochs": 5, "refine_epochs": 30}}, TrainingProgress(5, 5, False)),
    ({"epoch": 5, "refine": {"epochs": 30}, "train_config": {"epochs": 5, "refine_epochs": 30}},
     TrainingProgress(5, 5, True)),
])
def test_progress(tmp_path: Path, meta: dict, expected: TrainingProgress) -> None:
    _state(tmp_path, **meta)
    assert training_progress(tmp_path) == expected


def test_describe() -> None:
    assert TrainingProgress(3, 400, False).describe() == "epoch 3 of 400"
    assert "refinement not done" in TrainingProgress(5, 5, False).describe()


def test_a_run_killed_while_swapping_checkpoints_reads_last_old(tmp_path: Path) -> None:
    _state(tmp_path, "last.old", epoch=2, train_config={"epochs": 9})
    assert training_progress(tmp_path) == TrainingProgress(2, 9, False)


def test_nothing_says_unfinished(tmp_path: Path) -> None:
    assert training_progress(tmp_path) is None  # no checkpoint
    _state(tmp_path, epoch=2)  # an older state without its train config
    assert training_progress(tmp_path) is None
    (tmp_path / "checkpoints" / "last" / "training_state.json").write_text("{not json")
    assert training_progress(tmp_path) is None
