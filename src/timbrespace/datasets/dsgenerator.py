"""DSGenerator (seed 003) compatibility: its configs as its users have them, and its names.

DSGenerator (``generate.py --configfile config_file.json --outputpath OUT``) loads the
sound model ``<soundname>.py`` with its class ``<soundname>``, renders every combination
of the swept parameters as one ``soundDuration`` signal cut into
``floor(soundDuration / chunkSecs)`` variations, and names each WAV with ``makeName``.
Its configs come in two shapes, both read here:

- older (DSGenerator ``a1777f9``, popTextureDS ``7b66f5a``): ``params[]`` of ``pname``,
  ``minval``, ``maxval``, ``nvals``, ``units``, ``formula``, with a top-level
  ``paramRange`` (``Natural`` | ``Norm``), and ``numVariations`` instead of
  ``chunkSecs`` in the first ones;
- newer (``config_file.json`` since DSGenerator ``9c62930``): ``params[]`` of ``user_*``
  (the names and values in file names and records) and ``synth_*`` (what the synth is
  given: ``natural`` units, or ``norm`` 0..1 over the synth's range), and
  ``fixedParams[]`` of ``synth_pname``, ``synth_val``, ``synth_units``, ``user_doc``
  (``user_pname``/``user_pval`` for a few weeks in between).

``soundname`` names the model's file and class: ``Pop``, ``PopPatternSynth``,
``MyPopPatternSynth``, ``Drip``, ... (:data:`DSGENERATOR_SYNTHS` maps each onto our
``pop`` or ``drip``); DSGenerator is synth-independent, so any model of our sound-model
registry (``additive``, ``fm_moog``, ..., any case) is accepted too, its ``synth_pname``
being our parameter names and ``norm`` spanning our ranges. The pop and drip synths'
parameters map onto ours: ``rate``/``rate_exp`` and ``irreg``/``irreg_exp`` are the same
exponents, and ``cf`` is in Hz in every DSGenerator synth, converted to
``cf_exp = log2(cf / 440 Hz)``. ``norm`` values are mapped over the DSGenerator synth's
own range (its ``setParamNorm``: ``min + v (max - min)``), so a config renders the values
it rendered there.

File names are ``makeName``'s, byte for byte: ``{soundname}``, then each fixed parameter
as ``--{name}-{value:05.2f}``, then each swept one as ``--{user_pname}-{value:05.2f}`` (its
user value), then ``--v-{variation:03}``. A fixed parameter's name and value are its
``user_pname`` and ``user_pval`` when the entry has them (``makeName`` from ``9c62930`` to
``ee82d4a``: ``PopPatternSynth--Rate-04.00--...``), else its ``synth_pname`` and
``synth_val`` (``makeName`` since ``0d6e677``: ``Pop--rate_exp-02.00--...``); the synth
is set from ``synth_val`` when given, else from ``user_pval``.

``recordFormat`` selects the records (:mod:`timbrespace.datasets.dsgenerator_records`):
``params``, ``nsjson`` or its older name ``sonyGan``, or ``tfrecords`` (``tftype``
``single``, the default: one ``.tfrecord`` per WAV; ``shards``: ``shard{N}.tfrecord`` files
of at most ``shard_size`` MB of 16-bit audio each); anything else is refused.

Differences from DSGenerator, on purpose: values are checked against our models'
ranges, and every setting has its own random stream (DSGenerator reset its generator on
every call, giving identical event times everywhere).

References
----------
prashanthtr/DSGenerator: ``generate.py``, ``filewrite.py`` (``makeName``),
``config_file.json`` and its history; prashanthtr/popTextureDS ``PopPatternSynth.py``,
prashanthtr/dripTextureDS ``DripPatternSynth.py`` (parameter ranges).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.utils.paths import safe_name

__all__ = [
    "DSGENERATOR_SYNTHS",
    "DSGeneratorFixed",
    "DSGeneratorParam",
    "DSGeneratorSpec",
    "DSGeneratorSynth",
    "RECORD_FORMATS",
    "dsgenerator_name",
    "dsgenerator_to_config",
    "is_dsgenerator_config",
]

log = logging.getLogger(__name__)

RecordFormat = Literal["params", "nsjson", "sonyGan", "tfrecords"]
TFType = Literal["single", "shards"]
#: ``recordFormat`` values honoured, with DSGenerator's numeric codes (0 params, 1 nsjson).
RECORD_FORMATS: dict[Any, RecordFormat] = {
    "params": "params",
    0: "params",
    "nsjson": "nsjson",
    1: "nsjson",
    "sonyGan": "sonyGan",
    "tfrecords": "tfrecords",
}
CF_REF_HZ = 440.0  # cf = 440 * 2**cf_exp (seed 003)


@dataclass(frozen=True)
class DSGeneratorSynth:
    """A DSGenerator sound model: the timbrespace model that renders it and its ranges.

    Attributes
    ----------
    model : str
        Our sound model (``pop`` or ``drip``).
    ranges : mapping of str to (float, float)
        The DSGenerator synth's declared ``(min, max)`` of each parameter, natural units
        (``cf`` in Hz): what ``synth_units: norm`` values are mapped over.
    source : str
        The repository file the ranges are read from.
    """

    model: str
    ranges: Mapping[str, tuple[float, float]]
    source: str


_EXPONENTS = {"rate_exp": (-10.0, 10.0), "irreg_exp": (0.1, 50.0), "rate": (-10.0, 10.0),
              "irreg": (0.1, 50.0)}
_POP = DSGeneratorSynth("pop", {**_EXPONENTS, "cf": (100.0, 2000.0)},
                        "prashanthtr/popTextureDS PopPatternSynth.py")
_DRIP = DSGeneratorSynth("drip", {**_EXPONENTS, "cf": (55.0, 220.0)},
                         "prashanthtr/dripTextureDS DripPatternSynth.py")
# Names from DSGenerator's, popTextureDS's, dripTextureDS's and DSSynth_template's
# configs and sound model files.
_SOUNDNAMES = (
    *((name, _POP) for name in ("Pop", "PopPatternSynth", "MyPopPatternSynth", "myPop",
                                 "myPop_001", "pop_sound")),
    *((name, _DRIP) for name in ("Drip", "DripPatternSynth", "MyDripPatternSynth", "myDrip",
                                  "drip_sound")),
)
#: ``soundname`` (lower-cased: any case is accepted) -> the model, for DSGenerator's own
#: sound models; any name of the sound-model registry is accepted besides (:func:`_synth_for`).
DSGENERATOR_SYNTHS: dict[str, DSGeneratorSynth] = {n.lower(): s for n, s in _SOUNDNAMES}
# DSGenerator synth parameter -> ours (same values), besides "cf" (Hz -> cf_exp).
_PARAMETER_MAP = {"rate": "rate_exp", "rate_exp": "rate_exp", "irreg": "irreg_exp",
                  "irreg_exp": "irreg_exp", "cf_exp": "cf_exp"}
_KNOWN_KEYS = {
    "soundname", "samplerate", "chunkSecs", "soundDuration", "numVariations", "outPath",
    "recordFormat", "paramRange", "params", "fixedParams", "tftype", "shard_size",
    "filename", "description", "format",
}


class DSGeneratorParam(BaseModel):
    """One swept DSGenerator parameter, as its file names and records show it.

    ``user_values[k]`` is grid point ``k``'s value in file names, parameter files and
    ``nsjson`` ``<synth_pname>_norm``; ``synth_values[k]`` is the DSGenerator synth's
    natural value (``cf`` in Hz), its ``nsjson`` ``<synth_pname>_natural``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    synth_pname: str
    parameter: str
    user_pname: str
    user_values: list[float]
    synth_values: list[float]
    units: str
    minval: float
    maxval: float
    orig_minval: float | None = None
    orig_maxval: float | None = None
    user_doc: str = ""


