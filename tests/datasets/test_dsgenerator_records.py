"""DSGenerator's records (seed 003): a .params JSON or a .tfrecord beside each WAV, nsjson.json, shards."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
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


# tfrecordManager.py @ 5d679fd (__addFeatureData__, __addParam__), as its sampleDir/shard0.tfrecord
# holds them: each feature's kind, per parameter its seven features.
SEED_KINDS = {"pfname": "bytes_list", "soundDuration": "float_list", "audio": "float_list",
              "segmentNum": "int64_list"}
PARAM_KINDS = {"": "float_list", "_synth_units": "bytes_list", "_user_nvals": "int64_list",
               "_user_minval": "float_list", "_user_maxval": "float_list",
               "_synth_minval": "float_list", "_synth_maxval": "float_list"}


def _examples(path: Path) -> list:
    """The tf.train.Example records of one file, read by the tfrecord package."""
    from tfrecord import example_pb2
    from tfrecord.reader import tfrecord_iterator

    return [example_pb2.Example.FromString(bytes(raw)) for raw in tfrecord_iterator(str(path))]


def test_tfrecord_beside_each_wav_read_back(tmp_path: Path) -> None:
    from tfrecord.reader import tfrecord_loader

    ds = _generate(tmp_path, copy.deepcopy(NEWER_POP) | {"recordFormat": "tfrecords"})
    wavs = sorted((ds.root / "audio").glob("*.wav"))
    records = sorted((ds.root / "audio").glob("*.tfrecord"))
    assert [p.stem for p in records] == [w.stem for w in wavs] and len(records) == 8
    assert not list((ds.root / "audio").glob("*.params"))
    rendered = ds.load_audio()
    kinds = SEED_KINDS | {f"{p}{s}": k for p in ("irreg_exp", "cf", "rate_exp") for s, k in PARAM_KINDS.items()}
    for i, rel in enumerate(ds.metadata["audio_path"]):
        path = (ds.root / rel).with_suffix(".tfrecord")
        (record,) = list(tfrecord_loader(str(path), None))
        np.testing.assert_array_equal(record["audio"], rendered[i])  # float32 WAV: the samples exactly
        assert record["audio"].dtype == np.float32 and record["audio"].shape == (2000,)
        assert record["pfname"] == Path(rel).name.encode()
        assert record["segmentNum"].tolist() == [i % 2]
        np.testing.assert_array_equal(record["soundDuration"], [0.0, 0.5])
        setting = i // 2  # irreg_exp 0, 1 (slowest), cf 220, 440 Hz
        assert record["irreg_exp"].tolist() == [[0.0, 1.0][setting // 2]]
        assert record["cf"].tolist() == [[220.0, 440.0][setting % 2]]
        assert record["rate_exp"].tolist() == [2.0]
        (example,) = _examples(path)
        assert {k: f.WhichOneof("kind") for k, f in example.features.feature.items()} == kinds
        # sorted keys: the same bytes whatever the process
        assert path.read_bytes()[12:-4] == example.SerializeToString(deterministic=True)
    record = next(tfrecord_loader(str(records[0]), None))
    assert record["cf_synth_units"] == b"natural" and record["rate_exp_synth_units"] == b"natural"
    assert record["cf_user_nvals"].tolist() == [2] and record["rate_exp_user_nvals"].tolist() == [1]
    ranges = [record[f"cf_{k}"].item() for k in ("user_minval", "user_maxval", "synth_minval", "synth_maxval")]
    assert ranges == [220.0, 440.0, 220.0, 440.0]
    # a fixed parameter's ranges are infinite, as tfrecordManager writes them
    assert all(np.isinf(record[f"rate_exp_{k}"]).all()
               for k in ("user_minval", "user_maxval", "synth_minval", "synth_maxval"))


def test_tfrecord_shards_keep_every_setting(tmp_path: Path) -> None:
    from tfrecord.reader import tfrecord_loader

    # prashanthtr/DSGenerator config_file.json @ 4e1bfba: tftype shards, shard_size in MB.
    # 4 settings of 0.5 s at 8 kHz, 16-bit: 32,000 bytes, 0.02 MB shards -> 2 shards of 2 settings.
    data = copy.deepcopy(NEWER_POP) | {"recordFormat": "tfrecords", "tftype": "shards", "shard_size": 0.02}
    ds = _generate(tmp_path, data)
    shards = sorted((ds.root / "audio").glob("*.tfrecord"))
    assert [p.name for p in shards] == ["shard0.tfrecord", "shard1.tfrecord"]
    records = [r for p in shards for r in tfrecord_loader(str(p), None)]
    names = [Path(rel).name for rel in ds.metadata["audio_path"]]
    assert [r["pfname"].decode() for r in records] == names  # design order, every item once
    rendered = ds.load_audio()
    for i, r in enumerate(records):
        np.testing.assert_array_equal(r["audio"], rendered[i])
        assert r["segmentNum"].tolist() == [i % 2]
    assert [len(_examples(p)) for p in shards] == [4, 4]


def test_tfrecord_shard_count() -> None:
    from timbrespace.datasets.dsgenerator_records import tfrecord_shards

    # DSGenerator's config_file.json @ 4e1bfba at full size: 8 settings x 4 s at 16 kHz, 2 MB
    # shards: ceil(1,024,000 / 2,097,152) = 1 shard
    assert [s.tolist() for s in tfrecord_shards(8, 4.0, 16000, 2)] == [list(range(8))]
    # 5 settings over 3 shards: DSGenerator put floor(5/3) = 1 in each and dropped 2
    assert [s.tolist() for s in tfrecord_shards(5, 4.0, 16000, 0.25)] == [[0, 1], [2, 3], [4]]
    # more shards than settings: one setting each (DSGenerator wrote empty shards)
    assert [s.tolist() for s in tfrecord_shards(2, 60.0, 16000, 0.1)] == [[0], [1]]
