"""Exported decoders and encoders run outside timbrespace and match PyTorch within 1e-4."""

from __future__ import annotations

import json

import numpy as np
import onnx
import onnxruntime as ort
import pytest
import torch

from timbrespace.errors import ParameterError
from timbrespace.explore import export_model, open_explorable
from timbrespace.features import invert

pytestmark = pytest.mark.slow


def _onnx_outputs(path, inputs: dict[str, np.ndarray]) -> list[np.ndarray]:  # noqa: ANN001
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(None, inputs)


def test_run_decoder_to_onnx(note_explorable, tmp_path):
    run = note_explorable
    z = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32)
    model_path, json_path = export_model(run, "onnx", tmp_path / "decoder.onnx")
    with torch.no_grad():
        expected = run.model.decode(torch.from_numpy(z)).numpy()
    (got,) = _onnx_outputs(model_path, {"z": z})
    np.testing.assert_allclose(got, expected, atol=1e-4)
    meta = json.loads(json_path.read_text())
    stored = {p.key: p.value for p in onnx.load(str(model_path)).metadata_props}
    assert json.loads(stored["timbrespace"]) == meta
    assert meta["part"] == "decoder" and meta["inputs"] == {"z": ["n", 4]} and meta["run_kind"] == "run"
    # the recorded feature config is enough to hear the output, without the run folder
    audio = invert(got[:1], meta["features"], method="pghi+gl", n_iter=4,
                   item_min=meta["features"]["normalization"]["item_min"][0],
                   item_max=meta["features"]["normalization"]["item_max"][0])
    assert audio.shape == (1, 4000) and np.all(np.isfinite(audio))



def test_every_kind_to_torchscript(note_explorable, timbre_run, drum_run, tmp_path):
    rng = np.random.default_rng(1)
    for run in (note_explorable, open_explorable(timbre_run), open_explorable(drum_run)):
        spec = run.export_part("decoder")
        # z at random; conditions (timbre labels) are the example's, one row repeated
        inputs = tuple(torch.from_numpy(rng.standard_normal((3, *t.shape[1:])).astype(np.float32)) if name == "z"
                       else t[[0, 1, 1]] for name, t in zip(spec.input_names, spec.example_inputs, strict=True))
        path, _ = export_model(run, "torchscript", tmp_path / f"{run.kind}.pt")
        extra = {"timbrespace.json": ""}
        loaded = torch.jit.load(str(path), _extra_files=extra)
        assert json.loads(extra["timbrespace.json"])["run_kind"] == run.kind
        with torch.no_grad():
            got, expected = loaded(*inputs), spec.module(*inputs)
        for g, e in zip(*(t if isinstance(t, tuple) else (t,) for t in (got, expected)), strict=True):
            np.testing.assert_allclose(g.numpy(), e.numpy(), atol=1e-4)


def test_run_encoder_to_torchscript(note_explorable, tmp_path):
    run = note_explorable
    x = run.dataset.load_features("run_features", np.arange(5))
    path, json_path = export_model(run, "torchscript", tmp_path / "encoder.pt", part="encoder")
    with torch.no_grad():
        mu, logvar = torch.jit.load(str(path))(torch.from_numpy(x))
        mu_t, logvar_t = run.model.encode(torch.from_numpy(x))
    np.testing.assert_allclose(mu.numpy(), mu_t.numpy(), atol=1e-4)
    np.testing.assert_allclose(logvar.numpy(), logvar_t.numpy(), atol=1e-4)
    meta = json.loads(json_path.read_text())
    assert meta["part"] == "encoder" and meta["outputs"] == {"mu": ["n", 4], "logvar": ["n", 4]}


def test_bad_format_or_part(note_explorable, tmp_path):
    with pytest.raises(ParameterError, match="format='tflite' is not allowed: one of onnx, torchscript"):
        export_model(note_explorable, "tflite", tmp_path / "m")
    with pytest.raises(ParameterError, match="part='both' is not allowed: one of decoder, encoder"):
        export_model(note_explorable, "onnx", tmp_path / "m", part="both")
    assert not list(tmp_path.iterdir())
