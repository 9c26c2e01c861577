"""The CLI says things one way: flags without a type, one spelling, one range, one name.

Issue 27, section 4: ``--progress/--no-progress`` on every slow command (bars on stderr,
nothing there with ``--no-progress``); every ``--help`` free of ``<bool>`` and of the
spelling the options do not use; swing and interpolation steps one range everywhere;
``annealed`` one objective name; a did-you-mean for ``--set`` sections; ``export-model``
says one line.
"""

from __future__ import annotations

import inspect
import io
import logging
import re
import shutil
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import click
import numpy as np
import pytest
import typer

from timbrespace.cli import _register_commands, app, main
from timbrespace.conventions import MAX_INTERPOLATION_STEPS, MAX_SWING, MIN_INTERPOLATION_STEPS
from timbrespace.errors import ConfigError, ParameterError

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _run(argv: list[str], monkeypatch: pytest.MonkeyPatch, *, terminal: bool) -> tuple[int, str, str]:
    """Run a command in-process: (exit code, stdout, stderr); ``terminal`` makes rich draw as on a TTY."""
    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.setenv("COLUMNS", "160")
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
    err, out = io.StringIO(), io.StringIO()
    code = 0
    with redirect_stderr(err), redirect_stdout(out):
        try:
            main(argv)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- every --help


def _commands() -> list[tuple[str, ...]]:
    """The path of every command and group (``("drums", "sample")``), from the click app."""
    _register_commands()
    root = typer.main.get_command(app)
    paths: list[tuple[str, ...]] = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        paths.append(path)
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(root, ())
    return paths


_HELP: dict[tuple[str, ...], str] = {}


def _help(path: tuple[str, ...]) -> str:
    if path not in _HELP:
        err, out = io.StringIO(), io.StringIO()
        with redirect_stderr(err), redirect_stdout(out):
            try:
                main([*path, "--help"])
            except SystemExit as exc:
                assert exc.code in (0, None), err.getvalue()
        _HELP[path] = _ANSI.sub("", out.getvalue())
    return _HELP[path]


COMMANDS = _commands()


def test_the_walk_finds_every_command() -> None:
    names = {" ".join(p) for p in COMMANDS}
    assert {"run", "ingest", "invert", "evaluate", "export-model", "drums sample", "timbre interpolate"} <= names


@pytest.mark.parametrize("path", COMMANDS, ids=lambda p: " ".join(p) or "timbrespace")
def test_help_shows_no_bool_metavar_and_one_spelling(path: tuple[str, ...]) -> None:
    text = _help(path)
    assert "<bool>" not in text, f"a flag shows <bool> in `{' '.join(path)} --help`"
    # the option is --color: its help and every other help text say "color"
    assert "colour" not in text.lower(), text


_UNITS = {  # an option's name suffix → words one of which its help must say
    "hz": ("Hz",),
    "s": ("second", " s", "(s)", "seconds"),
    "ms": ("ms", "millisecond"),
    "db": ("dB",),
    "bpm": ("BPM", "beats per minute"),
    "samples": ("sample",),
}


def _options_with_units() -> list[tuple[str, str, str]]:
    _register_commands()
    root = typer.main.get_command(app)
    found = []

    def walk(command: click.Command, path: tuple[str, ...]) -> None:
        for param in command.params:
            for opt in getattr(param, "opts", []):
                suffix = opt.rsplit("-", 1)[-1]
                if opt.startswith("--") and "-" in opt[2:] and suffix in _UNITS:
                    found.append((" ".join(path), opt, getattr(param, "help", "") or ""))
        for name, sub in sorted(getattr(command, "commands", {}).items()):
            walk(sub, (*path, name))

    walk(root, ())
    return found


@pytest.mark.parametrize("command, option, text", [pytest.param(*o, id=f"{o[0]} {o[1]}") for o in _options_with_units()])
def test_an_option_named_with_a_unit_says_the_unit(command: str, option: str, text: str) -> None:
    words = _UNITS[option.rsplit("-", 1)[-1]]
    assert any(w.lower() in text.lower() for w in words), f"`{command} {option}`: help {text!r} names no unit ({words})"


