"""Every YAML timbrespace reads goes through :func:`load_yaml`: a key given twice is an error.

PyYAML's ``safe_load`` keeps the last of two equal keys in a mapping without a word, so
``latent_dim: 3`` followed further down by ``latent_dim: 7`` trains a model nobody
asked for. :class:`UniqueKeyLoader` is ``yaml.SafeLoader`` (no Python objects) that
refuses such a mapping, with the key and both lines.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.constructor import ConstructorError

__all__ = ["UniqueKeyLoader", "load_yaml"]


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` that raises :class:`yaml.constructor.ConstructorError` on a
    mapping key given twice (its ``problem`` names the key and the first line)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":  # "<<: *anchor" merges, it is no key
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                first = seen.get(key)
            except TypeError:  # an unhashable key: SafeLoader's own error follows
                continue
            if first is not None:
                raise ConstructorError(
                    "while constructing a mapping", node.start_mark,
                    f"key {key!r} is given twice (first at line {first + 1}): keep one", key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str) -> Any:
    """Parse one YAML document like ``yaml.safe_load``, refusing a key given twice.

    Raises
    ------
    yaml.YAMLError
        Invalid YAML, or a mapping with a key given twice (``ConstructorError``, whose
        ``problem`` names the key and ``problem_mark`` the second occurrence).
    """
    return yaml.load(text, Loader=UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
