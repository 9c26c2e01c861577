"""Bad inputs that lost or corrupted data, or ended in a silent result (issue 32).

The third table of the harness in ``bad_inputs.py`` (the ``sandbox`` fixture is in
``conftest.py``): ``--overwrite`` onto what is not an earlier export (a user's folder,
the dataset's audio, the run's checkpoint), an existing WAV replaced without
``--overwrite``, duplicate values where each must name a different thing, duplicate YAML
keys. Each case: exit 2, one ``error:`` line naming the problem, no traceback, every
file in the sandbox byte-identical and nothing new.
"""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from tests.cli.bad_inputs import Case, run_case


def kill_during_training(run: Path) -> None:
    """Make ``run`` look like a run killed after its first epoch: the last checkpoint at
    epoch 1 of 2, before the decoder refinement, and no ``history.json`` yet."""
    path = run / "checkpoints" / "last" / "training_state.json"
    meta = json.loads(path.read_text())
    meta.update(epoch=1, history=meta["history"][:1], stop_reason=None)
    meta.pop("refine", None)
    path.write_text(json.dumps(meta))
    (run / "history.json").unlink()


def poison_weights(run: Path) -> None:
    """Put a NaN in every checkpoint's first floating-point tensor."""
    from safetensors.torch import load_file, save_file

    for weights in run.rglob("model.safetensors"):
        tensors = load_file(str(weights))
        name = next(k for k, t in tensors.items() if t.is_floating_point())
        tensors[name] = tensors[name].clone()
        tensors[name].view(-1)[0] = float("nan")
        save_file(tensors, str(weights))

DUPLICATE_KEY_RUN = b"name: twice\nmodel:\n  latent_dim: 3\n  beta: 4\n  latent_dim: 7\n"
DUPLICATE_KEY_DATASET = (b"name: twice\nsound_model: additive\nparameters:\n  f0_hz: {min: 100, max: 800, n: 4}\n"
                         b"sample_rate: 8000\nsample_rate: 16000\n")
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
    Case("explore-static-onto-the-config", ("explore", "{run}", "--static", "{run}/config.yaml", "--overwrite"),
         ("not an explorer page",)),
    # evaluate: nothing written from a corrupt checkpoint or an unfinished training
    Case("evaluate-nan-checkpoint", ("evaluate", "{inputs}/run_nan"), ("model.safetensors", "NaN")),
    Case("evaluate-unfinished-run", ("evaluate", "{inputs}/run_unfinished"),
         ("training is unfinished", "epoch 1 of 2", "--allow-unfinished")),
    # a lost chunk of stored features fails, named, instead of reading as zeros
    Case("train-on-a-missing-chunk", ("train", "{inputs}/ds_missing_chunk", "--features", "spec", "--out", "{new}",
                                      "--no-progress"), ("spec.zarr/c/0/0/0", "missing")),
    Case("invert-on-a-missing-chunk-no-manifest", ("invert", "{inputs}/ds_missing_chunk_legacy", "--items", "000000",
                                                   "--out", "{new}"), ("spec.zarr/c/0/0/0", "missing")),
    # a value given twice: one model, two rows; one file, "wrote 2 files"; the last YAML key silently wins
    Case("sweep-beta-twice", ("sweep", "{dataset}", "--out", "{new}", "--beta", "1,1", "--no-progress"),
         ("--beta=1,1 gives 1 twice",)),
    Case("sweep-init-twice", ("sweep", "{dataset}", "--out", "{new}", "--init", "random,random", "--no-progress"),
         ("--init=random,random gives random twice",)),
    Case("sweep-unknown-dci-estimator", ("sweep", "{dataset}", "--out", "{new}", "--dci-estimator", "svm",
                                         "--no-progress"), ("--dci-estimator='svm'", "gbt, hist")),
    Case("invert-item-twice", ("invert", "{dataset}", "--items", "000000,000000", "--out", "{new}"),
         ("--items=000000,000000 gives 000000 twice",)),
    Case("run-duplicate-yaml-key", ("run", "{inputs}/twice.yaml", "--out", "{new}", "--no-progress"),
         ("twice.yaml", "line 5", "'latent_dim' is given twice (first at line 3)"),
         files={"twice.yaml": DUPLICATE_KEY_RUN}),
    Case("generate-duplicate-yaml-key", ("generate", "{inputs}/twice_dataset.yaml", "--out", "{new}"),
         ("twice_dataset.yaml", "'sample_rate' is given twice"), files={"twice_dataset.yaml": DUPLICATE_KEY_DATASET}),
    Case("evaluate-duplicate-key-in-run-config", ("evaluate", "{inputs}/run_twice"),
         ("config.yaml", "is given twice")),
    Case("synths-render-onto-a-wav", ("synths", "render", "additive", "--out", "{wav}"), ("exists", "--overwrite")),
]


