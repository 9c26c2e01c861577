"""Bad inputs that lost or corrupted data, or ended in a silent result (issue 32).

The third table of the harness in ``bad_inputs.py`` (the ``sandbox`` fixture is in
``conftest.py``): ``--overwrite`` onto what is not an earlier export (a user's folder,
the dataset's audio, the run's checkpoint), an existing WAV replaced without
``--overwrite``, duplicate values where each must name a different thing, duplicate YAML
keys. Each case: exit 2, one ``error:`` line naming the problem, no traceback, every
file in the sandbox byte-identical and nothing new.
"""

from __future__ import annotations

import pytest

from tests.cli.bad_inputs import Case, run_case

USER_FOLDER = {"folder/thesis.txt": b"four years of work", "folder/photos/cat.jpg": b"\xff\xd8\xff"}

CASES = [
    # --overwrite replaces an earlier export, never a user's folder or the dataset's audio
    Case("export-hf-overwrite-a-user-folder", ("export", "{dataset}", "--format", "hf-audiofolder", "--out",
                                               "{inputs}/folder", "--overwrite"),
         ("not a timbrespace export",), files=USER_FOLDER),
    Case("export-hf-overwrite-the-dataset-audio", ("export", "{dataset}", "--format", "hf-audiofolder", "--out",
                                                   "{dataset}/audio", "--overwrite"), ("not a timbrespace export",)),
    Case("export-nsynth-overwrite-a-user-folder", ("export", "{dataset}", "--format", "nsynth-json", "--out",
                                                   "{inputs}/folder", "--overwrite"),
         ("not a timbrespace export",), files=USER_FOLDER),
    Case("export-nsynth-overwrite-the-recordings", ("export", "{dataset}", "--format", "nsynth-json", "--out",
                                                    "{notes}", "--overwrite"), ("not a timbrespace export",)),
    Case("export-npz-overwrite-another-npz", ("export", "{dataset}", "--format", "seed000-npz", "--out", "{export}",
                                              "--overwrite"), ("not a seed000-npz export",)),
    # export-model: never into the run's own files
    Case("export-model-onto-the-checkpoint", ("export-model", "{run}", "--format", "torchscript", "--out",
                                              "{run}/checkpoints/last/model.safetensors", "--overwrite"),
         ("inside the run's own files",)),
    Case("export-model-onto-the-config", ("export-model", "{run}", "--format", "torchscript", "--out",
                                          "{run}/config.yaml", "--overwrite"), ("not an earlier model export",)),
    Case("export-model-json-onto-the-metrics", ("export-model", "{run}", "--format", "torchscript", "--out",
                                                "{run}/metrics", "--overwrite"),
         ("metrics.json", "not an earlier model export")),
    Case("export-model-onto-a-wav", ("export-model", "{run}", "--format", "torchscript", "--out", "{wav}",
                                     "--overwrite"), ("not an earlier model export",)),
    Case("synths-render-onto-a-wav", ("synths", "render", "additive", "--out", "{wav}"), ("exists", "--overwrite")),
]


@pytest.mark.xdist_group("cli-sandbox")  # one session sandbox (a trained run) per worker
@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_dataloss_input(sandbox, case):
    run_case(sandbox, case)
