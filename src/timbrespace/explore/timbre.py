"""The explorer's adapter for ``timbre`` runs (seed 002: a conditional conv VAE).

Beside ``z``, a decode takes the condition ``timbre generate`` offers: a descriptor, a
magnitude and a pitch (one of the run's). The normalised dB spectrogram is inverted with
the dB range of the original note with those labels (as ``timbre generate`` does), then
PGHI and 8 fast Griffin-Lim iterations at ``n_fft`` 1024 (see
:mod:`~timbrespace.explore.run`). Paths between two items interpolate the condition and
the dB range linearly, as seed 002's ``interpolate`` did.

Everything this module needs from the timbre package goes through :class:`_TimbreModel`,
so that re-pointing it at the shared model family is a change in one place.
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
from timbrespace.explore.types import Clip, ExportPart, Option

__all__ = ["TimbreExplorable"]

logger = logging.getLogger(__name__)

_N_ITER = 8


class _TimbreModel:
    """The few things the explorer uses of a :class:`~timbrespace.timbre.run.TimbreRun`."""

    def __init__(self, root: Path) -> None:
        from timbrespace.timbre.run import TimbreRun

        self.run = TimbreRun(root)
        self.net = self.run.require_model()
        self.prep = self.run.preprocessing
        self.items = self.run.items
        self.descriptors, self.magnitudes, self.pitches = self.run.descriptors, self.run.magnitudes, self.run.pitches

    def conditions(self, descriptor: str, magnitude: float, pitch: int) -> np.ndarray:
        return self.run.conditions([descriptor], [magnitude], [pitch])[0]

    def conditions_of(self, rows: np.ndarray) -> np.ndarray:
        return self.run.conditions_of(rows)

    def db_range(self, descriptor: str, magnitude: float, pitch: int) -> tuple[float, float]:
        """dB range of the original note with these labels (the mean range if there is none)."""
        try:
            row = self.run.find(descriptor, magnitude, pitch)
            return float(self.run.min_db[row]), float(self.run.max_db[row])
        except DatasetError:
            return float(np.mean(self.run.min_db)), float(np.mean(self.run.max_db))

    def item_range(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return self.run.stats_of(rows)

    @torch.no_grad()
    def encode_all(self, batch_size: int = 64) -> tuple[np.ndarray, np.ndarray]:
        mus, logvars = [], []
        for start in range(0, len(self.items), batch_size):
            rows = np.arange(start, min(start + batch_size, len(self.items)))
            x = torch.from_numpy(np.asarray(self.run.spectrograms[rows]))[:, None]
            mu, logvar = self.net.encode(x, torch.from_numpy(self.conditions_of(rows)))
            mus.append(mu.numpy())
            logvars.append(logvar.numpy())
        return np.concatenate(mus), np.concatenate(logvars)

    def decode(self, z: np.ndarray, conditions: np.ndarray) -> np.ndarray:
        return self.run.decode(z, conditions)

    def originals(self, rows: np.ndarray) -> np.ndarray:
        from timbrespace.timbre.generate import original_audio

        return original_audio(self.run, rows)

    def magnitudes_of(self, x: np.ndarray, min_db: np.ndarray, max_db: np.ndarray) -> np.ndarray:
        from timbrespace.timbre.preprocess import spectrogram_magnitudes

        return spectrogram_magnitudes(self.run.spectrograms_of(x, min_db, max_db), self.prep)


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

    def __init__(self, root: str | Path) -> None:
        import librosa

        self._m = m = _TimbreModel(Path(root))
        super().__init__(root, latent_dim=m.net.config.latent_dim, sample_rate=m.prep.sample_rate)
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

    def _audio(self, z: np.ndarray, conditions: np.ndarray, min_db: np.ndarray, max_db: np.ndarray) -> np.ndarray:
        from timbrespace.features import StftGeometry, retrieve_phase

        prep = self._m.prep
        mag = self._m.magnitudes_of(self._m.decode(z, conditions), min_db, max_db)
        geometry = StftGeometry(prep.n_fft, prep.hop_length, prep.n_fft)
        audio, _, _ = retrieve_phase(mag, geometry, n_samples=prep.n_samples, method="pghi+gl", n_iter=_N_ITER)
        return audio

    def decode_batch(self, z: np.ndarray, options: Mapping[str, Any]) -> list[Clip]:
        labels = (options["descriptor"], options["magnitude"], options["pitch"])
        cond = np.repeat(self._m.conditions(*labels)[None], len(z), axis=0)
        lo, hi = self._m.db_range(*labels)
        audio = self._audio(z, cond, np.full(len(z), lo), np.full(len(z), hi))
        return [Clip(y, self.sample_rate) for y in audio]

    def _item_clips(self, index: int, options: Mapping[str, Any]) -> tuple[Clip, Clip]:
        rows = np.array([index])
        lo, hi = self._m.item_range(rows)
        recon = self._audio(self.items().latents[rows], self._m.conditions_of(rows), lo, hi)[0]
        return Clip(self._m.originals(rows)[0], self.sample_rate), Clip(recon, self.sample_rate)

    def _path_clip(self, a: int, b: int, t: np.ndarray, z: np.ndarray, options: Mapping[str, Any]) -> Clip:
        cond = self._m.conditions_of(np.array([a, b]))
        lo, hi = self._m.item_range(np.array([a, b]))
        tc = t[:, None]
        audio = self._audio(z, ((1 - tc) * cond[0] + tc * cond[1]).astype(np.float32),
                            (1 - t) * lo[0] + t * lo[1], (1 - t) * hi[0] + t * hi[1])
        gap = np.zeros((len(audio), int(0.1 * self.sample_rate)), np.float32)
        joined = np.concatenate([audio, gap], axis=1)
        starts = tuple(k * joined.shape[1] / self.sample_rate for k in range(len(audio)))
        return Clip(joined.reshape(-1), self.sample_rate, step_starts_s=starts)

    def export_part(self, part: str) -> ExportPart:
        from dataclasses import asdict

        from timbrespace.explore.export import EXPORT_FORMAT

        net, cfg, m = self._m.net, self._m.net.config, self._m
        n_c = cfg.n_conditions
        common = {"format": EXPORT_FORMAT, "run_kind": self.kind, "part": part, "latent_dim": cfg.latent_dim,
                  "preprocessing": asdict(m.prep), "sample_rate": self.sample_rate,
                  "conditions": {"layout": "one-hot descriptor, magnitude / 100, one-hot pitch",
                                 "descriptors": m.descriptors, "pitches": m.pitches, "magnitudes": m.magnitudes},
                  "inversion": "x in [0, 1] → dB with the note's min_db/max_db → append a Nyquist row at min_db "
                               "→ amplitude → phase retrieval (STFT n_fft 1024, hop 256, Hann, centred)"}
        shape = ["n", 1, *cfg.input_shape]
        if part == "decoder":
            return ExportPart(_TimbreDecoder(net), (torch.zeros(2, cfg.latent_dim), torch.zeros(2, n_c)),
                              ("z", "c"), ("x",), {**common, "inputs": {"z": ["n", cfg.latent_dim], "c": ["n", n_c]},
                                                   "outputs": {"x": shape}})
        return ExportPart(_TimbreEncoder(net), (torch.zeros(2, 1, *cfg.input_shape), torch.zeros(2, n_c)),
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
