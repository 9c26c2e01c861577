"""DESIGN.md's layering, checked: no import cycles, and dependencies only point down.

Every ``import`` in ``src/timbrespace`` counts, at module level or inside a function or
an ``if TYPE_CHECKING:`` block: an import hidden in a function still ties two modules
together. ``from timbrespace.a import b`` depends on the module ``timbrespace.a.b`` when
that is a module, else on the package ``timbrespace.a``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src" / "timbrespace"

# DESIGN.md, "Packages": "Dependencies point down this flow". Each package may import the
# packages listed here (and itself); "" is the root package (``__version__``, the errors).
BASE = {"", "errors", "utils", "conventions"}  # conventions: shared ranges (steps, swing)
LOWER = BASE | {"synths", "features", "metrics", "models", "datasets", "training"}
DOMAINS = {"patterns", "timbre"}
ALLOWED: dict[str, set[str]] = {
    "": {"errors"},
    "errors": set(),
    "utils": {"errors"},
    "conventions": {"errors"},
    "synths": BASE,  # synths, features, metrics: nothing of ours but errors/utils
    "features": BASE,
    "metrics": BASE,
    "models": BASE,  # models: nothing but those
    "datasets": BASE | {"synths"},  # datasets on synths
    "training": BASE | {"models"},  # training on models
    # the two sound domains: data and measures, never a model or a training loop
    "patterns": BASE | {"synths", "datasets", "features", "metrics"},
    "timbre": BASE | {"synths", "datasets", "features", "metrics"},
    # analysis/generation on the layers below
    "analysis": LOWER | DOMAINS,
    "generation": LOWER | DOMAINS,
    # experiments, explore and cli on everything; nothing imports cli
    "experiments": LOWER | DOMAINS | {"analysis", "generation"},
    "explore": LOWER | DOMAINS | {"analysis", "generation", "experiments"},
    "cli": LOWER | DOMAINS | {"analysis", "generation", "experiments", "explore"},
    "__main__": {"cli"},
}
# third-party imports a package must not make (DESIGN.md: "metrics ... must not import torch")
FORBIDDEN_THIRD_PARTY: dict[str, set[str]] = {"metrics": {"torch", "lightning"}}


def _modules() -> dict[str, Path]:
    out = {}
    for path in SRC.rglob("*.py"):
        parts = ["timbrespace", *path.relative_to(SRC).with_suffix("").parts]
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: Path) -> tuple[set[str], set[str]]:
    """(timbrespace modules, third-party top-level names) that ``name`` imports."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    ours: set[str] = set()
    third: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            targets = [
                f"{module}.{alias.name}" if f"{module}.{alias.name}" in MODULES else module
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            if target == "timbrespace" or target.startswith("timbrespace."):
                while target not in MODULES:  # `import timbrespace.a.b` of a name
                    target = target.rsplit(".", 1)[0]
                if target != name:
                    ours.add(target)
            else:
                third.add(target.split(".")[0])
    return ours, third


GRAPH = {name: _imports(name, path) for name, path in MODULES.items()}


def _package(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one node (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_every_package_is_in_the_layering_table() -> None:
    packages = {_package(m) for m in MODULES}
    assert packages <= set(ALLOWED), f"add {sorted(packages - set(ALLOWED))} to ALLOWED"


def test_no_import_cycle_between_modules() -> None:
    cycles = _cycles({m: ours for m, (ours, _) in GRAPH.items()})
    assert not cycles, f"import cycles between modules: {cycles}"


def test_no_import_cycle_between_packages() -> None:
    graph: dict[str, set[str]] = {}
    for module, (ours, _) in GRAPH.items():
        for target in ours:
            if _package(target) != _package(module):
                graph.setdefault(_package(module), set()).add(_package(target))
    cycles = _cycles(graph)
    assert not cycles, f"import cycles between packages: {cycles}"


def test_imports_follow_the_layering() -> None:
    wrong = sorted(
        f"{module} imports {target}"
        for module, (ours, _) in GRAPH.items()
        for target in ours
        if _package(target) != _package(module)
        and _package(target) not in ALLOWED.get(_package(module), set())
    )
    assert not wrong, "imports against DESIGN.md's layering:\n" + "\n".join(wrong)


def test_forbidden_third_party_imports() -> None:
    wrong = sorted(
        f"{module} imports {name}"
        for module, (_, third) in GRAPH.items()
        for name in third & FORBIDDEN_THIRD_PARTY.get(_package(module), set())
    )
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert _cycles(graph) == expected


def test_function_level_imports_are_seen(tmp_path: Path) -> None:
    """The walk sees an import hidden in a function, as the datasets cycle once was."""
    ours, _ = _imports("timbrespace.datasets.dataset", MODULES["timbrespace.datasets.dataset"])
    assert "timbrespace.utils.audio" in ours
    hidden = tmp_path / "m.py"
    hidden.write_text("def f():\n    from timbrespace.training import fit\n")
    assert _imports("timbrespace.metrics.m", hidden)[0] == {"timbrespace.training"}


# The feature sidecar crosses module boundaries typed (FeatureSidecar); its JSON form is read
# only where it is made and validated. Groove datasets' pattern sidecars are another format.
_SIDECAR_JSON_READERS = {"features/sidecar.py", "features/config.py", "features/store.py",
                         "patterns/feel.py", "patterns/drumify.py", "experiments/drums.py"}


def test_the_feature_sidecar_is_read_typed() -> None:
    offenders = [f"{path.relative_to(SRC)}:{n}" for path in sorted(SRC.rglob("*.py"))
                 if str(path.relative_to(SRC)) not in _SIDECAR_JSON_READERS
                 for n, line in enumerate(path.read_text().splitlines(), 1)
                 if 'sidecar["' in line and not line.lstrip().startswith(("#", ">>>"))]
    assert not offenders, f"read the typed FeatureSidecar (as_sidecar / FeatureSidecar.from_dict) at {offenders}"


# A pydantic ValidationError becomes the CLI's one `error:` line in one place (issue 30).
_VALIDATION_ERROR_FORMATTER = "utils/fields.py"


def _reads_validation_errors(tree: ast.AST) -> list[int]:
    """Lines that call ``.errors()`` or index an error's ``"loc"``/``"msg"``/``"ctx"``."""
    lines = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "errors"
                and not node.args and not node.keywords):
            lines.append(node.lineno)
        elif isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value in (
                "loc", "msg", "ctx"):
            lines.append(node.lineno)
    return lines


def test_one_module_formats_pydantic_validation_errors() -> None:
    offenders = [f"{path.relative_to(SRC)}:{n}" for path in sorted(SRC.rglob("*.py"))
                 if str(path.relative_to(SRC)) != _VALIDATION_ERROR_FORMATTER
                 for n in _reads_validation_errors(ast.parse(path.read_text(), str(path)))]
    assert not offenders, f"format a ValidationError with timbrespace.utils.fields.format_validation_error: {offenders}"


def test_the_validation_error_check_sees_a_formatter() -> None:
    tree = ast.parse("def f(exc):\n    err = exc.errors()[0]\n    return err['loc'], err.get('msg')\n")
    assert _reads_validation_errors(tree) == [2, 3]
