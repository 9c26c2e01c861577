"""Tests of ``fit``: learning, determinism, resume, NaN handling, early stopping, logs."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import pytest
import torch

from timbrespace.errors import ConfigError, ParameterError, TrainingError
from timbrespace.models import VAEConfig
from timbrespace.training import TrainConfig, decode_array, encode_array, fit, load_checkpoint

MODEL = VAEConfig(input_shape=(16,), latent_dim=2, hidden_sizes=(32,))


def toy_data(n: int = 192, seed: int = 0) -> np.ndarray:
    """Items on a 2-D manifold in 16 dims: x = 4 sigmoid(A @ u) (variance large against the KL)."""
    rng = np.random.default_rng(seed)
    u = rng.uniform(-2, 2, size=(n, 2))
    a = rng.normal(size=(2, 16))
    return (4 / (1 + np.exp(-(u @ a)))).astype(np.float32)


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def test_loss_decreases_and_records_history(tmp_path: Path) -> None:
    x = toy_data()
    result = fit(
        MODEL, TrainConfig(epochs=10, batch_size=32, lr=1e-2, seed=0), x, x[:64], out_dir=tmp_path
    )
    hist = result.history
    assert [r.epoch for r in hist] == list(range(10))
    assert hist[-1].train_loss < 0.6 * hist[0].train_loss
    assert hist[-1].val_loss is not None and hist[-1].val_loss < hist[0].val_loss
    for r in hist:
        assert r.train_loss == pytest.approx(r.train_recon + r.beta * r.train_kl, rel=1e-5)
    assert result.stop_reason == "max_epochs"
    saved = json.loads((tmp_path / "history.json").read_text())
    assert saved[-1]["val_loss"] == pytest.approx(hist[-1].val_loss)
    assert (tmp_path / "logs" / "csv" / "version_0" / "metrics.csv").is_file()
    assert list((tmp_path / "logs" / "tensorboard").rglob("events.out.tfevents.*"))
    mu = encode_array(result.model, x, batch_size=50)
    assert mu.shape == (192, 2) and mu.dtype == np.float32
    x_hat = decode_array(result.model, mu, batch_size=7)
    assert x_hat.shape == x.shape and x_hat.dtype == np.float32
    # reconstructions beat predicting the mean item
    assert np.mean((x_hat - x) ** 2) < 0.5 * np.mean((x - x.mean(0)) ** 2)


def test_same_seed_same_weights_and_history(tmp_path: Path) -> None:
    x = toy_data(96)
    config = TrainConfig(epochs=2, batch_size=16, seed=7)
    a = fit(MODEL, config, x, x[:32], out_dir=tmp_path / "a")
    b = fit(MODEL, config, x, x[:32], out_dir=tmp_path / "b")
    c = fit(MODEL, dataclasses.replace(config, seed=8), x, x[:32], out_dir=tmp_path / "c")
    assert same_weights(a.model, b.model) and a.history == b.history
    assert not same_weights(a.model, c.model)
    assert (
        torch.get_num_threads() >= 1 and not torch.are_deterministic_algorithms_enabled()
    )  # restored


def test_resume_gives_the_same_weights_as_an_uninterrupted_run(tmp_path: Path) -> None:
    x = toy_data(96)
    config = TrainConfig(epochs=3, batch_size=16, seed=1, beta_schedule="linear", warmup_steps=10)
    straight = fit(MODEL, config, x, x[:32], out_dir=tmp_path / "straight")
    fit(MODEL, dataclasses.replace(config, epochs=2), x, x[:32], out_dir=tmp_path / "resumed")
    resumed = fit(MODEL, config, x, x[:32], out_dir=tmp_path / "resumed", resume=True)
    assert same_weights(straight.model, resumed.model)
    assert straight.history == resumed.history
    assert resumed.history[-1].beta == pytest.approx(1.0)  # 18 steps > 10 warm-up steps
    assert resumed.history[0].beta == pytest.approx(0.6)  # 6 steps of 10
    with pytest.raises(ConfigError, match="different model config"):
        fit(
            dataclasses.replace(MODEL, latent_dim=3),
            config,
            x,
            out_dir=tmp_path / "resumed",
            resume=True,
        )


def test_nan_input_raises_training_error_naming_the_step_and_keeps_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = toy_data(64)
    config = TrainConfig(epochs=1, batch_size=16, seed=0)
    fit(MODEL, config, x, out_dir=tmp_path)
    last = tmp_path / "checkpoints" / "last"
    weights_before = (last / "model.safetensors").read_bytes()
    bad = x.copy()
    bad[:] = np.nan
    with pytest.raises(ParameterError, match="NaN or infinite"):  # refused before training starts
        fit(MODEL, dataclasses.replace(config, epochs=3), bad, out_dir=tmp_path, resume=True)
    assert (last / "model.safetensors").read_bytes() == weights_before
    # past that check (as a loss that overflows inside training is), the step is named and the
    # last good checkpoint kept
    monkeypatch.setattr("timbrespace.training.fitting._check_values", lambda *args: None)
    with pytest.raises(TrainingError, match=r"loss is nan at step 4 \(epoch 1, batch 0\)") as info:
        fit(MODEL, dataclasses.replace(config, epochs=3), bad, out_dir=tmp_path, resume=True)
    assert "last good checkpoint kept" in str(info.value)
    assert (last / "model.safetensors").read_bytes() == weights_before
    model = load_checkpoint(last)
    assert all(torch.isfinite(p).all() for p in model.parameters())


def test_inf_in_the_inputs_is_refused_before_training(tmp_path: Path) -> None:
    x = toy_data(32)
    x[3, 5] = np.inf
    with pytest.raises(ParameterError, match="1 NaN or infinite"):
        fit(MODEL, TrainConfig(epochs=1, batch_size=64), x, out_dir=tmp_path)


def test_early_stopping_stops_when_validation_stalls(tmp_path: Path) -> None:
    x = toy_data(64)
    # lr so small that nothing improves by min_delta: stops after `patience` epochs past the first
    config = TrainConfig(
        epochs=20, batch_size=32, lr=1e-9, early_stopping_patience=2, min_delta=1.0
    )
    result = fit(MODEL, config, x, x[:16], out_dir=tmp_path)
    assert result.stop_reason == "early_stopping"
    assert len(result.history) == 3
    assert (result.best_checkpoint_path / "model.safetensors").is_file()


def test_shape_mismatch_is_a_parameter_error(tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match=r"x_train has shape \(4, 15\)"):
        fit(MODEL, TrainConfig(epochs=1), np.zeros((4, 15), np.float32), out_dir=tmp_path)


@pytest.mark.parametrize("objective", ["annealed", "tcvae", "factorvae"])
def test_objectives_train_through_fit(tmp_path: Path, objective: str) -> None:
    x = toy_data(64)
    model = dataclasses.replace(MODEL, objective=objective, beta=2.0, discriminator_hidden=(16,))
    result = fit(model, TrainConfig(epochs=2, batch_size=16), x, out_dir=tmp_path)
    assert all(np.isfinite(r.train_loss) for r in result.history)
    if objective == "tcvae":
        assert result.model.config.dataset_size == 64
    if objective == "factorvae":
        assert result.model.discriminator is not None
        assert load_checkpoint(result.checkpoint_path).discriminator is not None


def test_conditional_conv_vae_fits_and_decodes_by_label(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    labels = np.stack([rng.integers(0, 3, 48), rng.integers(0, 2, 48)], axis=1)
    x = rng.random((48, 1, 16, 8)).astype(np.float32) * 0.1
    x[:, 0, :, :] += labels[:, :1, None] * 0.3  # label 0 shifts the level
    model = VAEConfig(
        input_shape=(1, 16, 8),
        latent_dim=2,
        architecture="conv",
        conv_channels=(4, 4),
        hidden_sizes=(16,),
        condition_classes=(3, 2),
        condition_encoding="embedding",
    )
    result = fit(
        model,
        TrainConfig(epochs=8, batch_size=16, lr=1e-2),
        x,
        x[:8],
        c_train=labels,
        c_valid=labels[:8],
        out_dir=tmp_path,
    )
    z = np.zeros((3, 2), np.float32)
    out = decode_array(result.model, z, np.array([[0, 0], [1, 0], [2, 0]]))
    levels = out.mean(axis=(1, 2, 3))
    assert levels[0] < levels[1] < levels[2]  # the decoder follows the label
    with pytest.raises(ParameterError, match="c_train is required"):
        fit(model, TrainConfig(epochs=1), x, out_dir=tmp_path / "b")


def test_max_time_stops_after_the_first_epoch_past_it(tmp_path: Path) -> None:
    x = toy_data(64)
    result = fit(MODEL, TrainConfig(epochs=50, batch_size=16, max_time_s=1e-6), x, out_dir=tmp_path)
    assert result.stop_reason == "max_time" and len(result.history) == 1


def test_resume_of_a_finished_run_returns_it_without_training(tmp_path: Path) -> None:
    x = toy_data(64)
    config = TrainConfig(epochs=2, batch_size=16)
    first = fit(MODEL, config, x, out_dir=tmp_path)
    stamp = (first.checkpoint_path / "model.safetensors").stat().st_mtime_ns
    again = fit(MODEL, config, x, out_dir=tmp_path, resume=True)
    assert again.history == first.history and same_weights(first.model, again.model)
    assert (again.checkpoint_path / "model.safetensors").stat().st_mtime_ns == stamp


def test_non_finite_weights_after_the_last_step_are_never_checkpointed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    x = toy_data(32)
    fit(MODEL, TrainConfig(epochs=1, batch_size=32), x, out_dir=tmp_path)
    before = (tmp_path / "checkpoints" / "last" / "model.safetensors").read_bytes()
    real_step = torch.optim.Adam.step

    def poisoned_step(self, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        out = real_step(self, *args, **kwargs)
        with torch.no_grad():
            self.param_groups[0]["params"][0].fill_(float("nan"))  # loss of this step was finite
        return out

    monkeypatch.setattr(torch.optim.Adam, "step", poisoned_step)
    with pytest.raises(TrainingError, match=r"became non-finite at step 2 \(epoch 1\)"):
        fit(MODEL, TrainConfig(epochs=3, batch_size=32), x, out_dir=tmp_path, resume=True)
    assert (tmp_path / "checkpoints" / "last" / "model.safetensors").read_bytes() == before


def test_callbacks_see_every_epoch_and_encoding_in_them_keeps_determinism(tmp_path: Path) -> None:
    import lightning as L

    x = toy_data()

    class Scores(L.Callback):
        def __init__(self) -> None:
            self.rows: list[tuple[int, float]] = []

        def on_train_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
            mu = encode_array(pl_module.model, x)
            self.rows.append((trainer.current_epoch, float(np.abs(mu).mean())))

    config = TrainConfig(epochs=3, batch_size=32, seed=0)
    scores = Scores()
    watched = fit(MODEL, config, x, out_dir=tmp_path / "a", callbacks=[scores])
    plain = fit(MODEL, config, x, out_dir=tmp_path / "b")
    assert [epoch for epoch, _ in scores.rows] == [0, 1, 2]
    assert scores.rows[0][1] != scores.rows[-1][1]
    assert same_weights(watched.model, plain.model)


def test_progress_bar_is_on_stderr(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    """stdout keeps a command's own output when piped (issue 15): the training bar goes to stderr."""
    x = toy_data(32)
    fit(MODEL, TrainConfig(epochs=1, batch_size=16, seed=0, enable_progress_bar=True), x, x[:16], out_dir=tmp_path)
    out, err = capfd.readouterr()
    assert "epoch" not in out and "epoch 1/1" in err, (out, err)
    assert "v_num" not in err  # the logger's version number means nothing to a user


