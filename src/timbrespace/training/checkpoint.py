"""Checkpoints as safetensors + JSON: loading never unpickles or runs code.

A model checkpoint is a folder with ``model.safetensors`` (the state dict) and
``model.json`` (format tag + :class:`~timbrespace.models.VAEConfig`). A training
checkpoint adds ``training_state.safetensors`` (optimiser moments, RNG states) and
``training_state.json`` (epoch, history, schedule state, optimiser hyper-parameters).
Folders are written beside the target and swapped in, so a killed run leaves the
previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from timbrespace.errors import ConfigError
from timbrespace.models import VAE, VAEConfig, build_model
from timbrespace.utils.atomic import atomic_path, atomic_write_json

__all__ = [
    "save_checkpoint",
    "load_checkpoint",
    "load_model_config",
    "save_tensors",
    "load_tensors",
    "read_checkpoint_json",
    "optimizer_state_to_flat",
    "optimizer_state_from_flat",
    "write_checkpoint_folder",
    "MODEL_WEIGHTS",
    "MODEL_CONFIG",
]

MODEL_WEIGHTS = "model.safetensors"
MODEL_CONFIG = "model.json"
FORMAT = "timbrespace.vae"
FORMAT_VERSION = 1


def save_tensors(tensors: dict[str, torch.Tensor], path: str | Path) -> Path:
    """Write ``tensors`` (on the CPU, contiguous) to a safetensors file atomically.

    Tensors are copied only where needed: off the CPU, not contiguous, or sharing memory
    with another entry (safetensors refuses shared storage).
    """
    flat: dict[str, torch.Tensor] = {}
    storages: set[int] = set()
    for name, value in tensors.items():
        tensor = value.detach().to("cpu").contiguous()
        storage = tensor.untyped_storage().data_ptr()
        flat[name] = tensor.clone() if storage in storages else tensor
        storages.add(storage)
    with atomic_path(path) as tmp:
        save_file(flat, str(tmp))
    return Path(path)


def load_tensors(path: str | Path, *, device: str = "cpu") -> dict[str, torch.Tensor]:
    """Read a safetensors file (no pickle).

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ConfigError
        If it is truncated or not a safetensors file (bad header, data shorter than the
        header says); the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "no such checkpoint file", str(path))
    try:
        return load_file(str(path), device=device)
    except Exception as exc:  # safetensors raises SafetensorError, OSError or ValueError
        raise ConfigError(f"{path}: unreadable checkpoint, truncated or edited "
                          f"({type(exc).__name__}: {str(exc)[:160]})") from None


