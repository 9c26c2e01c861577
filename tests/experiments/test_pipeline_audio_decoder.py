"""`timbrespace run` with the DDSP audio decoder (training.audio_decoder_epochs) on a tiny shift-VAE run."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from timbrespace.errors import ConfigError
from timbrespace.experiments import evaluate_run, load_experiment_config, run_experiment
from timbrespace.experiments.config import builtin_experiments
from timbrespace.training.audio_decoder import decode_audio


def _tiny(tmp: Path, **training: object) -> Path:
    cfg = yaml.safe_load(builtin_experiments()["additive-4factor"].read_text())
    cfg["name"] = "tiny-ddsp"
    cfg["dataset"].update({"sample_rate": 8000, "duration_s": 0.25})  # the default's model, smaller and faster
    cfg["features"].update({"n_bins": 144, "hop_length": 512})
    cfg["dataset"]["parameters"] = {
        "f0_hz": {"min": 150, "max": 600, "n": 4, "spacing": "log"},
        "slope_db_per_octave": {"min": -12, "max": -3, "n": 2},
        "inharmonicity": {"values": [0.0, 0.002]},
        "decay_per_s": {"values": [2.0, 8.0]},
    }
    cfg["training"].update({"epochs": 2, "refine_epochs": 0, "warmup_steps": 4, "num_threads": 1, **training})
    cfg["evaluation"].update({"n_traversal_steps": 3, "n_traversal_latents": 2, "n_reconstructions": 2, "n_iter": 2})
    path = tmp / "tiny-ddsp.yaml"
    path.write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.fixture(scope="module")
def ddsp_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ddsp")
    config = load_experiment_config(_tiny(tmp, audio_decoder_epochs=2))
    return run_experiment(config, out=tmp / "run", progress=False, workers=1)


@pytest.mark.xdist_group("experiments-ddsp-run")
def test_run_trains_saves_and_measures_the_audio_decoder(ddsp_run) -> None:
    run_dir = ddsp_run.run_dir
    assert (run_dir / "checkpoints" / "audio_decoder" / "model.safetensors").is_file()
    rec = json.loads((run_dir / "metrics.json").read_text())["reconstruction"]
    block = rec["audio_decoder"]
    assert block["epochs"] == 2 and np.isfinite(block["spectral_convergence"])
    assert len(block["spectral_convergence_per_item"]) == rec["n_resynthesised"]  # the same test items
    assert np.isfinite(rec["spectral_convergence"])  # phase retrieval's, still measured beside it
    assert "DDSP audio decoder" in (run_dir / "report.html").read_text()
    mu = np.load(run_dir / "latents.npz")["mu"][:3]
    audio, sr = decode_audio(run_dir, mu)
    assert sr == 8000 and audio.shape == (3, 2000) and np.all(np.isfinite(audio))


@pytest.mark.xdist_group("experiments-ddsp-run")
def test_evaluate_run_measures_the_saved_audio_decoder_again(ddsp_run, monkeypatch) -> None:
    from timbrespace.experiments import report

    # the scores again, without redrawing the report (its DDSP section is checked in the test above)
    monkeypatch.setattr(report, "write_run_report", lambda run_dir, **_: run_dir / "report.html")
    before = json.loads((ddsp_run.run_dir / "metrics.json").read_text())["reconstruction"]["audio_decoder"]
    again = evaluate_run(ddsp_run.run_dir).metrics["reconstruction"]["audio_decoder"]
    assert again["spectral_convergence"] == pytest.approx(before["spectral_convergence"], rel=1e-6)


def test_audio_decoder_needs_a_shift_model_on_a_cqt(tmp_path) -> None:
    path = _tiny(tmp_path, audio_decoder_epochs=1)
    cfg = yaml.safe_load(path.read_text())
    cfg["model"] = {"architecture": "mlp", "latent_dim": 3, "hidden_sizes": [16]}
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="audio_decoder_epochs=1 .* shift"):
        load_experiment_config(path)
    cfg = yaml.safe_load(_tiny(tmp_path, audio_decoder_epochs=1).read_text())
    cfg["dataset"]["audio_format"] = "none"
    path.write_text(yaml.safe_dump(cfg))
    with pytest.raises(ConfigError, match="audio_format 'none'"):
        load_experiment_config(path)
    with pytest.raises(ConfigError, match="audio_decoder_epochs=-1"):
        load_experiment_config(_tiny(tmp_path, audio_decoder_epochs=-1))
