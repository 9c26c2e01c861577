"""A self-contained explorer page that works without a server (``explore RUN --static OUT.html``).

The page is the explorer's own HTML, script and style, inlined, with the run's info, its
items (the map behind the pad) and a grid of clips decoded on the default pad plane (the
other latents at the items' mean). Clicking the pad plays the nearest grid clip. It makes
no request at all: open it from disk or attach it to a mail.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.explore.base import Explorable
from timbrespace.explore.server import PAGE_DIR, clip_json
from timbrespace.utils.atomic import atomic_write_text

__all__ = ["write_static_page", "static_page_html", "default_grid", "is_static_page"]

logger = logging.getLogger(__name__)


def default_grid(run: Explorable) -> int:
    """Grid points per side: the run's :attr:`~timbrespace.explore.base.Explorable.static_grid`
    (9 for notes, 5 for grooves: a groove clip is seconds long)."""
    return run.static_grid


def static_page_html(run: Explorable, *, grid: int | None = None, progress: bool = False) -> str:
    """The static page of ``run`` as one HTML string.

    Parameters
    ----------
    run : Explorable
    grid : int, optional
        Grid points per side of the pad, 2..15 (default :func:`default_grid`); a drum run's
        grid clips are one bar long.
    progress : bool
        Show a progress bar (rich, on stderr) over the grid's rows.

    Returns
    -------
    str

    Raises
    ------
    ParameterError
        ``grid`` out of range.
    """
    n = default_grid(run) if grid is None else grid
    if isinstance(n, bool) or not isinstance(n, int) or not 2 <= n <= 15:
        raise ParameterError(f"grid={grid!r} is out of range: allowed 2..15 points per side")
    info = run.info()
    items = run.items()
    x, y = info["default_plane"]
    ranges = {lat["index"]: lat["range"] for lat in info["latents"]}

    def span(j: int) -> tuple[float, float]:
        if j in ranges:
            return tuple(ranges[j])  # type: ignore[return-value]
        lo, hi = float(items.latents[:, j].min()), float(items.latents[:, j].max())
        return (lo - 1.0, hi + 1.0) if hi - lo < 1e-3 else (lo, hi)

    us, vs = np.linspace(*span(x), n), np.linspace(*span(y), n)
    z = np.repeat(np.asarray(info["origin"], dtype=np.float32)[None], n * n, axis=0)
    z[:, x] = np.tile(us, n)
    z[:, y] = np.repeat(vs, n)
    names = {opt.name for opt in run.options}
    options = run.check_options({"bars": 1} if "bars" in names else {})
    logger.info("decoding a %d × %d grid for the static page", n, n)
    rows: Iterable[int] = range(n)
    if progress:
        from rich.console import Console
        from rich.progress import track

        rows = track(rows, description="decoding the grid", console=Console(stderr=True))
    clips = [clip for row in rows for clip in run.decode_batch(z[row * n : (row + 1) * n], options)]
    data = {"info": info, "items": items.to_dict(),
            "grid": {"plane": {"type": "pair", "x": int(x), "y": int(y)}, "us": us.round(6).tolist(),
                     "vs": vs.round(6).tolist(), "clips": [clip_json(c) for c in clips]}}
    page = (PAGE_DIR / "index.html").read_text()
    css = (PAGE_DIR / "explore.css").read_text()
    js = (PAGE_DIR / "explore.js").read_text()
    if "</script" in js.lower():  # pragma: no cover - would end the inline script early
        raise ParameterError("explore.js must not contain '</script'")
    # no '<', '>' or '&' in the inline JSON: no user string (a factor named '</script><script>...',
    # '<!--') can end the script element or change how the page parses; JSON.parse reads them back
    payload = (json.dumps(data, separators=(",", ":"))
               .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))
    page = page.replace('<link rel="stylesheet" href="page/explore.css">', f"<style>\n{css}</style>")
    page = page.replace('<script src="page/explore.js"></script>',
                        f'<script id="timbrespace-static" type="application/json">{payload}</script>\n'
                        f"<script>\n{js}</script>")
    return page


def is_static_page(path: str | Path) -> bool:
    """``path`` is a page :func:`write_static_page` wrote (it holds the page's data block)."""
    try:
        return b'<script id="timbrespace-static"' in Path(path).read_bytes()
    except OSError:
        return False


def write_static_page(run: Explorable, out: str | Path, *, grid: int | None = None, overwrite: bool = False,
                      progress: bool = False) -> Path:
    """Write the static page of ``run`` to ``out`` (see :func:`static_page_html`).

    Parameters
    ----------
    run : Explorable
    out : path-like
        HTML file to write.
    grid : int, optional
    overwrite : bool
        Replace an existing ``out`` that is a page written before (never another file).
    progress : bool
        Show a progress bar while the grid is decoded.

    Returns
    -------
    Path

    Raises
    ------
    ParameterError
        ``out`` exists and ``overwrite`` is false, or is not a static page; a bad ``grid``.
    """
    out = Path(out)
    if out.exists() and not overwrite:
        raise ParameterError(f"{out} exists; pass --overwrite to replace it")
    if out.exists() and not is_static_page(out):
        raise ParameterError(f"--static {out} exists and is not an explorer page written before; "
                             "nothing is replaced: choose another file")
    html = static_page_html(run, grid=grid, progress=progress)
    out.parent.mkdir(parents=True, exist_ok=True)
    return atomic_write_text(out, html)
