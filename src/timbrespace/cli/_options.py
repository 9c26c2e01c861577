"""Parsers of option values that several commands share."""

from __future__ import annotations

from timbrespace.errors import ParameterError


def numbers(text: str, option: str, kind: type, example: str) -> tuple:
    """Parse a comma-separated list such as ``32,64,128`` (``kind`` is int or float)."""
    try:
        return tuple(kind(v) for v in text.split(",") if v.strip())
    except ValueError:
        what = "integers" if kind is int else "numbers"
        raise ParameterError(f"{option}={text!r} must be comma-separated {what}, e.g. {example}") from None


def names(text: str) -> tuple[str, ...]:
    """Parse a comma-separated list of names such as ``beta_vae,tcvae``."""
    return tuple(v.strip() for v in text.split(",") if v.strip())
