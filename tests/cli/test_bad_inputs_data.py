"""Bad inputs about the user's data (issue 18): nothing lost, nothing half-written, one clear line.

The second table of the harness in ``bad_inputs.py`` (the ``sandbox`` fixture is in
``conftest.py``): overwrites that would destroy the input or a folder that is not an
artefact, a run or feature set replaced without ``--overwrite``, truncated or edited
checkpoints and configs, a truncated WAV, a pickled ``--array``, MIDI without drums.
Each case: exit 2, one ``error:`` line naming the problem, no traceback, every file in
the sandbox byte-identical and nothing new.
"""

from __future__ import annotations

import io
import json
import shutil

import numpy as np
import pytest
import soundfile as sf

from tests.cli.bad_inputs import Case, run_case


def _truncated_wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(4000, np.float32) + 0.1, 16000, format="WAV", subtype="PCM_16")
    data = buf.getvalue()
    return data[: len(data) // 2]  # the header still announces 4000 frames


def _piano_midi() -> bytes:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(velocity=100, pitch=60, start=0.5 * i, end=0.5 * i + 0.4) for i in range(8)]
    pm.instruments.append(piano)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


def _pickled_npy() -> bytes:
    buf = io.BytesIO()
    np.save(buf, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    return buf.getvalue()


def _npz() -> bytes:
    buf = io.BytesIO()
    np.savez(buf, x=np.zeros(3))
    return buf.getvalue()


def _wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(800, np.float32) + 0.1, 8000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


TRUNCATED = {"trunc/audio/synth-060-100.wav": _truncated_wav(),
             "trunc/examples.json": json.dumps({"synth-060-100": {"pitch": 60}}).encode()}


@pytest.fixture(scope="session")
def broken_runs(sandbox):
    """Copies of the sandbox's run, each broken in one way (made before any case runs)."""
    def copy(name):
        target = sandbox.inputs / name
        if not target.exists():
            shutil.copytree(sandbox.run, target)
        return target

    for weights in copy("run_truncated").rglob("model.safetensors"):
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    for weights in copy("run_header").rglob("model.safetensors"):
        weights.write_bytes(b"\xff" * 8 + weights.read_bytes()[8:])
    for meta in copy("run_badjson").rglob("model.json"):
        meta.write_text(meta.read_text()[:-10])
    for meta in copy("run_edited").rglob("model.json"):
        data = json.loads(meta.read_text())
        data["config"]["latent_dim"] = int(data["config"]["latent_dim"]) + 2
        meta.write_text(json.dumps(data))
    (copy("run_badyaml") / "config.yaml").write_text("model: [unclosed\n  latent_dim: 3\n")
    (copy("run_nokeys") / "config.yaml").write_text("just a string\n")
    return sandbox


CASES = [
    # --overwrite replaces only an artefact of the same kind, never the input
    Case("ingest-into-its-input", ("ingest", "{notes}", "--out", "{notes}", "--overwrite"), ("would destroy it",)),
    Case("ingest-into-a-folder-holding-the-input", ("ingest", "{notes}", "--out", "{root}", "--overwrite"),
         ("holds it",)),
    Case("ingest-overwrite-not-a-dataset", ("ingest", "{notes}", "--out", "{inputs}", "--overwrite"),
         ("not a timbrespace dataset",)),
    Case("ingest-onto-a-dataset", ("ingest", "{notes}", "--out", "{dataset}"), ("--overwrite",)),
    Case("ingest-max-duration-0", ("ingest", "{notes}", "--out", "{new}", "--max-duration-s", "0"),
         ("--max-duration-s",)),
    Case("ingest-truncated-wav", ("ingest", "{inputs}/trunc", "--out", "{new}"), ("truncated",), files=TRUNCATED),
    Case("features-same-name-other-config", ("features", "{dataset}", "--name", "spec", "--n-fft", "128"),
         ("exists with another config", "--overwrite")),
    Case("features-n-fft-longer-than-items", ("features", "{dataset}", "--n-fft", "4096", "--name", "big"),
         ("n_fft",)),
    Case("train-onto-a-run", ("train", "{dataset}", "--features", "spec", "--out", "{run}", "--no-progress"),
         ("already exists and holds a run",)),
    Case("train-onto-the-dataset", ("train", "{dataset}", "--features", "spec", "--out", "{dataset}", "--overwrite",
                                    "--no-progress"), ("would destroy it",)),
    Case("train-onto-not-a-run", ("train", "{dataset}", "--features", "spec", "--out", "{notes}", "--overwrite",
                                  "--no-progress"), ("not a timbrespace run",)),
    Case("drums-ingest-onto-a-dataset", ("drums", "ingest", "{inputs}/piano", "--out", "{dataset}"),
         ("already exists and holds a dataset",), files={"piano/lib__pop__Piano.mid": _piano_midi()}),
    Case("drums-ingest-no-drums", ("drums", "ingest", "{inputs}/piano", "--out", "{new}"), ("no drum",),
         files={"piano/lib__pop__Piano.mid": _piano_midi()}),
    Case("export-onto-a-file", ("export", "{dataset}", "--format", "seed000-npz", "-o", "{export}"),
         ("already exists",)),
    Case("invert-onto-earlier-wavs", ("invert", "{dataset}", "--items", "000000,000001", "--out", "{inputs}/earlier"),
         ("already holds 2 of the 2 WAV files", "000000.wav", "--overwrite"),
         files={"earlier/000000.wav": _wav(), "earlier/000001.wav": _wav()}),
    Case("invert-into-the-dataset", ("invert", "{dataset}", "--items", "000000", "--out", "{dataset}/audio",
                                     "--overwrite"), ("inside the dataset",)),
    Case("invert-onto-a-file", ("invert", "{dataset}", "--items", "000000", "--out", "{wav}"), ("is a file",)),
    Case("synths-render-into-a-folder", ("synths", "render", "additive", "--out", "{inputs}"),
         ("is a folder: --out must be a file with an audio suffix", ".wav")),
    Case("synths-render-into-a-folder-named-wav", ("synths", "render", "additive", "--out", "{inputs}/folder.wav"),
         ("is a folder: --out must be a file with an audio suffix",), files={"folder.wav/keep.txt": b"mine"}),
    # no unpickling, no NaN
    Case("invert-pickled-array", ("invert", "{dataset}", "--array", "{inputs}/pickled.npy", "--out", "{new}"),
         ("--array",), files={"pickled.npy": _pickled_npy()}),
    Case("invert-text-array", ("invert", "{dataset}", "--array", "{inputs}/text.npy", "--out", "{new}"),
         ("--array",), files={"text.npy": b"1.0 2.0 3.0\n"}),
    Case("invert-npz-array", ("invert", "{dataset}", "--array", "{inputs}/arrays.npy", "--out", "{new}"),
         ("--array",), files={"arrays.npy": _npz()}),
    # truncated or edited checkpoints and configs: one line naming the file
    Case("evaluate-truncated-checkpoint", ("evaluate", "{inputs}/run_truncated"), ("model.safetensors",)),
    Case("evaluate-bad-header-checkpoint", ("evaluate", "{inputs}/run_header"), ("model.safetensors",)),
    Case("evaluate-bad-json-checkpoint", ("evaluate", "{inputs}/run_badjson"), ("model.json",)),
    Case("evaluate-edited-checkpoint", ("evaluate", "{inputs}/run_edited"), ("model.safetensors", "do not match")),
    Case("evaluate-malformed-config", ("evaluate", "{inputs}/run_badyaml"), ("config.yaml",)),
    Case("evaluate-config-not-a-mapping", ("evaluate", "{inputs}/run_nokeys"), ("config.yaml",)),
    Case("train-resume-truncated", ("train", "{dataset}", "--features", "spec", "--out", "{inputs}/run_truncated",
                                    "--resume", "--no-progress"), ("run_truncated",)),
    # wrong kind of input
    Case("info-on-a-file", ("info", "{wav}"), ("not a dataset folder",)),
    Case("timbre-latent-map-on-another-kind", ("timbre", "latent-map", "{run}", "--out", "{new}.png"), ("timbre",)),
    Case("drums-sample-on-another-kind", ("drums", "sample", "{run}", "--out", "{new}"), ("drums",)),
]


@pytest.mark.xdist_group("cli-sandbox")  # one session sandbox (a trained run) per worker
@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_data_input(broken_runs, case):
    run_case(broken_runs, case)


def test_the_table_is_large_enough():
    assert len(CASES) >= 20 and len({c.id for c in CASES}) == len(CASES)
