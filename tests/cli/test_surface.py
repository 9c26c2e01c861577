"""The command line behaves the same everywhere: --version, completion, -o on every
command that writes, help text on every option, machine-readable info, unwrapped pipes."""

from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest
import typer.main

from timbrespace import __version__
from timbrespace.cli import _register_commands, app, main

_register_commands()
ROOT = typer.main.get_command(app)


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))
        else:
            yield (*prefix, name), command


COMMANDS = dict(_commands(ROOT))


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--version"])
    assert capsys.readouterr().out.strip() == f"timbrespace {__version__}"


def test_completion_is_on() -> None:
    names = {opt for p in ROOT.params for opt in p.opts}
    assert {"--install-completion", "--show-completion"} <= names


@pytest.mark.parametrize("path", sorted(p for p, c in COMMANDS.items()
                                        if any("--out" in q.opts for q in c.params)))
def test_every_output_option_takes_dash_o(path: tuple[str, ...]) -> None:
    out = next(q for q in COMMANDS[path].params if "--out" in q.opts)
    assert "-o" in out.opts, f"timbrespace {' '.join(path)}: --out without -o"


@pytest.mark.parametrize("path", sorted(COMMANDS))
def test_every_option_has_help(path: tuple[str, ...]) -> None:
    missing = [q.opts[0] for q in COMMANDS[path].params
               if isinstance(q, click.Option) and not q.hidden and not (q.help or "").strip()]
    assert not missing, f"timbrespace {' '.join(path)}: options without help: {missing}"


def test_info_json_parses(tmp_path, capsys: pytest.CaptureFixture[str]) -> None:
    from timbrespace.datasets import DatasetConfig, generate_dataset

    config = DatasetConfig(name="tiny", sound_model="additive", sample_rate=8000, duration_s=0.05,
                           parameters={"f0_hz": {"min": 110, "max": 440, "n": 3, "spacing": "log"}})
    ds = generate_dataset(config, tmp_path / "ds", workers=1, progress=False)
    main(["info", str(ds.root), "--json"])
    summary = json.loads(capsys.readouterr().out)
    assert summary["n_items"] == 3 and summary["factors"][0]["name"] == "f0_hz"
    assert summary["factors"][0]["n_levels"] == 3


def test_piped_output_is_not_wrapped_at_80_columns(tmp_path) -> None:
    from timbrespace.datasets import DatasetConfig, generate_dataset

    config = DatasetConfig(name="a_dataset_with_a_rather_long_name_to_push_the_line_past_eighty",
                           sound_model="additive", sample_rate=8000, duration_s=0.05,
                           parameters={"f0_hz": {"min": 110, "max": 440, "n": 3, "spacing": "log"}})
    ds = generate_dataset(config, tmp_path / "ds", workers=1, progress=False)
    done = subprocess.run([sys.executable, "-m", "timbrespace", "info", str(ds.root)], capture_output=True,
                          text=True, timeout=120)
    first = done.stdout.splitlines()[0]
    assert done.returncode == 0 and len(first) > 80 and first.endswith("MB on disk"), first
