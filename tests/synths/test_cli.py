"""``timbrespace synths`` and ``timbrespace synths render`` through the real entry point."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from timbrespace.cli import main
from timbrespace.cli.synths import parse_settings


def _run(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
        raise SystemExit(0)
    out = capsys.readouterr()
    return info.value.code or 0, out.out, out.err


def test_list_shows_every_model_and_parameter(capsys):
    code, out, _ = _run(capsys, ["synths"])
    assert code == 0
    for name in (
        "additive",
        "harmonic_richness",
        "additive_bandpass",
        "fm_moog",
        "pop",
        "drip",
        "soundfont",
    ):
        assert name in out
    for parameter in ("slope_db_per_octave", "rate_exp", "cutoff_hz", "magnitude", "last_gain"):
        assert parameter in out
    assert "dB/octave" in out and "20..5000" in out


def test_render_writes_the_requested_sound(tmp_path, capsys):
    target = tmp_path / "a.wav"
    code, out, _ = _run(
        capsys,
        [
            "synths",
            "render",
            "additive",
            "--set",
            "f0_hz=220",
            "--set",
            "presence=odd",
            "--sample-rate",
            "22050",
            "--duration-s",
            "1",
            "--seed",
            "0",
            "--out",
            str(target),
        ],
    )
    assert code == 0 and "wrote" in out
    y, sr = sf.read(target)
    assert sr == 22050 and y.shape == (22050,)
    spectrum = np.abs(np.fft.rfft(y))
    # Odd harmonics of 220 Hz only (1 s: 1 Hz bins).
    assert spectrum[660] > 100 * spectrum[440]
    assert np.argmax(spectrum) == 220


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("f0=220", "did you mean 'f0_hz'"),
        ("f0_hz=1e6", "out of range"),
        ("f0_hz", "NAME=VALUE"),
        ("presence=evn", "did you mean 'even'"),
    ],
)
def test_bad_set_exits_2_with_one_line(tmp_path, capsys, setting, message):
    code, _, err = _run(
        capsys, ["synths", "render", "additive", "--set", setting, "--out", str(tmp_path / "x.wav")]
    )
    assert code == 2
    assert message in err and err.count("\n") == 1
    assert not (tmp_path / "x.wav").exists()


def test_unknown_model_exits_2(tmp_path, capsys):
    code, _, err = _run(capsys, ["synths", "render", "fm_mog", "--out", str(tmp_path / "x.wav")])
    assert code == 2 and "did you mean 'fm_moog'" in err


def test_parse_settings_keeps_labels_and_numbers():
    assert parse_settings(["f0_hz=220", "presence = odd"]) == {"f0_hz": 220.0, "presence": "odd"}


def test_render_out_suffix_picks_the_format_or_is_refused(tmp_path, capsys):
    import soundfile as sf

    code, _, _ = _run(capsys, ["synths", "render", "additive", "--out", str(tmp_path / "a.flac")])
    assert code == 0 and sf.info(tmp_path / "a.flac").format == "FLAC"
    code, _, err = _run(capsys, ["synths", "render", "additive", "--out", str(tmp_path / "a.xyz")])
    assert code == 2 and "'.xyz' picks no audio format" in err and not (tmp_path / "a.xyz").exists()
    code, _, err = _run(capsys, ["synths", "render", "additive", "--out", str(tmp_path)])
    assert code == 2 and err.count("error:") == 1 and ".tmp" not in err


def test_render_duration_limit_refused_before_allocating(tmp_path, capsys):
    code, _, err = _run(capsys, ["synths", "render", "additive", "--duration-s", "100000", "--out", str(tmp_path / "a.wav")])
    assert code == 2 and "above the limit of 600 s" in err
    assert not (tmp_path / "a.wav").exists()
