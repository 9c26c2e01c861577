"""DSGenerator's records beside the audio: ``.params`` files or ``nsjson.json`` (seed 003).

A DSGenerator config's ``recordFormat`` chooses them:

``params``
    One ``<file stem>.params`` per WAV, in the WAV's folder: JSON (indent 4) in
    paramManager's layout. ``meta`` holds ``filename`` and, per parameter,
    ``<synth_pname>_user_doc`` and ``<synth_pname>_synth_doc``; then one entry per swept
    parameter, ``{"times": [0, soundDuration], "values": [v, v], "units": synth_units,
    "nvals": user_nvals, "minval": user_minval, "maxval": user_maxval, "origMinval":
    synth_minval, "origUnits": null, "origMaxval": synth_maxval}`` with ``v`` the file's
    user value, and one per fixed parameter (``values`` ``[synth_val, synth_val]``, or
    ``user_pval`` in configs without ``synth_val``; ``nvals`` 2).
``nsjson`` (``sonyGan``, its older name)
    ``nsjson.json`` (``sonyGan.json``) beside the WAVs: one object keyed by file stem, keys
    sorted, with ``sound_name``, ``samplerate``, ``sound_source_int`` (1),
    ``sound_source_str`` (``Generated``), ``sound_source``, and per swept parameter
    ``<synth_pname>_norm`` (the user value) and ``<synth_pname>_natural`` (the synth's
    natural value), plus ``midi_num = round(12 log2(cf / 440)) + 69`` for ``cf``.

Differences from DSGenerator, on purpose: ``nsjson.json`` holds every file (DSGenerator
rewrote it once per setting, keeping only the last setting's files), and ``meta.filename``
names the WAV (DSGenerator passed the parameter file's own name, which paramManager's
``checkIntegrity`` then fails to find).

References
----------
prashanthtr/DSGenerator ``generate.py`` (``enumerate``); prashanthtr/DSSynth_template
``mypop_001/parammanager/paramManager.py`` (``pdict``, ``addParam``, ``addMetaParam``) and
``mypop_001/nsjsonmanager/nsjson.py`` (``storeSingleRecord``, ``addParams``).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timbrespace.datasets.config import DatasetConfig
from timbrespace.datasets.dsgenerator import CF_REF_HZ, DSGeneratorSpec
from timbrespace.synths.registry import get_sound_model
from timbrespace.utils.atomic import atomic_write_text

__all__ = ["params_record", "nsjson_record", "write_dsgenerator_records", "NSJSON_FILE"]

#: File written for ``nsjson`` and for its older name ``sonyGan``.
NSJSON_FILE = {"nsjson": "nsjson.json", "sonyGan": "sonyGan.json"}


def _grid_indices(spec: DSGeneratorSpec, setting: int) -> tuple[int, ...]:
    # Settings follow itertools.product over params (the first varies slowest): C order.
    shape = tuple(len(p.user_values) for p in spec.params)
    return tuple(int(i) for i in np.unravel_index(setting, shape))


def params_record(spec: DSGeneratorSpec, sound_model: str, grid: tuple[int, ...],
                  wav_name: str) -> dict[str, Any]:
    """DSGenerator's parameter file of one WAV (paramManager's ``pdict``).

    Parameters
    ----------
    spec : DSGeneratorSpec
    sound_model : str
        Our model (its parameters' docs are the ``_synth_doc`` entries).
    grid : tuple of int
        The file's grid index of each swept parameter.
    wav_name : str
        The WAV's file name (``meta.filename``).

    Returns
    -------
    dict
        ``meta`` then one entry per swept, then per fixed parameter (module docstring).
    """
    model = get_sound_model(sound_model)
    times = [0, spec.sound_duration_s]
    meta: dict[str, Any] = {"filename": wav_name}
    record: dict[str, Any] = {"meta": meta}
    for p, k in zip(spec.params, grid, strict=True):
        meta[f"{p.synth_pname}_user_doc"] = p.user_doc
        meta[f"{p.synth_pname}_synth_doc"] = model.parameter(p.parameter).doc
        value = p.user_values[k]
        record[p.synth_pname] = {
            "times": times, "values": [value, value], "units": p.units,
            "nvals": len(p.user_values), "minval": p.minval, "maxval": p.maxval,
            "origMinval": p.orig_minval, "origUnits": None, "origMaxval": p.orig_maxval,
        }
    for f in spec.fixed:
        meta[f"{f.synth_pname}_user_doc"] = f.user_doc
        meta[f"{f.synth_pname}_synth_doc"] = model.parameter(f.parameter).doc
        value = f.value if f.synth_value is None else f.synth_value  # what the synth was set to
        record[f.synth_pname] = {
            "times": times, "values": [value, value], "units": f.units, "nvals": 2,
            "minval": f.minval, "maxval": f.maxval, "origMinval": f.orig_minval,
            "origUnits": None, "origMaxval": f.orig_maxval,
        }
    return record


def nsjson_record(spec: DSGeneratorSpec, sample_rate: int, grid: tuple[int, ...]) -> dict[str, Any]:
    """One file's entry of DSGenerator's ``nsjson.json`` (unsorted; the file sorts keys)."""
    record: dict[str, Any] = {
        "sound_name": spec.soundname,
        "samplerate": int(sample_rate),
        "sound_source_int": 1,
        "sound_source_str": "Generated",
        "sound_source": spec.soundname,
    }
    for p, k in zip(spec.params, grid, strict=True):
        natural = p.synth_values[k]
        record[f"{p.synth_pname}_norm"] = float(p.user_values[k])
        record[f"{p.synth_pname}_natural"] = float(natural)
        if p.synth_pname == "cf":
            record["midi_num"] = round(12 * math.log2(natural / CF_REF_HZ)) + 69
    return record


def write_dsgenerator_records(root: str | Path, config: DatasetConfig,
                              metadata: pd.DataFrame) -> list[Path]:
    """Write the records a DSGenerator config's ``recordFormat`` asks for, beside the audio.

    Parameters
    ----------
    root : path-like
        The dataset folder; ``metadata["audio_path"]`` is relative to it.
    config : DatasetConfig
        With ``dsgenerator`` set (else nothing is written).
    metadata : pandas.DataFrame
        One row per item in design order (``audio_path``).

    Returns
    -------
    list of pathlib.Path
        The files written (atomically; existing records are replaced, so a resumed
        generation rewrites them whole).
    """
    spec = config.dsgenerator
    if spec is None or spec.record_format is None:
        return []
    root = Path(root)
    paths = metadata["audio_path"].astype(str).tolist()
    n_var = config.n_variations
    if spec.record_format == "params":
        written = []
        for i, rel in enumerate(paths):
            wav = root / rel
            record = params_record(spec, config.sound_model, _grid_indices(spec, i // n_var), wav.name)
            written.append(atomic_write_text(wav.with_suffix(".params"), json.dumps(record, indent=4)))
        return written
    records = {
        Path(rel).stem: nsjson_record(spec, config.sample_rate, _grid_indices(spec, i // n_var))
        for i, rel in enumerate(paths)
    }
    folder = (root / paths[0]).parent
    return [atomic_write_text(folder / NSJSON_FILE[spec.record_format],
                              json.dumps(records, indent=4, sort_keys=True))]
