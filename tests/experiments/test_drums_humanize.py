"""GrooVAE's Humanize as a drums run (``drums train --outputs hvo --task humanize``, issue 31): the
encoder reads the hits only, the run's metrics are predictions from the quantised held-out bars,
``drums humanize --run`` plays a MIDI file through the model off the grid, and bad inputs give one
``error:`` line, exit 2 and nothing written."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from tests.cli.bad_inputs import Case, Sandbox, run_case
from tests.cli_run import exit_code
from tests.grooves import drum_note_ons, small_groove_dataset

pytestmark = pytest.mark.xdist_group("drums_humanize_run")


def _bars(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` random bars ``(n, 16, 9)``: velocities in [0.2, 1] at ~30 % of the cells, offsets in ±0.4 step."""
    rng = np.random.default_rng(seed)
    hits = rng.random((n, 16, 9)) < 0.3
    return (np.where(hits, rng.uniform(0.2, 1.0, hits.shape), 0.0).astype(np.float32),
            np.where(hits, rng.uniform(-0.4, 0.4, hits.shape), 0.0).astype(np.float32))


def test_the_encoder_reads_no_velocity_or_offset() -> None:
    """Same hits, other velocities and offsets: same latents and prediction; a reconstruct model's change."""
    from timbrespace.experiments.drums_humanize import predict_humanized
    from timbrespace.models import build_model, groove_config

    x, o = _bars(6, 0)
    x2, o2 = _bars(6, 1)
    x2 = np.where(x > 0, np.maximum(x2, 0.3), 0.0).astype(np.float32)  # x's hits, other velocities
    o2 = np.where(x > 0, -o, 0.0).astype(np.float32)
    items, items2 = torch.from_numpy(np.stack([x, o], 1)), torch.from_numpy(np.stack([x2, o2], 1))
    models = {task: build_model(groove_config(outputs="hvo", task=task, hidden_sizes=(32,), latent_dim=4), seed=0)
              for task in ("humanize", "reconstruct")}
    for task, same in (("humanize", True), ("reconstruct", False)):
        mu, mu2 = models[task].encode(items)[0], models[task].encode(items2)[0]
        assert torch.equal(mu, mu2) is same, task
    model = models["humanize"]
    v_a, o_a = predict_humanized(model, x)
    v_b, o_b = predict_humanized(model, x2)
    assert np.array_equal(v_a, v_b) and np.array_equal(o_a, o_b)
    assert np.array_equal(v_a > 0, x > 0) and not o_a[x == 0].any()  # the hits pass through, silence stays
    out = model(items)  # the loss still targets the real velocities and offsets
    assert not torch.equal(model.reconstruction(items, out), model.reconstruction(items2, out))


def test_humanize_needs_hvo() -> None:
    from timbrespace.errors import ConfigError
    from timbrespace.models import VAEConfig, groove_config

    with pytest.raises(ConfigError, match="needs outputs 'hvo'"):
        groove_config(outputs="hv", task="humanize")
    with pytest.raises(ConfigError, match="encoder_input='hits'"):
        VAEConfig(input_shape=(16, 9), likelihood="hit_velocity", encoder_input="hits")
    cfg = groove_config(outputs="hvo", task="humanize")
    assert VAEConfig.from_dict(cfg.to_dict()) == cfg
    old = {k: v for k, v in groove_config(outputs="hvo").to_dict().items() if k != "encoder_input"}
    assert VAEConfig.from_dict(old).encoder_input == "full"  # a model.json written before reads as before


