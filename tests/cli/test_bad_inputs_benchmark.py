"""Bad inputs to ``timbrespace benchmark``: one clear line, exit 2, nothing written.

The harness is ``bad_inputs.py`` (the ``sandbox`` fixture is in ``conftest.py``): each
case exits 2 with one ``error:`` line naming the problem, no traceback, every file in the
sandbox byte-identical and nothing new, ``{new}`` (a fresh output folder) included.
"""

from __future__ import annotations

import json

import pytest

from tests.cli.bad_inputs import Case, run_case

_OTHER_STUDY = json.dumps({"format": "timbrespace.benchmark", "settings": {"profile": "full"}}).encode()

CASES = [
    Case("unknown-option", ("benchmark", "-o", "{new}", "--quick", "--epochs", "3"), ("No such option: --epochs",)),
    Case("unknown-model", ("benchmark", "-o", "{new}", "--quick", "--models", "beta_vae,vae"),
         ("--models=beta_vae,vae", "'vae' not allowed", "ada_gvae")),
    Case("unknown-dataset", ("benchmark", "-o", "{new}", "--quick", "--datasets", "seed009"),
         ("--datasets=seed009", "'seed009' not allowed", "seed004-grooves")),
    Case("empty-models", ("benchmark", "-o", "{new}", "--quick", "--models", ","), ("--models", "none given")),
    Case("dataset-twice", ("benchmark", "-o", "{new}", "--quick", "--datasets", "seed003-pop,seed003-pop"),
         ("--datasets=seed003-pop,seed003-pop", "twice")),
    Case("no-seeds", ("benchmark", "-o", "{new}", "--quick", "--seeds", "0"), ("--seeds=0 must be >= 1",)),
    Case("too-many-seeds", ("benchmark", "-o", "{new}", "--quick", "--seeds", "101"), ("--seeds=101", "1..100")),
    Case("no-devices", ("benchmark", "-o", "{new}", "--quick", "--devices", "0"), ("--devices=0 must be >= 1",)),
    Case("two-devices", ("benchmark", "-o", "{new}", "--quick", "--devices", "2"),
         ("--devices=2 not allowed", "one device")),
    Case("seeds-not-a-number", ("benchmark", "-o", "{new}", "--seeds", "three"), ("--seeds", "must be an integer")),
    Case("data-missing", ("benchmark", "-o", "{new}", "--quick", "--datasets", "seed004-grooves", "--data",
                          "{inputs}/nowhere"), ("--data=", "is not a folder", "notes/ and grooves/")),
    Case("data-without-grooves", ("benchmark", "-o", "{new}", "--quick", "--datasets", "seed004-grooves", "--data",
                                  "{dataset}"), ("built from real data", "holds no grooves/", "--data")),
    Case("out-is-a-dataset", ("benchmark", "-o", "{dataset}", "--quick"), ("not a benchmark folder",)),
    Case("out-is-a-file", ("benchmark", "-o", "{wav}", "--quick"), ("is a file",)),
    Case("out-is-another-study", ("benchmark", "-o", "{inputs}/fullstudy", "--quick"),
         ("'full' benchmark made with other settings", "another folder"),
         files={"fullstudy/benchmark.json": _OTHER_STUDY}),
]


@pytest.mark.xdist_group("cli-sandbox")
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_benchmark_bad_input(sandbox, case):
    run_case(sandbox, case)
