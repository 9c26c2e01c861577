"""Encode your own recordings with a trained run: ``timbrespace encode RUN FILE_OR_DIR -o OUT``.

:class:`RunEncoder` opens a ``run`` or unconditional ``train`` folder (its model under
``checkpoints/last``, ``best`` as a fallback, and the sidecar of the features it was
trained on) and encodes audio as the run's own items were encoded
(:func:`timbrespace.generation.audio.encode_audio`). :func:`encode_audio_files` reads
files or folders of them; :func:`write_encoded` writes the rows as ``.npz`` or ``.json``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from timbrespace.errors import ConfigError, DatasetError, ParameterError
from timbrespace.experiments.kinds import get_run_kind, run_kinds_that
from timbrespace.features import FeatureSidecar
from timbrespace.generation.audio import EncodedAudio, encode_audio, read_audio_bytes
from timbrespace.utils.atomic import atomic_path, atomic_write_json
from timbrespace.utils.audio import read_mono

__all__ = ["AUDIO_SUFFIXES", "ENCODE_KINDS", "OUTPUT_SUFFIXES", "RunEncoder", "audio_files", "check_output",
           "encode_audio_files", "write_encoded"]

ENCODE_KINDS = run_kinds_that("encode", builtin_only=True)
"""Built-in run kinds whose model encodes audio alone (timbre and conditional models need labels;
drum runs encode grooves, not audio)."""
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aif", ".aiff")
"""Files a folder is searched for (a file named directly may have any suffix)."""
OUTPUT_SUFFIXES = (".npz", ".json")


class RunEncoder:
    """A finished run's model and feature sidecar, ready to encode recordings.

    Parameters
    ----------
    run_dir : path-like
        A folder made by ``timbrespace run`` or ``timbrespace train`` (unconditional).

    Attributes
    ----------
    root : Path
    model : VAE
    sidecar : FeatureSidecar
    sample_rate : int
        Hz of the run's features (what recordings are resampled to).

    Raises
    ------
    DatasetError
        Not a run folder, a kind that cannot encode audio (``timbre``, ``drums``, ``sweep``,
        a conditional ``train`` run), an unfinished run, or its dataset, features or
        checkpoint missing.
    ConfigError
        An unreadable ``config.yaml``.
    """

    def __init__(self, run_dir: str | Path) -> None:
        from timbrespace.datasets import Dataset
        from timbrespace.experiments.pipeline import FEATURES_NAME
        from timbrespace.experiments.runs import read_run_card, read_run_config
        from timbrespace.training import load_checkpoint

        root = Path(run_dir)
        kind = read_run_card(root).kind
        run_kind = get_run_kind(kind)
        if not run_kind.encode:
            raise DatasetError(f"{root}: a {kind!r} run cannot encode audio ({run_kind.cannot_encode}); "
                               f"allowed kinds {', '.join(run_kinds_that('encode'))}")
        if not (root / "config.yaml").is_file():
            raise DatasetError(f"{root}: a conditional or unfinished {kind!r} run (no config.yaml) cannot encode "
                               "audio alone")
        resolved = read_run_config(root)
        dataset_path = resolved.get("dataset_path")
        features_name = str(resolved.get("features_name", FEATURES_NAME))
        try:
            dataset = Dataset(dataset_path if dataset_path else root / "dataset")
        except DatasetError as exc:
            raise DatasetError(f"{root}: the dataset it was trained on is gone ({exc})") from None
        if features_name not in dataset.feature_names():
            raise DatasetError(f"{dataset.root}: features {features_name!r} are missing; run `timbrespace {kind}` again")
        try:
            self.sidecar = FeatureSidecar.from_dict(dataset.feature_sidecar(features_name))
        except ParameterError as exc:
            raise ConfigError(f"{dataset.root}: features {features_name!r}: {exc}") from None
        checkpoint = next((p for p in (root / "checkpoints" / "last", root / "checkpoints" / "best")
                           if (p / "model.json").is_file()), None)
        if checkpoint is None:
            raise DatasetError(f"{root}: no checkpoint under checkpoints/last or checkpoints/best")
        self.model = load_checkpoint(checkpoint)
        if self.model.config.condition_classes or self.model.config.condition_continuous:
            raise DatasetError(f"{root}: a conditional model cannot encode audio alone (it needs its labels)")
        self.root = root
        self.sample_rate = int(self.sidecar.sample_rate)
        from timbrespace.training.audio_decoder import run_audio_decoder

        self.audio_decoder = run_audio_decoder(root, latent_dim=self.model.config.latent_dim,
                                               sample_rate=self.sample_rate)

    def encode(self, y: np.ndarray, sample_rate: int, *, name: str = "audio") -> EncodedAudio:
        """Latents of one recording ``y`` (mono or ``(n_channels, n_samples)``) at ``sample_rate`` Hz.

        Raises
        ------
        AudioError
            Empty, NaN/inf or silent audio.
        """
        return encode_audio(self.model, self.sidecar, y, sample_rate, name=name, audio_decoder=self.audio_decoder)

    def encode_bytes(self, data: bytes, *, name: str = "upload") -> EncodedAudio:
        """Latents of the recording in an audio file's bytes (e.g. an uploaded WAV).

        Raises
        ------
        AudioError
            Bytes that are not audio, or empty, NaN/inf or silent audio.
        """
        y, sample_rate = read_audio_bytes(data, name=name)
        return self.encode(y, sample_rate, name=name)


def audio_files(paths: Sequence[str | Path]) -> list[Path]:
    """The files to encode: each file as given, each folder's audio files (sorted, not recursive).

    Raises
    ------
    ParameterError
        No paths, a path that does not exist, or a folder holding no audio file.
    """
    if not paths:
        raise ParameterError("no files to encode: give audio files or folders")
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
            if not found:
                raise ParameterError(f"{path}: a folder with no audio files ({', '.join(AUDIO_SUFFIXES)})")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ParameterError(f"{path}: no such file or folder")
    return files


def encode_audio_files(run: str | Path | RunEncoder, paths: Sequence[str | Path], *,
                       progress: bool = False) -> EncodedAudio:
    """Latents of audio files (or folders of them) under a trained run.

    Each file is read as mono, resampled to the run's rate and trimmed or zero-padded to
    its item length when it differs (said in ``notes``), then encoded as the run's own
    items (:func:`timbrespace.generation.audio.encode_audio`).

    Parameters
    ----------
    run : path-like or RunEncoder
        A ``run`` or unconditional ``train`` folder.
    paths : sequence of path-like
        Audio files, or folders whose audio files (:data:`AUDIO_SUFFIXES`) are encoded.
    progress : bool
        Show a progress bar (stderr).

    Returns
    -------
    EncodedAudio
        One row per file, in the order given (a folder's files sorted by name).

    Raises
    ------
    ParameterError
        A missing path, or a folder without audio.
    AudioError
        A file that is not audio, is empty, or is silent (named).
    DatasetError, ConfigError
        As :class:`RunEncoder`.
    """
    files = audio_files(paths)
    encoder = run if isinstance(run, RunEncoder) else RunEncoder(run)
    recordings = [(str(path), *read_mono(path)) for path in files]  # every file read before any is encoded
    items: Any = recordings
    if progress:
        from rich.console import Console
        from rich.progress import track

        items = track(recordings, description="encoding", transient=True, console=Console(stderr=True))
    return EncodedAudio.concatenate([encoder.encode(y, sr, name=name) for name, y, sr in items])


def check_output(out: str | Path, *, overwrite: bool) -> Path:
    """Refuse an output path before anything is done: its suffix, an existing file.

    Raises
    ------
    ParameterError
        A suffix other than ``.npz``/``.json``, a folder, or an existing file without
        ``overwrite``.
    """
    path = Path(out)
    if path.suffix.lower() not in OUTPUT_SUFFIXES:
        raise ParameterError(f"{path}: the suffix {path.suffix or '(none)'!r} is not allowed; "
                             f"use one of {', '.join(OUTPUT_SUFFIXES)}")
    if path.is_dir():
        raise ParameterError(f"{path} is a folder; give a file name ending in .npz or .json")
    if path.exists() and not overwrite:
        raise ParameterError(f"{path} exists; pass --overwrite to replace it")
    if path.exists() and not _is_encode_output(path):
        raise ParameterError(f"{path} exists and is not an output of encode; --overwrite replaces only that, "
                             "never another file: choose another name")
    if not path.parent.is_dir():
        raise ParameterError(f"{path.parent}: no such folder for the output")
    return path


def _is_encode_output(path: Path) -> bool:
    """``path`` holds what :func:`write_encoded` writes (its keys), and so may be replaced."""
    try:
        if path.suffix.lower() == ".npz":
            with np.load(path, allow_pickle=False) as data:
                return {"files", "mu", "logvar", "latent_names", "run"} <= set(data.files)
        data = json.loads(path.read_text())
        return isinstance(data, dict) and {"run", "latent_names", "items"} <= set(data)
    except (OSError, ValueError, UnicodeDecodeError):
        return False


def write_encoded(encoded: EncodedAudio, out: str | Path, *, run: str | Path, overwrite: bool = False) -> Path:
    """Write the rows: ``.npz`` (``files``, ``mu``, ``logvar``, ``latent_names``, ``run``, and
    ``tuning`` ``(n, 2)`` when measured) or ``.json`` (``run``, ``latent_names``, ``notes``,
    ``items``: one mapping per file with ``mu`` and ``logvar`` by latent name, and ``tuning``),
    atomically. ``decode_audio(run, mu, tuning)`` plays the rows.

    Raises
    ------
    ParameterError
        As :func:`check_output`.
    """
    path = check_output(out, overwrite=overwrite)
    if path.suffix.lower() == ".json":
        atomic_write_json(path, {"run": str(run), "latent_names": list(encoded.latent_names),
                                 "notes": list(encoded.notes), "items": encoded.rows()})
        return path
    extra = {} if encoded.tuning is None else {"tuning": np.asarray(encoded.tuning, dtype=np.float64)}
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, files=np.asarray(encoded.names, dtype="U"), mu=encoded.mu, logvar=encoded.logvar,
                 latent_names=np.asarray(encoded.latent_names, dtype="U"), run=np.asarray(str(run)), **extra)
    return path
