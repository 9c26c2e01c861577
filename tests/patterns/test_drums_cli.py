"""``timbrespace drums`` end to end on real grooves and a real kit; bad input exits 2."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.cli_run import exit_code
from timbrespace.patterns.midi import midi_to_patterns


@pytest.mark.long(13)
def test_drums_end_to_end(
    grooves_dir: Path, drumkits_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "midi"
    src.mkdir()
    for f in sorted(grooves_dir.glob("*.mid"))[::10]:
        shutil.copy(f, src)
    (src / "zz__broken__X.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01")
    assert (
        exit_code(
            [
                "drums",
                "ingest",
                str(src),
                "--out",
                str(tmp_path / "ds"),
                "--drum-map",
                "seed8",
                "--steps-per-bar",
                "16",
            ]
        )
        == 0
    )
    err = capsys.readouterr().err
    assert "zz__broken__X.mid" in err
    assert (
        exit_code(
            [
                "drums",
                "train",
                str(tmp_path / "ds"),
                "--out",
                str(tmp_path / "run"),
                "--epochs",
                "3",
                "--hidden",
                "32",
                "--latent-dim",
                "2",
                "--threshold",
                "0.3",
            ]
        )
        == 0
    )
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert {"model", "baseline_sampled", "sample_valid_fraction"} <= set(metrics) and metrics[
        "threshold"
    ] == 0.3
    for name in ("run.json", "config.yaml", "report.html", "checkpoints/last/model.json", "logs/csv"):
        assert (tmp_path / "run" / name).exists(), name
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:  # the scores again; the report just checked is not redrawn
        mp.setattr("timbrespace.experiments.drums.write_drums_report", lambda run, **_: run.root / "report.html")
        assert exit_code(["evaluate", str(tmp_path / "run")]) == 0  # the dispatcher: a drums run
    out = capsys.readouterr().out
    assert "test hit F1" in out and "report.html" in out
    kit = str(drumkits_dir / "TR808EmulationKit")
    out = tmp_path / "samples"
    assert (
        exit_code(
            [
                "drums",
                "sample",
                str(tmp_path / "run"),
                "--n",
                "2",
                "--bpm",
                "90",
                "--kit",
                kit,
                "--bars",
                "2",
                "--sample-rate",
                "22050",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == [
        "sample_00.mid",
        "sample_00.wav",
        "sample_01.mid",
        "sample_01.wav",
    ]
    y, sr = sf.read(out / "sample_00.wav")
    # 2 bars of 4/4 at 90 BPM = 16/3 s, plus the 1 s tail
    assert (
        sr == 22050 and len(y) == round((2 * 4 * 60 / 90 + 1.0) * 22050) and np.abs(y).max() <= 1.0
    )
    p = midi_to_patterns(out / "sample_00.mid", drum_map="seed8")
    assert p.shape == (2, 16, 8) and np.array_equal(p[0], p[1])
    assert (
        exit_code(
            [
                "drums",
                "sample",
                str(tmp_path / "run"),
                "--at",
                "1",
                "-2",
                "--kit",
                kit,
                "--sample-rate",
                "22050",
                "--out",
                str(tmp_path / "at"),
            ]
        )
        == 0
    )
    assert (tmp_path / "at" / "groove_at_+1.00_-2.00.wav").is_file()
    a, b = sorted(src.glob("stdlib*.mid"))[:2]
    assert (
        exit_code(
            [
                "drums",
                "interpolate",
                str(tmp_path / "run"),
                str(a),
                str(b),
                "--steps",
                "3",
                "--kit",
                kit,
                "--sample-rate",
                "22050",
                "--out",
                str(tmp_path / "interp"),
            ]
        )
        == 0
    )
    assert len(list((tmp_path / "interp").glob("interp_*.wav"))) == 3
    capsys.readouterr()

    # bad input: one line, exit 2
    for argv, needle in [
        (
            ["drums", "sample", str(tmp_path / "ds"), "--out", str(tmp_path / "x")],
            "not a groove run",
        ),
        (["drums", "train", str(src), "--out", str(tmp_path / "x")], "not a timbrespace dataset"),
        (["evaluate", str(tmp_path / "ds")], "not a run folder (no run.json)"),
        (
            ["drums", "ingest", str(tmp_path / "none"), "--out", str(tmp_path / "x")],
            "does not exist",
        ),
        (
            ["drums", "ingest", str(src), "--out", str(tmp_path / "x"), "--drum-map", "gm"],
            "--drum-map='gm'",
        ),
        (
            [
                "drums",
                "sample",
                str(tmp_path / "run"),
                "--kit",
                "nokit",
                "--out",
                str(tmp_path / "x"),
            ],
            "--kit='nokit'",
        ),
        (
            [
                "drums",
                "sample",
                str(tmp_path / "run"),
                "--bpm",
                "0",
                "--kit",
                kit,
                "--out",
                str(tmp_path / "x"),
            ],
            "bpm",
        ),
        (
            [
                "drums",
                "interpolate",
                str(tmp_path / "run"),
                str(a),
                str(tmp_path / "no.mid"),
                "--out",
                str(tmp_path / "x"),
            ],
            "no.mid",
        ),
    ]:
        assert exit_code(argv) == 2, argv
        err = capsys.readouterr().err.strip()
        assert err.startswith("error:") and needle in err and "Traceback" not in err, (argv, err)
