"""A run with a DDSP audio decoder (``training.audio_decoder_epochs``) in the explorer and its export.

The explorer plays ``z`` through the decoder (no phase retrieval): ``/api/decode``, the
items' reconstructions and paths give :func:`decode_audio`'s samples; ``export-model
--part decoder`` writes ``z -> audio`` that runs in a process that cannot import timbrespace.
"""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from starlette.testclient import TestClient

from tests.cli_run import run_cli
from timbrespace.errors import DatasetError
from timbrespace.explore import create_app, export_model, open_explorable
from timbrespace.explore.types import peak_safe
from timbrespace.training.audio_decoder import decode_audio

from .conftest import LiveServer
from .test_browser import PAD_CORNER, Watched

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-ddsp-run")]

TINY_DDSP = {  # the default experiment (a shift-VAE on a dB CQT), 16 items of 0.25 s at 8 kHz, ~10 s
    "dataset.sample_rate": 8000, "dataset.duration_s": 0.25, "features.n_bins": 144, "features.hop_length": 512,
    "dataset.parameters": {
        "f0_hz": {"min": 150, "max": 600, "n": 4, "spacing": "log"},
        "slope_db_per_octave": {"min": -12, "max": -3, "n": 2},
        "inharmonicity": {"values": [0.0, 0.002]},
        "decay_per_s": {"values": [2.0, 8.0]},
    },
    "training.epochs": 2, "training.refine_epochs": 0, "training.warmup_steps": 1, "training.num_threads": 1,
    "training.audio_decoder_epochs": 2,
    "evaluation.n_traversal_steps": 2, "evaluation.n_traversal_latents": 1, "evaluation.n_reconstructions": 1,
    "evaluation.n_iter": 1, "evaluation.linear_baselines": False, "evaluation.align": "none",
}


@pytest.fixture(scope="module")
def ddsp_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from timbrespace.experiments import load_experiment_config, run_experiment

    cfg = load_experiment_config("additive-4factor", overrides=TINY_DDSP)
    out = tmp_path_factory.mktemp("explore_ddsp_run") / "run"
    return run_experiment(cfg, out=out, progress=False, workers=1).run_dir


@pytest.fixture(scope="module")
def ddsp(ddsp_run):  # noqa: ANN001, ANN201
    return open_explorable(ddsp_run)


@pytest.fixture(scope="module")
def client(ddsp):  # noqa: ANN001, ANN201
    with TestClient(create_app(ddsp)) as c:
        yield c


