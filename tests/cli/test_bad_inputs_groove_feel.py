"""Bad inputs of ``timbrespace drums humanize`` (issue 31, grooves with feel).

The harness of ``bad_inputs.py`` (the ``sandbox`` fixture is in ``conftest.py``): ``drums train
--outputs`` not one of hits, hv, hvo or against ``--hits-only``, and for ``drums humanize`` a missing
or non-MIDI input, MIDI without a drum hit, an output that exists (without
``--overwrite``), is the input or a folder, a feel source that is missing, of another
kind, or damaged. Each case: exit 2, one ``error:`` line naming the problem, no
traceback, every file in the sandbox byte-identical and nothing new.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pytest

from tests.cli.bad_inputs import Case, run_case


def _drum_midi(hits: bool = True) -> bytes:
    from timbrespace.patterns.midi import patterns_to_midi

    p = np.zeros((2, 16, 9), np.float32)
    if hits:
        p[:, ::2, 2] = p[:, ::8, 0] = 0.8
    buf = io.BytesIO()
    patterns_to_midi(p).save(file=buf)
    return buf.getvalue()


def _piano_midi() -> bytes:
    import pretty_midi

    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(velocity=100, pitch=60, start=0.5 * i, end=0.5 * i + 0.4) for i in range(8)]
    pm.instruments.append(piano)
    buf = io.BytesIO()
    pm.write(buf)
    return buf.getvalue()


_STRAIGHT = {"straight.mid": _drum_midi()}
_HUMANIZE = ("drums", "humanize", "{inputs}/straight.mid")

CASES = [
    Case("humanize-missing-midi", ("drums", "humanize", "{inputs}/absent.mid", "-o", "{new}.mid"),
         ("absent.mid", "does not exist")),
    Case("humanize-not-midi", ("drums", "humanize", "{wav}", "-o", "{new}.mid"), ("existing.wav", "unreadable MIDI")),
    Case("humanize-piano-only", ("drums", "humanize", "{inputs}/piano.mid", "-o", "{new}.mid"),
         ("piano.mid", "no drum hits"), files={"piano.mid": _piano_midi()}),
    Case("humanize-empty-pattern", ("drums", "humanize", "{inputs}/silent.mid", "-o", "{new}.mid"),
         ("silent.mid", "no drum hits"), files={"silent.mid": _drum_midi(hits=False)}),
    Case("humanize-out-exists", (*_HUMANIZE, "-o", "{export}"), ("existing.npz", "--overwrite"), files=_STRAIGHT),
    Case("humanize-out-is-input", (*_HUMANIZE, "-o", "{inputs}/straight.mid", "--overwrite"),
         ("is the input file",), files=_STRAIGHT),
    Case("humanize-out-is-folder", (*_HUMANIZE, "-o", "{inputs}", "--overwrite"), ("is a folder",), files=_STRAIGHT),
    Case("humanize-from-missing", (*_HUMANIZE, "-o", "{new}.mid", "--from", "{inputs}/nofeel"),
         ("--from", "nofeel", "no such file"), files=_STRAIGHT),
    Case("humanize-from-another-kind", (*_HUMANIZE, "-o", "{new}.mid", "--from", "{run}"),
         ("'run' run", "'drums'"), files=_STRAIGHT),
    Case("humanize-from-spectral-dataset", (*_HUMANIZE, "-o", "{new}.mid", "--from", "{dataset}"),
         ("not a groove dataset",), files=_STRAIGHT),
    Case("humanize-from-notes-folder", (*_HUMANIZE, "-o", "{new}.mid", "--from", "{notes}"),
         ("not a drums run, a groove dataset or a feel",), files=_STRAIGHT),
    Case("humanize-from-damaged-feel", (*_HUMANIZE, "-o", "{new}.mid", "--from", "{inputs}/feel.json"),
         ("feel.json", "not a groove feel"),
         files={**_STRAIGHT, "feel.json": json.dumps({"format": "something else"}).encode()}),
    Case("humanize-from-cut-feel", (*_HUMANIZE, "-o", "{new}.mid", "--from", "{inputs}/cut_feel.json"),
         ("cut_feel.json", "unreadable groove feel"), files={**_STRAIGHT, "cut_feel.json": b'{"format": "timbre'}),
    Case("humanize-negative-seed", (*_HUMANIZE, "-o", "{new}.mid", "--seed", "-1"), ("--seed",), files=_STRAIGHT),
    Case("drums-train-unknown-outputs", ("drums", "train", "{dataset}", "--outputs", "hov", "--out", "{new}"),
         ("--outputs='hov'", "one of hits, hv, hvo")),
    Case("drums-train-hits-only-with-hvo", ("drums", "train", "{dataset}", "--hits-only", "--outputs", "hvo",
                                            "--out", "{new}"), ("--hits-only", "--outputs hvo")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(sandbox, case: Case) -> None:
    run_case(sandbox, case)
