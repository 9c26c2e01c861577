"""DSGenerator's records (seed 003): a .params JSON beside each WAV, or nsjson.json."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import pytest

from timbrespace.datasets import generate_dataset, load_dataset_config
from timbrespace.datasets.config import config_from_dict
from timbrespace.errors import ConfigError
from timbrespace.synths import get_sound_model

from .test_dsgenerator import NEWER_POP, NSJSON_POP, OLDER_POP


def _generate(tmp_path: Path, data: dict, name: str = "d"):
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(data))
    return generate_dataset(path, tmp_path / name, workers=1, progress=False)


def test_params_file_beside_each_wav(tmp_path: Path) -> None:
    ds = _generate(tmp_path, NEWER_POP)
    wavs = sorted((ds.root / "audio").glob("*.wav"))
    params = sorted((ds.root / "audio").glob("*.params"))
    assert len(wavs) == len(params) == 8
    assert [p.stem for p in params] == [w.stem for w in wavs]
    name = "Pop--rate_exp-02.00--Irregularity-01.00--center frequency-220.00--v-001"
    text = (ds.root / "audio" / f"{name}.params").read_text()
    doc = {p.name: p.doc for p in get_sound_model("pop").parameters}
    # what DSGenerator's generate.py (paramManager addParam/addMetaParam) writes for this file
    expected = {
        "meta": {
            "filename": f"{name}.wav",
            "irreg_exp_user_doc": "map to natural synth irregularity param [0, 1]",
            "irreg_exp_synth_doc": doc["irreg_exp"],
            "cf_user_doc": "map to normed synth frequency param [220, 440]",
            "cf_synth_doc": doc["cf_exp"],
            "rate_exp_user_doc": "rate of Pop sounds",
            "rate_exp_synth_doc": doc["rate_exp"],
        },
        "irreg_exp": {"times": [0, 0.5], "values": [1.0, 1.0], "units": "natural", "nvals": 2,
                      "minval": 0, "maxval": 1, "origMinval": 0, "origUnits": None, "origMaxval": 1},
        "cf": {"times": [0, 0.5], "values": [220.0, 220.0], "units": "natural", "nvals": 2,
               "minval": 220, "maxval": 440, "origMinval": 220, "origUnits": None, "origMaxval": 440},
        "rate_exp": {"times": [0, 0.5], "values": [2.0, 2.0], "units": "natural", "nvals": 2,
                     "minval": 0, "maxval": 1, "origMinval": None, "origUnits": None, "origMaxval": None},
    }
    record = json.loads(text)
    assert record == expected
    assert list(record) == ["meta", "irreg_exp", "cf", "rate_exp"]  # paramManager's order
    assert text.startswith('{\n    "meta": {\n        "filename"')  # json.dumps(indent=4)
    assert not (ds.root / "audio" / "nsjson.json").exists()


def test_nsjson_holds_every_file(tmp_path: Path) -> None:
    ds = _generate(tmp_path, NSJSON_POP)
    records = json.loads((ds.root / "audio" / "nsjson.json").read_text())
    stems = sorted(Path(p).stem for p in ds.metadata["audio_path"])
    assert sorted(records) == stems and len(stems) == 8
    rec = records["PopPatternSynth--rate_exp-00.50--Irregularity-00.00--center frequency-440.00--v-001"]
    assert rec == {
        "sound_name": "PopPatternSynth", "samplerate": 8000, "sound_source_int": 1,
        "sound_source_str": "Generated", "sound_source": "PopPatternSynth",
        "irreg_exp_norm": 0.0, "irreg_exp_natural": 0.0,
        "cf_norm": 440.0, "cf_natural": 440.0, "midi_num": 69,
    }
    low = records[stems[0]]
    assert low["cf_natural"] == 220.0 and low["midi_num"] == round(12 * math.log2(220 / 440)) + 69 == 57
    assert not list((ds.root / "audio").glob("*.params"))


def test_sonygan_and_no_record_format(tmp_path: Path) -> None:
    # popTextureDS config_file.json @ 7b66f5a still said "sonyGan", nsjson's older name
    ds = _generate(tmp_path, copy.deepcopy(OLDER_POP) | {"recordFormat": "sonyGan"}, "sg")
    assert len(json.loads((ds.root / "audio" / "sonyGan.json").read_text())) == 16
    plain = {k: v for k, v in NEWER_POP.items() if k != "recordFormat"}
    ds = _generate(tmp_path, plain, "plain")
    assert sorted(p.suffix for p in (ds.root / "audio").iterdir()) == [".wav"] * 8


def test_records_follow_index_naming_and_resume(tmp_path: Path) -> None:
    data = copy.deepcopy(NEWER_POP)
    config = config_from_dict(data).model_copy(update={"naming": "index"})
    ds = generate_dataset(config, tmp_path / "i", workers=1, progress=False)
    assert (ds.root / "audio" / "000000.params").is_file()
    assert json.loads((ds.root / "audio" / "000007.params").read_text())["meta"]["filename"] == "000007.wav"
    # a generation cut short before its records is finished by running it again
    path = tmp_path / "c.json"
    path.write_text(json.dumps(data))
    out = tmp_path / "r"
    first = generate_dataset(path, out, workers=1, progress=False)
    before = {p.name: p.read_bytes() for p in (out / "audio").glob("*.params")}
    for p in (out / "audio").glob("*.params"):
        p.unlink()
    (out / "dataset.json").unlink()
    (out / "metadata.parquet").unlink()
    (out / ".generate.json").write_text(json.dumps({"config_hash": first.card.extra["config_hash"],
                                                    "config": first.card.source["config"]}))
    generate_dataset(path, out, workers=1, progress=False)
    assert {p.name: p.read_bytes() for p in (out / "audio").glob("*.params")} == before


def test_records_need_audio(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text(json.dumps(NEWER_POP))
    data = load_dataset_config(path).to_json_dict() | {"audio_format": "none"}
    with pytest.raises(ConfigError, match="recordFormat 'params' writes records beside audio files"):
        config_from_dict(data)
