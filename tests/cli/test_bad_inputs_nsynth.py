"""Bad inputs to ``export --format nsynth`` (issue 31): one clear line, nothing written.

Cases of the harness in ``bad_inputs.py``: items that map to one NSynth note name
(the sandbox's dataset has three decays per pitch), a dataset that keeps no audio, an
``--out`` that is the user's own folder. Each: exit 2, one ``error:`` line naming the
problem, no traceback, every file in the sandbox byte-identical and nothing new.
"""

from __future__ import annotations

import logging

import pytest

from tests.cli.bad_inputs import Case, Sandbox, run_case

CASES = [
    Case("export-nsynth-duplicate-note-names", ("export", "{dataset}", "-f", "nsynth", "-o", "{new}"),
         ("both map to NSynth note", "--suffix-duplicates")),
    Case("export-nsynth-no-audio", ("export", "{inputs}/nsynth_no_audio", "-f", "nsynth", "-o", "{new}"),
         ("keeps no audio",)),
    Case("export-nsynth-over-the-recordings", ("export", "{inputs}/nsynth_no_audio", "-f", "nsynth",
                                               "-o", "{notes}", "--overwrite"), ("not a timbrespace export",)),
]


@pytest.fixture(scope="module")
def nsynth_sandbox(sandbox: Sandbox) -> Sandbox:
    """The session sandbox plus a dataset generated without audio."""
    from timbrespace.datasets import DatasetConfig, generate_dataset

    target = sandbox.inputs / "nsynth_no_audio"
    if not target.exists():
        config = DatasetConfig(name="silent", sound_model="additive", sample_rate=8000, duration_s=0.1,
                               parameters={"f0_hz": {"values": [220.0, 440.0]}}, audio_format="none")
        logging.disable(logging.INFO)
        try:
            generate_dataset(config, target, workers=1, progress=False)
        finally:
            logging.disable(logging.NOTSET)
    return sandbox


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_nsynth_export(nsynth_sandbox: Sandbox, case: Case) -> None:
    run_case(nsynth_sandbox, case)
