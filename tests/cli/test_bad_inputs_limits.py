"""Bad inputs about limits (issue 32): bounded work, one clear line, nothing left behind.

A table for the harness in ``bad_inputs.py`` (the ``sandbox`` fixture is in
``conftest.py``): requests whose work or memory has no bound (Griffin-Lim iterations, mel
bands past what ``n_fft`` resolves, a MIDI gap of millions of bars, a sample rate of
2 GHz, seeds past 2**32), inputs that used to end in an internal error (examples.json of
nested or non-finite values, a binary YAML, a scheduler that is not an address, an unknown
window, a 0-d array, an edited run card or model config), and refusals that used to leave
files behind (a journal after running out of memory, an empty ``--out``, a ``sweep.csv``,
a run folder). Each case: exit 2, one ``error:`` line naming the problem, no traceback,
every file in the sandbox byte-identical and nothing new.
"""

from __future__ import annotations

import io
import json
import shutil

import mido
import numpy as np
import pytest
import soundfile as sf
import yaml

from tests.cli.bad_inputs import Case, run_case


def _wav(sample_rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    t = np.arange(sample_rate // 4) / sample_rate
    sf.write(buf, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), sample_rate, format="WAV",
             subtype="PCM_16")
    return buf.getvalue()


def _notes(name: str, examples: str) -> dict[str, bytes]:
    """An NSynth-like folder ``name`` of two notes with ``examples`` as its examples.json text."""
    return {f"{name}/audio/a.wav": _wav(), f"{name}/audio/b.wav": _wav(), f"{name}/examples.json": examples.encode()}


def _npy(array: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, array)
    return buf.getvalue()


def _long_gap_midi() -> bytes:
    """Two drum hits 2**23 ticks apart at 96 ticks per quarter: 21846 bars of silence."""
    mf = mido.MidiFile(ticks_per_beat=96)
    track = mido.MidiTrack()
    track.append(mido.Message("note_on", channel=9, note=36, velocity=100, time=0))
    track.append(mido.Message("note_on", channel=9, note=38, velocity=100, time=2**23))
    mf.tracks.append(track)
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def _grooves_midi(k: int) -> bytes:
    """Four bars of a plain rock beat (kick, snare, hats), a ride hit by ``k``, a tom by bar (all distinct)."""
    mf = mido.MidiFile(ticks_per_beat=96)
    track = mido.MidiTrack()
    events = []
    for bar in range(4):
        for step in range(16):
            tick = (bar * 16 + step) * 24
            if step % 2 == 0:
                events.append((tick, 42))
            if step in (0, 8) or (step == 10 and (bar + k) % 2):
                events.append((tick, 36))
            if step in (4, 12):
                events.append((tick, 38))
            if step == 2 * k + 1:
                events.append((tick, 51))
            if step == 2 * bar + 1:
                events.append((tick, 45))
    now = 0
    for tick, note in sorted(events):
        track.append(mido.Message("note_on", channel=9, note=note, velocity=90 + k, time=tick - now))
        track.append(mido.Message("note_off", channel=9, note=note, velocity=0, time=0))
        now = tick
    mf.tracks.append(track)
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


_TINY_DATASET = {
    "name": "tiny", "sound_model": "additive", "sample_rate": 8000, "duration_s": 0.25,
    "parameters": {"f0_hz": {"min": 110, "max": 880, "n": 3, "spacing": "log"}, "decay_per_s": {"min": 1, "max": 8,
                                                                                              "n": 2}},
}
_HUGE_DATASET = {**_TINY_DATASET, "name": "huge",
                 "parameters": {"f0_hz": {"min": 110, "max": 880, "n": 100000, "spacing": "log"},
                                "decay_per_s": {"min": 1, "max": 8, "n": 100000}}}
# a short experiment (both cases are refused before any dataset is made)
_SMALL_RUN = ("--set", "dataset.duration_s=0.25", "--set", "training.epochs=1", "--no-progress")


@pytest.fixture(scope="session")
def limits_sandbox(sandbox):
    """The sandbox plus what these cases start from: an edited run, a 6-item dataset, a drums run."""
    from timbrespace.datasets import DatasetConfig, generate_dataset
    from timbrespace.experiments.drums import GrooveTrainConfig, train_drums
    from timbrespace.features import FeatureConfig, compute_dataset_features
    from timbrespace.models import groove_config
    from timbrespace.patterns.dataset import GrooveDatasetConfig, build_groove_dataset

    def copy(name):
        target = sandbox.inputs / name
        if not target.exists():
            shutil.copytree(sandbox.run, target)
        return target

    for meta in copy("run_huge").rglob("model.json"):
        data = json.loads(meta.read_text())
        data["config"]["latent_dim"] = 10**9
        meta.write_text(json.dumps(data))

    six = sandbox.inputs / "six"
    if not six.exists():
        ds = generate_dataset(DatasetConfig(**_TINY_DATASET), six, workers=1, progress=False)
        compute_dataset_features(ds, FeatureConfig(kind="stft", n_fft=256, hop_length=64), name="spec",
                                 progress=False)
    grooves = sandbox.inputs / "rock"
    if not (sandbox.inputs / "drums_run").exists():
        grooves.mkdir(exist_ok=True)
        for k in range(6):
            (grooves / f"lib__{'abc'[k % 3]}style__beat{k}.mid").write_bytes(_grooves_midi(k))
        split = GrooveDatasetConfig(splits=(("train", 0.4), ("valid", 0.3), ("test", 0.3)))
        build_groove_dataset(grooves, sandbox.inputs / "rock_ds", config=split, overwrite=True)
        with pytest.MonkeyPatch.context() as mp:  # its report is never read (drawn and checked in test_drums)
            mp.setattr("timbrespace.experiments.drums.write_drums_report", lambda run, **_: run.root / "report.html")
            train_drums(sandbox.inputs / "rock_ds", sandbox.inputs / "drums_run",
                        model_config=groove_config(latent_dim=2, hidden_sizes=(16,)),
                        train_config=GrooveTrainConfig(epochs=1, batch_size=8, warmup_epochs=0))
    kit = sandbox.inputs / "badkit"  # a kit that loads, whose samples cannot be read: fails in the render
    if not kit.exists():
        kit.mkdir()
        (kit / "hit.wav").write_bytes(b"RIFF, but not audio")
        (kit / "drumkit.xml").write_text(_BAD_KIT)
    return sandbox


_BAD_KIT = "<drumkit_info><name>bad</name><instrumentList>" + "".join(
    f"<instrument><id>{k}</id><name>drum {note}</name><midiOutNote>{note}</midiOutNote>"
    "<layer><filename>hit.wav</filename><min>0</min><max>1</max></layer></instrument>"
    for k, note in enumerate(range(35, 60))
) + "</instrumentList></drumkit_info>"


CASES = [
    Case("export-model-suffix-of-another-format", ("export-model", "{run}", "--format", "onnx", "--out",
                                                   "{new}.pt"), ("'.pt'", "onnx")),
    Case("info-on-a-run-folder", ("info", "{run}"), ("not a timbrespace dataset", "its dataset is")),
    Case("explore-static-not-html", ("explore", "{run}", "--static", "{new}.wav"), ("HTML", ".html")),
    # 1. unbounded work: refused before it starts
    Case("invert-n-iter-past-the-cap", ("invert", "{dataset}", "--items", "000000", "--n-iter", "1001",
                                        "--out", "{new}"), ("--n-iter=1001", "1000")),
    Case("features-more-mel-bands-than-bins", ("features", "{dataset}", "--kind", "mel", "--n-mels", "200",
                                               "--n-fft", "256", "--name", "mel_big", "--no-progress"),
         ("--n-mels=200", "129")),
    Case("features-empty-mel-filters", ("features", "{dataset}", "--kind", "mel", "--n-mels", "20", "--n-fft", "256",
                                        "--fmin-hz", "3000", "--fmax-hz", "3100", "--name", "mel_empty",
                                        "--no-progress"), ("--n-mels=20", "empty")),
    Case("drums-ingest-millions-of-ticks", ("drums", "ingest", "{inputs}/gap", "--out", "{new}"),
         ("gap.mid", "bars"), files={"gap/lib__pop__gap.mid": _long_gap_midi()}),
    Case("ingest-sample-rate-2-ghz", ("ingest", "{notes}", "--out", "{new}", "--sample-rate", "2000000000"),
         ("--sample-rate=2000000000", "384000")),
    Case("ingest-sample-rate-500-hz", ("ingest", "{notes}", "--out", "{new}", "--sample-rate", "500"),
         ("--sample-rate=500", "1000")),
    Case("run-seed-past-2-32", ("run", "--out", "{new}", "--set", "seed=99999999999999999999999", *_SMALL_RUN),
         ("seed", "2**32")),
    Case("train-seed-negative", ("train", "{dataset}", "--features", "spec", "--out", "{new}", "--seed", "-1",
                                 "--epochs", "1", "--no-progress"), ("--seed=-1",)),
    # 2. one line, not an internal error
    Case("ingest-examples-nested", ("ingest", "{inputs}/nested", "--out", "{new}"), ("examples.json", "pitch"),
         files=_notes("nested", json.dumps({"a": {"pitch": {"midi": 60}}, "b": {"pitch": {"midi": 62}}}))),
    Case("ingest-examples-nan", ("ingest", "{inputs}/nan", "--out", "{new}"), ("examples.json", "pitch"),
         files=_notes("nan", '{"a": {"pitch": NaN}, "b": {"pitch": Infinity}}')),
    Case("ingest-examples-mixed-types", ("ingest", "{inputs}/mixed", "--out", "{new}"), ("examples.json", "pitch"),
         files=_notes("mixed", json.dumps({"a": {"pitch": 60}, "b": {"pitch": "high"}}))),
    Case("ingest-examples-null", ("ingest", "{inputs}/null", "--out", "{new}"), ("examples.json", "pitch"),
         files=_notes("null", json.dumps({"a": {"pitch": 60}, "b": {"pitch": None}}))),
    Case("run-binary-yaml", ("run", "{inputs}/binary.yaml", "--out", "{new}"), ("binary.yaml",),
         files={"binary.yaml": bytes(range(256)) * 4}),
    Case("generate-scheduler-not-an-address", ("generate", "{inputs}/tiny.yaml", "--out", "{new}", "--scheduler",
                                               "not a url", "--no-progress"), ("--scheduler",),
         files={"tiny.yaml": yaml.safe_dump(_TINY_DATASET).encode()}),
    Case("features-unknown-window", ("features", "{dataset}", "--window", "blackmanharrisXYZ", "--name", "w",
                                     "--no-progress"), ("--window", "blackmanharrisXYZ")),
    Case("invert-0d-array", ("invert", "{dataset}", "--array", "{inputs}/scalar.npy", "--out", "{new}"),
         ("--array", "0-d"), files={"scalar.npy": _npy(np.float32(1.0))}),
    Case("timbre-evaluate-max-requests-0", ("timbre", "evaluate", "{run}", "--max-requests", "0"),
         ("--max-requests=0",)),
    Case("timbre-evaluate-n-pairs-negative", ("timbre", "evaluate", "{run}", "--n-pairs", "-1"), ("--n-pairs=-1",)),
    Case("evaluate-latent-dim-1e9", ("evaluate", "{inputs}/run_huge"), ("model.json", "latent_dim")),
    # 3. nothing left behind after a refusal
    Case("generate-out-of-memory", ("generate", "{inputs}/huge.yaml", "--out", "{new}", "--no-progress"),
         ("items",), files={"huge.yaml": yaml.safe_dump(_HUGE_DATASET).encode()}),
    Case("drums-sample-bad-kit", ("drums", "sample", "{inputs}/drums_run", "--kit", "{inputs}/badkit", "--n", "1",
                                  "--out", "{new}"), ("badkit",)),
    Case("drums-sample-at-overflow", ("drums", "sample", "{inputs}/drums_run", "--at", "1e300", "1e300",
                                      "--out", "{new}"), ("--at",)),
    Case("sweep-beta-nan", ("sweep", "{dataset}", "--features", "spec", "--out", "{new}", "--beta", "nan",
                            "--seeds", "1", "--epochs", "1", "--no-progress"), ("--beta",)),
    Case("run-on-a-6-item-dataset", ("run", "--dataset", "{inputs}/six", "--out", "{new}", *_SMALL_RUN),
         ("6 items",)),
]


@pytest.mark.xdist_group("cli-sandbox")  # one session sandbox (a trained run) per worker
@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_limit_input(limits_sandbox, case):
    run_case(limits_sandbox, case)


def test_the_table_is_large_enough():
    assert len(CASES) >= 20 and len({c.id for c in CASES}) == len(CASES)
