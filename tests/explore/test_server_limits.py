"""The API's limits: request bodies (size, nesting) and the ``Host`` header (DNS rebinding)."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from starlette.testclient import TestClient

from timbrespace.explore import create_app
from timbrespace.explore.server import MAX_BODY_BYTES, allowed_hosts

from .conftest import CountingBody, LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs

CHUNK = 64 * 1024
HUGE = 400 * 1024 * 1024  # 400 MB: what a careless or hostile client may send


def call(app, headers: dict[str, str], receive) -> tuple[int, dict]:  # noqa: ANN001
    """One POST /api/decode straight through ``app`` (no client, no server)."""
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/decode", "raw_path": b"/api/decode", "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8765)}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body)


def test_a_content_length_over_the_limit_is_refused_before_the_body_is_read(note_explorable):
    body = CountingBody(HUGE)
    status, answer = call(create_app(note_explorable), {"Host": "127.0.0.1:8765", "Content-Length": str(HUGE),
                                                        "Content-Type": "application/json"}, body.receive)
    assert status == 413
    assert answer["error"] == f"request body of {HUGE} bytes is too large (at most {MAX_BODY_BYTES})"
    assert body.consumed == 0


def test_a_chunked_body_is_read_only_up_to_the_limit(note_explorable):
    body = CountingBody(HUGE)  # no Content-Length: Transfer-Encoding chunked
    status, answer = call(create_app(note_explorable), {"Host": "127.0.0.1:8765", "Transfer-Encoding": "chunked",
                                                        "Content-Type": "application/json"}, body.receive)
    assert status == 413
    assert "too large (at most 1048576)" in answer["error"]
    assert body.consumed <= MAX_BODY_BYTES + CHUNK


def test_a_live_server_answers_413_without_waiting_for_the_body(note_explorable):
    """A client that announces 400 MB and sends 10 bytes gets its answer at once."""
    with LiveServer(note_explorable) as server, socket.create_connection(("127.0.0.1", server.port), timeout=10) as s:
        t0 = time.monotonic()
        s.sendall(f"POST /api/decode HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
                  f"Content-Length: {HUGE}\r\n\r\n{{\"z\": [0, ".encode())
        reply = b""
        while b"\r\n\r\n" not in reply:
            chunk = s.recv(4096)
            if not chunk:
                break
            reply += chunk
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert time.monotonic() - t0 < 5


@pytest.fixture(scope="module")
def client(note_explorable):  # noqa: ANN001, ANN201
    app = create_app(note_explorable, hosts=allowed_hosts("127.0.0.1", 8765))
    with TestClient(app, base_url="http://127.0.0.1:8765") as c:
        yield c


def test_deeply_nested_json_is_a_400_not_a_crash(client):
    for body in ("[" * 100_000, '{"z": ' + "[" * 100_000 + "]" * 100_000 + "}"):
        res = client.post("/api/decode", content=body, headers={"Content-Type": "application/json"})
        assert res.status_code == 400, res.text
        assert "nested too deeply" in res.json()["error"]
    assert client.post("/api/decode", json={"z": [0, 0, 0, 0]}).status_code == 200  # still up


def test_a_bad_content_length_is_a_400(note_explorable):
    status, answer = call(create_app(note_explorable), {"Content-Length": "lots"}, CountingBody(0).receive)
    assert status == 400 and "Content-Length='lots' is not a number" in answer["error"]


@pytest.mark.parametrize("host", ["127.0.0.1:8765", "localhost:8765", "LOCALHOST:8765", "[::1]:8765"])
def test_the_loopback_names_at_the_port_are_answered(client, host):
    assert client.get("/api/info", headers={"Host": host}).status_code == 200
    assert client.post("/api/decode", json={"z": [0, 0, 0, 0]}, headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", ["evil.example:8765", "evil.example", "127.0.0.1:9999", "localhost", "",
                                  "127.0.0.1.evil.example:8765"])
def test_other_hosts_are_refused(client, host):
    for method, url in (("GET", "/"), ("GET", "/api/info"), ("POST", "/api/decode"), ("GET", "/page/explore.js")):
        res = client.request(method, url, headers={"Host": host}, content=b'{"z": [0, 0, 0, 0]}')
        assert res.status_code == 403, (host, url)
        assert f"Host header {host!r} is not allowed" in res.json()["error"]
        assert "127.0.0.1:8765, localhost:8765, [::1]:8765" in res.json()["error"]


def test_allowed_hosts_follow_the_bound_address():
    assert allowed_hosts("127.0.0.1", 8765) == ("127.0.0.1:8765", "localhost:8765", "[::1]:8765")
    assert allowed_hosts("localhost", 9000) == ("localhost:9000", "127.0.0.1:9000", "[::1]:9000")
    assert allowed_hosts("::1", 9000) == ("[::1]:9000", "127.0.0.1:9000", "localhost:9000")
    assert allowed_hosts("192.168.1.20", 9000) == ("192.168.1.20:9000",)
    assert allowed_hosts("Studio.local", 80) == ("studio.local:80", "studio.local")
    assert allowed_hosts("0.0.0.0", 9000) is None and allowed_hosts("::", 9000) is None


def test_a_live_server_refuses_a_rebound_name(note_explorable):
    import httpx

    with LiveServer(note_explorable, hosts=True) as server:
        assert httpx.get(f"{server.url}/api/info", timeout=10).status_code == 200
        res = httpx.get(f"{server.url}/api/info", headers={"Host": f"attacker.example:{server.port}"}, timeout=10)
        assert res.status_code == 403
