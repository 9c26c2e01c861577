"""The command line behaves the same everywhere (issue 15 part 3).

``--version``, shell completion, ``-o/--out`` on every command that writes (``features``
writes into its dataset), one ``--progress/--no-progress``, help texts on every option,
piped output not wrapped, ``info --json``, and every command the README shows parses with
today's options.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from timbrespace import __version__
from timbrespace.cli import app, main

README = Path(__file__).resolve().parents[2] / "README.md"
WRITERS = ("run", "ingest", "generate", "synths render", "export", "invert", "train", "sweep",
           "timbre build", "timbre train", "timbre generate", "timbre interpolate", "timbre latent-map",
           "drums ingest", "drums train", "drums sample", "drums interpolate", "export-model")
LONG_RUNNING = ("run", "generate", "features", "train", "sweep", "timbre train", "drums train")


@functools.cache
def _root():
    from timbrespace.cli import _register_commands

    _register_commands()
    return typer.main.get_command(app)


def _command(path: str):
    cmd = _root()
    for word in path.split():
        cmd = cmd.commands[word]
    return cmd


def _parse(argv: list[str]) -> None:
    """Parse ``argv`` as the CLI would (every option and argument checked), without running it."""
    cmd = _root()
    ctx = cmd.make_context("timbrespace", list(argv))
    while hasattr(cmd, "commands"):
        rest = [*getattr(ctx, "_protected_args", []), *ctx.args]
        if not rest:  # a group run without a sub-command (``timbrespace synths``)
            return
        name, cmd, args = cmd.resolve_command(ctx, rest)
        ctx = cmd.make_context(name, args, parent=ctx)


def _cli(*args: str, **kwargs) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "timbrespace", *args], capture_output=True, text=True,
                          timeout=300, **kwargs)


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--version"])  # returns: exit code 0
    assert capsys.readouterr().out.strip() == f"timbrespace {__version__}"


def test_completion_is_switched_on() -> None:
    params = {p.name for p in _root().params}
    assert {"install_completion", "show_completion"} <= params
    script = Path(sys.executable).with_name("timbrespace")
    if not script.is_file():
        pytest.skip(f"no console script beside {sys.executable}")
    env = {**os.environ, "_TIMBRESPACE_COMPLETE": "complete_bash", "COMP_WORDS": "timbrespace drums sample --b",
           "COMP_CWORD": "3"}
    done = subprocess.run([str(script)], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0 and set(done.stdout.split()) == {"--bpm", "--bars"}


@pytest.mark.parametrize("path", WRITERS)
def test_every_writer_takes_dash_o(path: str) -> None:
    out = next(p for p in _command(path).params if p.name == "out")
    assert set(out.opts) == {"-o", "--out"}


def _leaves(cmd, path=()):
    if hasattr(cmd, "commands"):
        for name, sub in cmd.commands.items():
            yield from _leaves(sub, (*path, name))
    else:
        yield " ".join(path), cmd


@functools.cache
def _commands() -> dict:
    return dict(_leaves(_root()))


@pytest.mark.parametrize("path", sorted(p for p, c in _commands().items() if any("--out" in q.opts for q in c.params)))
def test_every_output_option_takes_dash_o(path: str) -> None:
    out = next(q for q in _commands()[path].params if "--out" in q.opts)
    assert "-o" in out.opts, f"timbrespace {path}: --out without -o"


@pytest.mark.parametrize("path", LONG_RUNNING)
def test_every_long_command_takes_progress(path: str) -> None:
    progress = next(p for p in _command(path).params if p.name == "progress")
    assert progress.opts == ["--progress"] and progress.secondary_opts == ["--no-progress"]
    assert progress.default is True


@pytest.mark.parametrize("path", sorted(_commands()))
def test_every_option_has_help(path: str) -> None:
    missing = [p.opts[0] for p in _commands()[path].params
               if getattr(p, "param_type_name", "") == "option" and not p.hidden and not (p.help or "").strip()]
    assert not missing, f"timbrespace {path}: options without help: {missing}"


def test_same_words_same_meaning() -> None:
    """--objective (train) vs --preset (timbre train); --hidden a comma list; --warmup-steps; --steps."""
    assert {p.name for p in _command("train").params} >= {"objective", "hidden", "warmup_steps"}
    assert "model" not in {p.name for p in _command("train").params}
    assert {p.name for p in _command("timbre train").params} >= {"preset"}
    assert {p.name for p in _command("drums train").params} >= {"hidden", "warmup_steps"}
    assert "warmup_epochs" not in {p.name for p in _command("drums train").params}
    for path in ("timbre interpolate", "drums interpolate"):
        steps = next(p for p in _command(path).params if p.name == "steps")
        assert steps.opts == ["--steps"]
    scale = next(p for p in _command("features").params if p.name == "scale")
    assert scale.opts == ["--scale"]
    assert "output" not in {p.name for p in _command("features").params}




@pytest.fixture(scope="module")
def tiny_dataset(tmp_path_factory: pytest.TempPathFactory):
    from timbrespace.datasets import DatasetConfig, generate_dataset

    config = DatasetConfig(name="tiny", sound_model="additive", sample_rate=8000, duration_s=0.1, seed=7,
                           parameters={"f0_hz": {"min": 110, "max": 880, "n": 3, "spacing": "log"},
                                       "decay_per_s": {"min": 1, "max": 8, "n": 2}},
                           splits={"train": 0.5, "valid": 0.25, "test": 0.25})
    return generate_dataset(config, tmp_path_factory.mktemp("data") / "ds", workers=1, progress=False)


def test_info_json_parses(tiny_dataset, capsys: pytest.CaptureFixture[str]) -> None:
    main(["info", str(tiny_dataset.root), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert data["n_items"] == len(tiny_dataset) and data["sample_rate"] == tiny_dataset.sample_rate
    assert [f["name"] for f in data["factors"]] == tiny_dataset.factor_names
    assert data["factors"][0]["n_levels"] == 3
    assert Path(data["root"]) == Path(tiny_dataset.root).resolve()


def test_piped_output_is_not_wrapped(tmp_path: Path) -> None:
    """Tables and long lines keep their width in a pipe (rich's default would wrap at 80 columns)."""
    done = _cli("synths", "--model", "additive")  # stdout is a pipe here
    assert done.returncode == 0, done.stderr
    doc = "level change of the partials per octave above the fundamental"
    assert any(doc in line for line in done.stdout.splitlines())
    assert max(len(line) for line in done.stdout.splitlines()) > 120

    from timbrespace.datasets import DatasetConfig, generate_dataset

    config = DatasetConfig(name="a_dataset_with_a_rather_long_name_to_push_the_line_past_eighty",
                           sound_model="additive", sample_rate=8000, duration_s=0.05,
                           parameters={"f0_hz": {"min": 110, "max": 440, "n": 3, "spacing": "log"}})
    ds = generate_dataset(config, tmp_path / "ds", workers=1, progress=False)
    done = _cli("info", str(ds.root))
    first = done.stdout.splitlines()[0]
    assert done.returncode == 0 and len(first) > 80 and first.endswith("MB on disk"), first


def _readme_commands() -> list[list[str]]:
    blocks = re.findall(r"```bash\n(.*?)```", README.read_text(), flags=re.S)
    commands = []
    for block in blocks:
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("timbrespace "):
                commands.append(shlex.split(line)[1:])
    # eager options act while parsing (print, exit, or install completion in the user's shell)
    return [argv for argv in commands if not {"--version", "--install-completion"} & set(argv)]


def test_readme_commands_parse() -> None:
    commands = _readme_commands()
    assert len(commands) >= 30
    for argv in commands:
        _parse(argv)  # a renamed or missing option raises click's UsageError


def test_readme_preset_counts_are_what_list_presets_prints(capsys: pytest.CaptureFixture[str]) -> None:
    main(["generate", "--list-presets"])
    printed = dict(re.findall(r"^(\S+)\s+([\d,]+) items", capsys.readouterr().out, flags=re.M))
    text = " ".join(README.read_text().split())
    quoted = re.search(r"Presets \(`timbrespace generate --list-presets` prints each with its item count\): (.*?)\.",
                       text)
    assert quoted, "the README's sentence on presets changed: update this test"
    counts = dict(re.findall(r"`([\w-]+)` \(([\d,]+)", quoted.group(1)))
    assert counts and all(printed[name] == count for name, count in counts.items()), (counts, printed)
