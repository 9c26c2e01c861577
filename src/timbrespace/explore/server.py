"""The explorer's HTTP API and page, as a Starlette app served by uvicorn.

Routes (JSON bodies; every error is a 4xx JSON ``{"error": "..."}`` and the server stays up):

``GET /``
    The page (``page/index.html``, its script and style under ``/page/``).
``GET /api/info``
    Run kind, ``latent_dim``, active latents (best factor, MIG, range), factor names,
    ``sample_rate``, the default pad plane, the PCA plane and the decode options.
``GET /api/items``
    Item ids, their latent means and their factor values.
``POST /api/decode``
    ``{"z": [...], ...options}`` → ``audio/wav``; ``?format=json`` gives the clip as JSON
    (base64 WAV, duration, RMS, a drum run's step grid), ``?format=mid`` a drum run's MIDI.
``POST /api/item``
    ``{"index": i, "which": "original" | "reconstruction", ...options}`` → ``audio/wav``
    (or ``?format=json``).
``POST /api/path``
    ``{"a": i, "b": j, "steps": 7, ...options}`` → JSON: ``t`` and, for ``lerp`` and
    ``slerp``, the latents of each step and the clip of the steps played in order.

Requests are answered one decode at a time (a lock around the model, the synthesiser and
the phase retrieval), so concurrent clients each get their own, correct, answer. A decode
runs with one torch thread: one note is a few small matrix products and FFTs, which
intra-op threads only slow down (on 2 busy cores a 1024-point FFT of 16 frames took
16 ms with 2 threads, 0.04 ms with one). The app decodes the origin once at startup
(compiling the phase retrieval, building the features' inverse, loading kits), so the
first request is as fast as the others.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from timbrespace.errors import ParameterError, TimbrespaceError
from timbrespace.explore.base import Explorable
from timbrespace.explore.types import Clip

__all__ = ["create_app", "serve", "clip_json", "PAGE_DIR"]

logger = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).parent / "page"
_FORMATS = ("wav", "json", "mid")
_MAX_BODY_BYTES = 1 << 20


def clip_json(clip: Clip) -> dict[str, Any]:
    """A clip as JSON: ``sample_rate``, ``duration_s``, ``rms``, ``wav_base64`` and, for grooves, ``pattern``."""
    out: dict[str, Any] = {"sample_rate": clip.sample_rate, "duration_s": round(clip.duration_s, 6),
                           "rms": round(clip.rms, 8), "wav_base64": base64.b64encode(clip.wav()).decode("ascii")}
    if clip.pattern is not None:
        out["pattern"] = [[round(float(v), 4) for v in row] for row in clip.pattern.reshape(-1, clip.pattern.shape[-1])]
        out["pattern_shape"] = list(clip.pattern.shape)
    if clip.step_starts_s:
        out["step_starts_s"] = [round(s, 6) for s in clip.step_starts_s]
    return out


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if len(raw) > _MAX_BODY_BYTES:
        raise ParameterError(f"request body of {len(raw)} bytes is too large (at most {_MAX_BODY_BYTES})")
    try:
        body = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"request body is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise ParameterError(f"request body must be a JSON object, got {type(body).__name__}")
    return body


def _format(request: Request) -> str:
    fmt = request.query_params.get("format", "wav")
    if fmt not in _FORMATS:
        raise ParameterError(f"format={fmt!r} is not allowed: one of {', '.join(_FORMATS)}")
    return fmt


def _clip_response(clip: Clip, fmt: str, elapsed_s: float) -> Response:
    headers = {"Cache-Control": "no-store", "X-Decode-Ms": f"{1000 * elapsed_s:.1f}"}
    if fmt == "json":
        return JSONResponse(clip_json(clip), headers=headers)
    return Response(clip.wav(), media_type="audio/wav",
                    headers={**headers, "X-Clip-Duration-S": f"{clip.duration_s:.6f}", "X-Clip-Rms": f"{clip.rms:.8f}"})


class _FirstClipWarningOnly(logging.Filter):
    """Lets :func:`~timbrespace.features.invert`'s first "values outside the stored range;
    clipped" warning through, and drops the later ones: the pad and sliders reach points
    off the items' range on purpose, and a line per request would bury every other log."""

    def __init__(self) -> None:
        super().__init__()
        self.seen = False

    def filter(self, record: logging.LogRecord) -> bool:
        if "outside the stored range" not in str(record.msg):
            return True
        first, self.seen = not self.seen, True
        return first


