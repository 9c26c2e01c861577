"""``POST /api/encode``: a recording's latents through the HTTP API.

Oracles: a run's own items, sent as their WAV files, encode to the latents the run
stored (``latents.npz``), as ``timbrespace encode`` does (tests/experiments/test_encode.py);
the bounded reader's limits hold for recordings as for JSON (tests/explore/test_server_limits.py).
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from starlette.testclient import TestClient

from timbrespace.explore import create_app, open_explorable
from timbrespace.explore.server import MAX_AUDIO_BYTES, MAX_BODY_BYTES

from .conftest import CountingBody

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs

WAV = {"Content-Type": "audio/wav"}
CHUNK = 64 * 1024
HUGE = 400 * 1024 * 1024


def wav_bytes(y: np.ndarray, sample_rate: int, subtype: str = "FLOAT") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, y, sample_rate, format="WAV", subtype=subtype)
    return buf.getvalue()


def stored(run_dir: Path) -> tuple[np.ndarray, list[str]]:
    with np.load(run_dir / "latents.npz") as data:
        return data["mu"], [str(i) for i in data["item_id"]]


def item_wav(dataset_dir: Path, item_id: str) -> bytes:
    return next((dataset_dir / "audio").glob(f"{item_id}.*")).read_bytes()


@pytest.fixture(scope="module")
def client(note_explorable):  # noqa: ANN001, ANN201
    with TestClient(create_app(note_explorable)) as c:
        yield c


@pytest.fixture(scope="module")
def drum_client(drum_run):  # noqa: ANN001, ANN201
    with TestClient(create_app(open_explorable(drum_run))) as c:
        yield c


def test_info_says_which_runs_encode(client, drum_client):
    info = client.get("/api/info").json()
    assert info["can_encode"] is True and info["max_encode_bytes"] == MAX_AUDIO_BYTES == 16 * 2**20
    assert drum_client.get("/api/info").json()["can_encode"] is False


def test_items_encode_to_their_stored_latents(client, note_run):
    mu, ids = stored(note_run)
    for i in (0, 7, len(ids) - 1):
        res = client.post("/api/encode", content=item_wav(note_run / "dataset", ids[i]), headers=WAV)
        assert res.status_code == 200, res.text
        answer = res.json()
        assert set(answer) == {"z", "clipped_fraction", "notes", "options"} and answer["options"] == {}  # no DDSP decoder
        np.testing.assert_allclose(answer["z"], mu[i], atol=1e-4)
        assert answer["notes"] == []  # the run's own rate and length: nothing to change
        assert answer["clipped_fraction"] == 0.0  # per-item min-max features span [0, 1]
    # its reconstruction plays: decode of z is the item's reconstruction decoded from z
    res = client.post("/api/decode", json={"z": answer["z"]})
    assert res.status_code == 200 and res.headers["content-type"] == "audio/wav"
    assert sf.info(io.BytesIO(res.content)).frames == 4000


def test_a_train_run_encodes_too(train_run):
    mu, ids = stored(train_run)
    explorable = open_explorable(train_run)
    dataset = explorable.dataset.root  # note_run's, recorded in config.yaml
    with TestClient(create_app(explorable)) as c:
        assert c.get("/api/info").json()["can_encode"] is True
        answer = c.post("/api/encode", content=item_wav(dataset, ids[2]), headers=WAV).json()
    np.testing.assert_allclose(answer["z"], mu[2], atol=1e-4)


def test_other_rates_lengths_and_channels_are_brought_to_the_run(client, note_run):
    import librosa

    mu, ids = stored(note_run)
    y, sr = sf.read(next((note_run / "dataset" / "audio").glob(f"{ids[4]}.*")), dtype="float32")
    assert sr == 8000 and len(y) == 4000
    longer = np.stack([np.concatenate([y, np.full(1000, 0.01, np.float32)])] * 2, axis=1)  # stereo, 0.625 s
    answer = client.post("/api/encode", content=wav_bytes(longer, 8000), headers={"Content-Type": "audio/x-wav"}).json()
    np.testing.assert_allclose(answer["z"], mu[4], atol=1e-4)
    assert answer["notes"] == ["recording: 0.625 s trimmed to the run's item duration of 0.500 s"]
    up = librosa.resample(y, orig_sr=sr, target_sr=16000, res_type="soxr_hq")
    answer = client.post("/api/encode", content=wav_bytes(up, 16000, "PCM_24"), headers=WAV).json()
    assert answer["notes"] == ["recording: resampled from 16000 Hz to the run's 8000 Hz"]
    np.testing.assert_allclose(answer["z"], mu[4], atol=0.05)  # up and down again: near the identity


def test_a_recording_over_the_json_limit_is_read(client):
    """A body over 1 MiB (the JSON limit) but under 16 MiB: 70 s of 16-bit audio at 8 kHz."""
    t = np.arange(70 * 8000) / 8000
    data = wav_bytes((0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32), 8000, "PCM_16")
    assert MAX_BODY_BYTES < len(data) < MAX_AUDIO_BYTES
    res = client.post("/api/encode", content=data, headers=WAV)
    assert res.status_code == 200, res.text
    assert res.json()["notes"] == ["recording: 70.000 s trimmed to the run's item duration of 0.500 s"]


def riff(payload: bytes) -> bytes:
    return b"RIFF" + (len(payload) + 4).to_bytes(4, "little") + b"WAVE" + payload


BAD = [
    pytest.param({"Content-Type": "application/json"}, b'{"z": [0, 0, 0, 0]}', 415,
                 "Content-Type 'application/json' is not a WAV file: send one with Content-Type: audio/wav",
                 id="json"),
    pytest.param({}, wav_bytes(np.ones(100, np.float32) * 0.1, 8000), 415, "Content-Type '(none)' is not a WAV",
                 id="no-content-type"),
    pytest.param(WAV, b"", 415, "the body (0 bytes) is not a WAV file: it lacks the RIFF/WAVE header", id="empty"),
    pytest.param(WAV, b"hello, this is text and not a sound", 415, "lacks the RIFF/WAVE header", id="text"),
    pytest.param(WAV, b"fLaC" + bytes(200), 415, "lacks the RIFF/WAVE header", id="flac"),
    pytest.param(WAV, riff(b"fmt " + bytes(40)), 400, "recording: not audio that can be read", id="broken-riff"),
    pytest.param(WAV, wav_bytes(np.zeros(4000, np.float32), 8000), 400,
                 "recording: silent (peak 0, at most 1e-06); nothing to encode", id="silent"),
    pytest.param(WAV, wav_bytes(np.array([0.1, np.nan] * 50, np.float32), 8000), 400,
                 "recording: no samples, or NaN/inf samples", id="nan"),
]


@pytest.mark.parametrize(("headers", "body", "status", "needle"), BAD)
def test_bad_bodies_get_one_message(client, headers, body, status, needle):
    res = client.post("/api/encode", content=body, headers=headers)
    assert res.status_code == status, res.text
    answer = res.json()
    assert list(answer) == ["error"] and needle in answer["error"]
    assert "\n" not in answer["error"] and "Traceback" not in answer["error"]
    assert client.post("/api/encode", content=wav_bytes(np.full(4000, 0.2, np.float32), 8000),
                       headers=WAV).status_code == 200  # still up


def test_a_run_that_cannot_encode_says_why(drum_client, drum_run):
    res = drum_client.post("/api/encode", content=wav_bytes(np.full(4000, 0.2, np.float32), 8000), headers=WAV)
    assert res.status_code == 400
    assert res.json() == {"error": "a 'drums' run cannot encode a recording (it encodes drum grooves, not audio); "
                                   "'run' and unconditional 'train' runs can"}
    body = CountingBody(HUGE, fill=b"\0", head=riff(b""))  # refused before its body is read
    status, answer = call(create_app(open_explorable(drum_run)), {"Content-Length": str(HUGE), **WAV}, body.receive)
    assert status == 400 and "cannot encode" in answer["error"] and body.consumed == 0


def call(app, headers: dict[str, str], receive) -> tuple[int, dict]:  # noqa: ANN001
    """One POST /api/encode straight through ``app`` (no client, no server)."""
    sent: list[dict] = []

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": "/api/encode", "raw_path": b"/api/encode", "query_string": b"", "root_path": "",
             "headers": [(k.lower().encode(), v.encode()) for k, v in {"Host": "127.0.0.1:8765", **headers}.items()],
             "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 8765)}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, json.loads(body)


def test_a_content_length_over_the_audio_limit_is_refused_before_the_body_is_read(note_explorable):
    body = CountingBody(HUGE, fill=b"\0", head=riff(b""))
    status, answer = call(create_app(note_explorable), {"Content-Length": str(HUGE), **WAV}, body.receive)
    assert status == 413
    assert answer == {"error": f"request body of {HUGE} bytes is too large (at most {MAX_AUDIO_BYTES})"}
    assert body.consumed == 0
    # so is a body of another type, before its length is even looked at
    body = CountingBody(HUGE, fill=b"\0", head=riff(b""))
    status, answer = call(create_app(note_explorable), {"Content-Length": str(HUGE),
                                                        "Content-Type": "text/plain"}, body.receive)
    assert status == 415 and body.consumed == 0


def test_a_chunked_recording_is_read_only_up_to_the_audio_limit(note_explorable):
    body = CountingBody(HUGE, fill=b"\0", head=riff(b""))  # no Content-Length: Transfer-Encoding chunked
    status, answer = call(create_app(note_explorable), {"Transfer-Encoding": "chunked", **WAV}, body.receive)
    assert status == 413
    assert answer == {"error": f"request body of more than {MAX_AUDIO_BYTES} bytes is too large "
                               f"(at most {MAX_AUDIO_BYTES})"}
    assert body.consumed <= MAX_AUDIO_BYTES + CHUNK


def test_the_json_routes_keep_their_own_limit(client):
    res = client.post("/api/decode", content=b" " * (MAX_BODY_BYTES + 1), headers={"Content-Type": "application/json"})
    assert res.status_code == 413 and f"(at most {MAX_BODY_BYTES})" in res.json()["error"]
