"""The HTTP API through an HTTP client: answers, 4xx JSON errors, and two clients at once."""

from __future__ import annotations

import base64
import io
import json
import re
import threading

import httpx
import numpy as np
import pytest
import soundfile as sf
from starlette.testclient import TestClient

from timbrespace.explore import create_app
from timbrespace.explore.types import peak_safe

from .conftest import LiveServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs


@pytest.fixture(scope="module")
def client(note_explorable):  # noqa: ANN001, ANN201
    with TestClient(create_app(note_explorable)) as c:
        yield c


def _wav(content: bytes) -> tuple[np.ndarray, int, str]:
    info = sf.info(io.BytesIO(content))
    y, sr = sf.read(io.BytesIO(content), dtype="float32")
    return y, sr, info.subtype


def test_info_items_and_page(client, note_explorable):
    info = client.get("/api/info").json()
    assert info == json.loads(json.dumps(note_explorable.info()))
    assert {"kind", "latent_dim", "latents", "factors", "sample_rate", "default_plane", "pca", "options"} <= set(info)
    items = client.get("/api/items").json()
    assert len(items["ids"]) == len(items["latents"]) == 18
    assert np.asarray(items["latents"]).shape == (18, 4)
    np.testing.assert_allclose(items["latents"], note_explorable.items().latents, atol=1e-5)
    assert set(items["factors"]) == set(info["factors"])
    page = client.get("/")
    assert page.status_code == 200 and "page/explore.js" in page.text
    assert client.get("/page/explore.js").status_code == 200
    assert client.get("/page/explore.css").headers["content-type"].startswith("text/css")


def test_decode_returns_the_clip_as_wav_and_json(client, note_explorable):
    z = [0.3, -1.0, 0.5, 0.1]
    res = client.post("/api/decode", json={"z": z})
    assert res.status_code == 200 and res.headers["content-type"] == "audio/wav"
    y, sr, subtype = _wav(res.content)
    expected = note_explorable.decode(z)
    assert sr == 8000 and subtype == "PCM_16" and y.shape == expected.audio.shape
    np.testing.assert_allclose(y, peak_safe(expected.audio), atol=1.5 / 32768)
    assert float(res.headers["x-clip-rms"]) == pytest.approx(expected.rms, abs=5e-9)  # written with 8 decimals
    as_json = client.post("/api/decode?format=json", json={"z": z, "n_iter": 8}).json()
    assert as_json["duration_s"] == pytest.approx(0.5) and as_json["sample_rate"] == 8000
    assert base64.b64decode(as_json["wav_base64"]) == res.content
    other = client.post("/api/decode", json={"z": z, "n_iter": 0})
    assert other.status_code == 200 and other.content != res.content


def test_item_and_path(client, note_explorable):
    res = client.post("/api/item", json={"index": 3, "which": "original"})
    y, _, _ = _wav(res.content)
    original = note_explorable.dataset.load_audio([3])[0]
    ceiling = 10 ** (-1 / 20)  # louder clips are scaled down to -1 dBFS, never clipped
    np.testing.assert_allclose(y, original * min(1.0, ceiling / np.max(np.abs(original))), atol=1.5 / 32768)
    recon = client.post("/api/item?format=json", json={"index": 3, "which": "reconstruction"}).json()
    assert recon["duration_s"] == pytest.approx(0.5)
    path = client.post("/api/path", json={"a": 0, "b": 17, "steps": 4}).json()
    assert path["t"] == pytest.approx([0, 1 / 3, 2 / 3, 1])
    mu = note_explorable.items().latents
    for name in ("lerp", "slerp"):
        np.testing.assert_allclose(path[name]["z"][0], mu[0], atol=1e-5)
        np.testing.assert_allclose(path[name]["z"][-1], mu[17], atol=1e-5)
        assert path[name]["clip"]["step_starts_s"] == pytest.approx([0, 0.6, 1.2, 1.8])
    np.testing.assert_allclose(path["lerp"]["z"][1], (2 * mu[0] + mu[17]) / 3, atol=1e-5)


