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

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs


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


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_the_default_experiments_shift_vae_exports(shift_run, fmt, tmp_path):
    """Both parts of the shift-VAE (soft-argmax head, translation by gather) export with a dynamic batch."""
    run = open_explorable(shift_run)
    x = run.dataset.load_features("run_features", np.arange(5))
    z = np.random.default_rng(3).standard_normal((3, 4)).astype(np.float32)
    suffix = "onnx" if fmt == "onnx" else "pt"
    dec, dec_json = export_model(run, fmt, tmp_path / f"decoder.{suffix}")
    enc, _ = export_model(run, fmt, tmp_path / f"encoder.{suffix}", part="encoder")
    with torch.no_grad():
        expected_x = run.model.decode(torch.from_numpy(z)).numpy()
        mu_t, logvar_t = (t.numpy() for t in run.model.encode(torch.from_numpy(x)))
    if fmt == "onnx":
        (got_x,) = _onnx_outputs(dec, {"z": z})
        mu, logvar = _onnx_outputs(enc, {"x": x})
    else:
        with torch.no_grad():
            got_x = torch.jit.load(str(dec))(torch.from_numpy(z)).numpy()
            mu, logvar = (t.numpy() for t in torch.jit.load(str(enc))(torch.from_numpy(x)))
    # the warp decoder reads its template at rows from exp2/log2/sqrt in float32: onnxruntime's
    # kernels differ from torch's by an ulp (1e-5 rows at row 200), and the template's log
    # magnitude changes by up to ~40 per row at a partial's flank, so 1e-3 is float32's
    # resolution here (torchscript runs torch's kernels: 1e-4 holds, as for the encoder)
    np.testing.assert_allclose(got_x, expected_x, atol=1e-3 if fmt == "onnx" else 1e-4)
    np.testing.assert_allclose(mu, mu_t, atol=1e-4)
    np.testing.assert_allclose(logvar, logvar_t, atol=1e-4)
    meta = json.loads(dec_json.read_text())
    assert meta["phase_retrieval"] == {"method": "pghi+gl", "n_iter": 8} and meta["features"]["config"]["kind"] == "cqt"
    audio = invert(got_x[:1], meta["features"], method=meta["phase_retrieval"]["method"], n_iter=1)
    assert audio.shape == (1, 4000) and np.all(np.isfinite(audio))


class _BatchBound(torch.nn.Module):
    """A decoder whose trace keeps the traced batch size (a Python int from the shape)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z.reshape(int(z.shape[0]), -1) * torch.ones(int(z.shape[0]), 1)


class _Unexportable(torch.nn.Module):
    """A decoder with a data-dependent branch, which neither exporter can follow."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z if float(z.sum()) > 0 else -z


@pytest.mark.parametrize(("module", "fmt", "message"), [
    (_BatchBound(), "torchscript", "does not export to torchscript: the trace does not reproduce the model on a batch of 3"),
    (_Unexportable(), "onnx", "does not export to onnx: "),
])
def test_a_model_that_does_not_export_is_refused_by_name(note_explorable, module, fmt, message, tmp_path,
                                                        monkeypatch):
    from timbrespace.explore.types import ExportPart

    spec = ExportPart(module, (torch.zeros(2, 4),), ("z",), ("x",), {})
    monkeypatch.setattr(type(note_explorable), "export_part", lambda self, part: spec)
    with pytest.raises(ParameterError, match=message):
        export_model(note_explorable, fmt, tmp_path / "out" / "model")
    assert not list((tmp_path / "out").iterdir())


def test_a_harmonic_decoder_keeps_its_soft_floor_in_onnx(tmp_path):
    """The ONNX optimiser once dropped ``power + 10^(floor / 10)`` (a constant below 1e-8): silent bins came out -inf."""
    from timbrespace.explore.export import _export_onnx
    from timbrespace.models import VAEConfig, build_model

    spec = {"input_offset": -120.0, "input_scale": 100.0, "decoder": "harmonic", "input_bin_hz": 22050 / 1024,
            "n_harmonics": 8, "noise_bands": 2, "inharmonicity": True, "f0_curve_cents": 50.0,
            "harmonic_f0_offset_bins": 0.0, "log_fmin_hz": 110.0, "log_bins_per_octave": 36, "log_n_bins": 234}
    cfg = VAEConfig(input_shape=(513, 6), latent_dim=4, architecture="shift", hidden_sizes=(16,), shift=spec)
    decoder = build_model(cfg, seed=0).eval().decoder
    with torch.no_grad():
        decoder.body[-1].bias[16 * 6: 18 * 6] = -1.0  # noise far under the floor: most bins sit on it
    z = np.random.default_rng(0).standard_normal((3, 4)).astype(np.float32)
    _export_onnx(decoder, (torch.from_numpy(z),), ("z",), ("x",), "{}", tmp_path / "decoder.onnx")
    with torch.no_grad():
        expected = decoder(torch.from_numpy(z)).numpy()
    (got,) = _onnx_outputs(tmp_path / "decoder.onnx", {"z": z})
    assert expected.min() == pytest.approx(-120.0, abs=0.1)
    np.testing.assert_allclose(got, expected, atol=1e-2)
