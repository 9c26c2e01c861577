"""atomic_write_files: many files, each complete or absent, plain-open permissions."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from timbrespace.utils.atomic import atomic_write_files


def test_writes_every_file_with_plain_open_permissions(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "audio"
    files = [(f"{i:03d}.bin", bytes([i]) * (i * 1000)) for i in range(5)]
    assert atomic_write_files(folder, iter(files)) == 5
    assert sorted(os.listdir(folder)) == [name for name, _ in files]  # no temporary left
    for name, data in files:
        assert (folder / name).read_bytes() == data
    (tmp_path / "plain").write_bytes(b"x")
    mode = stat.S_IMODE((tmp_path / "plain").stat().st_mode)
    assert {stat.S_IMODE((folder / n).stat().st_mode) for n, _ in files} == {mode}


def test_replaces_an_existing_file(tmp_path: Path) -> None:
    (tmp_path / "a.bin").write_bytes(b"old")
    atomic_write_files(tmp_path, [("a.bin", b"new")])
    assert (tmp_path / "a.bin").read_bytes() == b"new"


def test_a_failure_leaves_the_files_before_it_and_no_temporary(tmp_path: Path) -> None:
    def files() -> Iterator[tuple[str, bytes]]:
        yield "a.bin", b"a"
        raise RuntimeError("encoder failed")

    with pytest.raises(RuntimeError, match="encoder failed"):
        atomic_write_files(tmp_path, files())
    assert os.listdir(tmp_path) == ["a.bin"]


def test_an_unwritable_target_leaves_no_temporary(tmp_path: Path) -> None:
    (tmp_path / "d.bin").mkdir()  # a folder where the file should go: rename fails
    with pytest.raises(OSError):
        atomic_write_files(tmp_path, [("d.bin", b"x")])
    assert os.listdir(tmp_path) == ["d.bin"]
