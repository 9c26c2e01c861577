"""The run card: ``RUN/run.json``, written by every kind of run and read by every consumer.

Every run folder, whatever made it (``run``, ``train``, ``sweep``, ``timbre``,
``drums``), has the same layout (DESIGN.md, "On disk") and a card saying what it is::

    {"kind": "run", "library_version": "0.1.0", "dataset": "/abs/path", "created": "2026-…Z"}

``evaluate``, ``encode`` and the explorer look ``kind`` up in :mod:`timbrespace.experiments.kinds`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from timbrespace.datasets import Dataset
from timbrespace.errors import (
    ConfigError,
    DatasetError,
    EvaluationError,
    ParameterError,
    TimbrespaceError,
    TrainingError,
)
from timbrespace.experiments.kinds import BUILTIN_RUN_KINDS, get_run_kind
from timbrespace.utils.atomic import atomic_path, atomic_write_json
from timbrespace.utils.yaml_files import load_yaml

__all__ = [
    "LATENTS_NAME", "RUN_KINDS", "RunCard", "RunEvaluation", "TrainingProgress", "after_training", "read_run_card",
    "require_run_kind", "training_progress", "unfinished_training", "write_latents", "write_run_card",
]

RUN_KINDS: tuple[str, ...] = BUILTIN_RUN_KINDS
"""The built-in run kinds; :func:`~timbrespace.experiments.kinds.list_run_kinds` adds plug-ins."""

LATENTS_NAME = "latents.npz"
"""Every run's latents of every item (:func:`write_latents`)."""


@dataclass(frozen=True)
class RunCard:
    """What ``RUN/run.json`` holds.

    Attributes
    ----------
    kind : str
        A registered run kind (:mod:`timbrespace.experiments.kinds`).
    library_version : str
        timbrespace version that wrote the run.
    dataset : str or None
        Absolute path of the dataset the run was trained on (``None`` for a sweep over
        several datasets).
    created : str
        ISO 8601 UTC time the run folder was made.
    """

    kind: str
    library_version: str
    dataset: str | None
    created: str

    def __post_init__(self) -> None:
        get_run_kind(self.kind)  # ParameterError naming the known kinds

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        return asdict(self)


@dataclass(frozen=True)
class RunEvaluation:
    """What a timbre or drums run's evaluation returns (a ``run``'s is a ``RunResult``).

    Attributes
    ----------
    run_dir : pathlib.Path
    kind : str
        The run card's kind.
    metrics : dict
        The contents of the new ``metrics.json``.
    report_path : pathlib.Path
        ``run_dir/report.html``.
    """

    run_dir: Path
    kind: str
    metrics: dict[str, Any]
    report_path: Path


def _library_version() -> str:
    from timbrespace import __version__

    return str(__version__)


