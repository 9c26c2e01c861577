"""Fixtures of the timbre tests: a small synthetic notes folder (NSynth-like layout)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

SR = 22050


def harmonic_note(midi: int, *, n_samples: int = SR, n_harmonics: int = 12) -> np.ndarray:
    """A decaying harmonic tone with 1/k amplitudes (a plucked-string stand-in)."""
    t = np.arange(n_samples) / SR
    f0 = 440.0 * 2.0 ** ((midi - 69) / 12)
    y = sum(
        np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, n_harmonics + 1) if k * f0 < SR / 2
    )
    return (0.3 * y * np.exp(-3.0 * t)).astype(np.float32)


@pytest.fixture(scope="session")
def synthetic_notes(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """23 notes (MIDI 64..86) of one fake instrument at velocity 100."""
    root = tmp_path_factory.mktemp("notes")
    (root / "audio").mkdir()
    examples = {}
    for p in range(64, 87):
        stem = f"fake_guitar-{p:03d}-100"
        sf.write(root / "audio" / f"{stem}.wav", harmonic_note(p), SR, subtype="PCM_16")
        examples[stem] = {
            "instrument_str": "fake_guitar",
            "pitch": p,
            "velocity": 100,
            "sample_rate": SR,
        }
    (root / "examples.json").write_text(json.dumps(examples))
    return root


@pytest.fixture(scope="session")
def tiny_timbre_run(synthetic_notes: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``timbre build`` (Bright, Dark at 0, 50, 100) → ``ingest --layout seed002`` → ``timbre train
    --preset tiny --epochs 2 --no-evaluate``, run once for the tests marked
    ``xdist_group("timbre-tiny-run")``; each asserts its exit code."""
    from tests.cli_run import exit_code

    tmp = tmp_path_factory.mktemp("timbre-run")
    folder, ds, run = tmp / "folder", tmp / "ds", tmp / "run"
    assert exit_code(["timbre", "build", str(synthetic_notes), "--out", str(folder), "--instrument", "fake_guitar",
                      "--descriptors", "Bright,Dark", "--magnitudes", "0,50,100"]) == 0
    assert exit_code(["ingest", str(folder), "--out", str(ds), "--layout", "seed002"]) == 0
    assert exit_code(["timbre", "train", str(ds), "--out", str(run), "--descriptors", "Bright,Dark",
                      "--preset", "tiny", "--epochs", "2", "--no-evaluate"]) == 0
    return run
