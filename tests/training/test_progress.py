"""The training bar (``EpochBar``): epochs counted 1..N with the loss, on stderr."""

from __future__ import annotations

import io
import re
from contextlib import redirect_stderr
from pathlib import Path

import numpy as np
import pytest

from timbrespace.models import VAEConfig
from timbrespace.training import TrainConfig, fit

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def _fit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, progress: bool) -> str:
    monkeypatch.setenv("FORCE_COLOR", "1")  # draw as on a terminal
    monkeypatch.setenv("COLUMNS", "160")
    x = np.random.default_rng(0).normal(size=(64, 16)).astype(np.float32)
    err = io.StringIO()
    with redirect_stderr(err):
        fit(VAEConfig(input_shape=(16,), latent_dim=2, hidden_sizes=(8,)),
            TrainConfig(epochs=3, batch_size=16, enable_progress_bar=progress), x[:48], x[48:], out_dir=tmp_path)
    return _ANSI.sub("", err.getvalue())


def test_the_bar_counts_epochs_from_one_and_shows_the_loss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shown = _fit(tmp_path, monkeypatch, progress=True)
    assert "epoch 1/3" in shown and "epoch 3/3" in shown, shown
    assert "epoch 0/" not in shown and "epoch 4/" not in shown
    assert re.search(r"loss -?\d[\d.e+-]* \(valid -?\d", shown), shown
    assert "s/epoch" in shown, shown
    assert "it/s" not in shown and "1/1" not in shown  # Lightning's per-batch bar: one batch per epoch


def test_no_bar_without_progress(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert "epoch" not in _fit(tmp_path, monkeypatch, progress=False)
