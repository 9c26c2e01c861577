"""DSGenerator's records beside the audio: ``.params``, ``nsjson.json`` or TFRecords (seed 003).

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
``tfrecords``
    TFRecord files of ``tf.train.Example`` records as tfrecordManager writes them, written
    with the ``tfrecord`` package (no TensorFlow). ``tftype: single`` (the default): one
    ``<file stem>.tfrecord`` per WAV, in the WAV's folder, holding its one record;
    ``tftype: shards``: ``shard{N}.tfrecord`` beside the WAVs, each holding every variation
    of consecutive settings, ``ceil(samplerate * 2 * n_settings * soundDuration /
    (shard_size * 1024**2))`` shards (16-bit audio bytes per ``shard_size`` MB). A record's
    features: ``pfname`` (bytes_list: the WAV's name), ``soundDuration`` (float_list
    ``[0, soundDuration]``), ``audio`` (float_list: the item's samples as the dataset holds
    them), ``segmentNum`` (int64_list: the variation), and per swept then fixed parameter
    ``<synth_pname>`` (float_list: the user value, or a fixed one's ``synth_val``),
    ``<synth_pname>_synth_units`` (bytes_list), ``<synth_pname>_user_nvals`` (int64_list),
    ``<synth_pname>_user_minval``, ``_user_maxval``, ``_synth_minval``, ``_synth_maxval``
    (float_list; ``inf`` for fixed parameters, and for ``synth_*`` where an older config
    gives none).

Differences from DSGenerator, on purpose: ``nsjson.json`` holds every file (DSGenerator
rewrote it once per setting, keeping only the last setting's files), and ``meta.filename``
names the WAV (DSGenerator passed the parameter file's own name, which paramManager's
``checkIntegrity`` then fails to find). In TFRecords, ``pfname`` names the WAV
(DSGenerator wrote ``<outputpath>/<stem>.params``, a file a ``tfrecords`` run never
writes); a swept parameter's ``_user_nvals`` and ranges are the config's (tfrecordManager
tested ``hasattr`` on a dict, always false, so it wrote 1 and ``inf`` for every parameter);
shards keep every setting (DSGenerator dropped the settings left over after
``floor(n_settings / n_shards)`` per shard, and all of them when there were more shards
than settings); features are serialised with sorted keys, so a config gives the same bytes
on every run.

References
----------
prashanthtr/DSGenerator ``generate.py`` (``enumerate``); prashanthtr/DSSynth_template
``mypop_001/parammanager/paramManager.py`` (``pdict``, ``addParam``, ``addMetaParam``) and
``mypop_001/nsjsonmanager/nsjson.py`` (``storeSingleRecord``, ``addParams``);
prashanthtr/tfrecordmanager ``tfrecordManager.py`` @ 5d679fd (``__addFeatureData__``,
``__addParam__``, ``__tfwriteOne__``, ``__tfwriteN__``) and its ``sampleDir/shard0.tfrecord``.
"""

from __future__ import annotations

import json
import math
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf

from timbrespace.datasets.config import DatasetConfig
from timbrespace.datasets.dsgenerator import CF_REF_HZ, DSGeneratorSpec
from timbrespace.synths.registry import get_sound_model
from timbrespace.utils.atomic import atomic_path, atomic_write_text

__all__ = ["params_record", "nsjson_record", "tfrecord_example", "tfrecord_shards",
           "write_dsgenerator_records", "NSJSON_FILE"]

#: A ``tfrecord`` writer datum: feature name -> (value, "float" | "int" | "byte").
TFDatum = dict[str, tuple[Any, str]]

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


def _tf_param(name: str, value: float, units: str, nvals: int,
              ranges: Sequence[float | None]) -> TFDatum:
    """tfrecordManager's ``__addParam__`` features of one parameter."""
    user_min, user_max, synth_min, synth_max = (math.inf if v is None else float(v) for v in ranges)
    return {
        name: (float(value), "float"),
        f"{name}_synth_units": (units.encode("utf-8"), "byte"),
        f"{name}_user_nvals": (int(nvals), "int"),
        f"{name}_user_minval": (user_min, "float"),
        f"{name}_user_maxval": (user_max, "float"),
        f"{name}_synth_minval": (synth_min, "float"),
        f"{name}_synth_maxval": (synth_max, "float"),
    }