class DSGeneratorFixed(BaseModel):
    """One fixed DSGenerator parameter: ``name-value`` in file names (``makeName``).

    ``name``/``value`` are ``user_pname``/``user_pval`` when the entry has them, else
    ``synth_pname``/``synth_val``; ``synth_value`` is what the synth is set to, in
    ``units`` (``synth_val``, else ``user_pval``), and the ``.params`` records' value.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    synth_pname: str
    parameter: str
    name: str
    value: float
    units: str
    synth_value: float | None = None
    minval: float = 0.0
    maxval: float = 1.0
    orig_minval: float | None = None
    orig_maxval: float | None = None
    user_doc: str = ""


class DSGeneratorSpec(BaseModel):
    """What a DSGenerator config says beyond the design: names and records.

    Attributes
    ----------
    soundname : str
        As written (its case is kept in file names).
    record_format : {"params", "nsjson", "sonyGan", "tfrecords"} or None
        ``recordFormat``; None when the config has none (no records written).
    tf_type : {"single", "shards"}
        ``tftype`` of ``tfrecords``: one file per WAV, or shards (DSGenerator's ``tftype``).
    shard_size_mb : float or None
        ``shard_size``: the most 16-bit audio a shard holds, in MB (1024**2 bytes).
    sound_duration_s : float
        ``soundDuration``: the ``times`` of parameter files.
    params : list of DSGeneratorParam
        Swept parameters in config order (the first varies slowest).
    fixed : list of DSGeneratorFixed
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    soundname: str
    record_format: RecordFormat | None = None
    tf_type: TFType = "single"
    shard_size_mb: float | None = None
    sound_duration_s: float
    params: list[DSGeneratorParam]
    fixed: list[DSGeneratorFixed] = []


def is_dsgenerator_config(data: dict[str, Any]) -> bool:
    """True for a DSGenerator ``config_file.json`` (it has ``soundname``)."""
    return "soundname" in data


def _number(entry: Mapping[str, Any], key: str, where: str) -> float:
    if key not in entry:
        raise ConfigError(f"{where}: missing {key!r}")
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ConfigError(f"{where}: {key}={value!r} is not a number")
    return float(value)


def _synth_for(soundname: str, source: str) -> DSGeneratorSynth:
    """The model for ``soundname``: a DSGenerator synth's name, else a registered model's."""
    from timbrespace.synths.registry import list_sound_models

    synth = DSGENERATOR_SYNTHS.get(soundname.lower())
    if synth is not None:
        return synth
    registered = {name.lower(): name for name in list_sound_models()}
    if soundname.lower() in registered:
        # No DSGenerator synth of ours: parameters are ours, norm spans our ranges.
        return DSGeneratorSynth(registered[soundname.lower()], {}, "timbrespace sound-model registry")
    raise ConfigError(
        f"{source}: soundname {soundname!r} is not a DSGenerator sound model timbrespace renders; "
        f"known (any case): {', '.join(n for n, _ in _SOUNDNAMES)}, or a timbrespace sound model: "
        f"{', '.join(registered.values())}"
    )


def _record_format(data: Mapping[str, Any], source: str) -> RecordFormat | None:
    if "recordFormat" not in data:
        return None
    value = data["recordFormat"]
    if not isinstance(value, (str, int)) or isinstance(value, bool) or value not in RECORD_FORMATS:
        raise ConfigError(
            f"{source}: recordFormat {value!r} is not supported; use \"params\" (a .params JSON "
            "beside each WAV), \"nsjson\" (nsjson.json), \"sonyGan\" (sonyGan.json) or "
            "\"tfrecords\" (a .tfrecord beside each WAV)"
        )
    return RECORD_FORMATS[value]


def _tf_type(data: Mapping[str, Any], source: str) -> tuple[TFType, float | None]:
    """``tftype`` and ``shard_size`` (MB) of a ``tfrecords`` config."""
    value = data.get("tftype", "single")  # DSGenerator read tftype only for tfrecords
    if value not in ("single", "shards"):
        raise ConfigError(
            f"{source}: tftype {value!r} is not supported; use \"single\" (one .tfrecord per WAV) "
            "or \"shards\" (shard{N}.tfrecord files, counted as DSGenerator does for shard_size MB of 16-bit audio)"
        )
    if value == "single":
        return "single", None
    size = _number(data, "shard_size", source)
    if size <= 0:
        raise ConfigError(f"{source}: shard_size={size:g} must be a positive number of MB")
    return "shards", size


def _to_natural(synth: DSGeneratorSynth, model: Any, pname: str, values: np.ndarray,
                units: str, where: str) -> np.ndarray:
    """DSGenerator synth values in natural units (``cf`` in Hz) from ``natural``/``norm`` ones."""
    if units.lower() not in ("natural", "norm"):
        raise ConfigError(f"{where}: synth_units={units!r} is not one of natural, norm")
    if units.lower() == "natural":
        return values
    if pname in synth.ranges:
        lo, hi = synth.ranges[pname]
        return lo + values * (hi - lo)
    # No DSGenerator synth declares it (e.g. our cf_exp): norm over our model's range.
    return model.parameter(_our_parameter(synth, model, pname, where)).from_unit(values)


def _our_parameter(synth: DSGeneratorSynth, model: Any, pname: str, where: str) -> str:
    ours = _PARAMETER_MAP.get(pname, pname)
    try:
        model.parameter(ours)
    except ParameterError:
        mapped = "; DSGenerator's rate, irreg and cf map onto them" if synth.ranges else ""
        raise ConfigError(
            f"{where}: {pname!r} is not a parameter of timbrespace's {synth.model} model "
            f"(it has {', '.join(model.parameter_names())}{mapped}); remove it from the config"
        ) from None
    return ours


def _to_ours(synth: DSGeneratorSynth, model: Any, pname: str, natural: np.ndarray,
          where: str) -> tuple[str, np.ndarray]:
    """Our parameter and values for a DSGenerator synth parameter and its natural values."""
    if pname == "cf" and "cf" in synth.ranges:
        param = model.parameter("cf_exp")
        lo_hz, hi_hz = (CF_REF_HZ * 2.0**param.minimum, CF_REF_HZ * 2.0**param.maximum)
        if np.any(natural <= 0):
            raise ConfigError(
                f"{where}: cf={float(natural.min()):g} Hz is not a frequency. DSGenerator's synths take cf "
                f"in Hz (converted to cf_exp = log2(cf / 440 Hz)); give Hz within {lo_hz:g}..{hi_hz:g}, "
                "or, if these values are exponents, rename the parameter (synth_pname or pname) cf_exp"
            )
        cf_exp = np.log2(natural / CF_REF_HZ)
        if np.any(cf_exp < param.minimum - 1e-9) or np.any(cf_exp > param.maximum + 1e-9):
            raise ConfigError(
                f"{where}: cf {float(natural.min()):g}..{float(natural.max()):g} Hz gives cf_exp "
                f"{float(cf_exp.min()):.3g}..{float(cf_exp.max()):.3g}, outside the {synth.model} model's "
                f"{param.minimum:g}..{param.maximum:g} ({lo_hz:g}..{hi_hz:g} Hz); keep cf within "
                f"{lo_hz:g}..{hi_hz:g} Hz"
            )
        return "cf_exp", np.clip(cf_exp, param.minimum, param.maximum)
    return _our_parameter(synth, model, pname, where), natural


def _swept(entry: Any, k: int, synth: DSGeneratorSynth, model: Any, older_units: str,
           source: str) -> tuple[DSGeneratorParam, np.ndarray]:
    where = f"{source}: params[{k}]"
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected an object, got {type(entry).__name__}")
    if "pname" in entry:  # older shape: one range for file names and synth alike
        pname = str(entry["pname"])
        n = _number(entry, "nvals", where)
        lo, hi = _number(entry, "minval", where), _number(entry, "maxval", where)
        user_pname, u_lo, u_hi, units, doc = pname, lo, hi, older_units, ""
        orig = synth.ranges.get(pname, (None, None))
    else:
        if "synth_pname" not in entry:
            raise ConfigError(f"{where}: needs synth_pname (newer configs) or pname (older ones)")
        pname = str(entry["synth_pname"])
        n = _number(entry, "user_nvals", where)
        lo, hi = _number(entry, "synth_minval", where), _number(entry, "synth_maxval", where)
        u_lo, u_hi = _number(entry, "user_minval", where), _number(entry, "user_maxval", where)
        user_pname = safe_name(entry.get("user_pname", pname), what=f"{where}.user_pname", error=ConfigError)
        units, doc = str(entry.get("synth_units", "natural")), str(entry.get("user_doc", ""))
        orig = (lo, hi)
    if n < 1 or not float(n).is_integer():
        raise ConfigError(f"{where}: the number of values {n:g} must be a whole number >= 1")
    where = f"{where} ({user_pname})"
    natural = _to_natural(synth, model, pname, np.linspace(lo, hi, int(n)), units, where)
    ours, values = _to_ours(synth, model, pname, natural, where)
    return DSGeneratorParam(
        synth_pname=pname, parameter=ours, user_pname=user_pname,
        user_values=np.linspace(u_lo, u_hi, int(n)).tolist(), synth_values=natural.tolist(),
        units=units, minval=u_lo, maxval=u_hi, orig_minval=orig[0], orig_maxval=orig[1],
        user_doc=doc,
    ), values


def _fixed(entry: Any, k: int, synth: DSGeneratorSynth, model: Any,
           source: str) -> tuple[DSGeneratorFixed, float]:
    where = f"{source}: fixedParams[{k}]"
    if not isinstance(entry, dict) or "synth_pname" not in entry:
        raise ConfigError(f"{where}: needs synth_pname and synth_val")
    pname = str(entry["synth_pname"])
    units = str(entry.get("synth_units", "natural"))
    extra: dict[str, Any] = {}
    if "synth_val" in entry:  # newest shape: the synth is set with synth_val
        synth_value = _number(entry, "synth_val", where)
    else:  # the in-between shape set the synth with user_pval
        synth_value = _number(entry, "user_pval", where)
        extra = {"minval": _number(entry, "user_minval", where),
                 "maxval": _number(entry, "user_maxval", where),
                 "orig_minval": _number(entry, "synth_minval", where),
                 "orig_maxval": _number(entry, "synth_maxval", where)}
    # makeName: user_pname-user_pval where the entry has them, else synth_pname-synth_val
    if "user_pname" in entry and "user_pval" in entry:
        name, value = entry["user_pname"], _number(entry, "user_pval", where)
        name_field = "user_pname"
    else:
        name, value, name_field = pname, synth_value, "synth_pname"
    name = safe_name(name, what=f"{where}.{name_field}", error=ConfigError)
    natural = _to_natural(synth, model, pname, np.array([synth_value]), units, f"{where} ({pname})")
    ours, values = _to_ours(synth, model, pname, natural, f"{where} ({pname})")
    spec = DSGeneratorFixed(synth_pname=pname, parameter=ours, name=name, value=value, units=units,
                            synth_value=synth_value, user_doc=str(entry.get("user_doc", "")), **extra)
    return spec, float(values[0])


def dsgenerator_to_config(data: dict[str, Any], *, source: str = "<config>") -> dict[str, Any]:
    """Translate a DSGenerator config into a :class:`~timbrespace.datasets.DatasetConfig` dict.

    Parameters
    ----------
    data : dict
        The parsed ``config_file.json``, older or newer shape (module docstring).
    source : str
        Named in error messages (the file).

    Returns
    -------
    dict
        ``sound_model`` (``pop``/``drip``, or the registered model named), ``parameters``
        (explicit values in our units, ``label``/``label_values`` from
        ``user_pname``/``user_*``), ``fixed``, ``variations``, ``naming: dsgenerator`` and
        ``dsgenerator`` (a :class:`DSGeneratorSpec` as a dict).

    Raises
    ------
    ConfigError
        Unknown ``soundname`` (the message lists DSGenerator's and our registered models),
        ``recordFormat``, ``tftype`` or parameter; a missing or non-numeric
        field (``shard_size`` for ``tftype: shards``); ``cf`` not in Hz or outside our range (with the values to use); two
        entries setting one parameter. The message names ``source`` and the entry.
    """
    from timbrespace.synths.registry import get_sound_model

    unknown = sorted(set(data) - _KNOWN_KEYS)
    if unknown:
        log.warning("%s: ignoring DSGenerator keys %s", source, ", ".join(unknown))
    soundname = safe_name(data["soundname"], what=f"{source}: soundname", error=ConfigError)
    synth = _synth_for(soundname, source)
    model = get_sound_model(synth.model)
    record_format = _record_format(data, source)
    tf_type, shard_size_mb = _tf_type(data, source) if record_format == "tfrecords" else ("single", None)
    sample_rate = _number(data, "samplerate", source) if "samplerate" in data else 16000
    duration = _number(data, "soundDuration", source)
    if "chunkSecs" in data:
        chunk = _number(data, "chunkSecs", source)
    elif "numVariations" in data:
        chunk = duration / _number(data, "numVariations", source)
    else:
        raise ConfigError(f"{source}: DSGenerator config needs chunkSecs (seconds per file)")
    older_units = str(data.get("paramRange", "natural")).lower()
    raw_params = data.get("params")
    if not isinstance(raw_params, list) or not raw_params:
        raise ConfigError(f"{source}: params must be a non-empty list of swept parameters")
    swept = [_swept(p, k, synth, model, older_units, source) for k, p in enumerate(raw_params)]
    fixed = [_fixed(p, k, synth, model, source) for k, p in enumerate(data.get("fixedParams") or [])]
    names = [s.parameter for s, _ in swept] + [f.parameter for f, _ in fixed]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise ConfigError(f"{source}: {', '.join(twice)} set by two entries of params/fixedParams")
    spec = DSGeneratorSpec(
        soundname=soundname, record_format=record_format, tf_type=tf_type,
        shard_size_mb=shard_size_mb, sound_duration_s=duration,
        params=[s for s, _ in swept], fixed=[f for f, _ in fixed],
    )
    return {
        "name": str(data.get("outPath") or soundname),
        "sound_model": synth.model,
        "sample_rate": int(sample_rate),
        "fixed": {f.parameter: value for f, value in fixed},
        "parameters": {
            s.parameter: {"values": values.tolist(), "label": s.user_pname,
                          "label_values": s.user_values}
            for s, values in swept
        },
        "sampling": {"method": "grid"},
        "variations": {"sound_duration_s": duration, "chunk_s": chunk},
        "naming": "dsgenerator",
        "dsgenerator": spec.model_dump(mode="json"),
    }


def dsgenerator_name(
    sound: str,
    labels: Sequence[str],
    values: Sequence[float],
    variation: int,
    *,
    fixed: Sequence[tuple[str, float]] = (),
) -> str:
    """DSGenerator's file stem (``makeName``): ``{sound}--{fixed}-{v:05.2f}--{param}-{v:05.2f}--...--v-{NNN}``.

    Parameters
    ----------
    sound : str
        ``soundname`` in its own case.
    labels, values : sequence
        Swept parameters' names (``user_pname``) and this file's values (``user_*``).
    variation : int
        Variation number (chunk of the long signal).
    fixed : sequence of (str, float)
        Fixed parameters' names and values (``user_pname``/``user_pval``, else
        ``synth_pname``/``synth_val``), written first, as ``makeName`` does.

    Examples
    --------
    >>> from timbrespace.datasets.dsgenerator import dsgenerator_name
    >>> dsgenerator_name("Pop", ["rate", "cf"], [1.0, 0.5], 3, fixed=[("rate_exp", 0.5)])
    'Pop--rate_exp-00.50--rate-01.00--cf-00.50--v-003'
    >>> dsgenerator_name("PopPatternSynth", ["Irregularity"], [1 / 3], 0, fixed=[("Rate", 4.0)])
    'PopPatternSynth--Rate-04.00--Irregularity-00.33--v-000'
    """
    parts = [sound] + [f"{name}-{float(v):05.2f}" for name, v in fixed]
    parts += [f"{name}-{float(v):05.2f}" for name, v in zip(labels, values, strict=True)]
    return "--".join(parts) + f"--v-{int(variation):03d}"
