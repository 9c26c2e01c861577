"""The explorer's adapter for ``drums`` runs (seed 004: a groove VAE and its click pad).

A decoded ``z`` is a one-bar groove (hits above the run's calibrated threshold, with the
decoder's velocities), looped ``bars`` times on a kit at a tempo and swing, as
``drums sample`` renders it; it downloads as WAV or MIDI (swung as the audio). A dataset
item plays with its own micro-timing (the groove dataset's offsets), its reconstruction on
the grid. The kits offered are the GM
soundfont (``soundfont``) and the Hydrogen kits found in ``$TIMBRESPACE_DRUMKITS``, the
standard Hydrogen folders and the folders given to :class:`DrumsExplorable`. The pad's
default plane is the run's own click plane (the two latents of highest KL, as
``drums sample --at X Y`` uses). A path between two bars plays its steps bar after bar.

Everything this module needs from the drums run goes through :class:`_GrooveModel` (a
:class:`~timbrespace.experiments.drums_run.GrooveRun`: the shared :class:`VAE` with a
``gru`` or ``mlp`` architecture).
"""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from timbrespace.conventions import MAX_SWING
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.explore.base import Explorable
from timbrespace.explore.types import Clip, ExportPart, Option

__all__ = ["DrumsExplorable", "available_kits", "SAMPLE_RATE"]

logger = logging.getLogger(__name__)

SAMPLE_RATE = 44100
"""Hz of the rendered grooves."""


def available_kits(extra_dirs: Sequence[str | Path] = ()) -> dict[str, Path]:
    """Hydrogen kits by folder name: in ``extra_dirs``, ``$TIMBRESPACE_DRUMKITS``, then the standard folders.

    A kit is a folder with a ``drumkit.xml``; ``extra_dirs`` may also name kit folders.
    The first kit of a name wins.
    """
    from timbrespace.patterns.kits import KIT_SEARCH_PATH

    roots = [*map(str, extra_dirs), *[d for d in os.environ.get("TIMBRESPACE_DRUMKITS", "").split(os.pathsep) if d],
             *KIT_SEARCH_PATH]
    kits: dict[str, Path] = {}
    for r in roots:
        root = Path(r).expanduser()
        candidates = [root] if (root / "drumkit.xml").is_file() else sorted(root.iterdir()) if root.is_dir() else []
        for d in candidates:
            if (d / "drumkit.xml").is_file():
                kits.setdefault(d.name, d.resolve())
    return kits


class _GrooveModel:
    """The few things the explorer uses of a groove run (:mod:`timbrespace.experiments.drums_run`)."""

    def __init__(self, root: Path) -> None:
        from timbrespace.datasets import Dataset
        from timbrespace.experiments.drums_run import load_groove_run, read_drums_config
        from timbrespace.patterns.dataset import load_offsets, load_patterns

        self.run = load_groove_run(root)
        config = read_drums_config(root)
        try:
            dataset = Dataset(config["dataset"])
        except DatasetError as exc:
            raise DatasetError(f"{root}: the dataset it was trained on is gone ({exc})") from None
        self.patterns, self.metadata = load_patterns(dataset)
        self.offsets = load_offsets(dataset)  # the items' micro-timing; None for an older dataset
        self.net = self.run.model
        self.latent_dim = self.net.config.latent_dim
        self.n_steps, self.n_voices = (int(n) for n in self.net.config.input_shape)

    def encode_all(self) -> tuple[np.ndarray, np.ndarray]:
        from timbrespace.experiments.drums_eval import model_inputs
        from timbrespace.training import encode_array

        return encode_array(self.net, model_inputs(self.net, self.patterns, self.offsets), return_logvar=True)

    def decode(self, z: np.ndarray) -> np.ndarray:
        from timbrespace.experiments.drums_generate import decode_latents

        return decode_latents(self.run, z)

    def render(self, bars: np.ndarray, kit: Any, *, bpm: float, swing: float,
               offsets: np.ndarray | None = None) -> np.ndarray:
        from timbrespace.patterns.render import render_patterns

        return render_patterns(bars, kit, bpm=bpm, drum_map=self.run.drum_map, steps_per_quarter=self.run.steps_per_quarter,
                               sample_rate=SAMPLE_RATE, swing=swing, offsets=offsets)

    def midi(self, bars: np.ndarray, *, bpm: float, swing: float) -> bytes:
        from timbrespace.patterns.midi import patterns_to_midi

        buf = io.BytesIO()
        patterns_to_midi(bars, drum_map=self.run.drum_map, bpm=bpm, time_signature=self.run.time_signature,
                         swing=swing).save(file=buf)
        return buf.getvalue()

    def bar_s(self, bpm: float) -> float:
        return self.n_steps / self.run.steps_per_quarter * 60.0 / bpm

    def voice_names(self) -> list[str]:
        return list(self.run.voice_names)


