"""The out-of-memory line names only remedies the invoked command has (issue 32)."""

from __future__ import annotations

import pytest

from timbrespace.cli import _out_of_memory, _register_commands


@pytest.mark.parametrize(
    ("argv", "says_batch_size"),
    [
        (["generate", "tiny.yaml", "--out", "ds"], True),
        (["-v", "features", "ds"], True),
        (["invert", "ds", "--out", "wav"], True),
        (["evaluate", "run"], False),
        (["drums", "sample", "run", "--out", "x"], False),
        (["timbre", "evaluate", "run"], False),
    ],
)
def test_batch_size_is_advised_only_where_it_exists(argv: list[str], says_batch_size: bool) -> None:
    _register_commands()
    line = _out_of_memory(argv)
    assert line.startswith("out of memory: use ")
    assert ("--batch-size" in line) is says_batch_size
