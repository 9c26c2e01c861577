"""load_yaml: safe_load that refuses a mapping key given twice (issue 32)."""

from __future__ import annotations

import pytest
import yaml

from timbrespace.utils.yaml_files import load_yaml


def test_reads_what_safe_load_reads() -> None:
    text = "a: 1\nb: [1, 2]\nc: {d: x, e: null}\nbase: &b {k: 1}\nmerged:\n  <<: *b\n  m: 2\n"
    assert load_yaml(text) == yaml.safe_load(text)
    assert load_yaml("") is None


@pytest.mark.parametrize("text, key, line", [
    ("a: 1\nb: 2\na: 3\n", "a", 3),
    ("model:\n  latent_dim: 3\n  beta: 4\n  latent_dim: 7\n", "latent_dim", 4),
    ("{x: 1, x: 2}", "x", 1),
    ("- {k: 1}\n- k: 1\n  k: 2\n", "k", 3),
])
def test_a_key_given_twice_is_an_error(text: str, key: str, line: int) -> None:
    with pytest.raises(yaml.YAMLError) as exc:
        load_yaml(text)
    assert f"key {key!r} is given twice" in exc.value.problem
    assert exc.value.problem_mark.line + 1 == line


def test_python_objects_are_refused_as_by_safe_load() -> None:
    with pytest.raises(yaml.YAMLError):
        load_yaml("!!python/object/apply:os.system ['true']")
