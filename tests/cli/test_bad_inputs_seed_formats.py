"""Bad inputs of the seeds' own formats (issue 31, part 2): seed 001's start/stop/step grids
and its additive scales, seed 002's output layout of ``timbre generate``/``interpolate``,
seed 003's (DSGenerator's) ``recordFormat`` and ``tftype``.

Each case: exit 2, one ``error:`` line naming the problem, no traceback, every file in the
sandbox byte-identical and nothing new (the harness in ``bad_inputs.py``). Every case is
refused before a dataset is rendered or a run opened, so a light sandbox of the same shape
(a run folder, an existing WAV, inputs) stands in for the session's trained one.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf
import yaml

from tests.cli.bad_inputs import Case, Sandbox, run_case


def _config(parameters: dict, *, model: str = "additive_seed001", fixed: dict | None = None) -> bytes:
    data = {"name": "seedfmt", "sound_model": model, "sample_rate": 8000, "duration_s": 0.1,
            "parameters": parameters, "fixed": fixed or {}}
    return yaml.safe_dump(data).encode()


def _dsgenerator(**records: object) -> bytes:
    """A DSGenerator config_file.json (newer shape, 2 items at 8 kHz) with its record keys."""
    data = {"soundname": "Pop", "samplerate": 8000, "chunkSecs": 0.1, "soundDuration": 0.1, **records,
            "params": [{"user_pname": "Irregularity", "user_minval": 0, "user_maxval": 1, "user_nvals": 2,
                        "synth_pname": "irreg_exp", "synth_minval": 0, "synth_maxval": 1,
                        "synth_units": "natural"}]}
    return json.dumps(data).encode()


def _dsg(name: str, config: bytes, needles: tuple[str, ...]) -> Case:
    path = f"seedfmt/{name}.json"
    return Case(f"generate-dsgenerator-{name}", ("generate", f"{{inputs}}/{path}", "--out", "{new}"), needles,
                files={path: config})


def _wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(800, np.float32) + 0.1, 22050, format="WAV", subtype="PCM_24")
    return buf.getvalue()


def _gen(name: str, config: bytes, needles: tuple[str, ...]) -> Case:
    path = f"seedfmt/{name}.yaml"
    return Case(f"generate-{name}", ("generate", f"{{inputs}}/{path}", "--out", "{new}"), needles,
                files={path: config})


GENERATE = ("timbre", "generate", "{run}", "Bright", "75", "E5")
INTERPOLATE = ("timbre", "interpolate", "{run}", "Bright", "0", "E4", "Dark", "100", "E5", "--steps", "3")

CASES = [
    # seed 001: start/stop/step grids
    _gen("step-zero", _config({"slope": {"start": -0.1, "stop": -0.9, "step": 0}}), ("slope", "step=0")),
    _gen("step-off-grid", _config({"inharmonicity": {"start": 0, "stop": 1, "step": 0.3}}),
         ("inharmonicity", "step=0.3 does not land on stop=1")),
    _gen("step-wrong-way", _config({"slope": {"start": -0.1, "stop": -0.9, "step": 0.1}}),
         ("step=0.1 goes away from stop=-0.9", "step=-0.1")),
    _gen("step-missing", _config({"f0_hz": {"start": 100, "stop": 1000}}), ("f0_hz", "missing step")),
    _gen("step-and-values", _config({"f0_hz": {"start": 100, "stop": 1000, "step": 100, "values": [100]}}),
         ("give either start/stop/step or values",)),
    _gen("step-and-spacing", _config({"f0_hz": {"start": 100, "stop": 1000, "step": 100, "spacing": "log"}}),
         ("give either start/stop/step or spacing",)),
    _gen("step-too-many", _config({"decay_per_s": {"start": 0, "stop": 50, "step": 1e-5}}),
         ("5,000,001 values", "above the limit")),
    _gen("step-not-a-number", _config({"f0_hz": {"start": "low", "stop": 1000, "step": 100}}),
         ("start='low' must be a finite number",)),
    # seed 001's scales on additive_seed001, and their bounds
    _gen("seed-inharmonicity-above-1", _config({"inharmonicity": {"start": 0, "stop": 2, "step": 0.5}}),
         ("inharmonicity=1.5 is out of range: allowed 0..1",)),
    _gen("seed-slope-positive", _config({"slope": {"start": -0.5, "stop": 0.5, "step": 0.5}}),
         ("slope=0.5 is out of range: allowed -1..0",)),
    _gen("seed-quirks-unknown", _config({"f0_hz": {"start": 100, "stop": 200, "step": 100}},
                                        fixed={"quirks": "faithful"}),
         ("quirks='faithful' is not allowed", "fixed, 1=seed")),
    _gen("seed-n-modes-fraction", _config({"n_modes": {"start": 2, "stop": 3, "step": 0.5}}),
         ("n_modes must be a whole number",)),
    # seed 003's records
    _dsg("record-format-unknown", _dsgenerator(recordFormat="hdf5"),
         ("recordFormat 'hdf5' is not supported", '"tfrecords"')),
    _dsg("tftype-unknown", _dsgenerator(recordFormat="tfrecords", tftype="glummed"),
         ("tftype 'glummed' is not supported", '"single"', '"shards"')),
    _dsg("shard-size-missing", _dsgenerator(recordFormat="tfrecords", tftype="shards"),
         ("missing 'shard_size'",)),
    _dsg("shard-size-negative", _dsgenerator(recordFormat="tfrecords", tftype="shards", shard_size=-2),
         ("shard_size=-2 must be a positive number of MB",)),
    # seed 002's layout
    Case("timbre-generate-layout-unknown", (*GENERATE, "--out", "{new}", "--layout", "seed001"),
         ("--layout 'seed001' is not one of labelled, seed002",)),
    Case("timbre-interpolate-layout-unknown", (*INTERPOLATE, "--out", "{new}", "--layout", "Seed002"),
         ("--layout 'Seed002' is not one of labelled, seed002",)),
    Case("timbre-generate-seed002-exists", (*GENERATE, "--out", "{inputs}/seedfmt/gen", "--layout", "seed002"),
         ("singlesample/generated/0.wav exists", "--overwrite"),
         files={"seedfmt/gen/singlesample/generated/0.wav": _wav()}),
    Case("timbre-generate-seed002-original-exists",
         (*GENERATE, "--out", "{inputs}/seedfmt/orig", "--layout", "seed002"),
         ("singlesample/original/0.wav exists", "--overwrite"),
         files={"seedfmt/orig/singlesample/original/0.wav": _wav()}),
    Case("timbre-interpolate-seed002-exists",
         (*INTERPOLATE, "--out", "{inputs}/seedfmt/interp", "--layout", "seed002"),
         ("interpolated_samples/original/1.wav exists", "--overwrite"),
         files={"seedfmt/interp/interpolated_samples/original/1.wav": _wav()}),
    Case("timbre-interpolate-seed002-step-exists",
         (*INTERPOLATE, "--out", "{inputs}/seedfmt/interp2", "--layout", "seed002"),
         ("interpolated_samples/generated/2.wav exists", "--overwrite"),
         files={"seedfmt/interp2/interpolated_samples/generated/2.wav": _wav()}),
    Case("timbre-generate-labelled-exists", (*GENERATE, "--out", "{inputs}/seedfmt/labelled"),
         ("generated_Bright-75-E5.wav exists", "--overwrite"),
         files={"seedfmt/labelled/generated_Bright-75-E5.wav": _wav()}),
    Case("timbre-interpolate-labelled-exists", (*INTERPOLATE, "--out", "{inputs}/seedfmt/linear"),
         ("linear/step_01.wav exists", "--overwrite"),
         files={"seedfmt/linear/linear/step_01.wav": _wav()}),
    Case("timbre-generate-out-is-a-file", (*GENERATE, "--out", "{wav}", "--layout", "seed002"),
         ("is a file, not a folder",)),
    Case("timbre-generate-seed002-folder-is-a-file",
         (*GENERATE, "--out", "{inputs}/seedfmt/filed", "--layout", "seed002", "--overwrite"),
         ("singlesample is a file, not a folder",), files={"seedfmt/filed/singlesample": b"not a folder"}),
    Case("timbre-generate-seed002-note-is-a-folder",
         (*GENERATE, "--out", "{inputs}/seedfmt/dir", "--layout", "seed002", "--overwrite"),
         ("0.wav is a folder",), files={"seedfmt/dir/singlesample/generated/0.wav/keep.txt": b"mine"}),
]


@pytest.fixture(scope="module")
def light_sandbox(tmp_path_factory):
    root = tmp_path_factory.mktemp("seedfmt-user")
    folders = {name: root / name for name in ("dataset", "run", "notes", "grooves", "inputs")}
    for folder in folders.values():
        folder.mkdir()
    (folders["run"] / "run.json").write_text('{"kind": "timbre"}')
    (folders["dataset"] / "card.json").write_text("{}")
    wav = root / "existing.wav"
    wav.write_bytes(_wav())
    export = root / "existing.npz"
    np.savez(export, kept=np.arange(3))
    return Sandbox(root=root, wav=wav, export=export, new=root / "new_output", **folders)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_seed_format_input(light_sandbox, case):
    run_case(light_sandbox, case)


def test_the_table_covers_every_new_option():
    ids = " ".join(c.id for c in CASES)
    for needle in ("step", "seed-inharmonicity", "seed-slope", "layout-unknown", "seed002-exists", "labelled-exists",
                   "record-format-unknown", "tftype-unknown", "shard-size"):
        assert needle in ids
