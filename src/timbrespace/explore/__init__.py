"""The latent explorer: play any run's latent space (DESIGN.md, ``explore/``).

:func:`open_explorable` opens a run folder as an :class:`Explorable` (one adapter per run
kind: :mod:`~timbrespace.explore.run`, :mod:`~timbrespace.explore.timbre`,
:mod:`~timbrespace.explore.drums`); :func:`create_app` makes the HTTP API and page of it
(Starlette), :func:`serve` serves them (uvicorn); :func:`write_static_page` writes a
page that works without a server; :func:`export_model` exports the decoder or encoder to
ONNX or TorchScript. :mod:`~timbrespace.explore.limits` brings decoded features into the
stored range softly and measures how much was outside.
"""

from timbrespace.explore.base import Explorable
from timbrespace.explore.export import export_model
from timbrespace.explore.loader import EXPLORABLE_KINDS, open_explorable
from timbrespace.explore.server import create_app, serve
from timbrespace.explore.static import static_page_html, write_static_page
from timbrespace.explore.types import (
    Clip,
    Encoding,
    ExportPart,
    ItemTable,
    LatentInfo,
    Option,
    PathResult,
)

__all__ = [
    "EXPLORABLE_KINDS",
    "Clip",
    "Encoding",
    "Explorable",
    "ExportPart",
    "ItemTable",
    "LatentInfo",
    "Option",
    "PathResult",
    "create_app",
    "export_model",
    "open_explorable",
    "serve",
    "static_page_html",
    "write_static_page",
]
