"""atomic_write_files: many files, each complete or absent, plain-open permissions.

Every test runs both ways: unnamed files linked under their name (Linux ``O_TMPFILE``)
and a hidden temporary renamed (elsewhere, or where the file system refuses it)."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from timbrespace.utils.atomic import atomic_write_files


@pytest.fixture(autouse=True, params=["link", "rename"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "rename":
        monkeypatch.delattr(os, "O_TMPFILE", raising=False)
    elif not hasattr(os, "O_TMPFILE"):
        pytest.skip("no O_TMPFILE here")
    return str(request.param)


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


def test_a_file_system_without_unnamed_files_falls_back_to_renames(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    import timbrespace.utils.atomic as atomic

    calls = []

    def refuse(dir_fd: int, name: str, data: bytes) -> None:
        calls.append(name)
        raise OSError(errno.EOPNOTSUPP, "Operation not supported")

    monkeypatch.setattr(atomic, "_link_unnamed", refuse)
    assert atomic_write_files(tmp_path, [("a.bin", b"a"), ("b.bin", b"b")]) == 2
    assert sorted(os.listdir(tmp_path)) == ["a.bin", "b.bin"] and (tmp_path / "b.bin").read_bytes() == b"b"
    assert calls in ([], ["a.bin"])  # tried once at most, then renames


def test_linux_links_unnamed_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str) -> None:
    import timbrespace.utils.atomic as atomic

    if way != "link" or not os.path.isdir("/proc/self/fd"):
        pytest.skip("the unnamed-file way only")

    def no_rename(dir_fd: int, name: str, data: bytes) -> None:
        raise AssertionError(f"{name} was renamed, not linked")

    monkeypatch.setattr(atomic, "_write_renamed", no_rename)
    assert atomic_write_files(tmp_path, [("a.bin", b"a")]) == 1
    assert (tmp_path / "a.bin").read_bytes() == b"a"
