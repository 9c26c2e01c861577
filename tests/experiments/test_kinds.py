"""The run-kind registry: one place says what each kind does, and nothing else tests a kind's name."""

from __future__ import annotations

import ast
import logging
import types
from pathlib import Path

import pytest

from tests.cli_run import run_cli
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments import kinds
from timbrespace.experiments.kinds import BUILTIN_RUN_KINDS, RunKind, get_run_kind, list_run_kinds
from timbrespace.experiments.runs import RunEvaluation, read_run_card, write_run_card

SRC = Path(__file__).resolve().parents[2] / "src" / "timbrespace"
REGISTRY = SRC / "experiments" / "kinds.py"
# a kind's own module may tell apart the kinds it serves (RunExplorable serves run and train)
ALLOWED = {("explore/run.py", "train")}


def _names_kind(node: ast.expr) -> bool:
    """``kind``, ``x.kind``, ``x["kind"]``, ``x.get("kind")``, ``run_kind``."""
    if isinstance(node, ast.Name):
        return node.id == "kind" or node.id.endswith("_kind")
    if isinstance(node, ast.Attribute):
        return node.attr == "kind"
    if isinstance(node, ast.Subscript):
        return isinstance(node.slice, ast.Constant) and node.slice.value == "kind"
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        return bool(node.args) and isinstance(node.args[0], ast.Constant) and node.args[0].value == "kind"
    return False


def _kind_names(node: ast.expr) -> set[str]:
    """The run-kind names a string literal, or a tuple/list/set of them, holds."""
    items = node.elts if isinstance(node, (ast.Tuple, ast.List, ast.Set)) else [node]
    return {i.value for i in items if isinstance(i, ast.Constant) and i.value in BUILTIN_RUN_KINDS}


