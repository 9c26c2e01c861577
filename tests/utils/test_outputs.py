"""Output folders: --overwrite replaces only an artefact of the same kind, never an input."""

from __future__ import annotations

import pytest

from timbrespace.errors import DatasetError
from timbrespace.utils.lock import LOCK_NAME
from timbrespace.utils.outputs import check_output_folder, clear_folder, folder_is_empty


def _dataset(folder):
    folder.mkdir(parents=True)
    (folder / "dataset.json").write_text("{}")
    (folder / "audio").mkdir()
    (folder / "audio" / "a.wav").write_bytes(b"x")
    return folder


def test_missing_or_lock_only_folder_is_free(tmp_path):
    assert folder_is_empty(tmp_path / "nope")
    assert check_output_folder(tmp_path / "nope", marker="dataset.json", what="dataset", overwrite=False) is False
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / LOCK_NAME).write_text("1 host")
    assert folder_is_empty(tmp_path / "locked")


def test_existing_artefact_needs_overwrite_and_is_then_cleared(tmp_path):
    ds = _dataset(tmp_path / "ds")
    with pytest.raises(DatasetError, match="already exists and holds a dataset.*--overwrite"):
        check_output_folder(ds, marker="dataset.json", what="dataset", overwrite=False)
    assert check_output_folder(ds, marker="dataset.json", what="dataset", overwrite=False, reuse=True) is False
    assert check_output_folder(ds, marker="dataset.json", what="dataset", overwrite=True) is True
    (ds / LOCK_NAME).write_text("1 host")
    clear_folder(ds)
    assert [p.name for p in ds.iterdir()] == [LOCK_NAME]


def test_non_artefact_folder_is_never_replaced(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "me.jpg").write_bytes(b"jpg")
    with pytest.raises(DatasetError, match="not a timbrespace dataset"):
        check_output_folder(tmp_path / "photos", marker="dataset.json", what="dataset", overwrite=True)
    (tmp_path / "file").write_text("x")
    with pytest.raises(DatasetError, match="is a file"):
        check_output_folder(tmp_path / "file", marker="dataset.json", what="dataset", overwrite=True)


@pytest.mark.parametrize("relative", [".", ".."])
def test_input_or_its_parent_is_never_an_output(tmp_path, relative):
    ds = _dataset(tmp_path / "parent" / "ds")
    with pytest.raises(DatasetError, match="is the input .* or holds it"):
        check_output_folder(ds / relative, marker="dataset.json", what="dataset", overwrite=True, inputs=[ds])
