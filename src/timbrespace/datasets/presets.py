"""Preset dataset configs shipped with the package (``datasets/configs/*.yaml``)."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from timbrespace.errors import ConfigError

__all__ = ["list_presets", "preset_path"]


def _configs_dir() -> Path:
    return Path(str(resources.files("timbrespace.datasets") / "configs"))


def list_presets() -> list[str]:
    """Names of the preset configs (file stems), sorted.

    Examples
    --------
    >>> from timbrespace.datasets import list_presets
    >>> "seed001-additive" in list_presets()
    True
    """
    folder = _configs_dir()
    return sorted(p.stem for p in folder.glob("*.yaml")) if folder.is_dir() else []


def preset_path(name: str) -> Path:
    """Path of preset ``name``.

    Raises
    ------
    ConfigError
        Unknown preset (the known ones are listed).

    Examples
    --------
    >>> from timbrespace.datasets import preset_path
    >>> preset_path("seed003-pop").name
    'seed003-pop.yaml'
    """
    path = _configs_dir() / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"unknown dataset preset {name!r}; presets: {', '.join(list_presets()) or 'none'}"
        )
    return path
