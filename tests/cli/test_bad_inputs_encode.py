"""Bad inputs to ``timbrespace encode`` (issue 28): one clear line, nothing written.

The harness is ``bad_inputs.py`` (the ``sandbox`` fixture, with its finished run
``{run}`` and an existing WAV ``{wav}``, is in ``conftest.py``). Each case: exit 2, one
``error:`` line naming the problem, no traceback, every file in the sandbox
byte-identical and nothing new.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import soundfile as sf

from tests.cli.bad_inputs import Case, run_case


def _wav(y: np.ndarray, sample_rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sample_rate, format="WAV", subtype="PCM_16")
    return buf.getvalue()


def _card(kind: str) -> bytes:
    return json.dumps({"kind": kind, "library_version": "0", "dataset": None,
                       "created": "2026-01-01T00:00:00Z"}).encode()

CASES = [
    Case("missing-file", ("encode", "{run}", "{inputs}/nope.wav", "-o", "{new}.json"),
         ("nope.wav", "no such file")),
    Case("not-audio", ("encode", "{run}", "{inputs}/text.wav", "-o", "{new}.json"),
         ("text.wav", "cannot read audio"), files={"text.wav": b"these are words, not samples"}),
    Case("silent", ("encode", "{run}", "{inputs}/silent.wav", "-o", "{new}.json"),
         ("silent.wav", "silent"), files={"silent.wav": _wav(np.zeros(4000, np.float32))}),
    Case("folder-without-audio", ("encode", "{run}", "{inputs}/noaudio", "-o", "{new}.npz"),
         ("noaudio", "no audio files"), files={"noaudio/readme.txt": b"no sound here"}),
    Case("existing-out", ("encode", "{run}", "{wav}", "-o", "{export}"),
         ("existing.npz", "exists", "--overwrite")),
    Case("sample-rate-below-range", ("encode", "{run}", "{inputs}/rate500.wav", "-o", "{new}.json"),
         ("rate500.wav", "500 Hz is out of range"),
         files={"rate500.wav": _wav((0.3 * np.sin(np.arange(2000) * 0.3)).astype(np.float32), 500)}),
    Case("overwrite-a-foreign-npz", ("encode", "{run}", "{wav}", "-o", "{export}", "--overwrite"),
         ("not an output of encode",)),
    Case("out-suffix", ("encode", "{run}", "{wav}", "-o", "{new}.csv"),
         ("new_output.csv", "'.csv'", ".npz, .json")),
    Case("out-is-a-folder", ("encode", "{run}", "{wav}", "-o", "{inputs}/noaudio.npz"),
         ("noaudio.npz", "is a folder"), files={"noaudio.npz/keep.txt": b"a folder named like a file"}),
    Case("drums-run", ("encode", "{inputs}/drumsrun", "{wav}", "-o", "{new}.json"),
         ("'drums' run cannot encode audio", "grooves"), files={"drumsrun/run.json": _card("drums")}),
    Case("timbre-run", ("encode", "{inputs}/timbrerun", "{wav}", "-o", "{new}.json"),
         ("'timbre' run cannot encode audio", "descriptor labels"), files={"timbrerun/run.json": _card("timbre")}),
    Case("conditional-train-run", ("encode", "{inputs}/cvaerun", "{wav}", "-o", "{new}.json"),
         ("conditional or unfinished 'train' run",), files={"cvaerun/run.json": _card("train")}),
    Case("not-a-run", ("encode", "{dataset}", "{wav}", "-o", "{new}.json"),
         ("not a run folder",)),
]


@pytest.mark.xdist_group("cli-sandbox")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_encode_bad_input(sandbox, case):
    run_case(sandbox, case)


@pytest.mark.xdist_group("cli-sandbox")
def test_encode_writes_rows(sandbox, tmp_path, capsys):
    """The good path beside the bad ones: the sandbox's 16 kHz WAV is resampled to the run's rate."""
    from timbrespace.cli import main

    out = tmp_path / "z.json"
    main(["encode", str(sandbox.run), str(sandbox.wav), "-o", str(out), "--no-progress"])
    err = capsys.readouterr().err
    rows = json.loads(out.read_text())
    assert len(rows["items"]) == 1 and rows["items"][0]["file"] == str(sandbox.wav)
    assert set(rows["items"][0]["mu"]) == set(rows["latent_names"])
    run_sr = json.loads((sandbox.run / "dataset" / "features" / "run_features.json").read_text())["sample_rate"]
    if run_sr != 16000:
        assert "note:" in err and "resampled from 16000 Hz" in err


@pytest.mark.xdist_group("cli-sandbox")
def test_encode_gives_the_sandbox_runs_own_latents(sandbox, tmp_path):
    """The sandbox's run has CQT features without normalisation (the other test run: STFT, standardised)."""
    from timbrespace.cli import main

    with np.load(sandbox.run / "latents.npz") as data:
        mu, ids = data["mu"], list(data["item_id"])
    files = [next((sandbox.run / "dataset" / "audio").glob(f"{ids[i]}.*")) for i in (0, len(ids) - 1)]
    out = tmp_path / "own.npz"
    main(["encode", str(sandbox.run), *map(str, files), "-o", str(out), "--no-progress"])
    with np.load(out) as data:
        np.testing.assert_allclose(data["mu"], mu[[0, len(ids) - 1]], atol=1e-4)
