"""A drums run folder reopened: the trained groove model and the grid it was trained on.

:class:`GrooveRun` is what generation (:mod:`.drums_generate`) and the report
(:mod:`.drums_report`) work on; the pipeline that writes the folder is
:mod:`timbrespace.experiments.drums`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timbrespace.errors import ConfigError, DatasetError
from timbrespace.experiments.runs import read_run_config, require_run_kind
from timbrespace.models import VAE
from timbrespace.training import load_checkpoint

__all__ = ["GrooveRun", "load_groove_run", "make_groove_run", "read_drums_config", "require_drums_run"]


@dataclass(frozen=True)
class GrooveRun:
    """A trained groove model and the grid it was trained on.

    Attributes
    ----------
    root : pathlib.Path
    model : VAE
        In eval mode.
    drum_map : str
    steps_per_quarter : float
    time_signature : tuple of (int, int)
    threshold : float
        Hit threshold (calibrated at training; seed 004 used 0.3).
    latent_plane_dims : tuple of (int, int)
        The click plane's latents.
    voice_names : tuple of str
    """

    root: Path
    model: VAE
    drum_map: str
    steps_per_quarter: float
    time_signature: tuple[int, int]
    threshold: float
    latent_plane_dims: tuple[int, int]
    voice_names: tuple[str, ...]


def require_drums_run(run: Path) -> None:
    """Refuse a folder that is not a drums run, with one line.

    Raises
    ------
    ConfigError
        No run card and no checkpoints: not a run folder at all.
    DatasetError
        A run of another kind, or one made by an older timbrespace.
    """
    if not (run / "run.json").is_file() and not (run / "checkpoints").is_dir():
        raise ConfigError(f"{run}: not a groove run (no run.json); train one with `timbrespace drums train`")
    require_run_kind(run, "drums")


def read_drums_config(run: Path) -> dict[str, Any]:
    """``RUN/config.yaml`` of a drums run (checked to be one)."""
    require_drums_run(run)
    return read_run_config(run)


def make_groove_run(run: Path, config: dict[str, Any], model: VAE, *, threshold: float,
                    latent_plane_dims: tuple[int, int]) -> GrooveRun:
    """A :class:`GrooveRun` from a run's config, its model and its evaluation's threshold and plane."""
    grid = config["grid"]
    return GrooveRun(
        root=run, model=model.eval(), drum_map=str(grid["drum_map"]), steps_per_quarter=float(grid["steps_per_quarter"]),
        time_signature=(int(grid["time_signature"][0]), int(grid["time_signature"][1])), threshold=float(threshold),
        latent_plane_dims=(int(latent_plane_dims[0]), int(latent_plane_dims[1])),
        voice_names=tuple(str(v) for v in grid["voice_names"]),
    )


def load_groove_run(run: str | Path) -> GrooveRun:
    """Open a run folder written by :func:`timbrespace.experiments.drums.train_drums`.

    Raises
    ------
    ConfigError
        Not a groove run.
    DatasetError
        A run of another kind, one made by an older timbrespace, or an unfinished one.
    """
    run = Path(run)
    config = read_drums_config(run)
    metrics_path = run / "metrics.json"
    if not metrics_path.is_file():
        raise DatasetError(f"{run}: no metrics.json (training unfinished?)")
    metrics = json.loads(metrics_path.read_text())
    model = load_checkpoint(run / "checkpoints" / config["checkpoint"])
    return make_groove_run(run, config, model, threshold=metrics["threshold"],
                           latent_plane_dims=metrics["latent_plane_dims"])