def write_run_card(run_dir: str | Path, kind: str, *, dataset: str | Path | None) -> RunCard:
    """Write ``run_dir/run.json`` (atomically) and return the card.

    Parameters
    ----------
    run_dir : path-like
        The run folder (must exist).
    kind : str
        One of :data:`RUN_KINDS`.
    dataset : path-like or None
        The dataset the run uses (stored as an absolute path).

    Raises
    ------
    ParameterError
        Unknown ``kind``.
    """
    card = RunCard(
        kind=kind,
        library_version=_library_version(),
        dataset=None if dataset is None else str(Path(dataset).resolve()),
        created=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    atomic_write_json(Path(run_dir) / "run.json", card.to_dict())
    return card


def read_run_card(run_dir: str | Path) -> RunCard:
    """Read ``run_dir/run.json``.

    Raises
    ------
    DatasetError
        If the folder is missing, is not a run folder (or one made by an older
        timbrespace, before run cards), or its card is unreadable.
    """
    root = Path(run_dir)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such run folder")
    path = root / "run.json"
    if not path.is_file():
        if (root / "checkpoints").is_dir():
            raise DatasetError(f"{root}: made by an older timbrespace (no run.json); train again")
        raise DatasetError(f"{root}: not a run folder (no run.json)")
    try:
        data = json.loads(path.read_text())
        return RunCard(**{k: data[k] for k in ("kind", "library_version", "dataset", "created")})
    except (json.JSONDecodeError, KeyError, TypeError, ParameterError) as exc:
        raise DatasetError(f"{path}: unreadable run card ({exc})") from None


@dataclass(frozen=True)
class TrainingProgress:
    """How far a run's training got, from its last training checkpoint.

    Attributes
    ----------
    epoch : int
        Epochs completed.
    epochs : int
        Epochs the run was started for.
    finished : bool
        Training ended (every epoch, early stopping or its time limit) and the decoder
        refinement, where asked for, is done.
    """

    epoch: int
    epochs: int
    finished: bool

    def describe(self) -> str:
        """``"epoch 3 of 400"``, or that the decoder refinement is all that is left."""
        if self.epoch >= self.epochs:
            return f"epoch {self.epoch} of {self.epochs}, decoder refinement not done"
        return f"epoch {self.epoch} of {self.epochs}"


def training_progress(run_dir: str | Path) -> TrainingProgress | None:
    """Read ``RUN/checkpoints/last/training_state.json`` (or ``last.old``, which a run killed
    while swapping checkpoints leaves): how far training got.

    Returns
    -------
    TrainingProgress or None
        ``None`` when the run keeps no training checkpoint, or one that does not say
        (unreadable, or from a version that did not record its epochs): nothing then
        says the run is unfinished, and what reads the model reports a damaged file.
    """
    ckpt = Path(run_dir) / "checkpoints"
    path = next((ckpt / n / "training_state.json" for n in ("last", "last.old")
                 if (ckpt / n / "training_state.json").is_file()), None)
    if path is None:
        return None
    try:
        meta = json.loads(path.read_text())
        epoch, config = int(meta["epoch"]), meta["train_config"]
        epochs, refine = int(config["epochs"]), int(config.get("refine_epochs") or 0)
    except (OSError, ValueError, KeyError, TypeError, UnicodeDecodeError):
        return None
    trained = epoch >= epochs or bool(meta.get("stop_reason"))
    return TrainingProgress(epoch, epochs, trained and (not refine or bool(meta.get("refine"))))


def unfinished_training(run_dir: str | Path, *, allow_unfinished: bool) -> TrainingProgress | None:
    """How far an unfinished training got (``None`` when it finished or nothing says),
    refused unless ``allow_unfinished``; for an evaluation, before it writes anything.

    Raises
    ------
    DatasetError
        The training did not finish and ``allow_unfinished`` is false.
    """
    progress = training_progress(run_dir)
    if progress is None or progress.finished:
        return None
    if not allow_unfinished:
        raise DatasetError(
            f"{run_dir}: training is unfinished ({progress.describe()}); run the command that trained it again "
            "to resume (train: with --resume), or pass --allow-unfinished to evaluate the model as it is"
        )
    return progress


def read_run_config(run_dir: str | Path) -> dict[str, Any]:
    """``RUN/config.yaml`` as a mapping.

    Raises
    ------
    DatasetError
        If the file is missing.
    ConfigError
        If it is not valid YAML or not a mapping (the file is named).
    """
    path = Path(run_dir) / "config.yaml"
    if not path.is_file():
        raise DatasetError(f"{run_dir}: not a run folder or training unfinished (no config.yaml)")
    try:
        data = load_yaml(path.read_text())
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise ConfigError(f"{path}: not valid YAML{at} ({getattr(exc, 'problem', None) or exc}); "
                          "was it edited? restore it or train again") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of settings, found {type(data).__name__}")
    return data


def require_run_kind(run_dir: str | Path, kind: str) -> RunCard:
    """The card of ``run_dir``, checked to be of ``kind``.

    Raises
    ------
    DatasetError
        As :func:`read_run_card`, or a run of another kind (both kinds named).
    """
    card = read_run_card(run_dir)
    if card.kind != kind:
        raise DatasetError(f"{run_dir}: a {card.kind!r} run, not a {kind!r} run")
    return card


def write_latents(run_dir: str | Path, mu: np.ndarray, logvar: np.ndarray, dataset: Dataset) -> Path:
    """Write ``RUN/latents.npz``, the one layout every run kind shares.

    Parameters
    ----------
    run_dir : path-like
    mu, logvar : ndarray, shape (n_items, latent_dim)
        Posterior means and log-variances of every item, in dataset order.
    dataset : Dataset
        Gives ``factor_codes`` (int, ``(n_items, n_factors)``), ``factor_names``,
        ``split`` (str per item; empty when the dataset has no splits) and ``item_id``.

    Returns
    -------
    Path
        The file, written atomically (uncompressed: the same arrays give the same bytes).

    Raises
    ------
    TrainingError
        ``mu`` or ``logvar`` holds NaN or infinite values (nothing is written).
    """
    for name, values in (("mu", mu), ("logvar", logvar)):
        if not np.all(np.isfinite(values)):  # never replace good latents with NaN
            raise TrainingError(f"the model encodes {int(np.sum(~np.isfinite(values)))} non-finite {name} "
                                f"value(s); {Path(run_dir) / LATENTS_NAME} is left as it was")
    path = Path(run_dir) / LATENTS_NAME
    split = dataset.metadata["split"].astype(str).to_numpy() if "split" in dataset.metadata else np.array([])
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, mu=mu, logvar=logvar, factor_codes=dataset.factor_codes,
                 factor_names=np.array(dataset.factor_names, dtype="U"), split=split.astype("U"),
                 item_id=np.asarray(dataset.item_ids, dtype="U"))
    return path


@contextlib.contextmanager
def after_training(run_dir: str | Path, *, evaluable: bool = True) -> Iterator[None]:
    """The steps after training: a failure there never loses what training wrote.

    Checkpoints, ``history.json`` and ``train_config.json`` are on disk once training
    returns; this leaves them as they are and turns the failure into one
    :class:`~timbrespace.errors.EvaluationError` that says where they are and how to
    finish (``timbrespace evaluate RUN``, when ``evaluable``).

    Raises
    ------
    EvaluationError
        Whatever the steps raised (``KeyboardInterrupt`` and ``SystemExit`` pass through);
        ``internal`` when the cause was not a :class:`~timbrespace.errors.TimbrespaceError`.
    """
    try:
        yield
    except Exception as exc:
        internal = not isinstance(exc, TimbrespaceError)
        cause = f"{type(exc).__name__}: {exc}" if internal else str(exc)
        then = f"; run `timbrespace evaluate {run_dir}` once that is fixed" if evaluable else ""
        raise EvaluationError(
            f"training finished and is kept in {run_dir} (checkpoints/, history.json); the evaluation after it "
            f"failed: {cause}{then}", internal=internal,
        ) from exc
