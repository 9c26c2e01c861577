"""Run the CLI in-process and collect its exit code and output (for CLI tests)."""

from __future__ import annotations

import pytest

from timbrespace.cli import main


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``timbrespace ARGV`` → (exit code, stdout + stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
        raise SystemExit(0)
    captured = capsys.readouterr()
    return int(exc.value.code or 0), captured.out + captured.err