@pytest.mark.parametrize(
    ("method", "url", "body", "status", "message"),
    [
        ("post", "/api/decode", {"z": [1, 2]}, 400, r"z has shape \(2,\); expected \(4,\)"),
        ("post", "/api/decode", '{"z": [NaN, 0, 0, 0]}', 400, "NaN or infinite"),
        ("post", "/api/decode", {"z": [0, 0, 0, "x"]}, 400, "list of 4 numbers"),
        ("post", "/api/decode", {}, 400, "the body needs 'z'"),
        ("post", "/api/decode", "{not json", 400, "not valid JSON"),
        ("post", "/api/decode", "[1, 2]", 400, "must be a JSON object"),
        ("post", "/api/decode", {"z": [0, 0, 0, 0], "kit": "909"}, 400, "unknown option 'kit'.*allowed n_iter"),
        ("post", "/api/decode", {"z": [0, 0, 0, 0], "n_iter": 1000}, 400, "n_iter=1000 is out of range: allowed 0..64"),
        ("post", "/api/decode?format=mid", {"z": [0, 0, 0, 0]}, 400, "only available for drum runs"),
        ("post", "/api/decode?format=mp3", {"z": [0, 0, 0, 0]}, 400, "format='mp3' is not allowed"),
        ("post", "/api/item", {"index": 18}, 400, "item index 18 is out of range: allowed 0..17"),
        ("post", "/api/item", {"index": 1, "which": "both"}, 400, "which='both' is not allowed"),
        ("post", "/api/path", {"a": 0, "b": 1, "steps": 40}, 400, "steps=40 is out of range: allowed 2..16"),
        ("get", "/api/decode", None, 405, "Method Not Allowed"),
        ("get", "/api/nothing", None, 404, "Not Found"),
    ],
)
def test_bad_requests_get_a_json_error_and_the_server_stays_up(client, method, url, body, status, message):
    content = body if isinstance(body, str) else json.dumps(body) if body is not None else None
    res = client.request(method.upper(), url, content=content, headers={"Content-Type": "application/json"})
    assert res.status_code == status
    assert res.headers["content-type"] == "application/json"
    assert re.search(message, res.json()["error"])
    assert client.post("/api/decode", json={"z": [0, 0, 0, 0]}).status_code == 200


def test_two_clients_at_once_each_get_their_own_answer(note_explorable):
    rng = np.random.default_rng(7)
    zs = {name: rng.standard_normal((6, 4)).round(3).tolist() for name in ("a", "b")}
    expected = {name: [note_explorable.decode(z).wav() for z in zs[name]] for name in zs}
    got: dict[str, list[bytes]] = {}
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)
    with LiveServer(note_explorable) as server:
        def client(name: str) -> None:
            try:
                with httpx.Client(base_url=server.url, timeout=30) as c:
                    barrier.wait()
                    got[name] = [c.post("/api/decode", json={"z": z}).content for z in zs[name]]
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=client, args=(name,)) for name in zs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    assert not errors
    assert got == expected


def test_far_points_are_reported_not_logged(note_explorable, caplog):
    """The pad reaches points off the items on purpose: each answer says how much of its
    features was outside the stored range, and the log stays quiet."""
    from timbrespace.features import invert
    from timbrespace.training import decode_array

    far = [40.0, -40.0, 40.0, -40.0]  # far off the items: the decoded features leave the stored range
    with caplog.at_level("WARNING", logger="timbrespace.features.api"), TestClient(create_app(note_explorable)) as c:
        fractions = {float(c.post("/api/decode", json={"z": far}).headers["x-clipped-fraction"]) for _ in range(3)}
        assert len(fractions) == 1 and 0 < fractions.pop() <= 1
        assert not [r for r in caplog.records if "outside the stored range" in r.getMessage()]
        # outside the explorer, invert clips and warns as before
        invert(decode_array(note_explorable.model, np.asarray([far], np.float32)), note_explorable.sidecar,
               method="pghi", item_min=[-80.0], item_max=[0.0])
        assert len([r for r in caplog.records if "outside the stored range" in r.getMessage()]) == 1


def test_startup_decodes_once_and_decoding_leaves_torch_threads_alone(note_explorable):
    """The app's lifespan decodes the origin before the first request; a decode runs with
    one torch thread and puts the count back."""
    import torch

    calls: list[tuple[int, list[float]]] = []

    class Spy:
        def __getattr__(self, name):  # noqa: ANN001, ANN204
            return getattr(note_explorable, name)

        def decode(self, z, **options):  # noqa: ANN001, ANN201
            calls.append((torch.get_num_threads(), list(z)))
            return note_explorable.decode(z, **options)

    before = torch.get_num_threads()
    with TestClient(create_app(Spy())) as c:  # type: ignore[arg-type]
        assert calls == [(1, note_explorable.info()["origin"])]
        assert c.post("/api/decode", json={"z": [0.0, 0.0, 0.0, 0.0]}).status_code == 200
        assert len(calls) == 2 and calls[1][0] == 1
    assert torch.get_num_threads() == before