class DrumsExplorable(Explorable):
    """A ``drums train`` run folder, opened for the explorer.

    Parameters
    ----------
    root : path-like
        The run folder.
    kit_dirs : sequence of path-like
        More folders holding Hydrogen kits (or kit folders themselves).

    Raises
    ------
    ConfigError, DatasetError
        Not a drums run, or its groove dataset is gone.
    """

    kind = "drums"
    cannot_encode = "it encodes drum grooves, not audio"
    static_grid = 5

    def __init__(self, root: str | Path, *, kit_dirs: Sequence[str | Path] = ()) -> None:
        from timbrespace.patterns.kits import find_kit

        self._m = m = _GrooveModel(Path(root))
        super().__init__(root, latent_dim=m.latent_dim, sample_rate=SAMPLE_RATE)
        mu, logvar = m.encode_all()
        factors = m.metadata[["style", "library", "n_hits"]].copy()
        self._set_items(m.metadata["item_id"].astype(str).tolist(), mu, logvar, factors,
                        m.metadata["split"].astype(str).tolist())
        self._kit_paths: dict[str, Path | None] = {}
        try:
            self._kits: dict[str, Any] = {"soundfont": find_kit("soundfont")}
            self._kit_paths["soundfont"] = None
        except ParameterError as exc:
            logger.warning("no GM soundfont: %s", exc)
            self._kits = {}
        self._kit_paths.update(available_kits(kit_dirs))
        if not self._kit_paths:
            raise DatasetError("no drum kit to play grooves on: no GM soundfont and no Hydrogen kit found "
                               "(set TIMBRESPACE_DRUMKITS to a folder of kits)")
        names = tuple(self._kit_paths)
        self.options = (
            Option("kit", "kit", names[0], values=names),
            Option("bpm", "tempo", 120.0, min=40.0, max=300.0, step=1.0, unit=" BPM"),
            Option("swing", "swing", 0.0, min=0.0, max=MAX_SWING, step=0.01),
            Option("bars", "bars", 2, min=1, max=8, step=1),
        )

    def _kit(self, name: str) -> Any:
        from timbrespace.patterns.kits import find_kit

        if name not in self._kits:
            self._kits[name] = find_kit(str(self._kit_paths[name]))
        return self._kits[name]

    def default_plane(self, ranked: list[int]) -> list[int]:
        return [int(d) for d in self._m.run.latent_plane_dims]

    def extra_info(self) -> dict[str, Any]:
        return {"voices": self._m.voice_names(), "n_steps": self._m.n_steps,
                "steps_per_quarter": self._m.run.steps_per_quarter,
                "time_signature": list(self._m.run.time_signature), "threshold": self._m.run.threshold}

    def _clip(self, pattern: np.ndarray, options: Mapping[str, Any], offsets: np.ndarray | None = None) -> Clip:
        loop = np.repeat(pattern[None], int(options["bars"]), axis=0)
        timing = None if offsets is None else np.repeat(offsets[None], int(options["bars"]), axis=0)
        audio = self._m.render(loop, self._kit(options["kit"]), bpm=options["bpm"], swing=options["swing"], offsets=timing)
        return Clip(audio, SAMPLE_RATE, pattern=pattern)

    def decode_batch(self, z: np.ndarray, options: Mapping[str, Any]) -> list[Clip]:
        return [self._clip(p, options) for p in self._m.decode(z)]

    def decode_midi(self, z: Any, **options: Any) -> bytes:
        """The groove at ``z`` looped ``bars`` times, as a Standard MIDI File (drum channel)."""
        checked = self.check_options(options)
        pattern = self._m.decode(self.check_z(z)[None])[0]
        return self._m.midi(np.repeat(pattern[None], int(checked["bars"]), axis=0), bpm=checked["bpm"],
                            swing=checked["swing"])

    def _item_clips(self, index: int, options: Mapping[str, Any]) -> tuple[Clip, Clip]:
        recon = self._m.decode(self.items().latents[index : index + 1])[0]
        timing = None if self._m.offsets is None else self._m.offsets[index]
        return self._clip(self._m.patterns[index], options, timing), self._clip(recon, options)

    def _path_clip(self, a: int, b: int, t: np.ndarray, z: np.ndarray, options: Mapping[str, Any]) -> Clip:
        patterns = self._m.decode(z)
        audio = self._m.render(patterns, self._kit(options["kit"]), bpm=options["bpm"], swing=options["swing"])
        bar_s = self._m.bar_s(options["bpm"])
        return Clip(audio, SAMPLE_RATE, pattern=patterns, step_starts_s=tuple(k * bar_s for k in range(len(z))))

    def export_part(self, part: str) -> ExportPart:
        from timbrespace.explore.export import EXPORT_FORMAT

        net, cfg, run = self._m.net, self._m.net.config, self._m.run
        grid = ["n", self._m.n_steps, self._m.n_voices]
        velocities = cfg.likelihood in ("hit_velocity", "hvo")
        common = {"format": EXPORT_FORMAT, "run_kind": self.kind, "part": part, "latent_dim": cfg.latent_dim,
                  "drum_map": run.drum_map, "voices": self._m.voice_names(), "threshold": run.threshold,
                  "steps_per_quarter": run.steps_per_quarter, "time_signature": list(run.time_signature),
                  "velocities": velocities,
                  "pattern": "a hit where hit_probability > threshold; its velocity in [0, 1] × 127 is the MIDI "
                             "velocity (0.8 for a hits-only model)"}
        if part == "decoder":
            outputs = ("hit_probability", "velocity") if velocities else ("hit_probability",)
            return ExportPart(_GrooveDecoder(net), (torch.zeros(2, cfg.latent_dim),), ("z",), outputs,
                              {**common, "inputs": {"z": ["n", cfg.latent_dim]}, "outputs": dict.fromkeys(outputs, grid)})
        common["encoder_input"] = _ENCODER_INPUTS[cfg.likelihood]
        item_grid = ["n", *cfg.item_shape]
        return ExportPart(_GrooveEncoder(net), (torch.zeros(2, *cfg.item_shape),), ("pattern",),
                          ("mu", "logvar"), {**common, "inputs": {"pattern": item_grid},
                                             "outputs": {"mu": ["n", cfg.latent_dim], "logvar": ["n", cfg.latent_dim]}})


_ENCODER_INPUTS = {"bernoulli": "hits: 1 where a cell has a hit, else 0", "hit_velocity": "velocities in [0, 1]",
                   "hvo": "[velocities in [0, 1], micro-timing offsets in steps in [-0.5, 0.5]] per cell"}


class _GrooveDecoder(torch.nn.Module):
    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, z: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        probs, velocities = self.net.hits_and_velocities(z)
        return probs if velocities is None else (probs, velocities)


class _GrooveEncoder(torch.nn.Module):
    def __init__(self, net: torch.nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, pattern: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mu, logvar = self.net.encode(pattern)
        return mu, logvar
