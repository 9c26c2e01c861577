"""DSGenerator configs as its repositories write them (seed 003): shapes, sound names, units, names.

The fixture configs are shortened copies (fewer values, shorter sounds, 8 kHz) of real ones;
each names the repository file and commit it is modelled on.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from timbrespace.cli import main
from timbrespace.datasets import generate_dataset, load_dataset_config
from timbrespace.datasets.config import config_from_dict
from timbrespace.datasets.dsgenerator import DSGENERATOR_SYNTHS, dsgenerator_name
from timbrespace.errors import ConfigError

# prashanthtr/DSGenerator config_file.json @ ee82d4a ("Simplified specs for fixed params"):
# newer shape, user_*/synth_*, cf in Hz, a fixed rate_exp, recordFormat params.
NEWER_POP: dict[str, Any] = {
    "soundname": "Pop",
    "samplerate": 8000,
    "chunkSecs": 0.25,
    "soundDuration": 0.5,
    "recordFormat": "params",
    "params": [
        {
            "user_pname": "Irregularity",
            "user_minval": 0,
            "user_maxval": 1,
            "user_nvals": 2,
            "user_doc": "map to natural synth irregularity param [0, 1]",
            "synth_pname": "irreg_exp",
            "synth_minval": 0,
            "synth_maxval": 1,
            "synth_units": "natural",
        },
        {
            "user_pname": "center frequency",
            "user_minval": 220,
            "user_maxval": 440,
            "user_nvals": 2,
            "user_doc": "map to normed synth frequency param [220, 440]",
            "synth_pname": "cf",
            "synth_minval": 220,
            "synth_maxval": 440,
            "synth_units": "natural",
        },
    ],
    "fixedParams": [
        {"user_doc": "rate of Pop sounds", "synth_pname": "rate_exp", "synth_val": 2,
         "synth_units": "natural"}
    ],
}

# prashanthtr/popTextureDS config_file.json @ 3f694c8: soundname = the class name
# PopPatternSynth, recordFormat nsjson, rate_exp fixed in norm units (0.5 of -10..10).
NSJSON_POP: dict[str, Any] = {
    **copy.deepcopy(NEWER_POP),
    "soundname": "PopPatternSynth",
    "recordFormat": "nsjson",
    "fixedParams": [
        {"user_doc": "rate of Pop sounds", "synth_pname": "rate_exp", "synth_val": 0.5,
         "synth_units": "norm"}
    ],
}

# prashanthtr/dripTextureDS config_file.json @ 31e35aa ("DripPatternSynth", rate_exp norm 0.6)
# with the class name of its earlier model file, myDripPatternSynth.py (MyDripPatternSynth),
# and cf swept in norm units over that synth's cf range 55..220 Hz.
MYDRIP: dict[str, Any] = {
    "soundname": "MyDripPatternSynth",
    "samplerate": 8000,
    "chunkSecs": 0.25,
    "soundDuration": 0.5,
    "outPath": "Drip",
    "recordFormat": "params",
    "params": [
        {
            "user_pname": "center_frequency",
            "user_minval": 0,
            "user_maxval": 1,
            "user_nvals": 2,
            "user_doc": "map to normed synth frequency param",
            "synth_pname": "cf",
            "synth_minval": 0.5,
            "synth_maxval": 1,
            "synth_units": "norm",
        }
    ],
    "fixedParams": [
        {"user_doc": "rate of Drips in normalized ranges", "synth_pname": "rate_exp",
         "synth_val": 0.6, "synth_units": "norm"}
    ],
}

# prashanthtr/DSGenerator config_file.json @ a1777f9 ("Added DSgenerator as module"): older
# shape, pname/minval/maxval/nvals/units/formula, paramRange Natural, cf in Hz (440..880).
OLDER_POP: dict[str, Any] = {
    "soundname": "Pop",
    "samplerate": 8000,
    "chunkSecs": 0.25,
    "soundDuration": 0.5,
    "outPath": "PopFiles",
    "recordFormat": "params",
    "paramRange": "Natural",
    "params": [
        {"pname": "rate", "minval": 0.25, "maxval": 0.5, "nvals": 2, "units": "rate = 2*exp",
         "formula": "2**args[0]"},
        {"pname": "irreg", "minval": 0, "maxval": 1, "nvals": 2,
         "units": "sd = irregularity/events per second", "formula": ".04*10**args[0]/args[1]"},
        {"pname": "cf", "minval": 440, "maxval": 880, "nvals": 2, "nargs": 1,
         "units": "Frequency", "formula": "440**args[0]"},
    ],
}


def _write(tmp_path: Path, data: dict[str, Any], name: str = "config_file.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def test_newer_shape_names_values_and_cf_in_hz(tmp_path: Path) -> None:
    config = load_dataset_config(_write(tmp_path, NEWER_POP))
    assert config.sound_model == "pop" and config.naming == "dsgenerator"
    assert list(config.parameters) == ["irreg_exp", "cf_exp"]
    # cf = 440 * 2**cf_exp: 220 Hz and 440 Hz are cf_exp -1 and 0
    np.testing.assert_allclose(config.parameters["cf_exp"].values, [-1.0, 0.0], atol=1e-12)
    assert config.fixed == {"rate_exp": 2.0}
    assert config.n_variations == 2 and config.n_items == 8
    ds = generate_dataset(config, tmp_path / "pop", workers=1, progress=False)
    names = ds.metadata["audio_path"].tolist()
    # makeName: soundname in its own case, fixed parameters first, then user names and values
    assert names[0] == "audio/Pop--rate_exp-02.00--Irregularity-00.00--center frequency-220.00--v-000.wav"
    assert names[-1] == "audio/Pop--rate_exp-02.00--Irregularity-01.00--center frequency-440.00--v-001.wav"
    assert all(sf.info(str(ds.root / n)).frames == 2000 for n in names)
    np.testing.assert_allclose(ds.metadata["cf_exp"].unique(), [-1.0, 0.0], atol=1e-12)


def test_older_shape(tmp_path: Path) -> None:
    config = config_from_dict(copy.deepcopy(OLDER_POP))
    assert list(config.parameters) == ["rate_exp", "irreg_exp", "cf_exp"]
    np.testing.assert_allclose(config.parameters["rate_exp"].values, [0.25, 0.5])
    np.testing.assert_allclose(config.parameters["cf_exp"].values, [0.0, 1.0], atol=1e-12)
    ds = generate_dataset(config, tmp_path / "old", workers=1, progress=False)
    assert ds.metadata["audio_path"].iloc[0] == "audio/Pop--rate-00.25--irreg-00.00--cf-440.00--v-000.wav"
    assert len(ds) == 16
    # the first DSGenerator configs (@ 8ba4a41) gave numVariations instead of chunkSecs
    first = {k: v for k, v in OLDER_POP.items() if k != "chunkSecs"} | {"numVariations": 2}
    assert config_from_dict(first).n_variations == 2
    # paramRange Norm maps every value over the DSGenerator synth's range: rate -10..10
    norm = copy.deepcopy(OLDER_POP) | {"paramRange": "Norm"}
    norm["params"] = [{"pname": "rate", "minval": 0.5, "maxval": 0.6, "nvals": 2}]
    np.testing.assert_allclose(config_from_dict(norm).parameters["rate_exp"].values, [0.0, 2.0])


@pytest.mark.parametrize(
    ("soundname", "model"),
    [("Pop", "pop"), ("PopPatternSynth", "pop"), ("MyPopPatternSynth", "pop"),
     ("myPop_001", "pop"), ("mypop", "pop"), ("Drip", "drip"), ("DripPatternSynth", "drip"),
     ("MyDripPatternSynth", "drip"), ("drip", "drip")],
)
def test_soundname_is_the_model_file_and_class_name(soundname: str, model: str) -> None:
    config = config_from_dict(copy.deepcopy(NEWER_POP) | {"soundname": soundname})
    assert config.sound_model == model and config.dsgenerator is not None
    assert config.dsgenerator.soundname == soundname


def test_norm_units_map_over_the_dsgenerator_synth_range() -> None:
    # DSGenerator's setParamNorm: min + v (max - min) over the synth's own range
    drip = config_from_dict(copy.deepcopy(MYDRIP))
    assert drip.sound_model == "drip" and drip.name == "Drip"
    lo, hi = DSGENERATOR_SYNTHS["mydrippatternsynth"].ranges["cf"]
    cf_hz = lo + np.array([0.5, 1.0]) * (hi - lo)  # 137.5 and 220 Hz
    np.testing.assert_allclose(drip.parameters["cf_exp"].values, np.log2(cf_hz / 440), atol=1e-12)
    np.testing.assert_allclose(drip.fixed["rate_exp"], -10 + 0.6 * 20)  # 2: 4 events/s
    pop = config_from_dict(copy.deepcopy(NSJSON_POP))
    assert pop.fixed == {"rate_exp": 0.0}
    # a parameter no DSGenerator synth declares (our cf_exp) is normed over our own range -2..4
    data = copy.deepcopy(NEWER_POP)
    data["params"] = data["params"][:1]
    data["fixedParams"] = [{"synth_pname": "cf_exp", "synth_val": 0.5, "synth_units": "norm"}]
    assert config_from_dict(data).fixed == {"cf_exp": 1.0}


def test_in_between_fixed_shape() -> None:
    # prashanthtr/DSGenerator config_file.json @ 9c62930: fixedParams with user_pname/user_pval
    data = copy.deepcopy(NEWER_POP)
    data["params"][0]["synth_pname"] = "irreg"
    data["fixedParams"] = [{"user_pname": "rate", "user_pval": 0.6, "user_minval": 0,
                            "user_maxval": 1, "user_doc": "", "synth_pname": "rate",
                            "synth_minval": 0.25, "synth_maxval": 0.5, "synth_units": "norm"}]
    config = config_from_dict(data)
    np.testing.assert_allclose(config.fixed["rate_exp"], -10 + 0.6 * 20)
    assert list(config.parameters)[0] == "irreg_exp"
    from timbrespace.datasets.design import build_design, build_metadata

    meta, _ = build_metadata(config, build_design(config))
    assert meta["audio_path"].iloc[0].startswith("audio/Pop--rate-00.60--Irregularity-00.00--")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"recordFormat": "hdf5"}, r"recordFormat 'hdf5' is not supported; use \"params\".*\"tfrecords\""),
        ({"recordFormat": ["params"]}, r"recordFormat \['params'\] is not supported"),
        ({"recordFormat": "tfrecords", "tftype": "glummed"},
         r"tftype 'glummed' is not supported; use \"single\" .* or \"shards\""),
        # prashanthtr/DSGenerator config_file.json @ 4e1bfba with its shard_size left out
        ({"recordFormat": "tfrecords", "tftype": "shards"}, r"missing 'shard_size'"),
        ({"recordFormat": "tfrecords", "tftype": "shards", "shard_size": 0},
         r"shard_size=0 must be a positive number of MB"),
        ({"soundname": "Engine_0001"}, r"soundname 'Engine_0001' is not a DSGenerator sound model.*MyPopPatternSynth"),
        # popTextureDS config_file.json @ 3263826 swept cf 0..1 (exponents of an older synth)
        ({"params": [{"pname": "cf", "minval": 0, "maxval": 1, "nvals": 2}]},
         r"params\[0\] \(cf\): cf=0 Hz is not a frequency.*rename the parameter .* cf_exp"),
        # dripTextureDS DripPatternSynth's cf range 55..220 Hz is below our 110 Hz
        ({"params": [{"pname": "cf", "minval": 55, "maxval": 220, "nvals": 2}]},
         r"cf 55..220 Hz gives cf_exp -3..-1, outside the pop model's -2..4 \(110..7040 Hz\); keep cf within 110..7040 Hz"),
        ({"fixedParams": [{"synth_pname": "Q", "synth_val": 40, "synth_units": "natural"}]},
         r"fixedParams\[0\] \(Q\): 'Q' is not a parameter of timbrespace's pop model.*remove it"),
        ({"fixedParams": [{"synth_pname": "Q", "synth_val": 0.5, "synth_units": "norm"}]},
         r"fixedParams\[0\] \(Q\): 'Q' is not a parameter of timbrespace's pop model.*remove it"),
        ({"params": [{"pname": "rate", "minval": 2, "maxval": 9, "nvals": 2}]},
         r"rate_exp=9 is out of range: allowed -2..6"),
        ({"params": [{"pname": "rate", "minval": "low", "maxval": 9, "nvals": 2}]},
         r"params\[0\]: minval='low' is not a number"),
        ({"params": [{"pname": "rate", "minval": 0, "maxval": 1, "nvals": 2},
                     {"synth_pname": "rate_exp", "synth_minval": 0, "synth_maxval": 1,
                      "user_minval": 0, "user_maxval": 1, "user_nvals": 2}]},
         r"rate_exp set by two entries"),
        ({"params": [{"pname": "rate", "minval": 0, "maxval": 1, "nvals": 2,}],
          "paramRange": "Percent"}, r"synth_units='percent' is not one of natural, norm"),
    ],
)
def test_bad_configs_refused_with_the_fix(tmp_path: Path, change: dict[str, Any], message: str) -> None:
    path = _write(tmp_path, copy.deepcopy(OLDER_POP) | change, "bad.json")
    with pytest.raises(ConfigError, match=r"bad.json.*" + message):
        load_dataset_config(path)


def test_cli_generates_a_real_config_and_refuses_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["generate", str(_write(tmp_path, NSJSON_POP)), "--out", str(tmp_path / "d"),
          "--workers", "1", "--no-progress"])
    assert (tmp_path / "d" / "audio" / "nsjson.json").is_file()
    bad = _write(tmp_path, copy.deepcopy(NEWER_POP) | {"recordFormat": "tfrecord"}, "tf.json")
    with pytest.raises(SystemExit) as exc:
        main(["generate", str(bad), "--out", str(tmp_path / "tf"), "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert exc.value.code == 2 and len(err) == 1 and err[0].startswith("error:")
    assert "recordFormat 'tfrecord' is not supported" in err[0]
    assert not (tmp_path / "tf").exists()


def test_dsgenerator_name_format() -> None:
    assert dsgenerator_name("pop", ["rate", "cf"], [2.0, 0.256], 7) == "pop--rate-02.00--cf-00.26--v-007"
    assert (
        dsgenerator_name("PopPatternSynth", ["Irregularity", "center frequency"], [0.6667, 220.0], 1,
                         fixed=[("rate_exp", 0.5)])
        # DSSynth_template dataset_sample_audio/ holds this very file name
        == "PopPatternSynth--rate_exp-00.50--Irregularity-00.67--center frequency-220.00--v-001"
    )


def test_same_config_same_bytes(tmp_path: Path) -> None:
    path = _write(tmp_path, NEWER_POP)
    a = generate_dataset(path, tmp_path / "a", workers=1, progress=False)
    b = generate_dataset(path, tmp_path / "b", workers=2, batch_size=2, progress=False)
    for rel in sorted(p.relative_to(a.root / "audio") for p in (a.root / "audio").iterdir()):
        assert (a.root / "audio" / rel).read_bytes() == (b.root / "audio" / rel).read_bytes()
    # each setting's own random stream: two irregular settings differ (the seed reset its RNG)
    x, y = a.load_audio([4, 6])
    assert not np.allclose(x, y)