def read_checkpoint_json(path: str | Path) -> dict[str, Any]:
    """Read one JSON object of a checkpoint (``model.json``, ``training_state.json``).

    Raises
    ------
    FileNotFoundError
        If the file is missing.
    ConfigError
        If it is not valid JSON or not an object; the message names the file.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(2, "no such checkpoint file", str(path))
    try:
        meta = json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: not valid JSON, truncated or edited ({exc})") from None
    if not isinstance(meta, dict):
        raise ConfigError(f"{path}: expected a JSON object, found {type(meta).__name__}")
    return meta


def save_checkpoint(model: VAE, path_dir: str | Path) -> Path:
    """Save ``model`` to folder ``path_dir`` (``model.safetensors`` + ``model.json``).

    Parameters
    ----------
    model : VAE
        Built by :func:`~timbrespace.models.build_model`.
    path_dir : path-like
        Folder (created if needed); existing model files are replaced atomically.

    Returns
    -------
    pathlib.Path
        ``path_dir``.

    Examples
    --------
    >>> import tempfile
    >>> from timbrespace.models import VAEConfig, build_model
    >>> from timbrespace.training import save_checkpoint
    >>> model = build_model(VAEConfig(input_shape=(16,), latent_dim=2, hidden_sizes=(8,)), seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = save_checkpoint(model, tmp + "/model")
    ...     print(sorted(p.name for p in folder.iterdir()))
    ['model.json', 'model.safetensors']
    """
    path_dir = Path(path_dir)
    path_dir.mkdir(parents=True, exist_ok=True)
    save_tensors(dict(model.state_dict()), path_dir / MODEL_WEIGHTS)
    atomic_write_json(
        path_dir / MODEL_CONFIG,
        {"format": FORMAT, "version": FORMAT_VERSION, "config": model.config.to_dict()},
    )
    return path_dir


def load_model_config(path_dir: str | Path) -> VAEConfig:
    """The :class:`VAEConfig` stored in checkpoint folder ``path_dir``.

    Raises
    ------
    ConfigError
        If ``model.json`` is not a timbrespace model description.

    Examples
    --------
    >>> import tempfile
    >>> from timbrespace.models import VAEConfig, build_model
    >>> from timbrespace.training import load_model_config, save_checkpoint
    >>> config = VAEConfig(input_shape=(16,), latent_dim=2, hidden_sizes=(8,))
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     folder = save_checkpoint(build_model(config, seed=0), tmp + "/model")
    ...     print(load_model_config(folder) == config)  # reads model.json only, no weights
    True
    """
    path = Path(path_dir) / MODEL_CONFIG
    if not path.is_file():
        raise FileNotFoundError(2, "no model checkpoint (model.json) here", str(path))
    meta = read_checkpoint_json(path)
    if meta.get("format") != FORMAT:
        raise ConfigError(f"{path}: format is {meta.get('format')!r}, expected {FORMAT!r}")
    version = meta.get("version", 0)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise ConfigError(f"{path}: version {version!r} is not one this library reads (<= {FORMAT_VERSION})")
    if not isinstance(meta.get("config"), dict):
        raise ConfigError(f"{path}: no model config (key 'config')")
    try:
        return VAEConfig.from_dict(meta["config"])
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(f"{path}: not a valid model config ({type(exc).__name__}: {str(exc)[:160]})") from None


def load_checkpoint(path_dir: str | Path, *, device: str = "cpu") -> VAE:
    """Rebuild the model saved by :func:`save_checkpoint`, in eval mode.

    Parameters
    ----------
    path_dir : path-like
        Checkpoint folder (e.g. ``RUN/checkpoints/last``).
    device : str
        Where to put the tensors.

    Raises
    ------
    ConfigError
        If the config is unreadable, the weights file is truncated or edited, the
        weights do not match the config (missing or extra tensors, other shapes) or hold
        NaN or infinite values; the message names the file.
    FileNotFoundError
        If the files are missing.

    Examples
    --------
    >>> import tempfile
    >>> import torch
    >>> from timbrespace.models import VAEConfig, build_model
    >>> from timbrespace.training import load_checkpoint, save_checkpoint
    >>> model = build_model(VAEConfig(input_shape=(16,), latent_dim=2, hidden_sizes=(8,)), seed=0)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     loaded = load_checkpoint(save_checkpoint(model, tmp + "/model"))
    >>> loaded.training, loaded.config == model.config
    (False, True)
    >>> all(torch.equal(a, b) for a, b in zip(model.state_dict().values(),
    ...                                        loaded.state_dict().values()))
    True
    """
    config = load_model_config(path_dir)
    model = build_model(config)
    state = load_tensors(Path(path_dir) / MODEL_WEIGHTS, device=device)
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as exc:  # missing or unexpected tensors, or shape mismatches
        detail = " ".join(str(exc).split())
        raise ConfigError(f"{Path(path_dir) / MODEL_WEIGHTS}: weights do not match model.json ({detail[:240]})") from None
    bad = [name for name, t in state.items() if t.is_floating_point() and not bool(torch.isfinite(t).all())]
    if bad:
        raise ConfigError(f"{Path(path_dir) / MODEL_WEIGHTS}: {len(bad)} tensor(s) hold NaN or infinite values "
                          f"({', '.join(bad[:3])}); the checkpoint is corrupt: train again")
    return model.to(device).eval()


def optimizer_state_to_flat(
    state: dict[str, Any], prefix: str
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split an optimiser ``state_dict`` into tensors (for safetensors) and JSON values."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for pid, param_state in state["state"].items():
        for key, value in param_state.items():
            if torch.is_tensor(value):
                tensors[f"{prefix}.{pid}.{key}"] = value
            else:
                scalars.setdefault(str(pid), {})[key] = value
    return tensors, {"param_groups": state["param_groups"], "scalars": scalars}


def optimizer_state_from_flat(
    tensors: dict[str, torch.Tensor], meta: dict[str, Any], prefix: str
) -> dict[str, Any]:
    """Inverse of :func:`optimizer_state_to_flat`."""
    state: dict[int, dict[str, Any]] = {}
    head = f"{prefix}."
    for name, value in tensors.items():
        if name.startswith(head):
            pid, key = name[len(head) :].split(".", 1)
            state.setdefault(int(pid), {})[key] = value
    for pid, values in meta["scalars"].items():
        state.setdefault(int(pid), {}).update(values)
    groups = [
        {k: tuple(v) if k == "betas" else v for k, v in g.items()} for g in meta["param_groups"]
    ]
    return {"state": state, "param_groups": groups}


def write_checkpoint_folder(
    target: str | Path,
    model: VAE,
    *,
    state_tensors: dict[str, torch.Tensor] | None = None,
    state_meta: dict[str, Any] | None = None,
    model_from: str | Path | None = None,
) -> Path:
    """Write a complete checkpoint folder next to ``target``, then swap it in.

    The old folder is renamed away only after the new one is complete, so an
    interruption leaves at least one whole checkpoint (``target`` or ``target.old``).

    Parameters
    ----------
    target : path-like
        The checkpoint folder (e.g. ``RUN/checkpoints/last``).
    model : VAE
    state_tensors, state_meta : optional
        The training state (``training_state.safetensors`` / ``.json``).
    model_from : path-like, optional
        A checkpoint folder just written from the same ``model`` (``best`` of the same
        epoch): its model files are hard-linked instead of written again (copied where
        the file system has no hard links). Every file is replaced by rename, never
        rewritten in place, so the two folders never change each other.
    """
    target = Path(target)
    new = target.with_name(target.name + ".new")
    old = target.with_name(target.name + ".old")
    shutil.rmtree(new, ignore_errors=True)
    if model_from is None:
        save_checkpoint(model, new)
    else:
        new.mkdir(parents=True)
        for name in (MODEL_WEIGHTS, MODEL_CONFIG):
            try:
                os.link(Path(model_from) / name, new / name)
            except OSError:
                shutil.copy2(Path(model_from) / name, new / name)
    if state_tensors is not None:
        save_tensors(state_tensors, new / "training_state.safetensors")
    if state_meta is not None:
        atomic_write_json(new / "training_state.json", state_meta)
    shutil.rmtree(old, ignore_errors=True)
    if target.exists():
        target.rename(old)
    new.rename(target)
    shutil.rmtree(old, ignore_errors=True)
    return target