@pytest.fixture(scope="session")
def damaged_runs(sandbox):
    """Copies of the sandbox's run (one killed during training, one with NaN weights) and of
    its dataset with a chunk of the features lost (with and without the chunk manifest)."""
    def copy(name):
        target = sandbox.inputs / name
        if not target.exists():
            shutil.copytree(sandbox.run, target)
        return target

    unfinished = copy("run_unfinished")
    if (unfinished / "history.json").exists():
        kill_during_training(unfinished)
    poison_weights(copy("run_nan"))
    config = copy("run_twice") / "config.yaml"
    if config.read_text().startswith("name:"):
        config.write_text(config.read_text().replace("name:", "seed: 0\nname:", 1))  # seed: is set further down
    for name, manifest in (("ds_missing_chunk", True), ("ds_missing_chunk_legacy", False)):
        dataset = sandbox.inputs / name
        if not dataset.exists():
            shutil.copytree(sandbox.dataset, dataset)
            (dataset / "features" / "spec.zarr" / "c" / "0" / "0" / "0").unlink()
            if not manifest:
                (dataset / "features" / "spec.chunks.json").unlink(missing_ok=True)
    return sandbox


@pytest.mark.xdist_group("cli-sandbox")  # one session sandbox (a trained run) per worker
@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_dataloss_input(damaged_runs, case):
    run_case(damaged_runs, case)


def _main(argv: list[str]) -> int:
    from timbrespace.cli import main

    try:
        main(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    return 0


@pytest.mark.xdist_group("cli-sandbox")
@pytest.mark.slow
def test_evaluate_allow_unfinished_says_so_and_run_still_resumes(sandbox, tmp_path, capsys, monkeypatch):
    run = tmp_path / "run"
    shutil.copytree(sandbox.run, run)
    kill_during_training(run)
    assert _main(["evaluate", str(run), "--allow-unfinished"]) == 0
    assert "training unfinished (epoch 1 of 2)" in capsys.readouterr().err
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["training_unfinished"] == {"epoch": 1, "epochs": 2, "finished": False}
    assert "Training unfinished" in (run / "report.html").read_text()
    # `run` resumes the unfinished training instead of refusing a "finished run" (scored without
    # redrawing the report just checked)
    monkeypatch.setattr("timbrespace.experiments.report.write_run_report", lambda run_dir, **_: run_dir / "report.html")
    assert _main(["run", str(run / "config.yaml"), "--out", str(run), "--no-progress"]) == 0, capsys.readouterr().err
    metrics = json.loads((run / "metrics.json").read_text())
    assert "training_unfinished" not in metrics and metrics["final_epoch"]["epoch"] == 1
    state = json.loads((run / "checkpoints" / "last" / "training_state.json").read_text())
    assert state["epoch"] == 2 and len(state["history"]) == 2 and state["refine"]
    assert _main(["run", str(run / "config.yaml"), "--out", str(run), "--no-progress"]) == 2  # now finished
    assert "already holds a finished run" in capsys.readouterr().err


@pytest.mark.xdist_group("cli-sandbox")
@pytest.mark.slow
def test_an_edited_model_section_is_reported_as_the_checkpoint_has_it(sandbox, tmp_path, caplog):
    run = tmp_path / "run"
    shutil.copytree(sandbox.run, run)
    config = run / "config.yaml"
    assert "  latent_dim: 3\n" in config.read_text()
    config.write_text(config.read_text().replace("  latent_dim: 3\n", "  latent_dim: 7\n"))
    with caplog.at_level(logging.WARNING):
        assert _main(["evaluate", str(run)]) == 0
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING and "checkpoint" in r.getMessage()]
    assert warnings == [f"{config}: model.latent_dim=7 but the checkpoint has 3; the checkpoint's model config is "
                        "the one evaluated and reported (was config.yaml edited?)"]
    assert json.loads((run / "metrics.json").read_text())["latent_dim"] == 3
    report = (run / "report.html").read_text()
    assert "latent_dim: 3" in report and "latent_dim: 7" not in report
