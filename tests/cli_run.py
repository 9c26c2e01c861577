"""Run the CLI in-process and collect its exit code and output (for CLI tests)."""

from __future__ import annotations

import pytest

from timbrespace.cli import main


def exit_code(argv: list[str]) -> int:
    """``timbrespace ARGV`` → its exit code (0 where it returns without exiting)."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
        raise SystemExit(0)
    return int(exc.value.code or 0)


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``timbrespace ARGV`` → (exit code, stdout + stderr)."""
    code = exit_code(argv)
    captured = capsys.readouterr()
    return code, captured.out + captured.err
