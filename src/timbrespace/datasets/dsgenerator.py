"""DSGenerator (seed 003) compatibility: its JSON config and its file names.

DSGenerator's ``config_file.json`` holds ``soundname``, ``samplerate``, ``chunkSecs``,
``soundDuration``, ``params[]`` (``user_pname``, ``user_minval``, ``user_maxval``,
``user_nvals``, ``user_doc``, ``synth_pname``, ``synth_minval``, ``synth_maxval``,
``synth_units`` natural|norm) and ``fixedParams[]`` (``synth_pname``, ``synth_val``,
``synth_units``). Each swept parameter takes ``user_nvals`` linearly spaced values (in
the synth's natural units, or normalised 0..1 when ``synth_units`` is ``norm``), every
combination renders one ``soundDuration`` signal cut into ``floor(soundDuration /
chunkSecs)`` variations. Its file names are
``{sound}--{user_pname}-{value:05.2f}--...--v-{NNN}.wav``.

Differences from the seed, on purpose: values are checked against the sound model's
ranges, and every setting has its own random stream (the seed reset its generator on
every call, giving identical event times everywhere).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from timbrespace.errors import ConfigError, ParameterError

__all__ = ["is_dsgenerator_config", "dsgenerator_to_config", "dsgenerator_name", "SOUND_MODEL_MAP"]

log = logging.getLogger(__name__)

#: DSGenerator ``soundname`` (lower-cased) -> our sound model.
SOUND_MODEL_MAP = {"pop": "pop", "mypop": "pop", "drip": "drip", "mydrip": "drip"}
_KNOWN_KEYS = {
    "soundname",
    "samplerate",
    "chunkSecs",
    "soundDuration",
    "numVariations",
    "outPath",
    "recordFormat",
    "paramRange",
    "params",
    "fixedParams",
}


def is_dsgenerator_config(data: dict[str, Any]) -> bool:
    """True for a DSGenerator ``config_file.json`` (it has ``soundname``)."""
    return "soundname" in data


def _resolve_name(model: Any, name: str) -> str:
    # DSGenerator built synth names from the user's by adding "_exp" ("rate" -> "rate_exp").
    if model is None:
        return name
    names = model.parameter_names()
    for candidate in (name, f"{name}_exp"):
        if candidate in names:
            return candidate
    return name


def _natural(model: Any, pname: str, values: np.ndarray, units: str) -> list[float]:
    if units.lower() != "norm" or model is None:
        return [float(v) for v in values]
    try:
        param = model.parameter(pname)
    except ParameterError:
        return [float(v) for v in values]
    return [float(v) for v in param.from_unit(values)]


def dsgenerator_to_config(data: dict[str, Any], *, source: str = "<config>") -> dict[str, Any]:
    """Translate a DSGenerator config dict into a :class:`DatasetConfig` dict.

    Raises
    ------
    ConfigError
        A required key is missing or not a number (file and key named).
    """
    from timbrespace.synths.registry import get_sound_model

    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        log.warning("%s: ignoring DSGenerator keys %s", source, ", ".join(unknown))
    soundname = str(data["soundname"])
    sound_model = SOUND_MODEL_MAP.get(soundname.lower(), soundname.lower())
    try:
        model = get_sound_model(sound_model)
    except ParameterError:
        model = None  # DatasetConfig reports the unknown model with the known ones
    try:
        sample_rate = int(data.get("samplerate", 16000))
        duration = float(data["soundDuration"])
        if "chunkSecs" in data:
            chunk = float(data["chunkSecs"])
        else:
            chunk = duration / float(data.get("numVariations", 1))
    except KeyError as exc:
        raise ConfigError(f"{source}: DSGenerator config lacks {exc.args[0]!r}") from None
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{source}: DSGenerator config has a non-numeric value ({exc})") from None

    parameters: dict[str, Any] = {}
    for k, p in enumerate(data.get("params", [])):
        try:
            user_name = str(p.get("user_pname", p.get("pname")))
            synth_name = _resolve_name(model, str(p.get("synth_pname", p.get("pname"))))
            n = int(p.get("user_nvals", p.get("nvals")))
            s_min = float(p.get("synth_minval", p.get("minval")))
            s_max = float(p.get("synth_maxval", p.get("maxval")))
            u_min = float(p.get("user_minval", s_min))
            u_max = float(p.get("user_maxval", s_max))
        except (TypeError, ValueError) as exc:
            raise ConfigError(
                f"{source}: params[{k}]: missing or non-numeric field ({exc})"
            ) from None
        units = str(p.get("synth_units", "natural"))
        synth_values = _natural(model, synth_name, np.linspace(s_min, s_max, n), units)
        parameters[synth_name] = {
            "values": synth_values,
            "label": user_name,
            "label_values": [float(v) for v in np.linspace(u_min, u_max, n)],
        }
    fixed: dict[str, float] = {}
    for k, p in enumerate(data.get("fixedParams", [])):
        try:
            name = _resolve_name(model, str(p["synth_pname"]))
            value = float(p["synth_val"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ConfigError(
                f"{source}: fixedParams[{k}]: needs synth_pname and a numeric synth_val ({exc})"
            ) from None
        fixed[name] = _natural(
            model, name, np.array([value]), str(p.get("synth_units", "natural"))
        )[0]
    return {
        "name": str(data.get("outPath") or soundname),
        "sound_model": sound_model,
        "sample_rate": sample_rate,
        "fixed": fixed,
        "parameters": parameters,
        "sampling": {"method": "grid"},
        "variations": {"sound_duration_s": duration, "chunk_s": chunk},
        "naming": "dsgenerator",
    }


def dsgenerator_name(
    sound: str, labels: Sequence[str], values: Sequence[float], variation: int
) -> str:
    """DSGenerator's file stem ``{sound}--{param}-{value:05.2f}--...--v-{NNN}``.

    Examples
    --------
    >>> dsgenerator_name("pop", ["rate", "cf"], [1.0, 0.5], 3)
    'pop--rate-01.00--cf-00.50--v-003'
    """
    parts = [sound] + [f"{name}-{float(v):05.2f}" for name, v in zip(labels, values, strict=True)]
    return "--".join(parts) + f"--v-{int(variation):03d}"