def create_app(run: Explorable) -> Starlette:
    """The explorer app of one opened run.

    Decoded features outside the stored range are clipped by ``invert`` with a warning; the
    app's first one is logged, later ones are not (the pad reaches such points on purpose).
    The filter is on only while the app decodes: logging elsewhere is left as it was, and
    so is torch's thread count (one thread while decoding).

    At startup (the app's lifespan: uvicorn, or ``TestClient`` used in a ``with``) it
    decodes the origin once, so that the first request is not slower than the rest.

    Parameters
    ----------
    run : Explorable

    Returns
    -------
    starlette.applications.Starlette
        Serve it with uvicorn (:func:`serve`) or test it with ``starlette.testclient.TestClient``.
    """
    lock = threading.Lock()
    features_api, clip_warnings = logging.getLogger("timbrespace.features.api"), _FirstClipWarningOnly()

    async def locked(work: Callable[[], Any]) -> Any:
        def call() -> Any:
            import torch

            with lock:
                features_api.addFilter(clip_warnings)
                threads = torch.get_num_threads()
                torch.set_num_threads(1)
                try:
                    return work()
                finally:
                    torch.set_num_threads(threads)
                    features_api.removeFilter(clip_warnings)

        return await run_in_threadpool(call)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await locked(lambda: run.decode(run.info()["origin"]))
        yield

    async def index(request: Request) -> Response:
        return FileResponse(PAGE_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def info(request: Request) -> Response:
        return JSONResponse(await locked(run.info))

    async def items(request: Request) -> Response:
        return JSONResponse(await locked(lambda: run.items().to_dict()))

    async def decode(request: Request) -> Response:
        fmt = _format(request)
        body = await _body(request)
        if "z" not in body:
            raise ParameterError(f"the body needs 'z': a list of {run.latent_dim} numbers")
        z = body.pop("z")
        t0 = time.perf_counter()
        if fmt == "mid":
            midi = await locked(lambda: run.decode_midi(z, **body))
            return Response(midi, media_type="audio/midi",
                            headers={"Content-Disposition": 'attachment; filename="groove.mid"',
                                     "Cache-Control": "no-store"})
        clip = await locked(lambda: run.decode(z, **body))
        return _clip_response(clip, fmt, time.perf_counter() - t0)

    async def item(request: Request) -> Response:
        fmt = _format(request)
        body = await _body(request)
        index, which = body.pop("index", None), body.pop("which", "original")
        if which not in ("original", "reconstruction"):
            raise ParameterError(f"which={which!r} is not allowed: one of original, reconstruction")
        if fmt == "mid":
            raise ParameterError("format='mid' is for /api/decode; items play as wav or json")
        t0 = time.perf_counter()
        original, recon = await locked(lambda: run.item_clips(index, **body))
        return _clip_response(original if which == "original" else recon, fmt, time.perf_counter() - t0)

    async def path(request: Request) -> Response:
        body = await _body(request)
        a, b, steps = body.pop("a", None), body.pop("b", None), body.pop("steps", 7)
        result = await locked(lambda: run.path(a, b, steps=steps, **body))
        return JSONResponse({"a": result.a, "b": result.b, "t": result.t.round(6).tolist(),
                             **{name: {"z": result.z[name].round(6).tolist(), "clip": clip_json(result.clips[name])}
                                for name in ("lerp", "slerp")}}, headers={"Cache-Control": "no-store"})

    async def bad_request(request: Request, exc: Exception) -> Response:
        return _error(400, str(exc))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return _error(exc.status_code, str(exc.detail))

    async def server_error(request: Request, exc: Exception) -> Response:
        logger.exception("error answering %s %s", request.method, request.url.path)
        return _error(500, f"internal error: {type(exc).__name__}: {exc}")

    routes = [
        Route("/", index),
        Route("/api/info", info),
        Route("/api/items", items),
        Route("/api/decode", decode, methods=["POST"]),
        Route("/api/item", item, methods=["POST"]),
        Route("/api/path", path, methods=["POST"]),
        Mount("/page", StaticFiles(directory=PAGE_DIR), name="page"),
    ]
    return Starlette(routes=routes, lifespan=lifespan,
                     exception_handlers={TimbrespaceError: bad_request, HTTPException: http_error,
                                         Exception: server_error})


def serve(run: Explorable, *, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True) -> None:
    """Serve the explorer of ``run`` until interrupted.

    The app's startup decodes once (it compiles the phase retrieval, builds the
    features' inverse and loads the kits) before the server answers, so that the page's
    first click is as fast as the others.

    Parameters
    ----------
    run : Explorable
    host : str
        Interface to listen on (default the loopback: nothing outside this machine can reach it).
    port : int
        TCP port (1..65535).
    open_browser : bool
        Open the page in the default browser once the server is up.

    Raises
    ------
    ParameterError
        A port outside 1..65535.
    """
    import uvicorn

    if not 1 <= int(port) <= 65535:
        raise ParameterError(f"port={port} is out of range: allowed 1..65535")
    features_log = logging.getLogger("timbrespace.features")
    if not features_log.isEnabledFor(logging.DEBUG):  # one line per phase retrieval: only with --verbose
        features_log.setLevel(logging.WARNING)
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}/"
    config = uvicorn.Config(create_app(run), host=host, port=int(port), log_level="warning")
    server = uvicorn.Server(config)
    if open_browser:
        import webbrowser

        def opener() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=opener, daemon=True).start()
    logger.info("explorer of %s at %s (Ctrl+C to stop)", run.root, url)
    server.run()
