"""The run card: round trip and clear errors."""

from __future__ import annotations

import json

import pytest

from timbrespace.errors import DatasetError, EvaluationError, ParameterError
from timbrespace.experiments import read_run_card, write_run_card
from timbrespace.experiments.runs import after_training


def test_round_trip(tmp_path):
    card = write_run_card(tmp_path, "train", dataset=tmp_path / "ds")
    assert read_run_card(tmp_path) == card
    assert card.dataset == str((tmp_path / "ds").resolve())
    assert card.created.endswith("Z")


def test_unknown_kind_is_refused_before_writing(tmp_path):
    with pytest.raises(ParameterError, match="kind='nope'"):
        write_run_card(tmp_path, "nope", dataset=None)
    assert not (tmp_path / "run.json").exists()


def test_missing_and_broken_cards(tmp_path):
    with pytest.raises(DatasetError, match="no such run folder"):
        read_run_card(tmp_path / "absent")
    with pytest.raises(DatasetError, match="not a run folder"):
        read_run_card(tmp_path)
    (tmp_path / "run.json").write_text(json.dumps({"kind": "run"}))
    with pytest.raises(DatasetError, match="unreadable run card"):
        read_run_card(tmp_path)


def test_folder_of_an_older_timbrespace_and_kind_check(tmp_path):
    from timbrespace.experiments import require_run_kind

    (tmp_path / "checkpoints").mkdir()
    with pytest.raises(DatasetError, match="made by an older timbrespace.*train again"):
        read_run_card(tmp_path)
    write_run_card(tmp_path, "drums", dataset=None)
    assert require_run_kind(tmp_path, "drums").kind == "drums"
    with pytest.raises(DatasetError, match="a 'drums' run, not a 'timbre' run"):
        require_run_kind(tmp_path, "timbre")


def test_after_training_keeps_the_cause_and_says_how_to_finish(tmp_path):
    with pytest.raises(EvaluationError, match=r"kept in .*failed: RuntimeError: boom; run `timbrespace evaluate") as info:
        with after_training(tmp_path):
            raise RuntimeError("boom")
    assert info.value.internal and isinstance(info.value.__cause__, RuntimeError)
    with pytest.raises(EvaluationError, match=r"failed: no factor codes$") as info:
        with after_training(tmp_path, evaluable=False):  # cvae runs have no `evaluate`
            raise DatasetError("no factor codes")
    assert not info.value.internal
    with pytest.raises(KeyboardInterrupt), after_training(tmp_path):
        raise KeyboardInterrupt
