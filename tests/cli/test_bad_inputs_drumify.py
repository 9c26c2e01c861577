"""Bad inputs of ``timbrespace drums drumify`` (issue 31, GrooVAE's Drumify).

The harness of ``bad_inputs.py`` (the ``sandbox`` fixture is in ``conftest.py``): a missing
tap file, one that is neither MIDI nor audio, a MIDI file without a note, a silent WAV, an
output that exists (without ``--overwrite``), is the input or a folder, a model that is
missing or damaged, options out of range, ``--fit`` misused. Each case: exit 2, one
``error:`` line naming the problem, no traceback, every file in the sandbox
byte-identical and nothing new.
"""

from __future__ import annotations

import io
import json

import mido
import numpy as np
import pytest
import soundfile as sf

from tests.cli.bad_inputs import Case, run_case


def _taps_midi(n_notes: int = 8) -> bytes:
    track = mido.MidiTrack()
    for _ in range(n_notes):
        track += [mido.Message("note_on", note=60, velocity=100, time=0),
                  mido.Message("note_off", note=60, velocity=0, time=240)]
    mf = mido.MidiFile(type=0, ticks_per_beat=480)
    mf.tracks.append(track)
    buf = io.BytesIO()
    mf.save(file=buf)
    return buf.getvalue()


def _silent_wav() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros(16000, np.float32), 16000, format="WAV")
    return buf.getvalue()


_TAPS = {"taps.mid": _taps_midi()}
_DRUMIFY = ("drums", "drumify", "{inputs}/taps.mid")

CASES = [
    Case("drumify-missing-input", ("drums", "drumify", "{inputs}/absent.mid", "-o", "{new}.mid"),
         ("absent.mid", "does not exist")),
    Case("drumify-not-midi-or-audio", ("drums", "drumify", "{inputs}/notes.txt", "-o", "{new}.mid"),
         ("notes.txt", "neither a MIDI file nor audio"), files={"notes.txt": b"kick snare kick snare\n"}),
    Case("drumify-midi-without-notes", ("drums", "drumify", "{inputs}/empty.mid", "-o", "{new}.mid"),
         ("empty.mid", "no notes"), files={"empty.mid": _taps_midi(0)}),
    Case("drumify-silent-wav", ("drums", "drumify", "{inputs}/silence.wav", "-o", "{new}.mid"),
         ("silence.wav", "silent"), files={"silence.wav": _silent_wav()}),
    Case("drumify-out-exists", (*_DRUMIFY, "-o", "{export}"), ("existing.npz", "--overwrite"), files=_TAPS),
    Case("drumify-wav-exists", (*_DRUMIFY, "-o", "{new}.mid", "--wav", "{wav}"), ("existing.wav", "--overwrite"),
         files=_TAPS),
    Case("drumify-out-is-input", (*_DRUMIFY, "-o", "{inputs}/taps.mid", "--overwrite"), ("is the input file",),
         files=_TAPS),
    Case("drumify-out-is-folder", (*_DRUMIFY, "-o", "{inputs}", "--overwrite"), ("is a folder",), files=_TAPS),
    Case("drumify-no-out", _DRUMIFY, ("-o/--out",), files=_TAPS),
    Case("drumify-no-input", ("drums", "drumify", "-o", "{new}.mid"), ("tap file",)),
    Case("drumify-bpm-out-of-range", (*_DRUMIFY, "-o", "{new}.mid", "--bpm", "0"), ("--bpm", "20..400"),
         files=_TAPS),
    Case("drumify-wav-not-wav", (*_DRUMIFY, "-o", "{new}.mid", "--wav", "{new}.flac"), ("--wav", "ending in .wav"),
         files=_TAPS),
    Case("drumify-unknown-kit", (*_DRUMIFY, "-o", "{new}.mid", "--wav", "{new}.wav", "--kit", "NoSuchKit"),
         ("NoSuchKit",), files=_TAPS),
    Case("drumify-from-missing", (*_DRUMIFY, "-o", "{new}.mid", "--from", "{inputs}/nomodel"),
         ("--from", "nomodel", "no such file"), files=_TAPS),
    Case("drumify-from-damaged-model", (*_DRUMIFY, "-o", "{new}.mid", "--from", "{inputs}/model.json"),
         ("model.json", "not a drumify model"),
         files={**_TAPS, "model.json": json.dumps({"format": "something else"}).encode()}),
    Case("drumify-from-spectral-dataset", (*_DRUMIFY, "-o", "{new}.mid", "--from", "{dataset}"),
         ("not a groove dataset",), files=_TAPS),
    Case("drumify-fit-with-tap-options", ("drums", "drumify", "--fit", "{dataset}", "-o", "{new}.json", "--bpm", "90",
                                          "--wav", "{new}.wav"), ("--wav, --bpm drumify taps", "--fit only fits")),
    Case("drumify-fit-and-input", (*_DRUMIFY, "--fit", "{dataset}", "-o", "{new}.json"), ("not both",), files=_TAPS),
    Case("drumify-fit-missing", ("drums", "drumify", "--fit", "{inputs}/nodata", "-o", "{new}.json"),
         ("--fit", "nodata")),
    Case("drumify-fit-out-exists", ("drums", "drumify", "--fit", "{dataset}", "-o", "{export}"),
         ("existing.npz", "--overwrite")),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(sandbox, case: Case) -> None:
    run_case(sandbox, case)
