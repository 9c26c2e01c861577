"""The explorer's HTTP API and page, as a Starlette app served by uvicorn.

Routes (JSON bodies; every error is a 4xx JSON ``{"error": "..."}`` and the server stays up):

``GET /``
    The page (``page/index.html``, its script and style under ``/page/``).
``GET /api/info``
    Run kind, ``latent_dim``, active latents (best factor, MIG, range), factor names,
    ``sample_rate``, the default pad plane, the PCA plane and the decode options; a ``run``
    or ``train`` run's ``decoder``: ``"audio"`` (its DDSP decoder plays ``z``) or ``"features"``.
``GET /api/items``
    Item ids, their latent means and their factor values.
``POST /api/decode``
    ``{"z": [...], ...options}`` → ``audio/wav``; ``?format=json`` gives the clip as JSON
    (base64 WAV, duration, RMS, ``clipped_fraction``, a drum run's step grid),
    ``?format=mid`` a drum run's MIDI. Audio answers carry ``X-Clipped-Fraction``: the
    fraction of the decoded features that lay outside the stored range (a point far from
    the items; the page warns); for a run played by its audio decoder, the fraction of
    ``z``'s latents outside the items' extent.
``POST /api/item``
    ``{"index": i, "which": "original" | "reconstruction", ...options}`` → ``audio/wav``
    (or ``?format=json``).
``POST /api/path``
    ``{"a": i, "b": j, "steps": 7, ...options}`` → JSON: ``t`` and, for ``lerp`` and
    ``slerp``, the latents of each step and the clip of the steps played in order.
``POST /api/encode``
    A WAV file's bytes (``Content-Type: audio/wav``) → JSON ``{"z": [...],
    "clipped_fraction": f, "notes": [...], "options": {...}}``: the recording's latents,
    encoded as ``timbrespace encode`` does (resampled, trimmed or zero-padded to the run's
    items, each change a note); ``/api/decode`` of ``z`` with those ``options`` (a DDSP
    decoder's ``tuning_cents`` and ``tuning_stiffness``, measured in the recording) plays
    its reconstruction. Only runs
    whose ``/api/info`` says ``can_encode`` (400 otherwise); another content type or a
    body that is no WAV gets 415, a silent or unreadable one 400.

A request body is at most :data:`MAX_BODY_BYTES` (a recording :data:`MAX_AUDIO_BYTES`;
413 otherwise, before it is read), and
the app served by :func:`serve` answers only requests whose ``Host`` names the address it
listens on (403 otherwise: a DNS-rebinding page cannot reach it).

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
import errno
import json
import logging
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from timbrespace.errors import ParameterError, TimbrespaceError
from timbrespace.explore.base import MAX_AUDIO_BYTES, Explorable
from timbrespace.explore.types import Clip

__all__ = ["create_app", "serve", "clip_json", "allowed_hosts", "bind_socket", "PAGE_DIR", "MAX_AUDIO_BYTES",
           "MAX_BODY_BYTES", "WAV_TYPES"]

logger = logging.getLogger(__name__)

PAGE_DIR = Path(__file__).parent / "page"
_FORMATS = ("wav", "json", "mid")
MAX_BODY_BYTES = 1 << 20
"""The largest request body the API reads (1 MiB); larger ones get 413."""
WAV_TYPES = ("audio/wav", "audio/x-wav", "audio/wave", "audio/vnd.wave")
"""``Content-Type`` values ``/api/encode`` takes (what browsers and curl call a WAV file)."""


def clip_json(clip: Clip) -> dict[str, Any]:
    """A clip as JSON: ``sample_rate``, ``duration_s``, ``rms``, ``clipped_fraction``, ``wav_base64`` and, for
    grooves, ``pattern``."""
    out: dict[str, Any] = {"sample_rate": clip.sample_rate, "duration_s": round(clip.duration_s, 6),
                           "rms": round(clip.rms, 8), "clipped_fraction": round(clip.clipped_fraction, 6),
                           "wav_base64": base64.b64encode(clip.wav()).decode("ascii")}
    if clip.pattern is not None:
        out["pattern"] = [[round(float(v), 4) for v in row] for row in clip.pattern.reshape(-1, clip.pattern.shape[-1])]
        out["pattern_shape"] = list(clip.pattern.shape)
    if clip.step_starts_s:
        out["step_starts_s"] = [round(s, 6) for s in clip.step_starts_s]
    return out


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request's body, read at most ``limit`` bytes far.

    A ``Content-Length`` over the limit is refused before any of the body is read; a
    body without one (chunked) is read chunk by chunk and refused as soon as it passes
    the limit, so a client cannot make the server hold more than the limit in memory.

    Raises
    ------
    HTTPException
        413, the body is larger than ``limit``.
    ParameterError
        A ``Content-Length`` that is not a number.
    """
    length = request.headers.get("content-length")
    if length is not None:
        if not length.strip().isdigit():
            raise ParameterError(f"Content-Length={length!r} is not a number of bytes")
        if int(length) > limit:
            raise HTTPException(413, f"request body of {int(length)} bytes is too large (at most {limit})")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise HTTPException(413, f"request body of more than {limit} bytes is too large (at most {limit})")
        chunks.append(chunk)
    return b"".join(chunks)


