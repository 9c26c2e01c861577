"""Commands that do not train start without the heavy libraries (issue 29).

Checked by what a fresh interpreter has imported, not by a stopwatch (the machines
running the suite are shared): ``benchmarks/startup.py`` gives the times.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from timbrespace.datasets import DatasetConfig, generate_dataset

HEAVY = ("torch", "lightning", "matplotlib", "librosa", "sklearn", "numba", "scipy")


def _loaded_after(code: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    """Which of ``heavy`` are in ``sys.modules`` after running ``code`` in a new process."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)))"
    )
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def _run_cli(*argv: str) -> str:
    return (
        f"import sys\nsys.argv = ['timbrespace', *{list(argv)!r}]\n"
        "from timbrespace.cli import main\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )


def test_importing_the_cli_loads_no_heavy_library() -> None:
    code = "import timbrespace.cli\ntimbrespace.cli._register_commands()"
    assert _loaded_after(code, HEAVY + ("pandas", "pyarrow")) == []


def test_help_loads_no_heavy_library() -> None:
    assert _loaded_after(_run_cli("--help")) == []
    assert _loaded_after(_run_cli("generate", "--help")) == []
    assert _loaded_after(_run_cli("synths")) == []  # lists the sound models and their parameters


def test_info_loads_no_heavy_library(tmp_path: Path) -> None:
    config = DatasetConfig(
        name="t", sound_model="fm_moog", sample_rate=8000, duration_s=0.05,
        parameters={"cutoff_hz": {"values": [500, 1000]}},
    )
    root = generate_dataset(config, tmp_path / "d", workers=1, progress=False).root
    assert _loaded_after(_run_cli("info", str(root))) == []
