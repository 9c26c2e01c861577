"""Dataclass configs read from YAML or JSON: a value of the wrong kind, said as such."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from timbrespace.errors import ConfigError

__all__ = ["check_number_fields"]


def check_number_fields(cls: type, data: Mapping[str, Any]) -> None:
    """Refuse a value that is not a number where ``cls`` has an ``int`` or ``float`` field.

    A YAML string (``latent_dim: abc``) would otherwise fail later inside a comparison
    ("'<' not supported between instances of 'str' and 'int'"). Fields annotated
    ``int``/``float`` (or ``... | None``, where ``None`` passes) are checked; others are left
    to the class. A float with a fraction is refused for an ``int`` field; ``True``/``False``
    are not numbers.

    Raises
    ------
    ConfigError
        ``"latent_dim='abc' must be an integer"``.
    """
    for f in dataclasses.fields(cls):
        value = data.get(f.name)
        kind = str(f.type).removesuffix(" | None")
        if value is None or kind not in ("int", "float"):
            continue
        whole = kind == "int" and isinstance(value, float) and not value.is_integer()
        if whole or isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(f"{f.name}={value!r} must be {'an integer' if kind == 'int' else 'a number'}")