def tfrecord_example(spec: DSGeneratorSpec, grid: tuple[int, ...], variation: int, wav_name: str,
                     audio: np.ndarray) -> TFDatum:
    """One WAV's ``tf.train.Example`` as DSGenerator's tfrecordManager fills it.

    Parameters
    ----------
    spec : DSGeneratorSpec
    grid : tuple of int
        The file's grid index of each swept parameter.
    variation : int
        The WAV's variation (``segmentNum``).
    wav_name : str
        The WAV's file name (``pfname``).
    audio : np.ndarray [shape=(n_samples,)]
        The item's samples (written as float32).

    Returns
    -------
    dict
        Feature name -> ``(value, kind)``, the datum of ``tfrecord.writer.TFRecordWriter``
        (``float``: float_list, ``int``: int64_list, ``byte``: bytes_list); the features
        and their order are the module docstring's.
    """
    datum: TFDatum = {
        "pfname": (wav_name.encode("utf-8"), "byte"),
        "soundDuration": ([0.0, float(spec.sound_duration_s)], "float"),
        "audio": (np.asarray(audio, dtype=np.float32).reshape(-1), "float"),
        "segmentNum": (int(variation), "int"),
    }
    for p, k in zip(spec.params, grid, strict=True):
        datum.update(_tf_param(p.synth_pname, p.user_values[k], p.units, len(p.user_values),
                               (p.minval, p.maxval, p.orig_minval, p.orig_maxval)))
    for f in spec.fixed:
        value = f.value if f.synth_value is None else f.synth_value  # what the synth was set to
        datum.update(_tf_param(f.synth_pname, value, f.units, 1, (None,) * 4))
    return datum


def tfrecord_shards(n_settings: int, sound_duration_s: float, sample_rate: int,
                    shard_size_mb: float) -> list[np.ndarray]:
    """The settings of each shard (``tftype: shards``): consecutive, every one kept.

    DSGenerator's count of shards, ``ceil(sample_rate * 2 * n_settings * sound_duration_s /
    (shard_size_mb * 1024**2))``, at most one per setting; ``np.array_split`` gives the first
    shards one setting more where the count does not divide.

    Examples
    --------
    >>> from timbrespace.datasets.dsgenerator_records import tfrecord_shards
    >>> [s.tolist() for s in tfrecord_shards(5, 4.0, 16000, 0.25)]
    [[0, 1], [2, 3], [4]]
    """
    audio_bytes = sample_rate * 2 * n_settings * sound_duration_s  # 16-bit, as DSGenerator counts
    n_shards = min(math.ceil(audio_bytes / (shard_size_mb * 1024**2)), n_settings)
    return np.array_split(np.arange(n_settings), max(n_shards, 1))


def _write_tfrecord(path: Path, examples: Iterable[TFDatum]) -> Path:
    """Write ``examples`` to one TFRecord file atomically with the ``tfrecord`` package."""
    from tfrecord import example_pb2  # imports torch where installed: only when asked for
    from tfrecord.writer import TFRecordWriter

    with atomic_path(path) as tmp:
        writer = TFRecordWriter(str(tmp))
        try:
            for datum in examples:
                # TFRecordWriter.write serialises the feature map in protobuf's hash order, which
                # changes from process to process; sorted keys give the same bytes on every run.
                example = example_pb2.Example.FromString(TFRecordWriter.serialize_tf_example(datum))
                record = example.SerializeToString(deterministic=True)
                length = struct.pack("<Q", len(record))
                writer.file.write(length + TFRecordWriter.masked_crc(length)
                                  + record + TFRecordWriter.masked_crc(record))
        finally:
            writer.close()
    return path


def _write_tfrecords(root: Path, spec: DSGeneratorSpec, paths: list[str], n_var: int,
                     sample_rate: int) -> list[Path]:
    def example(i: int) -> TFDatum:
        wav = root / paths[i]
        audio, _ = sf.read(wav, dtype="float32", always_2d=False)
        return tfrecord_example(spec, _grid_indices(spec, i // n_var), i % n_var, wav.name, audio)

    if spec.tf_type == "single":
        return [_write_tfrecord((root / rel).with_suffix(".tfrecord"), [example(i)])
                for i, rel in enumerate(paths)]
    assert spec.shard_size_mb is not None  # validated with tftype
    folder = (root / paths[0]).parent
    shards = tfrecord_shards(len(paths) // n_var, spec.sound_duration_s, sample_rate, spec.shard_size_mb)
    return [
        _write_tfrecord(folder / f"shard{k}.tfrecord",
                        (example(i) for s in settings for i in range(s * n_var, (s + 1) * n_var)))
        for k, settings in enumerate(shards)
    ]


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
    if spec.record_format == "tfrecords":
        return _write_tfrecords(root, spec, paths, n_var, config.sample_rate)
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
