"""The explorer's adapter for ``timbre`` runs (seed 002: a conditional conv VAE).

Beside ``z``, a decode takes the condition ``timbre generate`` offers: a descriptor, a
magnitude and a pitch (one of the run's). The normalised dB spectrogram is inverted with
the dB range of the original note with those labels (as ``timbre generate`` does), then
PGHI and 8 fast Griffin-Lim iterations at ``n_fft`` 1024 (see
:mod:`~timbrespace.explore.run`). Paths between two items interpolate the condition and
the dB range linearly, as seed 002's ``interpolate`` did.

Everything this module needs from the timbre run goes through :class:`_TimbreModel`
(a :class:`~timbrespace.experiments.timbre_run.TimbreRun`: the shared :class:`VAE`, the
stored features and their sidecar).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from timbrespace.errors import DatasetError
from timbrespace.explore.base import Explorable
from timbrespace.explore.limits import feature_range, soft_limit
from timbrespace.explore.types import Clip, ExportPart, Option

__all__ = ["TimbreExplorable"]

logger = logging.getLogger(__name__)

_N_ITER = 8


class _TimbreModel:
    """The few things the explorer uses of a :class:`~timbrespace.experiments.timbre_run.TimbreRun`."""

    def __init__(self, root: Path) -> None:
        from timbrespace.experiments.timbre_run import TimbreRun

        self.run = TimbreRun(root)
        self.net = self.run.require_model()
        self.items = self.run.items
        self.descriptors, self.magnitudes, self.pitches = self.run.descriptors, self.run.magnitudes, self.run.pitches
        self._all_min, self._all_max = self.run.stats_of(np.arange(len(self.items)))

    def conditions(self, descriptor: str, magnitude: float, pitch: int) -> np.ndarray:
        return self.run.conditions([descriptor], [magnitude], [pitch])[0]

    def conditions_of(self, rows: np.ndarray) -> np.ndarray:
        return self.run.conditions_of(rows)

    def db_range(self, descriptor: str, magnitude: float, pitch: int) -> tuple[float, float]:
        """dB range of the original note with these labels (the mean range if there is none)."""
        try:
            row = self.run.find(descriptor, magnitude, pitch)
            return float(self._all_min[row]), float(self._all_max[row])
        except DatasetError:
            return float(np.mean(self._all_min)), float(np.mean(self._all_max))

    def item_range(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.run.stats_of(rows)

    def encode_all(self) -> tuple[np.ndarray, np.ndarray]:
        from timbrespace.training import encode_array

        rows = np.arange(len(self.items))
        return encode_array(self.net, self.run.features_of(rows), self.conditions_of(rows), batch_size=64,
                            return_logvar=True)

    def decode(self, z: np.ndarray, conditions: np.ndarray) -> np.ndarray:
        return self.run.decode(z, conditions)

    def decode_between(self, z: np.ndarray, start: np.ndarray, end: np.ndarray, t: np.ndarray) -> np.ndarray:
        return self.run.decode_between(z, start, end, t)

    def originals(self, rows: np.ndarray) -> np.ndarray:
        return self.run.original_audio(rows)

    def to_audio(self, x: np.ndarray, min_db: np.ndarray, max_db: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Audio of decoded features and, per item, the fraction of them outside the stored range."""
        from timbrespace.features import invert

        x, clipped = soft_limit(x, feature_range(self.run.sidecar))
        audio = invert(x, self.run.sidecar, method="pghi+gl", n_iter=_N_ITER, item_min=np.asarray(min_db),
                       item_max=np.asarray(max_db))
        return audio, clipped