async def _body(request: Request) -> dict[str, Any]:
    """The request's JSON object, read at most :data:`MAX_BODY_BYTES` far (see :func:`_read_body`).

    Raises
    ------
    HTTPException
        413, the body is larger than :data:`MAX_BODY_BYTES`.
    ParameterError
        A bad ``Content-Length``, a body that is not JSON, a JSON value nested too deeply
        for the parser, or one that is not an object.
    """
    raw = await _read_body(request, MAX_BODY_BYTES)
    try:
        body = json.loads(raw or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ParameterError(f"request body is not valid JSON ({exc})") from None
    except RecursionError:
        raise ParameterError("request body is nested too deeply to parse (a JSON object of lists of "
                             "numbers is expected)") from None
    if not isinstance(body, dict):
        raise ParameterError(f"request body must be a JSON object, got {type(body).__name__}")
    return body


async def _wav_body(request: Request) -> bytes:
    """The WAV file a request carries, read at most :data:`MAX_AUDIO_BYTES` far.

    Raises
    ------
    HTTPException
        415, a ``Content-Type`` other than :data:`WAV_TYPES` (checked before the body is
        read) or a body without a RIFF/WAVE header; 413, a body over :data:`MAX_AUDIO_BYTES`.
    ParameterError
        A bad ``Content-Length``.
    """
    given = request.headers.get("content-type", "")
    if given.split(";")[0].strip().lower() not in WAV_TYPES:
        raise HTTPException(415, f"Content-Type {given or '(none)'!r} is not a WAV file: send one with "
                                 "Content-Type: audio/wav")
    data = await _read_body(request, MAX_AUDIO_BYTES)
    if len(data) < 12 or data[:4] not in (b"RIFF", b"RIFX", b"RF64") or data[8:12] != b"WAVE":
        raise HTTPException(415, f"the body ({len(data)} bytes) is not a WAV file: it lacks the RIFF/WAVE header")
    return data


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
                    headers={**headers, "X-Clip-Duration-S": f"{clip.duration_s:.6f}", "X-Clip-Rms": f"{clip.rms:.8f}",
                             "X-Clipped-Fraction": f"{clip.clipped_fraction:.6f}"})


LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")
"""Names of this machine's loopback interface: a server bound to one answers all of them."""
_WILDCARDS = ("0.0.0.0", "::", "")


def _host_name(host: str) -> str:
    """``host`` as it appears in a ``Host`` header: IPv6 addresses in brackets, lower case."""
    host = host.strip().lower()
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def allowed_hosts(host: str, port: int) -> tuple[str, ...] | None:
    """The ``Host`` header values a server bound to ``host``:``port`` answers.

    A loopback bind answers ``127.0.0.1``, ``localhost`` and ``[::1]`` at ``port``; any
    other address or name answers that name at ``port``. Browsers leave the port out of
    the header for port 80 only, so the bare name is allowed there. A page of another
    site that a DNS-rebinding attack points at the loopback sends its own name and is
    refused.

    Parameters
    ----------
    host : str
        The address or name the server listens on (``--host``).
    port : int

    Returns
    -------
    tuple of str or None
        None for a wildcard bind (``0.0.0.0``, ``::``): the server is then meant to be
        reached by names it cannot know, and does not check the header.

    Examples
    --------
    >>> allowed_hosts("127.0.0.1", 8765)
    ('127.0.0.1:8765', 'localhost:8765', '[::1]:8765')
    >>> allowed_hosts("::", 8765) is None
    True
    """
    host = host.strip().lower()
    if host in _WILDCARDS:
        return None
    names = LOOPBACK_NAMES if host in LOOPBACK_NAMES or host.startswith("127.") else ()
    names = tuple(dict.fromkeys((host, *names)))
    hosts = tuple(f"{_host_name(n)}:{int(port)}" for n in names)
    return hosts + tuple(_host_name(n) for n in names) if int(port) == 80 else hosts