def _pcm16(audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The int16 samples the explorer's WAV holds for ``audio``."""
    buf = io.BytesIO()
    sf.write(buf, peak_safe(audio), sample_rate, format="WAV", subtype="PCM_16")
    return sf.read(io.BytesIO(buf.getvalue()), dtype="int16")[0]


def _wav16(content: bytes) -> np.ndarray:
    return sf.read(io.BytesIO(content), dtype="int16")[0]


def test_info_says_audio_decoder_and_offers_tuning_not_n_iter(ddsp, client):
    info = client.get("/api/info").json()
    assert info["decoder"] == "audio" and ddsp.decoder == "audio"
    assert [o["name"] for o in info["options"]] == ["tuning_cents", "tuning_stiffness"]
    assert all(o["default"] == 0.0 for o in info["options"]) and info["sample_rate"] == 8000
    # a client that still sends n_iter is not refused: nothing uses it
    z = ddsp.items().latents[0]
    a, b = ddsp.decode(z, n_iter=0).audio, ddsp.decode(z, n_iter=32).audio
    np.testing.assert_array_equal(a, b)


def test_decode_plays_decode_audio(ddsp, ddsp_run, client):
    rng = np.random.default_rng(0)
    mu = ddsp.items().latents
    zs = mu.mean(0) + mu.std(0) * rng.standard_normal((3, ddsp.latent_dim)).astype(np.float32)
    expected, sr = decode_audio(ddsp_run, zs)
    for z, y in zip(zs, expected, strict=True):
        clip = ddsp.decode(z.tolist())  # what POST /api/decode plays
        assert clip.sample_rate == sr and clip.audio.shape == y.shape
        np.testing.assert_allclose(clip.audio, y, atol=1e-6, rtol=0)
        res = client.post("/api/decode", json={"z": z.tolist()})
        assert res.status_code == 200
        # the clip's samples, as 16-bit PCM (a batch of one and of three may differ by float32 rounding,
        # which can move a sample by one step of 16-bit PCM: compared above within 1e-6)
        np.testing.assert_array_equal(_wav16(res.content), _pcm16(clip.audio, sr))
        body = client.post("/api/decode?format=json", json={"z": z.tolist(), "n_iter": 4}).json()
        assert body["sample_rate"] == sr and 0.0 <= body["clipped_fraction"] <= 1.0
    tuning = np.array([[23.5, 0.001]])  # the tuning options are decode_audio's residual
    expected, _ = decode_audio(ddsp_run, zs[:1], tuning)
    clip = ddsp.decode(zs[0].tolist(), tuning_cents=23.5, tuning_stiffness=0.001)
    np.testing.assert_allclose(clip.audio, expected[0], atol=1e-6, rtol=0)
    assert np.abs(clip.audio - ddsp.decode(zs[0].tolist()).audio).max() > 1e-3
    res = client.post("/api/decode", json={"z": zs[0].tolist(), "tuning_cents": 500})
    assert res.status_code == 400 and "tuning_cents" in res.json()["error"]


def test_clipped_fraction_is_the_share_of_latents_outside_the_items_extent(ddsp):
    mu = ddsp.items().latents
    assert ddsp.decode(mu.mean(0)).clipped_fraction == 0.0
    assert ddsp.decode(np.full(ddsp.latent_dim, 50.0)).clipped_fraction == 1.0
    one_out = mu.mean(0).copy()
    one_out[0] = mu[:, 0].max() + 1.0
    assert ddsp.decode(one_out).clipped_fraction == pytest.approx(1 / ddsp.latent_dim)


def test_items_and_paths_are_decoded_by_the_audio_decoder(ddsp, ddsp_run, client):
    """An item's reconstruction is its ``mu`` with the tuning measured in its audio; paths are ``z`` alone."""
    import torch

    mu = ddsp.items().latents
    original_audio = ddsp.dataset.load_audio([2])
    tuning = ddsp.audio_decoder.measure_tuning_residual(torch.as_tensor(mu[[2]]), torch.as_tensor(original_audio))
    expected, sr = decode_audio(ddsp_run, mu[[2]], tuning)
    original, recon = ddsp.item_clips(2, n_iter=3)
    np.testing.assert_allclose(recon.audio, expected[0], atol=1e-6, rtol=0)
    assert recon.clipped_fraction == 0.0 and original.audio.shape == recon.audio.shape
    res = client.post("/api/item", json={"index": 2, "which": "reconstruction"})
    np.testing.assert_array_equal(_wav16(res.content), _pcm16(expected[0], sr))
    result = ddsp.path(0, 5, steps=3)
    for name, clip in result.clips.items():
        audio, _ = decode_audio(ddsp_run, result.z[name])
        n = audio.shape[1]
        step = n + int(0.1 * sr)  # each step, then 0.1 s of silence
        steps = np.stack([clip.audio[k * step : k * step + n] for k in range(len(audio))])
        np.testing.assert_allclose(steps, audio, atol=1e-6, rtol=0)


_OUTSIDE = textwrap.dedent("""
    import json, sys
    sys.modules["timbrespace"] = None  # any import of timbrespace fails from here on
    import numpy as np
    fmt, model, z_path, out_path = sys.argv[1:]
    z = np.load(z_path)
    if fmt == "onnx":
        import onnx, onnxruntime as ort
        meta = {p.key: p.value for p in onnx.load(model).metadata_props}
        audio = ort.InferenceSession(model, providers=["CPUExecutionProvider"]).run(None, {"z": z})[0]
        meta = {"sample_rate": json.loads(meta["sample_rate"]), "latent_range": json.loads(meta["latent_range"]),
                "latent_names": json.loads(meta["latent_names"]), "latent_dim": json.loads(meta["latent_dim"])}
    else:
        import torch
        extra = {"timbrespace.json": ""}
        module = torch.jit.load(model, _extra_files=extra)
        meta = json.loads(extra["timbrespace.json"])
        with torch.no_grad():
            audio = module(torch.from_numpy(z)).numpy()
    assert not any(name.split(".")[0] == "timbrespace" and mod is not None for name, mod in sys.modules.items())
    np.save(out_path, audio)
    print(json.dumps({k: meta[k] for k in ("sample_rate", "latent_dim", "latent_names", "latent_range")}))
""")


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_exported_audio_decoder_runs_without_timbrespace(ddsp, ddsp_run, fmt, tmp_path):
    rng = np.random.default_rng(1)
    z = rng.standard_normal((5, ddsp.latent_dim)).astype(np.float32)  # another batch size than the trace's
    model = tmp_path / f"audio_decoder.{'pt' if fmt == 'torchscript' else 'onnx'}"
    model_path, json_path = export_model(ddsp, fmt, model)
    np.save(tmp_path / "z.npy", z)
    # -I: no PYTHONPATH (no src/), no user site, the script's folder not on the path
    done = subprocess.run([sys.executable, "-I", "-c", _OUTSIDE, fmt, str(model_path), str(tmp_path / "z.npy"),
                           str(tmp_path / "audio.npy")], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    meta = json.loads(done.stdout.strip().splitlines()[-1])
    expected, sr = decode_audio(ddsp_run, z)
    np.testing.assert_allclose(np.load(tmp_path / "audio.npy"), expected, atol=1e-4, rtol=0)
    mu = ddsp.items().latents
    assert meta["sample_rate"] == sr and meta["latent_dim"] == ddsp.latent_dim
    assert meta["latent_names"] == [f"z{j}" for j in range(ddsp.latent_dim)]
    np.testing.assert_allclose(meta["latent_range"], np.stack([mu.min(0), mu.max(0)], axis=1), rtol=1e-6)
    described = json.loads(json_path.read_text())
    assert described["decoder"] == "audio" and described["outputs"] == {"audio": ["n", expected.shape[1]]}


def test_export_model_cli_writes_the_audio_decoder(ddsp_run, capsys, tmp_path):
    out = tmp_path / "z_to_audio.onnx"
    code, text = run_cli(["export-model", str(ddsp_run), "--part", "decoder", "--format", "onnx", "-o", str(out),
                          "--no-progress"], capsys)
    assert code == 0, text
    assert json.loads(out.with_name(out.name + ".json").read_text())["decoder"] == "audio"
    # the encoder stays the features' encoder
    code, text = run_cli(["export-model", str(ddsp_run), "--part", "encoder", "--format", "torchscript", "-o",
                          str(tmp_path / "enc.pt"), "--no-progress"], capsys)
    assert code == 0, text
    assert json.loads((tmp_path / "enc.pt.json").read_text())["decoder"] == "features"


def test_an_audio_decoder_that_does_not_fit_the_run_is_one_error_line(ddsp_run, capsys, tmp_path):
    run = tmp_path / "run"
    shutil.copytree(ddsp_run, run)
    card = run / "checkpoints" / "audio_decoder" / "model.json"
    meta = json.loads(card.read_text())
    meta["config"]["sample_rate"] = 16000
    card.write_text(json.dumps(meta))
    with pytest.raises(DatasetError, match="audio decoder of 4 latents at 16000 Hz, but the run has 4 latents at 8000"):
        open_explorable(run)
    out = tmp_path / "d.onnx"
    code, text = run_cli(["export-model", str(run), "-o", str(out), "--no-progress"], capsys)
    lines = [line for line in text.splitlines() if line.startswith("error:")]
    assert code == 2 and len(lines) == 1 and "16000 Hz" in lines[0] and "Traceback" not in text
    assert not out.exists()


def test_the_page_plays_the_audio_decoder_without_an_iterations_control(browser, ddsp):
    """No ``n_iter`` control (the two tuning sliders instead); a point in the pad's margin (no
    item there) lies outside the items' extent in the two latents shown, and the warning says so
    in terms of latents."""
    with LiveServer(ddsp) as server:
        w = Watched(browser)
        w.open(server.url + "/")
        assert w.page.locator("#option-n_iter").count() == 0
        assert w.page.locator("#option-tuning_cents, #option-tuning_stiffness").count() == 2
        w.click_pad(*PAD_CORNER)
        clip = w.wait_clip("window.lastClip.count >= 1")
        assert clip["clipped_fraction"] >= 2 / ddsp.latent_dim - 1e-6
        warning = w.page.locator("#clip-warning")
        assert warning.is_visible() and "latents lie outside the items' extent" in warning.inner_text()
        w.check_clean()


def test_an_encoded_recording_carries_its_tuning(ddsp, ddsp_run, client, tmp_path):
    """``/api/encode`` and ``timbrespace encode`` measure the recording's tuning beyond ``z``: the
    options to decode it with, the ``tuning`` of the .npz and .json rows."""
    from timbrespace.experiments.encode import encode_audio_files, write_encoded

    original = ddsp.dataset.load_audio([3])[0]
    wav = tmp_path / "note.wav"
    sf.write(wav, original, ddsp.sample_rate, subtype="FLOAT")
    answer = client.post("/api/encode", content=wav.read_bytes(), headers={"Content-Type": "audio/wav"}).json()
    assert set(answer["options"]) == {"tuning_cents", "tuning_stiffness"}
    assert abs(answer["options"]["tuning_cents"]) <= 300 and abs(answer["options"]["tuning_stiffness"]) <= 0.01
    res = client.post("/api/decode", json={"z": answer["z"], **answer["options"]})
    assert res.status_code == 200
    encoded = encode_audio_files(ddsp_run, [wav])
    assert encoded.tuning is not None and encoded.tuning.shape == (1, 2)
    np.testing.assert_allclose(encoded.tuning[0], [answer["options"]["tuning_cents"],
                                                   answer["options"]["tuning_stiffness"]], atol=1e-4, rtol=0)
    with np.load(write_encoded(encoded, tmp_path / "z.npz", run=ddsp_run)) as data:
        np.testing.assert_array_equal(data["tuning"], encoded.tuning)
    rows = json.loads(write_encoded(encoded, tmp_path / "z.json", run=ddsp_run).read_text())["items"]
    assert rows[0]["tuning"] == {"cents": float(encoded.tuning[0, 0]), "stiffness": float(encoded.tuning[0, 1])}


def test_a_dropped_recording_sets_the_tuning_sliders(browser, ddsp, client, tmp_path):
    """The page encodes a chosen WAV, sets the two tuning sliders to what /api/encode measured in
    it, and plays its reconstruction with them."""
    wav = tmp_path / "note.wav"
    sf.write(wav, ddsp.dataset.load_audio([3])[0], ddsp.sample_rate, subtype="FLOAT")
    expected = client.post("/api/encode", content=wav.read_bytes(), headers={"Content-Type": "audio/wav"}).json()
    assert expected["options"]["tuning_cents"] != 0.0
    with LiveServer(ddsp) as server:
        w = Watched(browser)
        w.open(server.url + "/")
        w.page.set_input_files("#mine-file", str(wav))
        w.wait_clip("window.lastClip.source === 'mine'")
        options = w.page.evaluate("window.explorer.options()")
        for name in ("tuning_cents", "tuning_stiffness"):
            assert options[name] == pytest.approx(expected["options"][name], abs=1e-9)
            assert float(w.page.locator(f"#option-{name}").input_value()) == pytest.approx(expected["options"][name],
                                                                                          abs=float(0.1 if name == "tuning_cents" else 1e-5))
        w.check_clean()