# ---------------------------------------------------------------- --progress


@pytest.mark.parametrize("command", ["ingest", "invert", "evaluate", "export-model"])
def test_slow_commands_take_progress(command: str) -> None:
    text = _help((command,))
    assert "--progress" in text and "--no-progress" in text


def _progress_argv(command: str, sandbox, tmp_path: Path) -> list[str]:
    if command == "ingest":
        return ["ingest", str(sandbox.notes), "--out", str(tmp_path / "ingested"), "--layout", "nsynth"]
    if command == "invert":
        from timbrespace.datasets import Dataset

        items = ",".join(Dataset(sandbox.dataset).item_ids[:3])
        return ["invert", str(sandbox.dataset), "--features", "spec", "--out", str(tmp_path / "wavs"),
                "--items", items, "--batch-size", "1"]
    if command == "export-model":
        return ["export-model", str(sandbox.run), "--format", "torchscript", "-o", str(tmp_path / "decoder.pt")]
    raise AssertionError(command)


_LABELS = {"ingest": "ingest", "invert": "invert", "export-model": "export the decoder to torchscript"}


@pytest.mark.parametrize("command", ["ingest", "invert", "export-model"])
def test_progress_on_a_terminal_names_the_step(command: str, sandbox, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run([*_progress_argv(command, sandbox, tmp_path), "--progress"], monkeypatch, terminal=True)
    assert code == 0, err
    assert _LABELS[command] in _ANSI.sub("", err), err
    assert "0:00:" not in out  # the bar (its elapsed time) is on stderr, the results on stdout


@pytest.mark.parametrize("command", ["ingest", "invert", "export-model"])
def test_no_progress_leaves_stderr_empty(command: str, sandbox, tmp_path: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, err = _run([*_progress_argv(command, sandbox, tmp_path), "--no-progress"], monkeypatch, terminal=True)
    assert code == 0, err
    assert err == ""
    assert out.strip()


def test_evaluate_shows_each_stage(sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run = shutil.copytree(sandbox.run, tmp_path / "run")
    # the stages are shown and the report's path said without drawing it (no check reads it;
    # `evaluate`'s report is checked in tests/cli/test_train.py and tests/experiments/test_pipeline.py)
    monkeypatch.setattr("timbrespace.experiments.report.write_run_report", lambda run_dir, **_: run_dir / "report.html")
    code, out, err = _run(["evaluate", str(run), "--progress"], monkeypatch, terminal=True)
    assert code == 0, err
    shown = _ANSI.sub("", err)
    for stage in ("encoding", "metrics", "reconstruction", "report"):
        assert stage in shown, shown
    assert "report:" in out
    code, out, err = _run(["evaluate", str(run), "--no-progress"], monkeypatch, terminal=True)
    assert code == 0 and err == "" and "report:" in out, err


def test_export_model_says_one_line(sandbox, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    out_path = tmp_path / "decoder.onnx"
    code, out, err = _run(["export-model", str(sandbox.run), "-o", str(out_path), "--no-progress"], monkeypatch,
                          terminal=False)
    assert code == 0, err
    assert out.splitlines() == [f"wrote {out_path} and {out_path}.json"]
    assert err == ""
    said = [r.getMessage() for r in caplog.records if r.levelno >= logging.INFO
            and (r.name.startswith(("onnx", "torch.onnx")) or "export" in r.getMessage())]
    assert not said, said  # onnx_ir's "Removed 16 unused nodes", our "exported ..." (the CLI's line says it)


# ---------------------------------------------------------------- one range, one place


def test_swing_is_one_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from timbrespace.explore.drums import DrumsExplorable
    from timbrespace.patterns.render import step_onsets_samples

    assert MAX_SWING == 0.45
    # the CLI refuses what the explorer's slider cannot reach (it accepted up to 0.5)
    code, _, err = _run(["drums", "sample", str(tmp_path / "no-run"), "--swing", "0.47", "--out",
                         str(tmp_path / "o")], monkeypatch, terminal=False)
    assert code == 2 and "--swing=0.47 is out of range: allowed 0..0.45" in err, err
    with pytest.raises(ParameterError, match=r"swing=0.47 is out of range: allowed 0..0.45"):
        step_onsets_samples(4, bpm=120, swing=0.47)
    step_onsets_samples(4, bpm=120, swing=MAX_SWING)
    assert "0..0.45" in _help(("drums", "sample"))
    assert "max=MAX_SWING" in Path(inspect.getsourcefile(DrumsExplorable)).read_text()


def test_interpolation_steps_are_one_range(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from timbrespace.experiments.timbre_notes import MAX_STEPS, MIN_STEPS
    from timbrespace.generation import interpolate

    assert (MIN_INTERPOLATION_STEPS, MAX_INTERPOLATION_STEPS) == (MIN_STEPS, MAX_STEPS) == (2, 16)
    for command in (("drums", "interpolate"), ("timbre", "interpolate")):
        assert "2..16" in _help(command), command
    a = tmp_path / "a.mid"
    a.write_bytes(b"")
    code, _, err = _run(["drums", "interpolate", str(tmp_path / "no-run"), str(a), str(a), "--steps", "17",
                         "--out", str(tmp_path / "o")], monkeypatch, terminal=False)
    assert code == 2 and "--steps=17 is out of range: allowed 2..16" in err, err
    # 2 steps (the end points) is a timbre interpolation too now: the error is the missing run, not --steps
    code, _, err = _run(["timbre", "interpolate", str(tmp_path / "no-run"), "Bright", "0", "E4", "Dark", "100",
                         "E5", "--steps", "2", "--out", str(tmp_path / "o")], monkeypatch, terminal=False)
    assert code == 2 and "--steps" not in err, err
    assert interpolate(np.zeros(2), np.ones(2), 2).shape == (2, 2)


# ---------------------------------------------------------------- one name


def test_annealed_is_the_objective_everywhere(sandbox, caplog: pytest.LogCaptureFixture) -> None:
    from timbrespace.experiments import load_experiment_config
    from timbrespace.experiments.train import MODELS, model_config_for
    from timbrespace.models import VAEConfig

    assert "annealed" in MODELS and "annealed_vae" not in MODELS
    from timbrespace.datasets import Dataset

    ds = Dataset(sandbox.dataset)
    assert model_config_for(ds, "spec", "annealed").objective == "annealed"
    with caplog.at_level(logging.WARNING):
        assert model_config_for(ds, "spec", "annealed_vae").objective == "annealed"
        assert load_experiment_config(None, {"model.objective": "annealed_vae"}).model.objective == "annealed"
        assert VAEConfig(objective="annealed_vae").objective == "annealed"  # type: ignore[arg-type]
    assert any("say 'annealed'" in r.getMessage() for r in caplog.records)
    for command in (("train",), ("sweep",)):
        assert "annealed_vae" not in _help(command) and "annealed" in _help(command)


def test_set_section_typo_gets_a_did_you_mean(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from timbrespace.experiments import load_experiment_config

    with pytest.raises(ConfigError, match=r"unknown key 'trainign' \(did you mean 'training'\?\)"):
        load_experiment_config(None, {"trainign.epochs": 5})
    with pytest.raises(ConfigError, match=r"training has no field 'epocs' \(did you mean 'epochs'\?\)"):
        load_experiment_config(None, {"training.epocs": 5})
    with pytest.raises(ConfigError, match=r"beta belongs to the model"):  # the section's own word stays
        load_experiment_config(None, {"training.beta": 5})
    code, _, err = _run(["run", "--set", "trainign.epochs=5", "-o", str(tmp_path / "r")], monkeypatch,
                        terminal=False)
    assert code == 2 and "did you mean 'training'" in err, err
    assert not (tmp_path / "r").exists()
