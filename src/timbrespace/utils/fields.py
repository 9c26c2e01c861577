"""Dataclass configs read from YAML or JSON: unknown keys and values of the wrong kind, said as such."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any, TypeVar

from timbrespace.errors import ConfigError

__all__ = ["check_number_fields", "config_from_dict", "config_from_json"]

T = TypeVar("T")


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


def config_from_dict(cls: type[T], data: Any, what: str) -> T:
    """``cls(**data)`` for a dataclass config, after checking what a file can get wrong.

    The one ``from_dict`` of the dataclass configs (model, training, audio decoder).

    Parameters
    ----------
    cls : type
        A dataclass; its ``__post_init__`` checks the values themselves.
    data : Any
        What the file held (a mapping, if it is right).
    what : str
        The config's name in messages, e.g. ``"model config"``.

    Raises
    ------
    ConfigError
        ``data`` is not a mapping (``"model config must be a mapping, got list"``), has
        keys ``cls`` does not know (named, with the allowed ones), or a value that is not
        a number where a number belongs (:func:`check_number_fields`).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Window:
    ...     n_fft: int = 1024
    >>> config_from_dict(Window, {"n_fft": 512}, "window")
    Window(n_fft=512)
    >>> config_from_dict(Window, {"nfft": 512}, "window")
    Traceback (most recent call last):
    ...
    timbrespace.errors.ConfigError: unknown window keys ['nfft']; allowed: n_fft
    """
    if not isinstance(data, Mapping):
        raise ConfigError(f"{what} must be a mapping, got {type(data).__name__}")
    known = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    unknown = sorted(set(data) - known)
    if unknown:
        raise ConfigError(f"unknown {what} keys {unknown}; allowed: {', '.join(sorted(known))}")
    check_number_fields(cls, data)  # a YAML string where a number belongs, said as such
    return cls(**data)


def config_from_json(cls: type[T], text: str, what: str) -> T:
    """``cls.from_dict`` of JSON text; text that is not JSON is a :class:`ConfigError` too.

    ``cls.from_dict`` (usually :func:`config_from_dict`, after the class's own checks) reads
    the parsed value.
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} is not valid JSON: {exc}") from None
    return cls.from_dict(data)  # type: ignore[attr-defined,no-any-return]