@pytest.fixture(scope="module")
def humanize_run(grooves_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A groove dataset of 60 real grooves and a short Humanize run on it, through the CLI."""
    root = tmp_path_factory.mktemp("humanize")
    ds = small_groove_dataset(grooves_dir, root)
    assert exit_code(["drums", "train", str(ds), "--out", str(root / "run"), "--outputs", "hvo", "--task",
                      "humanize", "--error-weight", "10", "--epochs", "20", "--hidden", "64", "--latent-dim", "4",
                      "--warmup-steps", "20", "--seed", "0", "--no-progress"]) == 0
    return root / "run"


def test_metrics_are_predictions_from_the_quantised_bars(humanize_run: Path) -> None:
    """metrics.json's model errors equal a naive recomputation that gives the model the test hits only."""
    from timbrespace.datasets import Dataset
    from timbrespace.experiments.drums_run import load_groove_run
    from timbrespace.patterns.dataset import load_offsets, load_patterns

    config = yaml.safe_load((humanize_run / "config.yaml").read_text())
    assert config["task"] == "humanize" and config["model"]["encoder_input"] == "hits"
    assert config["model"]["output_variance"] == pytest.approx(0.05)  # --error-weight 10
    metrics = json.loads((humanize_run / "metrics.json").read_text())
    assert metrics["task"] == "humanize" and metrics["feel"]["model_task"] == "humanize"
    assert metrics["feel_valid"]["model_task"] == "humanize"
    ds = Dataset(config["dataset"])
    x, meta = load_patterns(ds, "test")
    offsets = load_offsets(ds, "test")
    assert offsets is not None
    model = load_groove_run(humanize_run).model
    hits = x > 0
    quantised = torch.from_numpy(np.stack([hits, np.zeros_like(hits)], 1).astype(np.float32))
    with torch.no_grad():
        logits = model.decode_logits(model.encode(quantised)[0])
    v = torch.sigmoid(logits[:, 1]).numpy()
    o = 0.5 * np.tanh(logits[:, 2].numpy())
    step_ms = 60_000.0 / (meta["bpm"].to_numpy() * 4)
    ms = np.broadcast_to(step_ms[:, None, None], x.shape)[hits]
    assert metrics["feel"]["velocity_mae_model"] == pytest.approx(np.mean(np.abs(v[hits] - x[hits])), rel=1e-4)
    assert metrics["feel"]["offset_mae_ms_model"] == pytest.approx(np.mean(np.abs(o[hits] - offsets[hits]) * ms),
                                                                   rel=1e-4)
    assert "Humanize: predicted from the quantised bars" in (humanize_run / "report.html").read_text()


def _midi(velocities: np.ndarray, offsets: np.ndarray | None = None, time_signature: tuple[int, int] = (4, 4)
          ) -> bytes:
    from timbrespace.patterns.midi import patterns_to_midi

    buf = io.BytesIO()
    patterns_to_midi(velocities, offsets=offsets, bpm=100.0, time_signature=time_signature).save(file=buf)
    return buf.getvalue()


def test_humanize_plays_the_models_feel_off_the_grid(humanize_run: Path, tmp_path: Path) -> None:
    """A quantised, one-velocity MIDI file → the model's velocities and offsets, the hits kept; the input's
    own velocities and timing change nothing."""
    from timbrespace.experiments.drums_humanize import predict_humanized
    from timbrespace.experiments.drums_run import load_groove_run
    from timbrespace.patterns.drum_maps import get_drum_map

    x, o = _bars(2, 3)
    (tmp_path / "straight.mid").write_bytes(_midi(np.where(x > 0, 100 / 127, 0.0).astype(np.float32)))
    (tmp_path / "played.mid").write_bytes(_midi(x, o))  # the same hits with velocities and timing of their own
    for name in ("straight", "played"):
        assert exit_code(["drums", "humanize", str(tmp_path / f"{name}.mid"), "-o", str(tmp_path / f"{name}_h.mid"),
                          "--run", str(humanize_run)]) == 0
    onsets = drum_note_ons(tmp_path / "straight_h.mid").notes
    assert onsets == drum_note_ons(tmp_path / "played_h.mid").notes
    v, off = predict_humanized(load_groove_run(humanize_run).model, x)
    notes, tps = get_drum_map("magenta9").output_notes, 120
    expected = sorted((max(0, (bar * 16 + int(s)) * tps + int(np.rint(off[bar, s, k] * tps))), int(notes[k]),
                       int(np.rint(v[bar, s, k] * 127))) for bar, s, k in zip(*np.nonzero(x), strict=True))
    assert onsets == expected  # every hit kept, at the model's offset and velocity
    assert sum(t % tps != 0 for t, _, _ in onsets) > 0.5 * len(onsets)
    assert len({vel for _, _, vel in onsets}) > 3


def test_humanize_run_of_another_task_plays_its_feel(grooves_dir: Path, humanize_run: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """``--run`` of a run not trained for Humanize plays the run's feel table, as ``--from``."""
    run = tmp_path / "reconstruct"
    shutil.copytree(humanize_run, run)
    config = yaml.safe_load((run / "config.yaml").read_text())
    (run / "config.yaml").write_text(yaml.safe_dump({**config, "task": "reconstruct"}, sort_keys=False))
    x, _ = _bars(1, 4)
    (tmp_path / "in.mid").write_bytes(_midi(x))
    for option, out in (("--run", "a.mid"), ("--from", "b.mid")):
        assert exit_code(["drums", "humanize", str(tmp_path / "in.mid"), "-o", str(tmp_path / out), option,
                          str(run)]) == 0
    assert drum_note_ons(tmp_path / "a.mid").notes == drum_note_ons(tmp_path / "b.mid").notes
    assert "not trained with --task humanize" in capsys.readouterr().out


def _sandbox(run: Path, root: Path) -> Sandbox:
    inputs = root / "inputs"
    inputs.mkdir(exist_ok=True)
    return Sandbox(root=root, dataset=run.parent / "ds", run=run, notes=root, grooves=run.parent / "midi",
                   wav=root / "none.wav", export=root / "none.npz", inputs=inputs, new=root / "new_output")


_STRAIGHT = {"straight.mid": _midi(np.where(_bars(1, 5)[0] > 0, 0.8, 0.0).astype(np.float32))}
_HUMANIZE = ("drums", "humanize", "{inputs}/straight.mid", "-o", "{new}.mid")
_TRAIN = ("drums", "train", "{dataset}", "--out", "{new}", "--epochs", "1")
BAD = [
    Case("run-and-from", (*_HUMANIZE, "--run", "{run}", "--from", "{run}"), ("--run", "--from", "not both"),
         files=_STRAIGHT),
    Case("run-missing", (*_HUMANIZE, "--run", "{inputs}/norun"), ("--run", "norun", "no such run"), files=_STRAIGHT),
    Case("run-not-a-run", (*_HUMANIZE, "--run", "{inputs}"), ("not a groove run",), files=_STRAIGHT),
    Case("run-three-four", ("drums", "humanize", "{inputs}/waltz.mid", "-o", "{new}.mid", "--run", "{run}"),
         ("waltz.mid", "12 steps (3/4)", "16 steps"),
         files={"waltz.mid": _midi(np.where(_bars(2, 6)[0][:, :12] > 0, 0.8, 0.0).astype(np.float32),
                                   time_signature=(3, 4))}),
    Case("run-no-hits", ("drums", "humanize", "{inputs}/silent.mid", "-o", "{new}.mid", "--run", "{run}"),
         ("silent.mid", "no drum hits"), files={"silent.mid": _midi(np.zeros((1, 16, 9), np.float32))}),
    Case("train-humanize-hv", (*_TRAIN, "--task", "humanize"), ("task='humanize'", "needs outputs 'hvo'")),
    Case("train-unknown-task", (*_TRAIN, "--outputs", "hvo", "--task", "humanise"), ("--task='humanise'",)),
    Case("train-error-weight-zero", (*_TRAIN, "--error-weight", "0"), ("--error-weight=0", "out of range")),
    Case("train-error-weight-hits-only", (*_TRAIN, "--hits-only", "--error-weight", "3"),
         ("--error-weight", "hits-only")),
]


@pytest.mark.parametrize("case", BAD, ids=[c.id for c in BAD])
def test_bad_input(humanize_run: Path, tmp_path: Path, case: Case) -> None:
    run_case(_sandbox(humanize_run, tmp_path), case)
