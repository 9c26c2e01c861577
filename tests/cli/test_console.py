"""The console every command prints through (``timbrespace.cli._console``)."""

from __future__ import annotations

import io

import pytest

from timbrespace.cli._console import console


def test_piped_console_does_not_wrap(monkeypatch: pytest.MonkeyPatch) -> None:
    buf = io.StringIO()  # not a TTY
    monkeypatch.setattr("sys.stdout", buf)
    out = console()
    out.print("word " * 60)
    assert len(buf.getvalue().splitlines()) == 1
