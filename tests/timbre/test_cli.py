"""CLI argument errors exit 2 with the allowed values; a tiny end-to-end run."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.cli_run import run_cli


@pytest.mark.parametrize(
    ("argv", "allowed"),
    [
        (["generate", "RUN", "Sparkly", "50", "E4", "--out", "o"], "allowed Bright, Crunch, Crush"),
        (["generate", "RUN", "Bright", "500", "E4", "--out", "o"], "allowed 0..100"),
        (["generate", "RUN", "Bright", "50", "E9", "--out", "o"], "allowed MIDI 64..86 (E4..D6)"),
        (["generate", "RUN", "Bright", "50", "H2", "--out", "o"], "allowed MIDI 64..86"),
        (
            ["generate", "RUN", "Bright", "50", "E4", "--out", "o", "--latent", "x"],
            "allowed prior, encode",
        ),
        (
            ["interpolate", "RUN", "Bright", "0", "E4", "Dark", "100", "E5", "--steps", "17", "--out", "o"],
            "allowed 2..16",
        ),
        (
            ["interpolate", "RUN", "Bright", "0", "E4", "Dark", "100", "E5", "--steps", "two", "--out", "o"],
            "--steps': must be an integer",
        ),
        (
            ["interpolate", "RUN", "Bright", "0", "E4", "Murky", "100", "E5", "--out", "o"],
            "allowed Bright",
        ),
        (["latent-map", "RUN", "--color", "loudness"], "allowed timbre, magnitude, pitch, all"),
        (["train", "DS", "--out", "r", "--preset", "huge"], "allowed cpu, seed, tiny"),
        (
            ["build", "NOTES", "--out", "f", "--descriptors", "Bright,Loud"],
            "allowed Bright, Crunch",
        ),
        (["build", "NOTES", "--out", "f", "--magnitudes", "0,x"], "integers in 0..100"),
    ],
)
def test_argument_errors_exit_2_listing_allowed_values(argv, allowed, capsys):
    code, text = run_cli(["timbre", *argv], capsys)
    assert code == 2
    assert allowed in text
    assert "Traceback" not in text


def test_descriptors_lists_all_chains(capsys):
    code, text = run_cli(["timbre", "descriptors"], capsys)
    assert code == 0
    for name in ("Bright", "WahWah", "Stuttering", "HighShelfFilter", "TimeFX"):
        assert name in text


@pytest.mark.long(20)
@pytest.mark.xdist_group("timbre-tiny-run")
def test_end_to_end_tiny(tiny_timbre_run, tmp_path, capsys):
    run = tiny_timbre_run  # built, ingested and trained (2 epochs) by the fixture
    history = json.loads((run / "history.json").read_text())
    assert len(history) == 2 and np.isfinite(history[-1]["train_loss"])
    assert json.loads((run / "run.json").read_text())["kind"] == "timbre"
    for name in ("config.yaml", "metrics.json", "report.html", "checkpoints/last/model.json", "logs/csv"):
        assert (run / name).exists(), name

    code, text = run_cli(
        ["timbre", "generate", str(run), "Dark", "100", "E5", "--out", str(tmp_path / "gen")],
        capsys,
    )
    assert code == 0, text
    gen, sr = sf.read(tmp_path / "gen" / "generated_Dark-100-E5.wav")
    orig, _ = sf.read(tmp_path / "gen" / "original_Dark-100-E5.wav")
    assert sr == 22050 and gen.shape == orig.shape == (16317,) and np.all(np.isfinite(gen))
    code, text = run_cli(
        ["timbre", "generate", str(run), "Crunch", "100", "E5", "--out", "o"], capsys
    )
    assert code == 2 and "allowed Bright, Dark" in text  # valid descriptor, not in this run

    code, text = run_cli(
        [
            "timbre",
            "interpolate",
            str(run),
            "Bright",
            "0",
            "64",
            "Dark",
            "100",
            "76",
            "--steps",
            "3",
            "--out",
            str(tmp_path / "interp"),
        ],
        capsys,
    )
    assert code == 0, text
    names = sorted(
        p.relative_to(tmp_path / "interp").as_posix() for p in (tmp_path / "interp").rglob("*.wav")
    )
    assert names == [
        "linear/step_00.wav",
        "linear/step_01.wav",
        "linear/step_02.wav",
        "original_end_Dark-100-E5.wav",
        "original_start_Bright-0-E4.wav",
        "spherical/step_00.wav",
        "spherical/step_01.wav",
        "spherical/step_02.wav",
    ]

    code, text = run_cli(
        ["timbre", "latent-map", str(run), "--color", "pitch", "--method", "pca"], capsys
    )
    assert code == 0 and Path(text.strip().splitlines()[-1]).is_file()

    code, text = run_cli(
        ["timbre", "evaluate", str(run), "--max-requests", "3", "--n-pairs", "1"], capsys
    )
    assert code == 0, text
    assert "centroid_monotonic" not in text and "TimbreQuality" not in text  # a table, not a repr
    assert not re.search(r"\d\.\d{6,}", text)  # no 16-digit floats
    quality = json.loads((run / "metrics.json").read_text())["timbre_quality"]
    assert quality["n_pitch_requests"] == 3 and 0.0 <= quality["pitch_accuracy_50c"] <= 1.0
    assert set(quality["centroid_monotonic"]) == {"Bright", "Dark"}
    assert (
        quality["gl_roundtrip_lsd_db"] < quality["interp_endpoint_lsd_db"] + 1e-9
        or quality["gl_roundtrip_lsd_db"] < 10
    )
