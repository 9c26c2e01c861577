"""Export a run's decoder or encoder to ONNX or TorchScript, with what is needed to hear it.

``export_model(run, "onnx", out)`` writes ``out`` and ``out.json`` beside it. The JSON
(also stored inside the model: ONNX ``metadata_props`` key ``timbrespace``, TorchScript
extra file ``timbrespace.json``) names the inputs and outputs with their shapes, the run
kind, and the feature sidecar (transform, ``n_fft``, ``hop_length``, normalisation
statistics) that turns the decoder's output back into audio with
:func:`timbrespace.features.invert`.

ONNX is written by ``torch.onnx.export(..., dynamo=True)``: the ``torch.export``-based
exporter, the default since torch 2.9; it needs the ``onnxscript`` package and works
offline. The batch dimension is dynamic. TorchScript is ``torch.jit.trace`` of the same
wrapper module.
"""

from __future__ import annotations

import json
import logging
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from timbrespace.errors import ParameterError
from timbrespace.explore.base import Explorable
from timbrespace.utils.atomic import atomic_path, atomic_write_json

__all__ = ["export_model", "DecoderModule", "EncoderModule", "EXPORT_FORMAT", "FORMATS", "PARTS"]

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "timbrespace.export/1"
FORMATS = ("onnx", "torchscript")
PARTS = ("decoder", "encoder")


class DecoderModule(nn.Module):
    """``z (n, latent_dim) -> x (n, *input_shape)``: the mean of the likelihood of a VAE."""

    def __init__(self, vae: nn.Module) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.vae.decode(z)


class EncoderModule(nn.Module):
    """``x (n, *input_shape) -> (mu, logvar)``, each ``(n, latent_dim)``."""

    def __init__(self, vae: nn.Module) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.vae.encode(x)
        return mu, logvar


def export_model(run: Explorable, fmt: str, out: str | Path, *, part: str = "decoder") -> tuple[Path, Path]:
    """Export ``run``'s decoder (or encoder) to ``out``, and its description to ``out.json``.

    Parameters
    ----------
    run : Explorable
        An opened run (:func:`~timbrespace.explore.open_explorable`).
    fmt : {"onnx", "torchscript"}
    out : path-like
        Model file to write (replaced atomically).
    part : {"decoder", "encoder"}

    Returns
    -------
    model_path, json_path : Path

    Raises
    ------
    ParameterError
        Unknown ``fmt`` or ``part``.

    Examples
    --------
    >>> export_model(open_explorable("runs/x"), "onnx", "decoder.onnx")  # doctest: +SKIP
    """
    if fmt not in FORMATS:
        raise ParameterError(f"format={fmt!r} is not allowed: one of {', '.join(FORMATS)}")
    if part not in PARTS:
        raise ParameterError(f"part={part!r} is not allowed: one of {', '.join(PARTS)}")
    out = Path(out)
    spec = run.export_part(part)
    module = spec.module.eval()
    meta = {**spec.metadata, "model_format": fmt, "input_names": list(spec.input_names),
            "output_names": list(spec.output_names)}
    text = json.dumps(meta)
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        if fmt == "onnx":
            _export_onnx(module, spec.example_inputs, spec.input_names, spec.output_names, text, out)
        else:
            traced = torch.jit.trace(module, spec.example_inputs, check_trace=False)
            with atomic_path(out) as tmp:
                torch.jit.save(traced, str(tmp), _extra_files={"timbrespace.json": text})
    json_path = atomic_write_json(out.with_name(out.name + ".json"), meta)
    logger.info("exported the %s of %s to %s (%s)", part, run.root, out, fmt)
    return out, json_path


def _export_onnx(module: nn.Module, inputs: tuple[Any, ...], input_names: tuple[str, ...],
                 output_names: tuple[str, ...], metadata: str, out: Path) -> None:
    import onnx

    batch = torch.export.Dim("n", min=1, max=65536)
    shapes = tuple({0: batch} for _ in inputs)
    onnx_log = logging.getLogger("torch.onnx")
    level = onnx_log.level
    # the exporter logs each torchvision operator it cannot register and warns about its own internals
    onnx_log.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            path = Path(tmp) / "model.onnx"
            torch.onnx.export(module, inputs, str(path), dynamo=True, input_names=list(input_names),
                              output_names=list(output_names), dynamic_shapes=shapes, external_data=False,
                              optimize=True, verbose=False)
            proto = onnx.load(str(path))
    finally:
        onnx_log.setLevel(level)
    entry = proto.metadata_props.add()
    entry.key, entry.value = "timbrespace", metadata
    with atomic_path(out) as tmp_out:
        onnx.save(proto, str(tmp_out))
