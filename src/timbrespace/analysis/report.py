"""A self-contained HTML report: one file with figures (base64 PNG/GIF), audio players
(base64 WAV) and tables, readable offline and easy to send.

Every string given to the builder is text, never markup: titles, captions, labels and
table cells are HTML-escaped (:func:`html.escape`), :meth:`Report.text` renders Markdown
with any raw HTML in it shown as text and links kept only to ``http``, ``https`` and
``mailto`` addresses or anchors, and :meth:`Report.code` shows a block as it is. So a
factor named ``<img src=x onerror=alert(1)>`` reads as that on the page and runs nothing.

Examples
--------
>>> report = Report("beta-VAE, beta=4")                          # doctest: +SKIP
>>> report.section("Metrics").table({"MIG": 0.41, "DCI D": 0.62})
>>> report.section("Latent space").figure(fig, "t-SNE coloured by f0")
>>> report.audio(y, 16000, "reconstruction")
>>> report.write("runs/exp/report.html")
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import html
import io
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timbrespace.analysis._plotting import CSS_PX_PER_IN, FIGURE_DPI
from timbrespace.errors import ParameterError
from timbrespace.utils.atomic import atomic_write_text

__all__ = ["Report", "figure_png"]

_CSS = """
:root { --fg: #1d2330; --muted: #5d6678; --line: #dde1e8; --accent: #2f6fdb; --bg: #ffffff; }
* { box-sizing: border-box; }
body { font: 15px/1.5 -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       color: var(--fg); background: var(--bg); margin: 0; }
main { max-width: 1100px; margin: 0 auto; padding: 24px 28px 64px; overflow-wrap: anywhere; }
@media (max-width: 600px) { main { padding: 16px 12px 48px; } }
h1 { font-size: 1.7em; margin: 0 0 4px; }
h2 { font-size: 1.3em; margin: 36px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
h3 { font-size: 1.1em; margin: 24px 0 8px; }
.meta { color: var(--muted); font-size: 0.9em; margin-bottom: 12px; }
nav { background: #f6f7f9; border: 1px solid var(--line); border-radius: 6px; padding: 8px 14px;
      font-size: 0.92em; }
nav a { color: var(--accent); text-decoration: none; margin-right: 14px; white-space: nowrap; }
figure { margin: 14px 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); border-radius: 4px; }
figcaption { color: var(--muted); font-size: 0.9em; margin-top: 4px; }
table.data { border-collapse: collapse; margin: 10px 0; font-size: 0.9em;
             font-variant-numeric: tabular-nums; display: block; max-width: 100%; overflow-x: auto;
             overflow-wrap: normal; }
table.data th, table.data td { border-bottom: 1px solid var(--line); padding: 4px 10px;
                               text-align: right; }
table.data th { background: #f6f7f9; }
table.data td:first-child, table.data th:first-child { text-align: left; }
.caption { color: var(--muted); font-size: 0.9em; }
.audio-row { display: flex; flex-wrap: wrap; gap: 12px; margin: 10px 0; }
.audio { border: 1px solid var(--line); border-radius: 6px; padding: 6px 8px; }
.audio .label { font-size: 0.85em; color: var(--muted); display: block; margin-bottom: 2px; }
audio { height: 32px; width: 240px; max-width: 100%; }
code { background: #f2f3f5; padding: 1px 4px; border-radius: 3px; }
pre { background: #f6f7f9; border: 1px solid var(--line); border-radius: 6px; padding: 10px 14px;
      font-size: 0.85em; overflow-x: auto; max-height: 480px; }
pre code { background: none; padding: 0; }
"""


_SAFE_SCHEMES = ("http", "https", "mailto")


def _safe_url(url: str) -> bool:
    """A link target that runs nothing: an anchor, a relative path, or http(s)/mailto.

    Read as a browser reads it: entities decoded, control characters and whitespace
    (which browsers drop inside a scheme) removed.
    """
    plain = re.sub(r"[\x00-\x20\x7f]+", "", html.unescape(url))
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", plain)
    return scheme is None or scheme.group(1).lower() in _SAFE_SCHEMES


def _markdown(text: str) -> str:
    """Markdown to HTML with raw HTML escaped (shown as text) and unsafe link targets dropped."""
    import markdown
    from markdown.extensions import Extension
    from markdown.treeprocessors import Treeprocessor

    class _SafeLinks(Treeprocessor):
        def run(self, root: Any) -> None:
            for element in root.iter():
                for attribute in ("href", "src"):
                    value = element.get(attribute)
                    if value is not None and not _safe_url(value):
                        del element.attrib[attribute]

    class _NoRawHtml(Extension):
        def extendMarkdown(self, md: Any) -> None:  # noqa: N802 - Markdown's API
            md.preprocessors.deregister("html_block")
            md.inlinePatterns.deregister("html")
            md.treeprocessors.register(_SafeLinks(md), "safe_links", 0)

    return markdown.markdown(text, extensions=["tables", "fenced_code", _NoRawHtml()])


def _slug(text: str, used: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"
    slug, n = base, 2
    while slug in used:
        slug, n = f"{base}-{n}", n + 1
    used.add(slug)
    return slug


def _wav_bytes(y: np.ndarray, sample_rate: int) -> bytes:
    import soundfile

    buffer = io.BytesIO()
    soundfile.write(buffer, y, int(sample_rate), format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def figure_png(fig: Any, *, dpi: int = FIGURE_DPI, tight: bool = False) -> bytes:
    """A matplotlib figure as PNG bytes, at the figure's own size.

    A run report keeps each figure as ``figures/STEM.png`` and embeds it: it writes these
    bytes and passes them to :meth:`Report.figure`, so the figure is drawn once, not once
    per copy. The figures of :mod:`timbrespace.analysis` lay themselves out inside their
    size (constrained layout), so they need no crop, which would measure every artist once
    more (``bbox_inches="tight"``); a figure with a layout engine is laid out once and
    drawn once, where ``savefig`` alone draws it twice.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
    dpi : int, default=150
        Resolution, dots per inch (written to the PNG, where :meth:`Report.figure` reads
        it to show the figure at its size in inches).
    tight : bool, default=False
        Crop to what the figure draws (``bbox_inches="tight"``: two drawings), for a
        figure laid out without a layout engine.

    Returns
    -------
    bytes
        The PNG file: what ``fig.savefig(path, dpi=dpi)`` writes.
    """
    buffer = io.BytesIO()
    engine = fig.get_layout_engine()
    if tight or engine is None or fig.dpi != dpi:
        fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight" if tight else None)
        return buffer.getvalue()
    # savefig lays a figure out in a first drawing that renders nothing, then draws it;
    # laid out here, it is drawn once (the same PNG, byte for byte)
    engine.execute(fig)
    fig.set_layout_engine("none")
    try:
        fig.savefig(buffer, format="png", dpi=dpi)
    finally:
        fig.set_layout_engine(engine)
    return buffer.getvalue()


def _display_width_px(data: bytes, dpi: float | None) -> int | None:
    """CSS width showing an image at its size in inches: its pixel width at ``dpi`` (by
    default the PNG's own ``pHYs`` resolution) on a 96 px-per-inch page; None if unknown."""
    if data.startswith(b"\x89PNG") and len(data) >= 24:
        width = int.from_bytes(data[16:20], "big")
        at = data.find(b"pHYs", 0, 4096)
        if dpi is None and 0 < at < len(data) - 12 and data[at + 12] == 1:  # unit 1: pixels per metre
            dpi = int.from_bytes(data[at + 4:at + 8], "big") * 0.0254
    elif data[:6] in (b"GIF87a", b"GIF89a"):
        width = int.from_bytes(data[6:8], "little")
    else:
        return None
    return math.floor(width * CSS_PX_PER_IN / dpi) if dpi and width else None  # never below dpi


def _image_mime(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.lstrip().startswith(b"<svg") or b"<svg" in data[:200]:
        return "image/svg+xml"
    raise ParameterError("image data is not PNG, GIF, JPEG or SVG")


class Report:
    """Builder of one self-contained HTML page.

    Methods add content to the current section and return ``self`` so that calls can
    be chained. Nothing touches the disk until :meth:`write`.

    Parameters
    ----------
    title : str
        Page title (``<h1>``).
    subtitle : str, optional
        A line under the title (e.g. the run folder); the creation time is added.
    figure_dpi : int, default=150
        Resolution of embedded matplotlib figures. Figures are shown at their size in
        inches (96 CSS px per inch), at most the page's width.
    """

    def __init__(self, title: str, *, subtitle: str = "", figure_dpi: int = FIGURE_DPI) -> None:
        self.title = title
        self.subtitle = subtitle
        self.figure_dpi = figure_dpi
        self._sections: list[tuple[str, str, int, list[str]]] = [("", "", 2, [])]
        self._slugs: set[str] = set()
        self._created = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    @property
    def _body(self) -> list[str]:
        return self._sections[-1][3]

    def section(self, title: str, *, level: int = 2) -> Report:
        """Start a new section (``level`` 2) or subsection (3); listed in the contents."""
        if level not in (2, 3):
            raise ParameterError(f"level={level} must be 2 or 3")
        self._sections.append((title, _slug(title, self._slugs), level, []))
        return self

    def text(self, content: str) -> Report:
        """Add a paragraph of Markdown (tables and fenced code allowed).

        Raw HTML in ``content`` is shown as text, not passed through, and links to
        anything but ``http``, ``https``, ``mailto`` or an anchor lose their target, so
        user strings (factor names, paths) can be written into ``content`` as they are.
        """
        self._body.append(_markdown(content))
        return self

    def code(self, content: str) -> Report:
        """Add a preformatted block (a config, a log), shown exactly as it is."""
        self._body.append(f"<pre><code>{html.escape(content)}</code></pre>")
        return self

    def figure(self, fig: Any, caption: str = "", *, alt: str | None = None, dpi: float | None = None) -> Report:
        """Embed a figure: a matplotlib Figure (rendered to PNG), PNG/GIF/JPEG/SVG
        bytes, or a path to such an image file (e.g. a traversal GIF).

        A PNG or GIF is shown at its pixel width over ``dpi`` (default: the PNG's own
        resolution; a GIF without ``dpi`` at one pixel per CSS pixel) inches, shrunk to
        the page's width on narrow screens."""
        if dpi is not None and not dpi > 0:
            raise ParameterError(f"dpi={dpi} must be > 0 image pixels per inch")
        if isinstance(fig, (str, os.PathLike)):
            path = Path(fig)
            if not path.is_file():
                raise ParameterError(f"figure path {str(path)!r} does not exist")
            data = path.read_bytes()
        elif isinstance(fig, (bytes, bytearray)):
            data = bytes(fig)
        elif hasattr(fig, "savefig"):
            data = figure_png(fig, dpi=self.figure_dpi)
        else:
            raise ParameterError(
                f"figure must be a matplotlib Figure, image bytes or a path; got {type(fig).__name__}"
            )
        mime = _image_mime(data)
        encoded = base64.b64encode(data).decode("ascii")
        alt_text = html.escape(alt if alt is not None else caption or "figure", quote=True)
        caption_html = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
        width = _display_width_px(data, dpi)
        size = f' width="{width}"' if width else ""
        self._body.append(
            f'<figure><img src="data:{mime};base64,{encoded}" alt="{alt_text}"{size}>'
            f"{caption_html}</figure>"
        )
        return self

    def _audio_html(self, y: np.ndarray, sample_rate: int, label: str) -> str:
        audio = np.asarray(y, dtype=np.float64)
        if audio.ndim == 2 and audio.shape[0] in (1, 2) and audio.shape[1] > 2:
            audio = audio.T  # (channels, samples) -> soundfile's (samples, channels)
        if audio.ndim not in (1, 2) or audio.shape[0] == 0:
            raise ParameterError(
                f"audio must be (n_samples,) or (n_channels, n_samples); got {np.shape(y)}"
            )
        if not np.all(np.isfinite(audio)):
            raise ParameterError(f"audio {label!r} contains NaN/inf")
        if not sample_rate > 0:
            raise ParameterError(f"sample_rate={sample_rate} must be > 0 Hz")
        peak = float(np.max(np.abs(audio)))
        if peak > 1.0:
            audio = audio / peak  # avoid wrap-around when quantising to 16 bit
        encoded = base64.b64encode(_wav_bytes(audio, sample_rate)).decode("ascii")
        # the duration in the label: players show 0:00 for clips under a second
        duration = f"{audio.shape[0] / sample_rate:.2f} s"
        return (
            f'<div class="audio"><span class="label">{html.escape(label)} · {duration}</span>'
            f'<audio controls preload="metadata" src="data:audio/wav;base64,{encoded}"></audio></div>'
        )

    def audio(self, y: np.ndarray, sample_rate: int, label: str = "") -> Report:
        """Embed one audio player (16-bit WAV; peak-normalised only if it would clip).

        Parameters
        ----------
        y : np.ndarray [shape=(n_samples,) or (n_channels, n_samples)]
        sample_rate : int
            Hz.
        label : str
        """
        self._body.append(f'<div class="audio-row">{self._audio_html(y, sample_rate, label)}</div>')
        return self

    def audio_row(
        self, clips: Sequence[tuple[np.ndarray, str]], sample_rate: int, *, caption: str = ""
    ) -> Report:
        """Embed several players side by side, e.g. a traversal or original/reconstruction.

        Parameters
        ----------
        clips : sequence of (y, label)
        sample_rate : int
            Hz, shared by the clips.
        caption : str
        """
        players = "".join(self._audio_html(y, sample_rate, label) for y, label in clips)
        cap = f'<div class="caption">{html.escape(caption)}</div>' if caption else ""
        self._body.append(f'<div class="audio-row">{players}</div>{cap}')
        return self

    def table(
        self,
        data: Any,
        caption: str = "",
        *,
        float_format: str = "{:.4g}",
        index: bool | None = None,
    ) -> Report:
        """Embed a table.

        Parameters
        ----------
        data : DataFrame, mapping, list of mappings or dataclass
            A DataFrame as is; a mapping of name -> scalar as a two-column table; a mapping
            of row name -> mapping (column -> value) as one row per key (index shown); a
            mapping of name -> sequence as columns; a list of mappings as rows; a
            dataclass (e.g. ``MIGResult``) by its scalar fields.
        caption : str
        float_format : str
            Format of floating-point cells.
        index : bool, optional
            Show the DataFrame index (default: only if it is not a plain RangeIndex).
        """
        frame = self._as_frame(data)
        if index is None:
            index = not isinstance(frame.index, pd.RangeIndex)
        table_html = frame.to_html(
            index=index,
            border=0,
            classes="data",
            escape=True,
            na_rep="–",
            float_format=lambda v: float_format.format(v),
        )
        cap = f'<div class="caption">{html.escape(caption)}</div>' if caption else ""
        self._body.append(table_html + cap)
        return self

    @staticmethod
    def _as_frame(data: Any) -> pd.DataFrame:
        if isinstance(data, pd.DataFrame):
            return data
        if isinstance(data, pd.Series):
            return data.to_frame()
        if dataclasses.is_dataclass(data) and not isinstance(data, type):
            data = {
                f.name: getattr(data, f.name)
                for f in dataclasses.fields(data)
                if np.isscalar(getattr(data, f.name))
            }
        if isinstance(data, Mapping):
            values = list(data.values())
            if values and all(np.isscalar(v) or v is None for v in values):
                return pd.DataFrame({"name": list(data.keys()), "value": values})
            if values and all(isinstance(v, Mapping) for v in values):
                return pd.DataFrame.from_dict(dict(data), orient="index")
            return pd.DataFrame(dict(data))
        if isinstance(data, Sequence) and data and isinstance(data[0], Mapping):
            return pd.DataFrame(list(data))
        raise ParameterError(f"cannot make a table from {type(data).__name__}")

    def html(self) -> str:
        """The complete page as a string."""
        nav = "".join(
            f'<a href="#{slug}">{html.escape(title)}</a>'
            for title, slug, level, _ in self._sections
            if title and level == 2
        )
        parts = [
            "<!DOCTYPE html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{html.escape(self.title)}</title><style>{_CSS}</style></head><body><main>",
            f"<h1>{html.escape(self.title)}</h1>",
            f'<div class="meta">{html.escape(self.subtitle)}'
            f"{' · ' if self.subtitle else ''}generated {self._created} by timbrespace</div>",
        ]
        if nav:
            parts.append(f"<nav>{nav}</nav>")
        for title, slug, level, body in self._sections:
            if title:
                parts.append(f'<section id="{slug}"><h{level}>{html.escape(title)}</h{level}>')
            parts.extend(body)
            if title:
                parts.append("</section>")
        parts.append("</main></body></html>")
        return "\n".join(parts) + "\n"

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the page atomically to ``path`` and return it."""
        return atomic_write_text(path, self.html())
