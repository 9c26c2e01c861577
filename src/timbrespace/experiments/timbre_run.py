"""A timbre run folder reopened: the run's notes, their stored spectrograms, the model.

:class:`TimbreRun` is what generation (:mod:`.timbre_notes`), the quality measures
(:mod:`.timbre_quality`) and the report (:mod:`.timbre_report`) work on; the pipeline
that writes the folder is :mod:`timbrespace.experiments.timbre`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments.runs import read_run_config, require_run_kind
from timbrespace.features import FeatureConfig, FeatureSidecar, invert
from timbrespace.models import VAE
from timbrespace.timbre.build import SEED002_N_SAMPLES
from timbrespace.training import decode_array, encode_array, eval_mode, load_checkpoint

__all__ = ["DEFAULT_DESCRIPTORS", "SEED002_FEATURES", "TIMBRE_FEATURE_NAME", "TimbreRun"]

#: CPU default: Bright/Dark (the measured centroid direction) + one per other group.
DEFAULT_DESCRIPTORS: tuple[str, ...] = ("Bright", "Dark", "Crunch", "Shimmery", "Punch", "Stuttering")

SEED002_FEATURES = FeatureConfig(
    kind="stft", n_fft=1024, hop_length=256, output="db", top_db=80.0, n_bins=512,
    normalization="minmax_item", n_samples=SEED002_N_SAMPLES,
)
"""Seed 002's representation: mono 22050 Hz, 16317 samples (0.74 s), STFT n_fft 1024 hop
256 (Hann, centred), dB floored 80 dB below each item's peak, the Nyquist row dropped
→ (512, 64), each item min–max scaled to [0, 1] with its min/max stored for inversion."""

#: Name of the spectrograms in the dataset's ``features/`` folder.
TIMBRE_FEATURE_NAME = "timbre_seed002"
_INVERSION = "griffinlim"


class TimbreRun:
    """A timbre run folder, reopened for generation and measurement.

    Parameters
    ----------
    root : path-like
        Run folder written by :func:`train_timbre`.
    load_model : bool
        Load ``checkpoints/last`` (False while training writes it).

    Raises
    ------
    DatasetError
        Not a timbre run, made by an older timbrespace, or its checkpoint or dataset missing.
    """

    def __init__(self, root: str | Path, *, load_model: bool = True) -> None:
        self.root = Path(root)
        require_run_kind(self.root, "timbre")
        cfg_path = self.root / "config.yaml"
        if not cfg_path.is_file():
            raise DatasetError(f"{self.root}: not a timbre run (no config.yaml); train one with `timbrespace timbre train`")
        self.config: dict[str, Any] = read_run_config(self.root)
        self.descriptors: list[str] = list(self.config["descriptors"])
        self.pitches: list[int] = [int(p) for p in self.config["pitches"]]
        self.magnitudes: list[float] = [float(m) for m in self.config["magnitudes"]]
        self.items = pd.read_parquet(self.root / "items.parquet")
        try:
            self.dataset = Dataset(self.config["dataset"])
        except DatasetError as exc:
            raise DatasetError(f"{self.root}: the dataset it was trained on is gone ({exc})") from None
        self.feature_name: str = self.config["feature_name"]
        self.sidecar = FeatureSidecar.from_dict(self.dataset.feature_sidecar(self.feature_name))
        self.sample_rate = self.sidecar.sample_rate
        self.model: VAE | None = None
        if load_model:
            last = self.root / "checkpoints" / "last"
            if not (last / "model.json").is_file():
                raise DatasetError(f"{self.root}: no checkpoint (training unfinished?)")
            self.model = load_checkpoint(last)

    def require_model(self) -> VAE:
        """The loaded model (raises :class:`DatasetError` if opened with ``load_model=False``)."""
        if self.model is None:
            raise DatasetError(f"{self.root}: opened without its model (load_model=False)")
        return self.model

    @property
    def dataset_index(self) -> np.ndarray:
        """Dataset row of each run row."""
        return self.items["dataset_index"].to_numpy()

    def features_of(self, rows: np.ndarray) -> np.ndarray:
        """Stored spectrograms ``(n, n_bins, n_frames)`` float32 in [0, 1] of run rows."""
        return self.dataset.load_features(self.feature_name, self.dataset_index[np.asarray(rows, dtype=np.int64)])

    def stats_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each row's stored dB minimum and maximum (what undoes its min–max), ``(n,)`` each."""
        norm = self.sidecar.normalization
        if norm.item_min is None or norm.item_max is None:
            raise DatasetError(f"{self.root}: its features are not min-max normalised per item")
        idx = self.dataset_index[np.asarray(rows, dtype=np.int64)]
        return np.asarray(norm.item_min)[idx], np.asarray(norm.item_max)[idx]

    def conditions(self, descriptors: Sequence[str], magnitudes: Sequence[float], pitches: Sequence[int]) -> np.ndarray:
        """Conditions ``(n, 3)`` float32: descriptor index, pitch index, magnitude / 100."""
        d_idx = [self.descriptors.index(d) for d in descriptors]
        p_idx = [self.pitches.index(int(p)) for p in pitches]
        return np.column_stack([d_idx, p_idx, np.asarray(magnitudes, dtype=np.float64) / 100.0]).astype(np.float32)

    def conditions_of(self, rows: np.ndarray) -> np.ndarray:
        """Conditions of run rows (see :meth:`conditions`)."""
        sub = self.items.iloc[np.asarray(rows)]
        return self.conditions(sub["descriptor"].astype(str).tolist(), sub["magnitude"].to_numpy(),
                               sub["pitch"].astype(int).tolist())

    def find(self, descriptor: str, magnitude: float, pitch: int) -> int:
        """Run row of the original note with these labels.

        Raises
        ------
        ParameterError
            A label not in the run (allowed values listed).
        DatasetError
            No note with this combination.
        """
        if descriptor not in self.descriptors:
            raise ParameterError(f"descriptor={descriptor!r} is not in this run: allowed {', '.join(self.descriptors)}")
        if float(magnitude) not in self.magnitudes:
            raise ParameterError(f"magnitude={magnitude} is not in this run: allowed {', '.join(f'{m:g}' for m in self.magnitudes)}")
        if int(pitch) not in self.pitches:
            raise ParameterError(f"pitch={pitch} is not in this run: allowed MIDI {self.pitches[0]}..{self.pitches[-1]}")
        hit = np.flatnonzero((self.items["descriptor"].astype(str) == descriptor).to_numpy()
                             & np.isclose(self.items["magnitude"].to_numpy(dtype=float), float(magnitude))
                             & (self.items["pitch"].astype(int) == int(pitch)).to_numpy())
        if hit.size == 0:
            raise DatasetError(f"{self.root}: no original note for ({descriptor}, {magnitude:g}, {pitch})")
        return int(hit[0])

    def find_present(self, requests: Sequence[tuple[str, float, int]]
                     ) -> tuple[np.ndarray, list[tuple[str, float, int]], list[str]]:
        """Run rows of the requests that have an original note, those requests, and the others in words.

        Evaluation measures what it can and reports the rest (issue 18): a folder whose
        clean notes are stored under one descriptor only has no ``(Bright, 0, pitch)``.
        """
        rows, kept, missing = [], [], []
        for descriptor, magnitude, pitch in requests:
            try:
                rows.append(self.find(descriptor, magnitude, pitch))
                kept.append((descriptor, magnitude, pitch))
            except DatasetError:
                missing.append(f"({descriptor}, {float(magnitude):g}, {int(pitch)})")
        return np.asarray(rows, dtype=np.int64), kept, missing

    def encode(self, rows: np.ndarray) -> np.ndarray:
        """Latent means ``mu`` ``(n, latent_dim)`` of stored notes."""
        rows = np.asarray(rows, dtype=np.int64)
        return encode_array(self.require_model(), self.features_of(rows), self.conditions_of(rows), batch_size=64)

    def decode(self, z: np.ndarray, conditions: np.ndarray) -> np.ndarray:
        """Spectrograms ``(n, n_bins, n_frames)`` in [0, 1] from latents and conditions."""
        return decode_array(self.require_model(), z, conditions, batch_size=64)

    def decode_between(self, z: np.ndarray, start: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Decode ``z`` ``(n, latent_dim)`` under conditions blended from ``start`` to ``end``.

        The one-hot label vectors and the magnitude are mixed as ``(1 - t) a + t b`` (seed
        002's interpolation of its condition vectors), ``t`` of shape ``(n,)``.
        """
        import torch

        model = self.require_model()
        with torch.no_grad():
            ends = model.condition_vector(torch.from_numpy(np.stack([start, end]).astype(np.float32)))
            w = torch.from_numpy(np.asarray(t, dtype=np.float32))[:, None]
            blended = (1 - w) * ends[0] + w * ends[1]
            with eval_mode(model):
                x = model.decode_condition_vector(torch.from_numpy(np.asarray(z, dtype=np.float32)), blended)
        return x.numpy()

    def to_audio(self, x: np.ndarray, item_min: np.ndarray, item_max: np.ndarray, *, n_iter: int = 64,
                 seed: int = 0) -> np.ndarray:
        """Spectrograms to audio ``(n, n_samples)``: undo min–max with the given dB ranges, Griffin-Lim."""
        return invert(x, self.sidecar, method=_INVERSION, n_iter=n_iter, seed=seed,
                      item_min=np.asarray(item_min), item_max=np.asarray(item_max))

    def original_audio(self, rows: np.ndarray) -> np.ndarray:
        """Original notes of run rows ``(n, n_samples)``, padded or trimmed like the features."""
        audio = self.dataset.load_audio(self.dataset_index[np.asarray(rows, dtype=np.int64)])
        length = FeatureConfig(**{**self.sidecar.config.model_dump(), "n_samples": self.sidecar.n_samples})
        return length.fit_length(audio)
