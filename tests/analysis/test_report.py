from __future__ import annotations

import base64
import dataclasses
import io
import re

import numpy as np
import pandas as pd
import pytest
import soundfile

from timbrespace.analysis.figures import mi_heatmap
from timbrespace.analysis.report import Report, figure_png
from timbrespace.analysis.traversal import traversal_gif
from timbrespace.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class _Result:
    score: float
    per_factor: np.ndarray


def test_report_embeds_everything(tmp_path) -> None:
    sr = 8000
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(800) / sr)
    gif = traversal_gif(np.random.default_rng(0).random((3, 4, 4)), tmp_path / "t.gif")
    report = Report("Run <1>", subtitle="runs/demo")
    report.text("Intro with **bold**.")
    report.section("Metrics").table({"MIG": 0.41234, "DCI D": 0.6}).table(_Result(0.5, np.ones(3)))
    report.table(pd.DataFrame({"beta": [1, 4], "mig": [0.1, 0.3]}), "sweep")
    report.section("Latent space").figure(mi_heatmap(np.eye(2)), "MI").figure(gif, "traversal")
    report.section("Audio").audio(tone, sr, "tone").audio_row([(tone, "a"), (-tone, "b")], sr)
    path = report.write(tmp_path / "out" / "report.html")
    page = path.read_text()
    assert page.count("<img") == 2 and page.count("<audio") == 3
    assert page.count("data:image/png;base64,") == 1 and page.count("data:image/gif;base64,") == 1
    assert page.count("<table") == 3 and "0.4123" in page
    assert "<strong>bold</strong>" in page and "Run &lt;1&gt;" in page
    assert page.count('<a href="#') == 3 and 'id="latent-space"' in page
    assert "http://" not in page and "https://" not in page  # self-contained
    # players load their metadata (duration) before a click; the label says it too
    assert page.count('preload="metadata"') == 3 and "tone · 0.10 s" in page
    # the first embedded WAV decodes back to the tone (16-bit)
    wav = base64.b64decode(re.search(r"data:audio/wav;base64,([^\"]+)", page).group(1))
    y, rate = soundfile.read(io.BytesIO(wav))
    assert rate == sr
    np.testing.assert_allclose(y, tone, atol=1 / 32768 + 1e-9)
    assert sorted(p.name for p in path.parent.iterdir()) == ["report.html"]


def test_png_round_trip_and_figure_errors(tmp_path) -> None:
    report = Report("x")
    report.figure(mi_heatmap(np.ones((2, 2))))
    png = base64.b64decode(re.search(r"data:image/png;base64,([^\"]+)", report.html()).group(1))
    assert png.startswith(b"\x89PNG")
    with pytest.raises(ParameterError):
        report.figure(tmp_path / "missing.png")
    with pytest.raises(ParameterError):
        report.figure(b"not an image")
    with pytest.raises(ParameterError, match="NaN"):
        report.audio(np.array([0.0, np.nan]), 8000, "bad")


def test_figure_png_is_what_savefig_writes(tmp_path) -> None:
    """Oracle: matplotlib's own ``savefig(path, dpi=150)``, byte for byte (laid out and drawn
    once, where savefig draws twice), and ``bbox_inches="tight"`` with ``tight``."""
    png = figure_png(mi_heatmap(np.eye(3)))
    # a fresh figure: drawing a constrained layout again moves it a little
    mi_heatmap(np.eye(3)).savefig(tmp_path / "ref.png", dpi=150)
    assert png.startswith(b"\x89PNG") and png == (tmp_path / "ref.png").read_bytes()
    fig = mi_heatmap(np.eye(3))
    assert figure_png(fig) == png and fig.get_layout_engine().__class__.__name__ == "ConstrainedLayoutEngine"
    mi_heatmap(np.eye(3)).savefig(tmp_path / "tight.png", dpi=150, bbox_inches="tight")
    assert figure_png(mi_heatmap(np.eye(3)), tight=True) == (tmp_path / "tight.png").read_bytes()
    page = Report("x").figure(png, "MI").html()  # bytes embed as they are
    assert base64.b64encode(png).decode("ascii") in page
    assert len(figure_png(mi_heatmap(np.eye(3)), dpi=200)) > len(png)
    width_px = int.from_bytes(png[16:20], "big")  # shown at its size in inches, 96 CSS px each
    assert f'width="{width_px * 96 // 150}"' in page


def test_clipping_audio_is_normalised() -> None:
    report = Report("x").audio(np.array([0.0, 2.0, -4.0, 1.0]), 8000)
    wav = base64.b64decode(re.search(r"data:audio/wav;base64,([^\"]+)", report.html()).group(1))
    y, _ = soundfile.read(io.BytesIO(wav))
    np.testing.assert_allclose(y, [0.0, 0.5, -1.0, 0.25], atol=1e-4)


def test_table_shapes() -> None:
    frame = Report._as_frame(
        {"f0": {"MIG": 0.5, "levels": 10}, "decay": {"MIG": 0.1, "levels": 11}}
    )
    assert list(frame.index) == ["f0", "decay"] and list(frame.columns) == ["MIG", "levels"]
    assert Report._as_frame([{"a": 1}, {"a": 2}])["a"].tolist() == [1, 2]
    assert Report._as_frame({"beta": [1, 2], "mig": [0.1, 0.2]}).shape == (2, 2)
    page = Report("t").table({"f0": {"MIG": 0.5}}).html()
    assert "<th>f0</th>" in page
    with pytest.raises(ParameterError):
        Report._as_frame(3.0)
