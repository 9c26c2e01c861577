"""``python -m timbrespace`` runs the CLI (for machines where the console script is not on PATH)."""

from __future__ import annotations

import subprocess
import sys


def test_python_dash_m_runs_the_cli() -> None:
    done = subprocess.run([sys.executable, "-m", "timbrespace", "--help"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and "sweep" in done.stdout and "generate" in done.stdout