def test_epoch_log_lines_are_key_value_with_rounded_floats(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """Issue 15: training logs (``--verbose``) say ``train_loss=12.35``, not a repr with 16 digits."""
    from timbrespace.training import EpochRecord

    record = EpochRecord(epoch=3, train_loss=12.3456789, train_recon=10.0, train_kl=2.3456789, val_loss=None,
                         val_recon=None, val_kl=None, beta=1.0)
    assert str(record) == "epoch=3 train_loss=12.35 train_recon=10 train_kl=2.346 beta=1"
    x = toy_data(32)
    with caplog.at_level("DEBUG", logger="timbrespace.training"):
        fit(MODEL, TrainConfig(epochs=1, batch_size=16, seed=0), x, x[:16], out_dir=tmp_path)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("epoch=0 ")]
    assert len(lines) == 1 and "EpochRecord" not in lines[0] and "val_loss=" in lines[0], lines
    assert not re.search(r"\d\.\d{5,}", lines[0]), lines[0]  # 4 significant digits, not 16


def test_fit_fills_a_shift_models_input_range_and_level_from_the_training_items(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = (rng.uniform(-60.0, 0.0, size=(48, 24, 4)) + rng.uniform(-20.0, 0.0, size=(48, 1, 1))).astype(np.float32)
    model = VAEConfig(input_shape=(24, 4), latent_dim=3, hidden_sizes=(16,), architecture="shift",
                      shift={"level": True, "head_channels": [4]})
    result = fit(model, TrainConfig(epochs=1, batch_size=16, seed=0), x, out_dir=tmp_path)
    spec = result.model.config.shift
    peaks = x.reshape(48, -1).max(axis=1).astype(np.float64)
    assert spec.input_offset == pytest.approx(float(x.min())) and spec.input_scale == pytest.approx(float(np.ptp(x)))
    assert spec.level_offset_db == pytest.approx(peaks.mean()) and spec.level_scale_db == pytest.approx(peaks.std())
    assert load_checkpoint(tmp_path / "checkpoints" / "last").config.shift == spec
    mu = encode_array(result.model, x, batch_size=16)
    np.testing.assert_allclose(mu[:, 1], (peaks - peaks.mean()) / peaks.std(), atol=1e-4)
