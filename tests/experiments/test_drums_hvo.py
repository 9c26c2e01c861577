"""A drums run whose model predicts GrooVAE's hits, velocities and offsets (``--outputs hvo``, issue 31):
its metrics beside the feel baselines, its samples and interpolations off the grid in the MIDI
and the WAV, swing on top, and the default (hits and velocities) unchanged."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from tests.cli_run import exit_code
from tests.grooves import drum_note_ons, small_groove_dataset

pytestmark = pytest.mark.xdist_group("drums_hvo_run")


@pytest.fixture(scope="module")
def hvo_run(grooves_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A groove dataset of 60 real grooves and a short HVO run on it, through the CLI."""
    root = tmp_path_factory.mktemp("hvo")
    ds = small_groove_dataset(grooves_dir, root)
    assert exit_code(["drums", "train", str(ds), "--out", str(root / "run"), "--outputs", "hvo", "--epochs", "20",
                      "--hidden", "64", "--latent-dim", "4", "--warmup-steps", "20", "--seed", "0",
                      "--no-progress"]) == 0
    return root / "run"


def test_metrics_put_the_models_feel_beside_the_baselines(hvo_run: Path) -> None:
    config = yaml.safe_load((hvo_run / "config.yaml").read_text())
    assert config["outputs"] == "hvo" and config["model"]["likelihood"] == "hvo"
    metrics = json.loads((hvo_run / "metrics.json").read_text())
    feel = metrics["feel"]
    for key in ("velocity_mae_model", "offset_mae_ms_model", "velocity_mae_baseline_mean", "offset_mae_ms_baseline_zero",
                "velocity_mae", "offset_mae_ms"):
        assert np.isfinite(feel[key]) and feel[key] >= 0, key
    assert 0 < feel["velocity_mae_model"] < 0.5 and 0 < feel["offset_mae_ms_model"] < 60
    assert feel["velocity_mae_model"] == pytest.approx(metrics["velocity_mae"], rel=1e-5)  # the same hits, one path
    assert 0 < metrics["model"]["f1"] <= 1
    html = (hvo_run / "report.html").read_text()
    assert "model (reconstruction through the latent means)" in html and "hits, velocities and micro-timing" in html


def test_evaluate_recomputes_the_same_feel(hvo_run: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from timbrespace.experiments import evaluate_any

    # the scores again, without redrawing the report (checked in the test above)
    monkeypatch.setattr("timbrespace.experiments.drums.write_drums_report", lambda run, **_: run.root / "report.html")
    before = json.loads((hvo_run / "metrics.json").read_text())["feel"]
    again = evaluate_any(hvo_run).metrics["feel"]
    assert before["model_task"] == again.pop("model_task") == "reconstruct"
    before.pop("model_task")
    assert again == pytest.approx(before, rel=1e-6)


def _expected_onsets(run: Path, seed: int, n: int, bars: int, swing: float, tps: int) -> list[list[tuple[int, int]]]:
    """Naive oracle: each groove's (tick, note) from the model's decoded hits and offsets, looped and swung."""
    from timbrespace.experiments.drums_generate import decode_grooves, prior_latents
    from timbrespace.experiments.drums_run import load_groove_run
    from timbrespace.patterns.drum_maps import get_drum_map

    r = load_groove_run(run)
    grooves = decode_grooves(r, prior_latents(r, n, seed=seed))
    assert grooves.offsets is not None
    notes = get_drum_map(r.drum_map).output_notes
    out = []
    for pattern, offsets in zip(grooves.patterns, grooves.offsets, strict=True):
        onsets = set()
        for bar in range(bars):
            for step, voice in zip(*np.nonzero(pattern), strict=True):
                g = bar * pattern.shape[0] + int(step)
                t = g * tps + (round(swing * tps) if g % 2 else 0) + int(np.rint(offsets[step, voice] * tps))
                onsets.add((max(0, t), int(notes[voice])))
        out.append(sorted(onsets))
    return out


def test_samples_play_the_models_offsets_and_swing(hvo_run: Path, drumkits_dir: Path, tmp_path: Path) -> None:
    kit = str(drumkits_dir / "TR808EmulationKit")
    for swing in ("0", "0.3"):
        assert exit_code(["drums", "sample", str(hvo_run), "--n", "2", "--seed", "3", "--kit", kit, "--sample-rate",
                          "8000", "--bars", "2", "--swing", swing, "--out", str(tmp_path / swing)]) == 0
    for swing in (0.0, 0.3):
        expected = _expected_onsets(hvo_run, 3, 2, 2, swing, 120)
        for k in range(2):
            tpb, notes = drum_note_ons(tmp_path / f"{swing:g}" / f"sample_{k:02d}.mid")
            onsets = [(t, note) for t, note, _ in notes]
            assert tpb == 480 and onsets == expected[k]
            off_grid = [t for t, _ in onsets if t % 120 not in (0, round(swing * 120))]
            assert len(off_grid) > 0.5 * len(onsets)  # the model's micro-timing, not the grid
    ya, _ = sf.read(tmp_path / "0" / "sample_00.wav")
    yb, _ = sf.read(tmp_path / "0.3" / "sample_00.wav")
    assert len(ya) > 0 and not np.array_equal(ya, yb)
    out = tmp_path / "humanized"
    assert exit_code(["drums", "sample", str(hvo_run), "--kit", kit, "--humanize", "--out", str(out)]) == 2
    assert not out.exists()


def test_interpolation_plays_the_models_offsets(hvo_run: Path, grooves_dir: Path, drumkits_dir: Path,
                                                tmp_path: Path) -> None:
    a, b = grooves_dir / "pflib__8beat1.mid", grooves_dir / "stdlib__50srock__50sRock.mid"
    assert exit_code(["drums", "interpolate", str(hvo_run), str(a), str(b), "--steps", "3", "--kit",
                      str(drumkits_dir / "TR808EmulationKit"), "--sample-rate", "8000", "--out", str(tmp_path)]) == 0
    for k in range(3):
        onsets = drum_note_ons(tmp_path / f"interp_{k:02d}.mid").notes
        assert onsets and any(t % 120 for t, _, _ in onsets)
        assert (tmp_path / f"interp_{k:02d}.wav").is_file()


def test_hvo_needs_offsets_in_the_data() -> None:
    from timbrespace.errors import DatasetError
    from timbrespace.experiments.drums_eval import model_inputs
    from timbrespace.models import groove_config

    x = np.zeros((2, 16, 9), np.float32)
    x[:, ::4, 0] = 0.8
    o = np.full_like(x, 0.25)
    inputs = model_inputs(groove_config(outputs="hvo"), x, o)
    assert inputs.shape == (2, 2, 16, 9)
    assert np.array_equal(inputs[:, 0], x) and np.array_equal(inputs[:, 1], np.where(x > 0, 0.25, 0.0))
    assert np.array_equal(model_inputs(groove_config(), x), x)  # hits and velocities: as before
    with pytest.raises(DatasetError, match="drums ingest"):
        model_inputs(groove_config(outputs="hvo"), x)


def test_the_default_model_is_unchanged() -> None:
    from timbrespace.models import build_model, groove_config

    cfg = groove_config()
    assert cfg.likelihood == "hit_velocity" and cfg.item_shape == (16, 9) and cfg.likelihood_channels == 2
    model = build_model(cfg, seed=0)
    assert model.encoder.body[0].in_features == 2 * 16 * 9 and model.decoder.net[-1].out_features == 2 * 16 * 9
