"""Configs read from YAML or JSON: unknown keys and values of the wrong kind, said as such.

The dataclass configs' one ``from_dict`` (:func:`config_from_dict`), and the one line a
pydantic config's :class:`pydantic.ValidationError` becomes (:func:`format_validation_error`).
"""

from __future__ import annotations

import dataclasses
import json
import types
from collections.abc import Mapping
from typing import TYPE_CHECKING, Annotated, Any, TypeVar, Union, get_args, get_origin

from timbrespace.errors import ConfigError

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

__all__ = ["check_number_fields", "config_from_dict", "config_from_json", "format_validation_error"]

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


#: Errors a line shows before it says how many more there are.
MAX_ERRORS_SHOWN = 3


def format_validation_error(exc: ValidationError, source: str = "", *, model: type[BaseModel] | None = None) -> str:
    """The one line a pydantic config's :class:`~pydantic.ValidationError` becomes.

    Every pydantic config's error goes through here (``tests/test_architecture.py`` checks
    that no other module reads ``exc.errors()``). Each error names its field path and the
    problem: ``path=value must be ...`` for a value of the wrong kind or out of bounds
    (``path=value: pydantic's message`` for the rarer errors), ``path=value is not
    allowed: choices`` for a choice, ``path: unknown key; allowed: ...``
    for a key the model does not know, and our validators' own messages (which name the
    field and the value themselves) as they are, after the path of the section they are in.
    Errors are joined with ``"; "``; past :data:`MAX_ERRORS_SHOWN` the line says how
    many more there are.

    Parameters
    ----------
    exc : pydantic.ValidationError
    source : str, optional
        What was read (a file name, ``"built-in experiment x"``); it starts the line.
    model : type of pydantic.BaseModel, optional
        The model validated; it names the keys allowed where a key is unknown (a model's
        fields, plus those its ``extra_keys`` class variable lists: keys a before-validator
        reads). Without it an unknown key is named alone.

    Returns
    -------
    str
        One line, without a newline.

    Examples
    --------
    >>> from pydantic import BaseModel, ConfigDict, Field, ValidationError
    >>> from timbrespace.utils.fields import format_validation_error
    >>> class Window(BaseModel):
    ...     model_config = ConfigDict(extra="forbid")
    ...     n_fft: int = Field(1024, ge=16)
    >>> try:
    ...     Window.model_validate({"n_fft": 8, "hop": 2})
    ... except ValidationError as exc:
    ...     print(format_validation_error(exc, "w.yaml", model=Window))
    w.yaml: n_fft=8 must be >= 16; hop: unknown key; allowed: n_fft
    """
    parts: list[str] = []
    for err in exc.errors():
        part = _format_one(err, model)
        if part not in parts:  # a union's members may say the same thing
            parts.append(part)
    shown = "; ".join(parts[:MAX_ERRORS_SHOWN])
    if len(parts) > MAX_ERRORS_SHOWN:
        shown += f" [+{len(parts) - MAX_ERRORS_SHOWN} more]"
    return f"{source}: {shown}" if source else shown


def _format_one(err: Any, model: type[BaseModel] | None) -> str:
    loc = tuple(err.get("loc", ()))
    path = ".".join(str(p) for p in loc)
    kind, value = err.get("type"), err.get("input")
    ctx = err.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = _allowed_keys(model, loc[:-1]) if model is not None else []
        return f"{path}: unknown key" + (f"; allowed: {', '.join(allowed)}" if allowed else "")
    if kind in ("value_error", "assertion_error"):
        # our validators' messages name the field and the value themselves
        text = str(ctx["error"]) if ctx.get("error") is not None else str(err.get("msg", ""))
        text = text.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        return f"{path}: {text}" if path else text
    scalar = isinstance(value, (str, int, float))
    named = f"{path}={value!r}" if scalar else path
    if kind == "literal_error" and "expected" in ctx:
        return f"{named} is not allowed: {ctx['expected']}"
    if path and kind in _SAID_AS:
        said = _SAID_AS[kind].format(**{k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()})
        return f"{named} {said}" if scalar or kind == "missing" else f"{named} {said}, got {type(value).__name__}"
    msg = str(err.get("msg", ""))
    return f"{named}: {msg}" if named else msg


# pydantic's wording of the common errors, said as ours (``latent_dim='abc' must be an integer``)
_SAID_AS = {
    "int_type": "must be an integer", "int_parsing": "must be an integer", "int_from_float": "must be an integer",
    "float_type": "must be a number", "float_parsing": "must be a number",
    "bool_type": "must be true or false", "bool_parsing": "must be true or false",
    "string_type": "must be a string", "list_type": "must be a list",
    "dict_type": "must be a mapping", "model_type": "must be a mapping", "model_attributes_type": "must be a mapping",
    "greater_than": "must be > {gt}", "greater_than_equal": "must be >= {ge}",
    "less_than": "must be < {lt}", "less_than_equal": "must be <= {le}",
    "missing": "is required",
}


def _allowed_keys(model: type[BaseModel], parents: tuple[Any, ...]) -> list[str]:
    """The keys the model at ``parents`` (a field path in ``model``) takes; none if unknown."""
    from pydantic import BaseModel

    node: Any = model
    for part in parents:
        node = _unwrap(node)
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(part) if isinstance(part, str) else None
            if field is None:
                return []
            node = field.annotation
        elif get_origin(node) in (dict, list, tuple, Mapping) and get_args(node):
            node = get_args(node)[-1]  # the part is a key or an index
        else:
            return []
    node = _unwrap(node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return [*node.model_fields, *getattr(node, "extra_keys", ())]
    return []


def _unwrap(annotation: Any) -> Any:
    """``X`` of ``Annotated[X, ...]`` and of ``X | None``."""
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            members = [a for a in get_args(annotation) if a is not type(None)]
            if len(members) != 1:
                return annotation
            annotation = members[0]
        else:
            return annotation
