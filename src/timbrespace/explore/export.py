"""Export a run's decoder or encoder to ONNX or TorchScript, with what is needed to hear it.

``export_model(run, "onnx", out)`` writes ``out`` and ``out.json`` beside it. The JSON
(also stored inside the model: ONNX ``metadata_props`` key ``timbrespace``, TorchScript
extra file ``timbrespace.json``) names the inputs and outputs with their shapes, the run
kind, and the feature sidecar (transform, ``n_fft``, ``hop_length``, normalisation
statistics) that turns the decoder's output back into audio with
:func:`timbrespace.features.invert`.

A run with a DDSP audio decoder (``training.audio_decoder_epochs``) exports, as its
``decoder``, ``z (n, latent_dim) -> audio (n, n_samples)`` at the run's ``sample_rate``
(:class:`AudioDecoderModule`): the JSON then says ``decoder: "audio"`` and gives
``sample_rate``, ``n_samples``, ``latent_names`` and ``latent_range`` (the items' min and
max of each latent's ``mu``); ONNX also stores those four as ``metadata_props`` of their
own (JSON values). Both formats export it: the dynamo exporter writes its FFTs (the noise
filter) as ONNX ``DFT`` and onnxruntime runs them (within 1e-6 of PyTorch on latents in
the items' spread, 5e-5 far outside it: float32 rounding of a high f0 drifts the phase).

ONNX is written by ``torch.onnx.export(..., dynamo=True)``: the ``torch.export``-based
exporter, the default since torch 2.9; it needs the ``onnxscript`` package and works
offline. The batch dimension is dynamic. TorchScript is ``torch.jit.trace`` of the same
wrapper module, checked on a batch of another size than the one traced (a trace that kept
the traced batch size is refused). Every architecture exports (``mlp``, ``conv``, ``gru``
and ``shift``: its translation is a gather, its soft-argmax a softmax); a model that does
not gets a :class:`~timbrespace.errors.ParameterError` naming the architecture, the part
and the format, never a half-written file.
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

from timbrespace.errors import DatasetError, ParameterError
from timbrespace.explore.base import Explorable
from timbrespace.utils.atomic import atomic_path, atomic_write_json

__all__ = ["check_export_targets", "export_model", "AudioDecoderModule", "DecoderModule", "EncoderModule",
           "EXPORT_FORMAT", "FORMATS", "PARTS"]

logger = logging.getLogger(__name__)

EXPORT_FORMAT = "timbrespace.export/1"
FORMATS = ("onnx", "torchscript")
PARTS = ("decoder", "encoder")
_ONNX_KEYS = ("sample_rate", "latent_dim", "latent_names", "latent_range")  # also stored alone, as JSON values


class DecoderModule(nn.Module):
    """``z (n, latent_dim) -> x (n, *input_shape)``: the mean of the likelihood of a VAE."""

    def __init__(self, vae: nn.Module) -> None:
        super().__init__()
        self.vae = vae

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.vae.decode(z)


class AudioDecoderModule(nn.Module):
    """``z (n, latent_dim) -> audio (n, n_samples)``: a run's DDSP audio decoder
    (:class:`~timbrespace.models.ddsp.AudioDecoder`), at its ``sample_rate``."""

    def __init__(self, audio_decoder: nn.Module) -> None:
        super().__init__()
        self.audio_decoder = audio_decoder

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.audio_decoder(z)


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
        Unknown ``fmt`` or ``part``, or a model that does not export to ``fmt`` (the
        message names its architecture, the part and the exporter's error); nothing is
        written then.

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
    vae_config = getattr(getattr(spec.module, "vae", None), "config", None)
    kind = "DDSP audio" if isinstance(spec.module, AudioDecoderModule) else getattr(vae_config, "architecture", "model")
    what = f"the {kind} {part} of {run.root}"
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        try:
            if fmt == "onnx":
                _export_onnx(module, spec.example_inputs, spec.input_names, spec.output_names, meta, out)
            else:
                traced = _trace(module, spec.example_inputs)
                with atomic_path(out) as tmp:
                    torch.jit.save(traced, str(tmp), _extra_files={"timbrespace.json": text})
        except Exception as exc:  # the exporters raise many types (dynamo, tracer, onnx): one message for all
            first = (str(exc).strip().splitlines() or [""])[0][:300]
            detail = first if isinstance(exc, _TraceMismatch) else f"{type(exc).__name__}: {first}"
            raise ParameterError(f"{what} does not export to {fmt}: {detail}") from exc
    json_path = atomic_write_json(out.with_name(out.name + ".json"), meta)
    logger.debug("exported the %s of %s to %s (%s)", part, run.root, out, fmt)  # the CLI says where, once
    return out, json_path


_RUN_INPUTS = ("checkpoints", "dataset", "logs")
"""Folders of a run that no export is written into: its weights, its data, its history."""


def _is_model_export(json_path: Path) -> bool:
    try:
        meta = json.loads(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(meta, dict) and meta.get("format") == EXPORT_FORMAT


def check_export_targets(run_root: str | Path, out: str | Path, *, overwrite: bool) -> None:
    """Check that exporting to ``out`` (and ``out.json``) loses nothing; call before writing.

    ``--overwrite`` replaces only an earlier model export (its ``FILE.json`` says
    :data:`EXPORT_FORMAT`), never a file of the run or of the user; nothing is written
    into the run's ``checkpoints``, ``dataset`` or ``logs``.

    Parameters
    ----------
    run_root : path-like
        The run being exported.
    out : path-like
        The model file to write.
    overwrite : bool
        The user passed ``--overwrite``.

    Raises
    ------
    DatasetError
        ``out`` lies in one of the run's own folders, or is or holds the run; a target
        exists and ``overwrite`` is false, or it is not an earlier export.
    """
    out, root = Path(out), Path(run_root).resolve()
    target = out.resolve()
    if target == root or root in target.parents and target.relative_to(root).parts[0] in _RUN_INPUTS:
        raise DatasetError(f"--out {out} is inside the run's own files ({root}); writing there would "
                           "replace or mix with its checkpoints or data: choose another --out")
    if root.is_relative_to(target):
        raise DatasetError(f"--out {out} holds the run {root}; choose another --out")
    json_path = out.with_name(out.name + ".json")
    for path in (out, json_path):
        if not (path.exists() or path.is_symlink()):
            continue
        if not overwrite:
            raise DatasetError(f"{path} exists; pass --overwrite to replace it")
        if path.is_dir() or not _is_model_export(json_path):
            raise DatasetError(f"--out {path} exists and is not an earlier model export (no {json_path.name} "
                               f"of format {EXPORT_FORMAT}); nothing is replaced: choose another --out")


class _TraceMismatch(Exception):
    """A trace that does not reproduce its module on another batch size."""


def _trace(module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> torch.jit.ScriptModule:
    """``torch.jit.trace`` of ``module``, checked on a batch of another size.

    Raises
    ------
    _TraceMismatch
        The trace does not reproduce the module on a batch one row larger (within 1e-4):
        it kept the traced batch size or a data-dependent branch.
    """
    with warnings.catch_warnings():
        # shape checks on the non-batch axes become constants in the trace, which is what they are
        warnings.simplefilter("ignore", torch.jit.TracerWarning)
        traced = torch.jit.trace(module, inputs, check_trace=False)
    # one more row: the first example row repeated (a condition row stays a valid condition)
    larger = tuple(torch.cat([t, t[:1]]) for t in inputs)
    got, expected = traced(*larger), module(*larger)
    for g, e in zip(*(t if isinstance(t, tuple) else (t,) for t in (got, expected)), strict=True):
        if g.shape != e.shape or not torch.allclose(g, e, atol=1e-4, rtol=1e-4):
            raise _TraceMismatch(f"the trace does not reproduce the model on a batch of {len(larger[0])} "
                                 f"(shape {tuple(g.shape)} against {tuple(e.shape)}); try onnx")
    return traced


def _export_onnx(module: nn.Module, inputs: tuple[Any, ...], input_names: tuple[str, ...],
                 output_names: tuple[str, ...], metadata: dict[str, Any], out: Path) -> None:
    import onnx

    batch = torch.export.Dim("n", min=1, max=65536)
    shapes = tuple({0: batch} for _ in inputs)
    # the exporter logs each torchvision operator it cannot register and warns about its own
    # internals; its IR passes log their work at INFO ("Removed 16 unused nodes")
    quiet = [logging.getLogger(name) for name in ("torch.onnx", "onnx_ir", "onnxscript")]
    levels = [log.level for log in quiet]
    for log in quiet:
        log.setLevel(logging.ERROR)
    try:
        with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            path = Path(tmp) / "model.onnx"
            # optimize=False: onnxscript's optimiser removed the addition of a tiny constant (7e-9),
            # the harmonic decoder's soft floor: its quiet bins came out tens of dB below the floor
            torch.onnx.export(module, inputs, str(path), dynamo=True, input_names=list(input_names),
                              output_names=list(output_names), dynamic_shapes=shapes, external_data=False,
                              optimize=False, verbose=False)
            proto = onnx.load(str(path))
    finally:
        for log, level in zip(quiet, levels, strict=True):
            log.setLevel(level)
    for key, value in {"timbrespace": metadata, **{k: metadata[k] for k in _ONNX_KEYS if k in metadata}}.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = key, value if isinstance(value, str) else json.dumps(value)
    with atomic_path(out) as tmp_out:
        onnx.save(proto, str(tmp_out))
