"""DSGenerator file names byte for byte as its ``makeName`` writes them, and any sound model.

prashanthtr/DSGenerator ``filewrite.py`` ``makeName(soundName, paramArr, fixedParams, enumP, v)``::

    fname = soundName
    for each fixed parameter:  fname += '--' + <name> + '-' + '{:05.2f}'.format(<value>)
    for each swept parameter:  fname += '--' + user_pname + '-' + '{:05.2f}'.format(user value)
    fname += '--v-' + '{:03}'.format(v)

with the fixed parameter's ``<name>``/``<value>`` = ``user_pname``/``user_pval`` from
``9c62930`` to ``ee82d4a`` and ``synth_pname``/``synth_val`` since ``0d6e677``. Settings
follow ``itertools.product`` over ``params`` (the first varies slowest), variations inside.
The expected names below are written by hand from that code.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import soundfile as sf

from timbrespace.datasets import generate_dataset, load_dataset_config
from timbrespace.datasets.config import config_from_dict
from timbrespace.errors import ConfigError

# The seed's own format: newest (synth_val) fixed entry that also carries user_pname/user_pval.
RATE_NAMED_BY_USER: dict[str, Any] = {
    "soundname": "PopPatternSynth",
    "samplerate": 8000,
    "chunkSecs": 0.25,
    "soundDuration": 0.5,
    "recordFormat": "params",
    "params": [
        {"user_pname": "Irregularity", "user_minval": 0, "user_maxval": 1, "user_nvals": 4,
         "user_doc": "irregularity", "synth_pname": "irreg_exp", "synth_minval": 0,
         "synth_maxval": 1, "synth_units": "natural"},
        {"user_pname": "CenterFreq", "user_minval": 550, "user_maxval": 550, "user_nvals": 1,
         "user_doc": "centre frequency in Hz", "synth_pname": "cf", "synth_minval": 550,
         "synth_maxval": 550, "synth_units": "natural"},
    ],
    "fixedParams": [
        {"user_pname": "Rate", "user_pval": 4, "user_doc": "4 events per second",
         "synth_pname": "rate_exp", "synth_val": 2, "synth_units": "natural"},
    ],
}

# prashanthtr/DSGenerator config_file.json @ 9c62930 (in-between fixed shape), shortened.
IN_BETWEEN: dict[str, Any] = {
    "soundname": "Pop",
    "samplerate": 8000,
    "chunkSecs": 0.25,
    "soundDuration": 0.25,
    "outPath": "PopFiles",
    "recordFormat": "params",
    "params": [
        {"user_pname": "Irregularity", "user_minval": 0, "user_maxval": 1, "user_nvals": 2,
         "user_doc": "map to natural synth irregularity param [0, 1]", "synth_pname": "irreg",
         "synth_minval": 0, "synth_maxval": 1, "synth_units": "natural"},
        {"user_pname": "center frequency", "user_minval": 220, "user_maxval": 440, "user_nvals": 3,
         "user_doc": "map to normed synth frequency param [220, 440]", "synth_pname": "cf",
         "synth_minval": 220, "synth_maxval": 440, "synth_units": "natural"},
    ],
    "fixedParams": [
        {"user_pname": "rate", "user_pval": 0.6, "user_minval": 0, "user_maxval": 1,
         "user_doc": "Parameter fixed at constant value 0.5 normalized. Mapped to [0.25 to 0.5]",
         "synth_pname": "rate", "synth_minval": 0.25, "synth_maxval": 0.5, "synth_units": "norm"},
    ],
}

# DSGenerator is synth-independent: our additive model under its registry name.
ADDITIVE: dict[str, Any] = {
    "soundname": "additive",
    "samplerate": 8000,
    "chunkSecs": 0.25,
    "soundDuration": 0.5,
    "recordFormat": "nsjson",
    "params": [
        {"user_pname": "Pitch", "user_minval": 220, "user_maxval": 440, "user_nvals": 2,
         "user_doc": "f0 in Hz", "synth_pname": "f0_hz", "synth_minval": 220, "synth_maxval": 440,
         "synth_units": "natural"},
    ],
    "fixedParams": [
        {"user_doc": "ten partials", "synth_pname": "n_partials", "synth_val": 10,
         "synth_units": "natural"},
        {"user_doc": "half our decay range", "synth_pname": "decay_per_s", "synth_val": 0.5,
         "synth_units": "norm"},
    ],
}


def _generate(tmp_path: Path, data: dict[str, Any]) -> list[str]:
    path = tmp_path / "config_file.json"
    path.write_text(json.dumps(data))
    ds = generate_dataset(load_dataset_config(path), tmp_path / "out", workers=1, progress=False)
    return ds.metadata["audio_path"].tolist()


def test_fixed_parameter_named_by_user_pname_and_user_pval(tmp_path: Path) -> None:
    names = _generate(tmp_path, RATE_NAMED_BY_USER)
    assert names == [
        "audio/PopPatternSynth--Rate-04.00--Irregularity-00.00--CenterFreq-550.00--v-000.wav",
        "audio/PopPatternSynth--Rate-04.00--Irregularity-00.00--CenterFreq-550.00--v-001.wav",
        "audio/PopPatternSynth--Rate-04.00--Irregularity-00.33--CenterFreq-550.00--v-000.wav",
        "audio/PopPatternSynth--Rate-04.00--Irregularity-00.33--CenterFreq-550.00--v-001.wav",
        "audio/PopPatternSynth--Rate-04.00--Irregularity-00.67--CenterFreq-550.00--v-000.wav",
        "audio/PopPatternSynth--Rate-04.00--Irregularity-00.67--CenterFreq-550.00--v-001.wav",
        "audio/PopPatternSynth--Rate-04.00--Irregularity-01.00--CenterFreq-550.00--v-000.wav",
        "audio/PopPatternSynth--Rate-04.00--Irregularity-01.00--CenterFreq-550.00--v-001.wav",
    ]
    # the synth is set from synth_val (rate_exp 2: 4 events/s), and the .params record
    # holds synth_val as DSGenerator's does
    config = load_dataset_config(tmp_path / "config_file.json")
    assert config.fixed == {"rate_exp": 2.0}
    params = json.loads((tmp_path / "out" / names[0]).with_suffix(".params").read_text())
    assert params["rate_exp"]["values"] == [2.0, 2.0]
    assert params["meta"]["filename"] == Path(names[0]).name


def test_in_between_config_names(tmp_path: Path) -> None:
    names = _generate(tmp_path, IN_BETWEEN)
    assert names == [
        "audio/Pop--rate-00.60--Irregularity-00.00--center frequency-220.00--v-000.wav",
        "audio/Pop--rate-00.60--Irregularity-00.00--center frequency-330.00--v-000.wav",
        "audio/Pop--rate-00.60--Irregularity-00.00--center frequency-440.00--v-000.wav",
        "audio/Pop--rate-00.60--Irregularity-01.00--center frequency-220.00--v-000.wav",
        "audio/Pop--rate-00.60--Irregularity-01.00--center frequency-330.00--v-000.wav",
        "audio/Pop--rate-00.60--Irregularity-01.00--center frequency-440.00--v-000.wav",
    ]


def test_newest_fixed_shape_is_named_by_synth_pname_and_synth_val() -> None:
    # config_file.json @ 0d6e677 and later: no user_pname/user_pval, so makeName writes
    # synth_pname-synth_val (DSSynth_template's sample audio has such names)
    data = copy.deepcopy(RATE_NAMED_BY_USER)
    data["fixedParams"] = [{"synth_pname": "rate_exp", "synth_val": 2, "synth_units": "natural"}]
    from timbrespace.datasets.design import build_design, build_metadata

    config = config_from_dict(data)
    meta, _ = build_metadata(config, build_design(config))
    assert meta["audio_path"].iloc[2] == (
        "audio/PopPatternSynth--rate_exp-02.00--Irregularity-00.33--CenterFreq-550.00--v-000.wav"
    )


def test_any_registered_sound_model_generates(tmp_path: Path) -> None:
    names = _generate(tmp_path, ADDITIVE)
    assert names == [
        "audio/additive--n_partials-10.00--decay_per_s-00.50--Pitch-220.00--v-000.wav",
        "audio/additive--n_partials-10.00--decay_per_s-00.50--Pitch-220.00--v-001.wav",
        "audio/additive--n_partials-10.00--decay_per_s-00.50--Pitch-440.00--v-000.wav",
        "audio/additive--n_partials-10.00--decay_per_s-00.50--Pitch-440.00--v-001.wav",
    ]
    config = load_dataset_config(tmp_path / "config_file.json")
    assert config.sound_model == "additive"
    # norm spans our own range: decay_per_s 0..50 /s
    assert config.fixed == {"n_partials": 10.0, "decay_per_s": 25.0}
    assert config.parameters["f0_hz"].values == [220.0, 440.0]
    assert all(sf.info(str(tmp_path / "out" / n)).frames == 2000 for n in names)
    records = json.loads((tmp_path / "out" / "audio" / "nsjson.json").read_text())
    assert records[Path(names[2]).stem]["f0_hz_natural"] == 440.0


def test_soundname_any_case_of_a_registered_model() -> None:
    config = config_from_dict(copy.deepcopy(ADDITIVE) | {"soundname": "FM_Moog", "params": [
        {"user_pname": "Index", "user_minval": 0, "user_maxval": 1, "user_nvals": 2,
         "synth_pname": "index", "synth_minval": 0, "synth_maxval": 1, "synth_units": "norm"}],
        "fixedParams": []})
    assert config.sound_model == "fm_moog" and config.dsgenerator is not None
    assert config.dsgenerator.soundname == "FM_Moog"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"soundname": "Engine"},
         r"soundname 'Engine' is not a DSGenerator sound model.*MyPopPatternSynth.*"
         r"or a timbrespace sound model: additive, .*fm_moog.*pop"),
        # cf in Hz is DSGenerator's pop/drip parameter, not additive's
        ({"fixedParams": [{"synth_pname": "cf", "synth_val": 440, "synth_units": "natural"}]},
         r"fixedParams\[0\] \(cf\): 'cf' is not a parameter of timbrespace's additive model "
         r"\(it has f0_hz, .*snr_db\); remove it"),
        ({"soundname": "../pop"}, r"soundname='../pop' cannot be part of a file name"),
        ({"fixedParams": [{"user_pname": "../x", "user_pval": 1, "synth_pname": "n_partials",
                           "synth_val": 10, "synth_units": "natural"}]},
         r"fixedParams\[0\]\.user_pname='../x' cannot be part of a file name"),
    ],
)
def test_refused_with_one_clear_error(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(copy.deepcopy(ADDITIVE) | change))
    with pytest.raises(ConfigError, match=r"bad.json.*" + message):
        load_dataset_config(path)