class _HostCheck:
    """ASGI middleware that answers 403 (JSON) to a request whose ``Host`` is not allowed."""

    def __init__(self, app: Any, allowed: Sequence[str]) -> None:
        self.app = app
        self.allowed = frozenset(h.lower() for h in allowed)
        self.shown = ", ".join(allowed)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
            if host.lower() not in self.allowed:
                response = _error(403, f"Host header {host!r} is not allowed: this server answers {self.shown} "
                                       "(a check against DNS rebinding; open one of those addresses)")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def create_app(run: Explorable, *, hosts: Sequence[str] | None = None) -> Starlette:
    """The explorer app of one opened run.

    With ``hosts`` (:func:`allowed_hosts` of the address it is served on), a request
    whose ``Host`` header is not one of them gets 403: a page of another site that a
    DNS-rebinding attack points at this machine cannot use the API. A request body over
    :data:`MAX_BODY_BYTES` (a recording to encode: :data:`MAX_AUDIO_BYTES`) gets 413,
    before the server reads it.

    The pad reaches points off the items on purpose: their decoded features are brought
    into the stored range softly by the adapters, and every clip says which fraction was
    outside (``clipped_fraction`` in JSON, ``X-Clipped-Fraction`` on audio). Torch's
    thread count is left as it was (one thread while decoding).

    At startup (the app's lifespan: uvicorn, or ``TestClient`` used in a ``with``) it
    decodes the origin once, so that the first request is not slower than the rest.

    Parameters
    ----------
    run : Explorable
    hosts : sequence of str, optional
        ``Host`` header values to answer (``"127.0.0.1:8765"``, compared without case);
        None answers any (``TestClient`` sends ``testserver``).

    Returns
    -------
    starlette.applications.Starlette
        Serve it with uvicorn (:func:`serve`) or test it with ``starlette.testclient.TestClient``.
    """
    api = _Api(run)
    middleware = [Middleware(_HostCheck, allowed=tuple(hosts))] if hosts is not None else []
    return Starlette(routes=api.routes(), lifespan=api.lifespan, middleware=middleware,
                     exception_handlers={TimbrespaceError: _bad_request, HTTPException: _http_error,
                                         Exception: _server_error})


class _Api:
    """The handlers of :func:`create_app` over one run: every call into the run holds one
    lock and runs on one torch thread (the count restored after), in Starlette's thread pool."""

    def __init__(self, run: Explorable) -> None:
        self.run = run
        self.lock = threading.Lock()

    async def locked(self, work: Callable[[], Any]) -> Any:
        def call() -> Any:
            import torch

            with self.lock:
                threads = torch.get_num_threads()
                torch.set_num_threads(1)
                try:
                    return work()
                finally:
                    torch.set_num_threads(threads)

        return await run_in_threadpool(call)

    @asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        await self.locked(lambda: self.run.decode(self.run.info()["origin"]))
        yield

    def routes(self) -> list[Any]:
        return [
            Route("/", self.index),
            Route("/api/info", self.info),
            Route("/api/items", self.items),
            Route("/api/decode", self.decode, methods=["POST"]),
            Route("/api/item", self.item, methods=["POST"]),
            Route("/api/path", self.path, methods=["POST"]),
            Route("/api/encode", self.encode, methods=["POST"]),
            Mount("/page", StaticFiles(directory=PAGE_DIR), name="page"),
        ]

    async def index(self, request: Request) -> Response:
        return FileResponse(PAGE_DIR / "index.html", headers={"Cache-Control": "no-store"})

    async def info(self, request: Request) -> Response:
        return JSONResponse(await self.locked(self.run.info))

    async def items(self, request: Request) -> Response:
        return JSONResponse(await self.locked(lambda: self.run.items().to_dict()))

    async def decode(self, request: Request) -> Response:
        run, fmt = self.run, _format(request)
        body = await _body(request)
        if "z" not in body:
            raise ParameterError(f"the body needs 'z': a list of {run.latent_dim} numbers")
        z = body.pop("z")
        t0 = time.perf_counter()
        if fmt == "mid":
            midi = await self.locked(lambda: run.decode_midi(z, **body))
            return Response(midi, media_type="audio/midi",
                            headers={"Content-Disposition": 'attachment; filename="groove.mid"',
                                     "Cache-Control": "no-store"})
        clip = await self.locked(lambda: run.decode(z, **body))
        return _clip_response(clip, fmt, time.perf_counter() - t0)

    async def item(self, request: Request) -> Response:
        fmt = _format(request)
        body = await _body(request)
        index, which = body.pop("index", None), body.pop("which", "original")
        if which not in ("original", "reconstruction"):
            raise ParameterError(f"which={which!r} is not allowed: one of original, reconstruction")
        if fmt == "mid":
            raise ParameterError("format='mid' is for /api/decode; items play as wav or json")
        t0 = time.perf_counter()
        original, recon = await self.locked(lambda: self.run.item_clips(index, **body))
        return _clip_response(original if which == "original" else recon, fmt, time.perf_counter() - t0)

    async def path(self, request: Request) -> Response:
        body = await _body(request)
        a, b, steps = body.pop("a", None), body.pop("b", None), body.pop("steps", 7)
        result = await self.locked(lambda: self.run.path(a, b, steps=steps, **body))
        return JSONResponse({"a": result.a, "b": result.b, "t": result.t.round(6).tolist(),
                             **{name: {"z": result.z[name].round(6).tolist(), "clip": clip_json(result.clips[name])}
                                for name in ("lerp", "slerp")}}, headers={"Cache-Control": "no-store"})

    async def encode(self, request: Request) -> Response:
        self.run.check_can_encode()  # before the body is read
        data = await _wav_body(request)
        encoding = await self.locked(lambda: self.run.encode(data))
        return JSONResponse(encoding.to_dict(), headers={"Cache-Control": "no-store"})


