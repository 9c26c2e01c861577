"""``timbrespace drums`` with feel (issue 31): swing in the MIDI, --humanize, ``drums humanize``, the feel metrics."""

from __future__ import annotations

import io
import json
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

from tests.cli_run import exit_code
from tests.grooves import drum_note_ons, small_groove_dataset
from timbrespace.patterns.midi import read_midi

pytestmark = pytest.mark.xdist_group("drums_feel_run")


@pytest.fixture(scope="module")
def feel_run(grooves_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A groove dataset of 60 real grooves and a 2-epoch run on it."""
    from timbrespace.experiments.drums import GrooveTrainConfig, train_drums
    from timbrespace.models import groove_config

    root = tmp_path_factory.mktemp("feel")
    train_drums(small_groove_dataset(grooves_dir, root), root / "run",
                model_config=groove_config(latent_dim=2, hidden_sizes=(32,)),
                train_config=GrooveTrainConfig(epochs=2, batch_size=32, warmup_epochs=0, threshold=0.2))
    return root / "run"


def test_metrics_hold_the_feel(feel_run: Path) -> None:
    from timbrespace.patterns.feel import read_feel

    feel = json.loads((feel_run / "metrics.json").read_text())["feel"]
    assert feel["n_test_hits"] > 50
    for key in ("velocity_mae", "velocity_mae_drawn", "velocity_mae_baseline_mean", "offset_mae_ms",
                "offset_mae_ms_drawn", "offset_mae_ms_baseline_zero"):
        assert np.isfinite(feel[key]) and feel[key] >= 0, key
    assert 0 < feel["velocity_mae_baseline_mean"] < 0.5 and 0 < feel["offset_mae_ms_baseline_zero"] < 60
    assert feel["offset_mae_ms_baseline_zero"] == feel["test_offset_mean_abs_ms"]
    assert feel["velocity_mae_model"] is None and feel["offset_mae_ms_model"] is None  # hits and velocities: no offsets
    assert "train split" in read_feel(feel_run / "feel.json").source


def _sample(run: Path, out: Path, drumkits_dir: Path, *extra: str) -> None:
    assert exit_code(["drums", "sample", str(run), "--n", "2", "--seed", "3", "--kit",
                      str(drumkits_dir / "TR808EmulationKit"), "--sample-rate", "8000", "--bars", "2", "--out",
                      str(out), *extra]) == 0


def test_swing_reaches_the_midi(feel_run: Path, grooves_dir: Path, drumkits_dir: Path, tmp_path: Path) -> None:
    _sample(feel_run, tmp_path / "straight", drumkits_dir, "--swing", "0")
    _sample(feel_run, tmp_path / "swung", drumkits_dir, "--swing", "0.3")
    for name in ("sample_00", "sample_01"):
        a, b = tmp_path / "straight" / f"{name}.mid", tmp_path / "swung" / f"{name}.mid"
        assert a.read_bytes() != b.read_bytes()
        tpb, ons_a = drum_note_ons(a)
        _, ons_b = drum_note_ons(b)
        tps = tpb // 4
        assert len(ons_a) == len(ons_b) > 0 and any((t // tps) % 2 for t, _, _ in ons_a)
        delays = sorted((tb - ta, (ta // tps) % 2) for (ta, _, _), (tb, _, _) in zip(ons_a, ons_b, strict=True))
        assert {d for d, odd in delays if odd} == {round(0.3 * tps)} and {d for d, odd in delays if not odd} <= {0}
        # the same delay as the audio: 0.3 of a 16th at 120 BPM = 37.5 ms
        assert round(0.3 * tps) / tpb * 0.5 == pytest.approx(0.0375)
        ya, _ = sf.read(tmp_path / "straight" / f"{name}.wav")
        yb, _ = sf.read(tmp_path / "swung" / f"{name}.wav")
        assert not np.array_equal(ya, yb)
    a, b = grooves_dir / "pflib__8beat1.mid", grooves_dir / "stdlib__50srock__50sRock.mid"
    for swing in ("0", "0.25"):
        assert exit_code(["drums", "interpolate", str(feel_run), str(a), str(b), "--steps", "2", "--kit",
                          str(drumkits_dir / "TR808EmulationKit"), "--sample-rate", "8000", "--swing", swing,
                          "--out", str(tmp_path / f"interp{swing}")]) == 0
    tpb, ons_a = drum_note_ons(tmp_path / "interp0" / "interp_00.mid")
    _, ons_b = drum_note_ons(tmp_path / "interp0.25" / "interp_00.mid")
    assert [tb - ta for (ta, _, _), (tb, _, _) in zip(ons_a, ons_b, strict=True)] == \
        [30 if (ta // (tpb // 4)) % 2 else 0 for ta, _, _ in ons_a]


def test_sample_humanized(feel_run: Path, drumkits_dir: Path, tmp_path: Path) -> None:
    _sample(feel_run, tmp_path / "straight", drumkits_dir)
    _sample(feel_run, tmp_path / "played", drumkits_dir, "--humanize")
    straight = read_midi(tmp_path / "straight" / "sample_00.mid")
    played = read_midi(tmp_path / "played" / "sample_00.mid")
    x, o0, _ = straight.patterns_and_offsets()
    v, o, _ = played.patterns_and_offsets()
    assert np.array_equal(x > 0, v > 0) and np.all(o0 == 0)
    assert np.count_nonzero(o) > 0 and np.all(np.abs(o) <= 0.5)
    assert not np.array_equal(o[0], o[1])  # each bar of the loop played afresh
    assert np.array_equal(x, v)  # the model's velocities are kept
    assert (tmp_path / "played" / "sample_00.mid").read_bytes() != (tmp_path / "straight" / "sample_00.mid").read_bytes()


def test_humanize_command(feel_run: Path, grooves_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from timbrespace.patterns.midi import write_midi

    x, _ = read_midi(grooves_dir / "pflib__8beat1.mid").patterns()
    write_midi(tmp_path / "in.mid", np.where(x > 0, 0.8, 0).astype(np.float32), bpm=100)
    before = (tmp_path / "in.mid").read_bytes()
    for k, source in enumerate((None, feel_run, feel_run.parent / "ds", feel_run / "feel.json")):
        out = tmp_path / f"out{k}" / "played.mid"
        argv = ["drums", "humanize", str(tmp_path / "in.mid"), "-o", str(out), "--seed", "5"]
        assert exit_code(argv + ([] if source is None else ["--from", str(source)])) == 0
        v, o, _ = read_midi(out).patterns_and_offsets()
        assert np.array_equal(v > 0, x > 0) and len(np.unique(v[v > 0])) > 3 and np.count_nonzero(o) > 0
        assert mido.MidiFile(str(out)).tracks[0][1].tempo == 600_000  # the input's 100 BPM
    assert "humanised with the feel of" in capsys.readouterr().out
    # the run's feel and its dataset's training split are the same feel
    assert (tmp_path / "out1" / "played.mid").read_bytes() == (tmp_path / "out3" / "played.mid").read_bytes()
    assert (tmp_path / "in.mid").read_bytes() == before
    buf = io.BytesIO()
    mido.MidiFile(str(tmp_path / "out0" / "played.mid")).save(file=buf)
    assert exit_code(["drums", "humanize", str(tmp_path / "in.mid"), "-o", str(tmp_path / "out0" / "played.mid"),
                      "--seed", "6", "--overwrite"]) == 0
    assert (tmp_path / "out0" / "played.mid").read_bytes() != buf.getvalue()


def test_report_shows_the_feel(feel_run: Path) -> None:
    html = (feel_run / "report.html").read_text()
    assert "Feel: velocities and micro-timing" in html and "baseline: mean training velocity, on the grid" in html
