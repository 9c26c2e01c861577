"""The benchmark's datasets: every seed dataset at a size that fits the study, made resumably.

Each :class:`BenchmarkDataset` names its source (a shipped preset of
``datasets/configs``, seed 002's semantic notes built from real recordings, or seed
004's MIDI grooves), the features the models read, and whether the shift-VAE applies (a
pitch factor and log-frequency features). :class:`BenchmarkSettings` holds the sizes:
:data:`QUICK` (a few hundred short items per dataset, few epochs: the whole study on two
CPU cores in under 20 minutes) and :data:`FULL` (bigger grids and longer training, for a
GPU or a cluster). A preset is shrunk by keeping at most ``grid[factor]`` values of each
swept factor (evenly spaced over its range, ends included), so its factors and ranges
stay those of the seed.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from timbrespace.datasets import Dataset
from timbrespace.errors import DatasetError

__all__ = [
    "BENCHMARK_DATASETS",
    "FULL",
    "QUICK",
    "BenchmarkDataset",
    "BenchmarkSettings",
    "DatasetSize",
    "default_data_dir",
    "prepare_dataset",
]

log = logging.getLogger(__name__)

FEATURES = "benchmark"
"""Name of the feature set the benchmark stores in each of its datasets."""


@dataclass(frozen=True)
class DatasetSize:
    """How big one dataset is in a study.

    Parameters
    ----------
    grid : mapping of str to int
        At most this many values of each swept factor (a preset; for seed 002 the keys
        ``descriptors``, ``magnitudes`` and ``pitches``; grooves take every file).
    duration_s : float, optional
        Seconds per item (a preset; default: the preset's).
    variations : tuple of (float, float), optional
        ``(sound_duration_s, chunk_s)`` of a preset rendered as long sounds cut into
        variations (seed 003).
    """

    grid: Mapping[str, int] = field(default_factory=dict)
    duration_s: float | None = None
    variations: tuple[float, float] | None = None


@dataclass(frozen=True)
class BenchmarkDataset:
    """One dataset of the study.

    Parameters
    ----------
    name : str
        Its name in the table and in ``DIR/datasets/``.
    title : str
        What the table calls it.
    source : {"preset", "semantic", "grooves"}
        A shipped preset (``preset``), seed 002's semantic notes built from the real
        notes in ``DATA/notes``, or seed 004's grooves in ``DATA/grooves``.
    features : mapping
        :class:`~timbrespace.features.FeatureConfig` fields (not for grooves).
    pitched : bool
        A pitch factor and log-frequency (CQT) features: the shift-VAE applies.
    preset : str, optional
        The preset's name (``source="preset"``).
    note : str
        Said under the table (e.g. how the split is made).
    """

    name: str
    title: str
    source: Literal["preset", "semantic", "grooves"]
    features: Mapping[str, Any] = field(default_factory=dict)
    pitched: bool = False
    preset: str | None = None
    note: str = ""


_MEL = {"kind": "mel", "n_fft": 1024, "hop_length": 512, "n_mels": 64, "output": "db", "top_db": 80.0}
_CQT = {"kind": "cqt", "bins_per_octave": 24, "fmin_hz": 50.0, "n_bins": 144, "hop_length": 512,
        "output": "db", "top_db": 50.0}

BENCHMARK_DATASETS: tuple[BenchmarkDataset, ...] = (
    BenchmarkDataset("seed000-richness", "seed 000 richness", "preset", _MEL, preset="seed000-richness"),
    BenchmarkDataset("seed000-additive-bandpass", "seed 000 additive + band-pass", "preset", _MEL,
                     preset="seed000-additive-bandpass"),
    BenchmarkDataset("seed000-fm-moog", "seed 000 FM + Moog", "preset", _MEL, preset="seed000-fm-moog"),
    BenchmarkDataset("seed001-additive", "seed 001 additive", "preset", _CQT, pitched=True,
                     preset="seed001-additive"),
    BenchmarkDataset("seed003-pop", "seed 003 pop textures", "preset", _MEL, preset="seed003-pop",
                     note="split by setting: the variations cut from one render are all in one split"),
    BenchmarkDataset("seed002-semantic", "seed 002 semantic notes", "semantic",
                     {**_CQT, "n_bins": 168, "hop_length": 2048}, pitched=True,
                     note="clean guitar notes of ../shared/data/notes through seed 002's effect chains"),
    BenchmarkDataset("seed004-grooves", "seed 004 grooves", "grooves",
                     note="../shared/data/grooves; the groove VAE's held-out hit F1"),
)
"""Every dataset of the study, in table order."""


@dataclass(frozen=True)
class BenchmarkSettings:
    """Sizes of one study (:data:`QUICK` or :data:`FULL`; tests make tiny ones).

    Parameters
    ----------
    profile : str
        Its name, stored in ``DIR/benchmark.json``: a folder is resumed only with the same settings.
    sizes : mapping of str to DatasetSize
        Per dataset name.
    epochs, batch_size : int
        Training of every VAE.
    hidden_sizes : tuple of int
        MLP widths of the β-VAE family.
    betas : mapping of str to float
        β of each model (the weight of its named term: KL, TC, or FactorVAE's γ).
    groove_epochs : int
        Epochs of the groove VAE.
    n_resynthesised : int
        Test items resynthesised per job (0: none).
    n_iter : int
        Griffin-Lim iterations after PGHI.
    dci_estimator : {"gbt", "hist"}
    """

    profile: str
    sizes: Mapping[str, DatasetSize]
    epochs: int = 20
    batch_size: int = 32
    hidden_sizes: tuple[int, ...] = (256,)
    betas: Mapping[str, float] = field(default_factory=lambda: {
        "beta_vae": 4.0, "tcvae": 4.0, "factorvae": 10.0, "shift": 3.0, "ada_gvae": 1.0})
    groove_epochs: int = 60
    n_resynthesised: int = 8
    n_iter: int = 8
    dci_estimator: str = "hist"

    def to_dict(self) -> dict[str, Any]:
        """JSON form (stored in ``benchmark.json``; equal settings give equal dicts)."""
        d = dataclasses.asdict(self)
        d["sizes"] = {k: {"grid": dict(v.grid), "duration_s": v.duration_s,
                          "variations": list(v.variations) if v.variations else None}
                      for k, v in sorted(self.sizes.items())}
        d["betas"] = dict(sorted(self.betas.items()))
        d["hidden_sizes"] = list(self.hidden_sizes)
        return d


QUICK = BenchmarkSettings(
    profile="quick",
    sizes={
        "seed000-richness": DatasetSize({"n_harmonics": 25, "last_gain": 12}, duration_s=0.25),
        "seed000-additive-bandpass": DatasetSize(
            {"harmonicity": 5, "n_partials": 5, "q": 4, "cutoff_hz": 4}, duration_s=0.2),
        "seed000-fm-moog": DatasetSize(
            {"spread": 3, "ratio": 3, "index": 4, "resonance": 3, "cutoff_hz": 4}, duration_s=0.2),
        "seed001-additive": DatasetSize(
            {"f0_hz": 5, "slope_db_per_octave": 4, "presence": 2, "inharmonicity": 3, "decay_per_s": 4},
            duration_s=0.5),
        "seed003-pop": DatasetSize({"rate_exp": 4, "irreg_exp": 4, "cf_exp": 3}, variations=(5.0, 1.0)),
        "seed002-semantic": DatasetSize({"descriptors": 6, "magnitudes": 4, "pitches": 16}),
        "seed004-grooves": DatasetSize(),
    },
    epochs=30,
    groove_epochs=60,
)
"""The quick study: a few hundred items per dataset, 30 epochs (two CPU cores, < 20 min)."""

FULL = BenchmarkSettings(
    profile="full",
    sizes={
        "seed000-richness": DatasetSize({"n_harmonics": 50, "last_gain": 40}, duration_s=0.5),
        "seed000-additive-bandpass": DatasetSize(
            {"harmonicity": 10, "n_partials": 10, "q": 10, "cutoff_hz": 10}, duration_s=0.2),
        "seed000-fm-moog": DatasetSize(
            {"spread": 8, "ratio": 7, "index": 8, "resonance": 5, "cutoff_hz": 5}, duration_s=0.2),
        "seed001-additive": DatasetSize(
            {"f0_hz": 10, "slope_db_per_octave": 9, "presence": 2, "inharmonicity": 6, "decay_per_s": 6},
            duration_s=1.0),
        "seed003-pop": DatasetSize({"rate_exp": 5, "irreg_exp": 5, "cf_exp": 5}, variations=(10.0, 2.0)),
        "seed002-semantic": DatasetSize({"descriptors": 19, "magnitudes": 5, "pitches": 23}),
        "seed004-grooves": DatasetSize(),
    },
    epochs=100,
    batch_size=64,
    hidden_sizes=(512, 256),
    groove_epochs=300,
    n_resynthesised=32,
    n_iter=16,
    dci_estimator="hist",  # gbt fits n_classes trees per boosting step: hours over thousands of items
)
"""The full study (thousands of items per dataset, 100 epochs): for a GPU or a cluster."""


def default_data_dir() -> Path:
    """``$TIMBRESPACE_SHARED_DATA``, else ``../shared/data`` (the real notes and grooves)."""
    return Path(os.environ.get("TIMBRESPACE_SHARED_DATA", Path("..") / "shared" / "data"))


def _evenly(values: list[Any], k: int) -> list[Any]:
    """At most ``k`` of ``values``, evenly spaced, both ends kept."""
    if k >= len(values):
        return list(values)
    return [values[int(i)] for i in np.unique(np.linspace(0, len(values) - 1, max(k, 1)).round())]


def _shrunk_preset(spec: BenchmarkDataset, size: DatasetSize) -> Any:
    """The preset's :class:`~timbrespace.datasets.DatasetConfig` with at most ``size.grid`` values per factor."""
    from timbrespace.datasets import load_dataset_config, preset_path
    from timbrespace.datasets.config import config_from_dict

    base = load_dataset_config(preset_path(spec.preset or spec.name))
    data = base.model_dump(mode="json", exclude_none=True)
    for name, sweep in data["parameters"].items():
        k = int(size.grid.get(name, 10**9))
        if "values" in sweep:
            sweep["values"] = _evenly(list(sweep["values"]), k)
            sweep.pop("label_values", None)
        elif sweep.get("n") is not None and sweep["n"] > k:
            sweep["n"] = max(k, 1)
            sweep.pop("label_values", None)
    if size.duration_s is not None and base.variations is None:
        data["duration_s"] = size.duration_s
    if size.variations is not None:
        data["variations"] = {"sound_duration_s": size.variations[0], "chunk_s": size.variations[1]}
        data.pop("duration_s", None)
    data["name"] = spec.name
    data.pop("dsgenerator", None)
    data["naming"] = "index"
    return config_from_dict(data, source=f"benchmark {spec.name}")


def prepare_dataset(spec: BenchmarkDataset, size: DatasetSize, folder: str | Path, *,
                    data_dir: str | Path | None = None) -> Dataset:
    """Make (or reopen) one benchmark dataset with its feature set ``benchmark``.

    Resumable: a preset's generation resumes where it stopped; seed 002's notes and the
    grooves are built in a staging folder and appear complete, so a finished dataset
    is reopened as it is.

    Parameters
    ----------
    spec : BenchmarkDataset
    size : DatasetSize
    folder : path-like
        The dataset folder (``DIR/datasets/<name>``).
    data_dir : path-like, optional
        Real data (``notes/``, ``grooves/``); default :func:`default_data_dir`.

    Returns
    -------
    Dataset
        With the feature set :data:`FEATURES` (grooves: their ``patterns``).

    Raises
    ------
    DatasetError
        The real data a dataset is built from is missing.
    """
    from timbrespace.datasets import generate_dataset
    from timbrespace.features import FeatureConfig, compute_dataset_features

    folder = Path(folder)
    data_dir = Path(data_dir) if data_dir is not None else default_data_dir()
    if spec.source == "preset":
        ds = generate_dataset(_shrunk_preset(spec, size), folder, progress=False)
    elif spec.source == "semantic":
        if not (folder / "dataset.json").is_file():
            notes = _need(data_dir / "notes", spec)
            ds = _semantic(notes, folder, size)
        ds = Dataset(folder)
    else:
        if not (folder / "dataset.json").is_file():
            from timbrespace.patterns.dataset import build_groove_dataset

            build_groove_dataset(_need(data_dir / "grooves", spec), folder)
        return Dataset(folder)
    if FEATURES not in ds.feature_names():
        compute_dataset_features(ds, FeatureConfig(**spec.features), name=FEATURES)
    return ds


def _need(path: Path, spec: BenchmarkDataset) -> Path:
    if not path.is_dir():
        raise DatasetError(f"{spec.name}: real data not found at {path} (set TIMBRESPACE_SHARED_DATA or --data)")
    return path


def _semantic(notes: Path, folder: Path, size: DatasetSize) -> Dataset:
    """Seed 002's folder built from ``notes`` (descriptors × magnitudes × pitches, evenly
    picked), then ingested; the build is a staging folder removed afterwards."""
    import shutil

    from timbrespace.datasets.ingest import ingest_folder
    from timbrespace.timbre import DESCRIPTORS, SEED002_MAGNITUDES, SEED002_PITCHES
    from timbrespace.timbre.build import build_timbre_folder

    staging = folder.parent / f".{folder.name}-build"
    if staging.exists():
        shutil.rmtree(staging)
    names = list(DESCRIPTORS)
    build_timbre_folder(
        notes, staging,
        descriptors=_evenly(names, size.grid.get("descriptors", len(names))),
        # magnitude 0 is the dry note whatever the descriptor: kept only in the full grid
        magnitudes=_evenly(list(SEED002_MAGNITUDES)[-size.grid.get("magnitudes", 5):], 5),
        pitches=_evenly(list(SEED002_PITCHES), size.grid.get("pitches", len(SEED002_PITCHES))),
    )
    try:
        return ingest_folder(staging, folder, name="seed002-semantic")
    finally:
        shutil.rmtree(staging, ignore_errors=True)
