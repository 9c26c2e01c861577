"""Tests of decoder refinement: the spectral loss, a frozen encoder, checkpoints and resume."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.experiments.config import ExperimentConfig
from timbrespace.models import VAEConfig, build_model
from timbrespace.training import TrainConfig, encode_array, fit, load_checkpoint
from timbrespace.training.refine import LOG_WEIGHT, refine_decoder, spectral_loss

MODEL = VAEConfig(input_shape=(12, 4), latent_dim=2, hidden_sizes=(32,), output_variance=4.0)


def db_items(n: int = 96, seed: int = 0) -> np.ndarray:
    """dB spectra of two-parameter items: a peak whose position and level vary (±20 dB)."""
    rng = np.random.default_rng(seed)
    where, level = rng.uniform(2, 9, n), rng.uniform(-20, 0, n)
    k = np.arange(12)[None, :, None]
    mag = 10 ** (level[:, None, None] / 20) * np.exp(-0.5 * (k - where[:, None, None]) ** 2) + 1e-3
    return (20 * np.log10(mag) * np.ones((1, 1, 4))).astype(np.float32)


def spectral_convergence(x_db: np.ndarray, y_db: np.ndarray) -> float:
    a, b = 10 ** (x_db / 20), 10 ** (y_db / 20)
    return float(np.mean(np.linalg.norm((a - b).reshape(len(a), -1), axis=1)
                         / np.linalg.norm(a.reshape(len(a), -1), axis=1)))


def test_spectral_loss_matches_its_formula() -> None:
    x = torch.ones(3, 5, 2)
    assert float(spectral_loss(x, x, "magnitude")) == 0.0
    # |X^| = 2 |X|: spectral convergence 1, log error ln 2 everywhere
    assert float(spectral_loss(x, 2 * x, "magnitude")) == pytest.approx(1 + LOG_WEIGHT * math.log(2), rel=1e-6)
    rng = np.random.default_rng(0)
    a, b = (torch.from_numpy(rng.uniform(0.01, 1, (4, 6, 3)).astype(np.float64)) for _ in range(2))
    in_db = spectral_loss(20 * torch.log10(a), 20 * torch.log10(b), "db")
    assert float(in_db) == pytest.approx(float(spectral_loss(a, b, "magnitude")), rel=1e-9)


def test_refinement_trains_the_decoder_only_and_lowers_the_loss() -> None:
    x = db_items()
    model = build_model(MODEL, seed=0)
    mu_before = encode_array(model, x)
    encoder = copy.deepcopy(model.encoder.state_dict())
    decoder = copy.deepcopy(model.decoder.state_dict())
    losses = refine_decoder(model, x, epochs=30, batch_size=16, lr=1e-2, seed=0, scale="db")
    assert len(losses) == 30 and losses[-1] < 0.5 * losses[0]
    assert all(torch.equal(v, model.encoder.state_dict()[k]) for k, v in encoder.items())
    assert not all(torch.equal(v, model.decoder.state_dict()[k]) for k, v in decoder.items())
    np.testing.assert_array_equal(encode_array(model, x), mu_before)


def test_refinement_is_deterministic() -> None:
    x = db_items(48)
    a, b = build_model(MODEL, seed=0), build_model(MODEL, seed=0)
    la = refine_decoder(a, x, epochs=3, batch_size=8, lr=1e-3, seed=5, scale="db")
    lb = refine_decoder(b, x, epochs=3, batch_size=8, lr=1e-3, seed=5, scale="db")
    assert la == lb
    assert all(torch.equal(v, b.state_dict()[k]) for k, v in a.state_dict().items())


def test_fit_refines_last_keeps_best_and_a_resume_does_not_refine_twice(tmp_path: Path) -> None:
    x = db_items()
    plain = fit(MODEL, TrainConfig(epochs=3, batch_size=16, seed=0), x, out_dir=tmp_path / "plain")
    config = TrainConfig(epochs=3, batch_size=16, seed=0, refine_epochs=20, refine_lr=1e-2)
    refined = fit(MODEL, config, x, out_dir=tmp_path / "run", feature_scale="db")
    # the encoder (so the latents) is the plain run's; the sound is closer to the items
    np.testing.assert_array_equal(encode_array(refined.model, x), encode_array(plain.model, x))
    sc_plain = spectral_convergence(x, refined_decode(plain.model, x))
    sc_refined = spectral_convergence(x, refined_decode(refined.model, x))
    assert sc_refined < 0.8 * sc_plain
    meta = json.loads((tmp_path / "run" / "checkpoints" / "last" / "training_state.json").read_text())
    assert meta["refine"]["epochs"] == 20 and len(meta["refine"]["loss"]) == 20
    on_disk = load_checkpoint(tmp_path / "run" / "checkpoints" / "last")
    assert all(torch.equal(v, on_disk.state_dict()[k]) for k, v in refined.model.state_dict().items())
    best = load_checkpoint(tmp_path / "run" / "checkpoints" / "best")
    assert not all(torch.equal(v, best.decoder.state_dict()[k]) for k, v in refined.model.decoder.state_dict().items())
    again = fit(MODEL, config, x, out_dir=tmp_path / "run", feature_scale="db", resume=True)
    assert all(torch.equal(v, again.model.state_dict()[k]) for k, v in refined.model.state_dict().items())


def refined_decode(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    from timbrespace.training import decode_array

    return decode_array(model, encode_array(model, x))


def test_refinement_needs_magnitude_features(tmp_path: Path) -> None:
    config = TrainConfig(epochs=1, batch_size=16, refine_epochs=2)
    with pytest.raises(ParameterError, match="feature_scale"):
        fit(MODEL, config, db_items(32), out_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    with pytest.raises(ConfigError, match="refine_epochs"):
        TrainConfig(refine_epochs=-1)
    with pytest.raises(ValueError, match="normalization none"):
        ExperimentConfig.model_validate({"features": {"kind": "stft", "normalization": "minmax_item"},
                                         "training": {"refine_epochs": 5}})


def test_an_f0_curve_held_for_refinement_needs_a_refinement(tmp_path: Path) -> None:
    shift = {"decoder": "harmonic", "input_bin_hz": 21.5, "input_offset": -80.0, "input_scale": 100.0,
             "f0_curve_cents": 50.0, "f0_curve_stage": "refinement"}
    harmonic = VAEConfig(input_shape=(513, 8), latent_dim=3, architecture="shift", hidden_sizes=(16,), shift=shift)
    with pytest.raises(ConfigError, match="f0_curve_stage='refinement'.*refine_epochs > 0"):
        fit(harmonic, TrainConfig(epochs=1, batch_size=4), np.zeros((8, 513, 8), np.float32), out_dir=tmp_path / "run")
    assert not (tmp_path / "run").exists()
    with pytest.raises(ValueError, match="f0_curve_stage='refinement'.*refine_epochs > 0"):
        ExperimentConfig.model_validate({"model": {"architecture": "shift", "shift": shift}})