async def _bad_request(request: Request, exc: Exception) -> Response:
    return _error(400, str(exc))


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    return _error(exc.status_code, str(exc.detail))


async def _server_error(request: Request, exc: Exception) -> Response:
    logger.exception("error answering %s %s", request.method, request.url.path)
    return _error(500, f"internal error: {type(exc).__name__}: {exc}")


def bind_socket(host: str, port: int) -> socket.socket:
    """A TCP socket bound to ``host``:``port`` (not yet listening), for :func:`serve`.

    Binding before the run is loaded tells at once, in one line, that the port is taken
    (rather than after loading the model, in uvicorn's words), and keeps the port from
    being taken meanwhile.

    Parameters
    ----------
    host : str
        Address or name to bind (``0.0.0.0`` or ``::`` for every interface).
    port : int
        TCP port, 1..65535.

    Returns
    -------
    socket.socket

    Raises
    ------
    ParameterError
        A port out of range, a port in use, or a host that cannot be bound.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        raise ParameterError(f"port={port!r} is out of range: allowed 1..65535")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise ParameterError(f"host={host!r} cannot be resolved ({exc})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn: a port in TIME_WAIT is free
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            raise ParameterError(f"port {port} is in use on {host}: stop what listens there or pass another "
                                 "--port") from None
        raise ParameterError(f"cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    sock.set_inheritable(True)
    return sock


def server_url(host: str, port: int) -> str:
    """The address to open in a browser for a server bound to ``host``:``port``."""
    shown = "127.0.0.1" if host.strip() in _WILDCARDS else _host_name(host)
    return f"http://{shown}:{port}/"


def serve(run: Explorable, *, host: str = "127.0.0.1", port: int = 8765, open_browser: bool = True,
          sock: socket.socket | None = None) -> None:
    """Serve the explorer of ``run`` until interrupted.

    The app's startup decodes once (it compiles the phase retrieval, builds the
    features' inverse and loads the kits) before the server answers, so that the page's
    first click is as fast as the others. The app answers only requests whose ``Host``
    is ``host``:``port`` (see :func:`allowed_hosts`).

    Parameters
    ----------
    run : Explorable
    host : str
        Interface to listen on (default the loopback: nothing outside this machine can reach it).
    port : int
        TCP port (1..65535).
    open_browser : bool
        Open the page in the default browser once the server is up.
    sock : socket.socket, optional
        Already bound to ``host``:``port`` (:func:`bind_socket`); bound here otherwise.

    Raises
    ------
    ParameterError
        A port outside 1..65535, or one in use.
    """
    import uvicorn

    if sock is None:
        sock = bind_socket(host, int(port))
    features_log = logging.getLogger("timbrespace.features")
    if not features_log.isEnabledFor(logging.DEBUG):  # one line per phase retrieval: only with --verbose
        features_log.setLevel(logging.WARNING)
    url = server_url(host, port)
    config = uvicorn.Config(create_app(run, hosts=allowed_hosts(host, port)), log_level="warning")
    server = uvicorn.Server(config)
    if open_browser:
        import webbrowser

        def opener() -> None:
            while not server.started and not server.should_exit:
                time.sleep(0.05)
            if server.started:
                webbrowser.open(url)

        threading.Thread(target=opener, daemon=True).start()
    logger.debug("explorer of %s at %s", run.root, url)
    with sock:
        server.run(sockets=[sock])