def _kind_comparisons(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not isinstance(node, ast.Compare):
            continue
        sides = [node.left, *node.comparators]
        if any(_names_kind(side) for side in sides):
            found += [(node.lineno, name) for side in sides for name in _kind_names(side)]
    return found


def test_no_code_outside_the_registry_tests_a_run_kind_by_name() -> None:
    wrong = [
        f"{path.relative_to(SRC)}:{line}: compares a kind with {name!r}"
        for path in sorted(SRC.rglob("*.py")) if path != REGISTRY
        for line, name in _kind_comparisons(path)
        if (path.relative_to(SRC).as_posix(), name) not in ALLOWED
    ]
    assert not wrong, "dispatch on a run kind through timbrespace.experiments.kinds:\n" + "\n".join(wrong)


def test_the_scan_sees_each_form(tmp_path: Path) -> None:
    code = tmp_path / "m.py"
    code.write_text('if kind == "run": pass\nif card.kind in ("timbre", "x"): pass\n'
                    'if m["kind"] != "drums": pass\nif r.metrics.get("kind") == "sweep": pass\n'
                    'if cfg.kind == "stft": pass\nif split == "train": pass\n')
    assert _kind_comparisons(code) == [(1, "run"), (2, "timbre"), (3, "drums"), (4, "sweep")]


def test_builtin_kinds_and_their_abilities() -> None:
    assert BUILTIN_RUN_KINDS == ("run", "train", "sweep", "timbre", "drums")
    assert kinds.run_kinds_that("evaluate", builtin_only=True) == ("run", "train", "timbre", "drums")
    assert kinds.run_kinds_that("explorable", builtin_only=True) == ("run", "train", "timbre", "drums")
    assert kinds.run_kinds_that("encode", builtin_only=True) == ("run", "train")
    for kind in list_run_kinds().values():  # every "module:function" path names a function
        for ability in ("evaluate", "explorable", "summary"):
            ref = getattr(kind, ability)
            if isinstance(ref, str):
                assert callable(kinds._resolve(ref)), (kind.name, ability, ref)


def test_an_unknown_kind_is_one_error_naming_the_known_kinds() -> None:
    with pytest.raises(ParameterError, match="kind='nope' is not a run kind: one of run, train, sweep, timbre, drums"):
        get_run_kind("nope")
    with pytest.raises(ParameterError, match="already registered"):
        kinds.register_run_kind(RunKind("run", "another run"))


# ---- a third-party kind, through the entry-point group ----------------------------------


class _EntryPoint:
    def __init__(self, name: str, obj: object) -> None:
        self.name, self._obj = name, obj

    def load(self) -> object:
        if isinstance(self._obj, Exception):
            raise self._obj
        return self._obj


def _evaluate_fake(run_dir: Path, *, allow_unfinished: bool, progress: bool) -> RunEvaluation:
    return RunEvaluation(Path(run_dir), "fake", {"kind": "fake", "allow_unfinished": allow_unfinished},
                         Path(run_dir) / "report.html")


def _open_fake(run_dir: Path, **options: object) -> tuple[str, Path, dict]:
    return ("fake explorable", Path(run_dir), options)


FAKE = RunKind("fake", "a plug-in kind", evaluate=_evaluate_fake, explorable=_open_fake)


@pytest.fixture
def plugin(monkeypatch: pytest.MonkeyPatch) -> None:
    """``FAKE`` offered by an entry point, beside a broken one, a wrong object and a shadow of ``run``."""
    points = [_EntryPoint("fake", FAKE), _EntryPoint("broken", ImportError("no module")),
              _EntryPoint("wrong", object()), _EntryPoint("shadow", RunKind("run", "not the run"))]

    def entry_points(*, group: str) -> list[_EntryPoint]:
        return points if group == kinds.ENTRY_POINT_GROUP else []

    monkeypatch.setattr(kinds, "metadata", types.SimpleNamespace(entry_points=entry_points))
    monkeypatch.setattr(kinds, "_REGISTRY", dict(kinds._REGISTRY))
    monkeypatch.setattr(kinds, "_entry_points_loaded", False)


def test_a_plugin_kind_registers_through_its_entry_point(plugin: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger=kinds.__name__):
        registered = list_run_kinds()
    assert list(registered) == [*BUILTIN_RUN_KINDS, "fake"]
    assert registered["fake"] is FAKE and registered["run"].description.startswith("`timbrespace run`")
    said = [r.getMessage() for r in caplog.records]
    assert [w for w in ("entry point broken:", "entry point wrong is not", "entry point shadow:")
            if not any(w in s for s in said)] == [], said
    assert kinds.run_kinds_that("evaluate", builtin_only=True) == ("run", "train", "timbre", "drums")


def test_evaluate_any_and_open_explorable_dispatch_a_plugin_kind(plugin: None, tmp_path: Path) -> None:
    from timbrespace.experiments import evaluate_any
    from timbrespace.explore import open_explorable

    write_run_card(tmp_path, "fake", dataset=None)
    assert read_run_card(tmp_path).kind == "fake"
    result = evaluate_any(tmp_path, allow_unfinished=True)
    assert result.metrics == {"kind": "fake", "allow_unfinished": True}
    assert open_explorable(tmp_path, kit_dirs=["kits"]) == ("fake explorable", tmp_path, {"kit_dirs": ["kits"]})


def test_a_plugin_kind_without_abilities_is_refused_naming_those_that_have_them(
        plugin: None, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from timbrespace.experiments import evaluate_any
    from timbrespace.experiments.encode import RunEncoder
    from timbrespace.explore import open_explorable

    kinds._load_entry_points()
    kinds._REGISTRY["bare"] = RunKind("bare", "nothing but a card")
    write_run_card(tmp_path, "bare", dataset=None)
    with pytest.raises(DatasetError, match="'bare' run has no evaluation of its own; allowed kinds run, train, "
                                           "timbre, drums, fake"):
        evaluate_any(tmp_path)
    with pytest.raises(DatasetError, match="'bare' run cannot be explored yet: allowed kinds run, train, timbre, "
                                           "drums, fake"):
        open_explorable(tmp_path)
    with pytest.raises(DatasetError, match=r"'bare' run cannot encode audio \(it has no audio encoder\); "
                                           "allowed kinds run, train$"):
        RunEncoder(tmp_path)


def test_the_evaluate_command_summarises_a_plugin_kind_by_its_report(
        plugin: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_run_card(tmp_path, "fake", dataset=None)
    code, out = run_cli(["evaluate", str(tmp_path)], capsys)
    assert code == 0, out
    assert out.strip() == f"report: {tmp_path / 'report.html'}"