class TimbreExplorable(Explorable):
    """A ``timbre train`` run folder, opened for the explorer.

    Parameters
    ----------
    root : path-like
        The run folder.

    Raises
    ------
    DatasetError
        Not a timbre run, or its checkpoint is missing.
    """

    kind = "timbre"
    cannot_encode = "its model needs descriptor labels beside the audio"

    def __init__(self, root: str | Path) -> None:
        import librosa

        self._m = m = _TimbreModel(Path(root))
        super().__init__(root, latent_dim=m.net.config.latent_dim, sample_rate=m.run.sample_rate)
        logger.info("encoding the %d notes of %s", len(m.items), root)
        mu, logvar = m.encode_all()
        factors = m.items[["descriptor", "magnitude", "pitch"]].copy()
        factors["descriptor"] = factors["descriptor"].astype(str)
        self._set_items(m.items["item_id"].astype(str).tolist(), mu, logvar, factors,
                        m.items["split"].astype(str).tolist())
        self.options = (
            Option("descriptor", "descriptor", m.descriptors[0], values=tuple(m.descriptors)),
            Option("magnitude", "magnitude", m.magnitudes[len(m.magnitudes) // 2], values=tuple(m.magnitudes),
                   labels=tuple(f"{v:g}" for v in m.magnitudes)),
            Option("pitch", "pitch", m.pitches[len(m.pitches) // 2], values=tuple(m.pitches),
                   labels=tuple(f"{librosa.midi_to_note(p, unicode=False)} ({p})" for p in m.pitches)),
        )

    def decode_batch(self, z: np.ndarray, options: Mapping[str, Any]) -> list[Clip]:
        labels = (options["descriptor"], options["magnitude"], options["pitch"])
        cond = np.repeat(self._m.conditions(*labels)[None], len(z), axis=0)
        lo, hi = self._m.db_range(*labels)
        audio, clipped = self._m.to_audio(self._m.decode(z, cond), np.full(len(z), lo), np.full(len(z), hi))
        return [Clip(y, self.sample_rate, clipped_fraction=float(c)) for y, c in zip(audio, clipped, strict=True)]

    def _item_clips(self, index: int, options: Mapping[str, Any]) -> tuple[Clip, Clip]:
        rows = np.array([index])
        lo, hi = self._m.item_range(rows)
        recon, clipped = self._m.to_audio(self._m.decode(self.items().latents[rows], self._m.conditions_of(rows)),
                                          lo, hi)
        return (Clip(self._m.originals(rows)[0], self.sample_rate),
                Clip(recon[0], self.sample_rate, clipped_fraction=float(clipped[0])))

    def _path_clip(self, a: int, b: int, t: np.ndarray, z: np.ndarray, options: Mapping[str, Any]) -> Clip:
        cond = self._m.conditions_of(np.array([a, b]))
        lo, hi = self._m.item_range(np.array([a, b]))
        x = self._m.decode_between(z, cond[0], cond[1], t)
        audio, clipped = self._m.to_audio(x, (1 - t) * lo[0] + t * lo[1], (1 - t) * hi[0] + t * hi[1])
        gap = np.zeros((len(audio), int(0.1 * self.sample_rate)), np.float32)
        joined = np.concatenate([audio, gap], axis=1)
        starts = tuple(k * joined.shape[1] / self.sample_rate for k in range(len(audio)))
        return Clip(joined.reshape(-1), self.sample_rate, step_starts_s=starts, clipped_fraction=float(clipped.mean()))

    def export_part(self, part: str) -> ExportPart:
        from timbrespace.explore.export import EXPORT_FORMAT

        net, cfg, m = self._m.net, self._m.net.config, self._m
        n_c = cfg.n_conditions
        common = {"format": EXPORT_FORMAT, "run_kind": self.kind, "part": part, "latent_dim": cfg.latent_dim,
                  "features": m.run.sidecar.to_dict(), "sample_rate": self.sample_rate,
                  "conditions": {"layout": "descriptor index, pitch index, magnitude / 100",
                                 "descriptors": m.descriptors, "pitches": m.pitches, "magnitudes": m.magnitudes},
                  "phase_retrieval": {"method": "pghi+gl", "n_iter": _N_ITER,
                                      "item_range": "the dB range of the original note with the same labels"}}
        shape = ["n", *cfg.input_shape]
        c = torch.from_numpy(m.conditions_of(np.array([0, len(m.items) - 1])))  # labels: traced as integers
        if part == "decoder":
            return ExportPart(_TimbreDecoder(net), (torch.zeros(2, cfg.latent_dim), c),
                              ("z", "c"), ("x",), {**common, "inputs": {"z": ["n", cfg.latent_dim], "c": ["n", n_c]},
                                                   "outputs": {"x": shape}})
        return ExportPart(_TimbreEncoder(net), (torch.zeros(2, *cfg.input_shape), c),
                          ("x", "c"), ("mu", "logvar"),
                          {**common, "inputs": {"x": shape, "c": ["n", n_c]},
                           "outputs": {"mu": ["n", cfg.latent_dim], "logvar": ["n", cfg.latent_dim]}})


class _TimbreDecoder(torch.nn.Module):
    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.net.decode(z, c)


class _TimbreEncoder(torch.nn.Module):
    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.net.encode(x, c)
        return mu, logvar
