"""Groove feel: how a drummer's velocities and micro-timing depend on the drum and the beat.

A quantised, constant-velocity pattern (hits only: GrooVAE's H matrix, Gillick et al.
2019) is made expressive by giving each hit a velocity (V) and an offset from its step (O)
drawn from a simple model estimated on real grooves: for each voice and each position of
the step in its quarter-note beat (0..steps_per_quarter-1, so 4 positions on a 16th grid),
the mean and standard deviation of the velocities and offsets of the training hits in that
cell. A cell with fewer than ``min_count`` hits borrows the statistics of its voice over
every position, and a voice with too few hits those of every hit. Each hit's velocity and
offset are drawn independently from normals with those moments, clipped to [1/127, 1]
and [-0.45, 0.45] steps (a hit half a step away would be read back on the neighbouring
step: MIDI readers round to the nearest step, ties to even).

This is a per-cell Gaussian, not GrooVAE's sequence-to-sequence "Humanize" model: it
knows that a hi-hat on the "e" of a beat is soft and late in this corpus, not how one hit
of a particular groove depends on the others (a fill's crescendo, a push into the next
bar). It does capture swing: a corpus of swung grooves gives late odd 16ths.
:meth:`GrooveFeel.expected` gives the model's mean velocity and offset of every hit, the
prediction its held-out errors are measured with.

The shipped default (:func:`default_feel`) was estimated from the 4/4 bars of the 300 human-
written MIDI grooves of ``../shared/data/grooves`` (MMA's standard library and Peter
Falk's loops, de-duplicated as ``drums ingest`` does, every split) on the magenta9 map at
16 steps per bar; ``tests/patterns/test_feel.py`` re-estimates it from the data and
compares.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.patterns.drum_maps import get_drum_map
from timbrespace.patterns.midi import check_offsets
from timbrespace.utils.atomic import read_json
from timbrespace.utils.limits import check_seed

__all__ = ["FEEL_FORMAT", "GrooveFeel", "fit_groove_feel", "feel_from_dataset", "default_feel", "read_feel"]

FEEL_FORMAT = "timbrespace.groove_feel/1"
DEFAULT_FEEL = "feel_grooves.json"
"""The shipped feel, a file of this package."""
MIN_VELOCITY = 1 / 127
MAX_DRAWN_OFFSET_STEPS = 0.45
"""Largest offset the feel gives a hit, in steps: clear of the half step where reading back is ambiguous."""


@dataclass(frozen=True)
class GrooveFeel:
    """Velocity and micro-timing statistics per (voice, position in the beat).

    Attributes
    ----------
    drum_map : str
    steps_per_quarter : int
        Grid steps in a quarter note; a step's position in its beat is ``step % steps_per_quarter``.
    velocity_mean, velocity_sd : np.ndarray [shape=(n_voices, steps_per_quarter), dtype=float64]
        Velocity in [0, 1] (MIDI velocity / 127).
    offset_mean, offset_sd : np.ndarray [shape=(n_voices, steps_per_quarter), dtype=float64]
        Offset from the step, in steps.
    counts : np.ndarray [shape=(n_voices, steps_per_quarter), dtype=int64]
        Training hits in each cell.
    min_count : int
        Fewest hits for a cell's own statistics (fewer: its voice's, then every hit's).
    source : str
        Where the statistics come from (a dataset folder, in words).
    """

    drum_map: str
    steps_per_quarter: int
    velocity_mean: np.ndarray
    velocity_sd: np.ndarray
    offset_mean: np.ndarray
    offset_sd: np.ndarray
    counts: np.ndarray
    min_count: int
    source: str

    @property
    def n_voices(self) -> int:
        return int(self.velocity_mean.shape[0])

    def _cells(self, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The hits of ``patterns`` (bool) and each step's position in its beat, checked."""
        p = np.asarray(patterns, dtype=np.float64)
        if p.ndim == 2:
            p = p[None]
        if p.ndim != 3 or p.shape[2] != self.n_voices or p.shape[1] < 1:
            raise ParameterError(f"patterns shape {np.shape(patterns)} must be (n_bars, n_steps, {self.n_voices}) "
                                 f"for drum_map={self.drum_map!r}")
        if not np.isfinite(p).all():
            raise ParameterError("patterns contain NaN or infinite values")
        return p > 0, np.arange(p.shape[1]) % self.steps_per_quarter

    def expected(self, patterns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The model's mean velocity and offset of every hit of ``patterns``.

        Parameters
        ----------
        patterns : np.ndarray [shape=(n_bars, n_steps, n_voices)]
            Hits where > 0 (their values are not read).

        Returns
        -------
        velocities : np.ndarray [shape=(n_bars, n_steps, n_voices), dtype=float32]
            In [1/127, 1] at hits, 0 elsewhere.
        offsets : np.ndarray [shape=(n_bars, n_steps, n_voices), dtype=float32]
            Steps, in [-0.45, 0.45] at hits, 0 elsewhere.
        """
        hits, pos = self._cells(patterns)
        v = np.broadcast_to(self.velocity_mean.T[pos][None], hits.shape)
        o = np.broadcast_to(self.offset_mean.T[pos][None], hits.shape)
        return self._masked(hits, v, o)

    def humanize(self, patterns: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Draw a velocity and an offset for every hit of ``patterns``.

        The draws are made for every cell, hit or not, from one generator, so a hit's
        velocity and offset depend on the seed and its cell only, not on the other hits.

        Parameters
        ----------
        patterns : np.ndarray [shape=(n_bars, n_steps, n_voices)]
            Hits where > 0; their velocities are replaced.
        seed : int
            Seed of the draws, ``0 <= seed < 2**32``.

        Returns
        -------
        velocities, offsets : np.ndarray [shape=(n_bars, n_steps, n_voices), dtype=float32]
            As :meth:`expected`, drawn.

        Examples
        --------
        >>> feel = default_feel()
        >>> p = np.zeros((1, 16, 9), np.float32)
        >>> p[0, ::2, 2] = 1.0  # eighth-note hi-hats
        >>> v, o = feel.humanize(p, seed=0)
        >>> bool(((v > 0) == (p > 0)).all()), bool((abs(o) <= 0.5).all())
        (True, True)
        """
        check_seed(seed)
        hits, pos = self._cells(patterns)
        rng = np.random.default_rng(np.random.SeedSequence([seed, 31]))
        noise_v = rng.standard_normal(hits.shape)
        noise_o = rng.standard_normal(hits.shape)
        v = self.velocity_mean.T[pos][None] + noise_v * self.velocity_sd.T[pos][None]
        o = self.offset_mean.T[pos][None] + noise_o * self.offset_sd.T[pos][None]
        return self._masked(hits, v, o)

    @staticmethod
    def _masked(hits: np.ndarray, v: np.ndarray, o: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        velocities = np.where(hits, np.clip(v, MIN_VELOCITY, 1.0), 0.0).astype(np.float32)
        offsets = np.where(hits, np.clip(o, -MAX_DRAWN_OFFSET_STEPS, MAX_DRAWN_OFFSET_STEPS), 0.0).astype(np.float32)
        return velocities, offsets

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (format :data:`FEEL_FORMAT`); :meth:`from_dict` reads it back."""
        return {
            "format": FEEL_FORMAT, "drum_map": self.drum_map, "steps_per_quarter": self.steps_per_quarter,
            "voice_names": list(get_drum_map(self.drum_map).voice_names), "min_count": self.min_count,
            "source": self.source,
            "velocity_mean": np.round(self.velocity_mean, 6).tolist(), "velocity_sd": np.round(self.velocity_sd, 6).tolist(),
            "offset_mean_steps": np.round(self.offset_mean, 6).tolist(),
            "offset_sd_steps": np.round(self.offset_sd, 6).tolist(), "counts": self.counts.tolist(),
        }

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "feel") -> GrooveFeel:
        """Validate and build from :meth:`to_dict`'s form.

        Raises
        ------
        DatasetError
            Another format, a missing field, or arrays of the wrong shape or range
            (the message names ``where``).
        """
        if not isinstance(data, dict) or data.get("format") != FEEL_FORMAT:
            raise DatasetError(f"{where}: not a groove feel (format {FEEL_FORMAT!r} expected)")
        try:
            dmap = get_drum_map(str(data["drum_map"]))
            spq = int(data["steps_per_quarter"])
            shape = (dmap.n_voices, spq)
            arrays = {k: np.asarray(data[k], dtype=np.float64) for k in
                      ("velocity_mean", "velocity_sd", "offset_mean_steps", "offset_sd_steps", "counts")}
            min_count, source = int(data["min_count"]), str(data["source"])
        except (KeyError, TypeError, ValueError, ParameterError) as exc:
            raise DatasetError(f"{where}: damaged groove feel ({type(exc).__name__}: {exc})") from None
        for name, arr in arrays.items():
            if arr.shape != shape or not np.isfinite(arr).all():
                raise DatasetError(f"{where}: {name} has shape {arr.shape} (or NaN); expected {shape}")
        if (arrays["velocity_sd"] < 0).any() or (arrays["offset_sd_steps"] < 0).any() or spq < 1:
            raise DatasetError(f"{where}: negative standard deviations or steps_per_quarter={spq}")
        return cls(dmap.name, spq, arrays["velocity_mean"], arrays["velocity_sd"], arrays["offset_mean_steps"],
                   arrays["offset_sd_steps"], arrays["counts"].astype(np.int64), min_count, source)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON, atomically."""
        from timbrespace.utils.atomic import atomic_write_json

        return atomic_write_json(Path(path), self.to_dict())


def _moments(values: np.ndarray) -> tuple[float, float]:
    return float(np.mean(values)), float(np.std(values))


def fit_groove_feel(patterns: np.ndarray, offsets: np.ndarray, *, drum_map: str = "magenta9",
                    steps_per_quarter: float = 4, min_count: int = 5, source: str = "") -> GrooveFeel:
    """Estimate a :class:`GrooveFeel` from grooves with velocities and offsets.

    Parameters
    ----------
    patterns : np.ndarray [shape=(n_bars, n_steps, n_voices)]
        Velocities in [0, 1], 0 = no hit (a groove dataset's patterns).
    offsets : np.ndarray [shape=(n_bars, n_steps, n_voices)]
        Offsets in steps, in [-0.5, 0.5] (:func:`~timbrespace.patterns.dataset.load_offsets`).
    drum_map : {"magenta9", "seed8"}
    steps_per_quarter : float
        Must be a whole number (positions in a beat).
    min_count : int
        Fewest hits for a cell's own statistics, >= 1.
    source : str
        Recorded in the feel.

    Returns
    -------
    GrooveFeel

    Raises
    ------
    ParameterError
        Shapes that differ or do not match the drum map, offsets out of range, a grid with
        a fractional number of steps per quarter, ``min_count < 1``.
    DatasetError
        No hit at all to estimate from.
    """
    dmap = get_drum_map(drum_map)
    if float(steps_per_quarter) != int(steps_per_quarter) or steps_per_quarter < 1:
        raise ParameterError(f"steps_per_quarter={steps_per_quarter} must be a whole number of steps for a feel "
                             "(positions in the beat)")
    if int(min_count) != min_count or min_count < 1:
        raise ParameterError(f"min_count={min_count} must be a positive integer")
    spq = int(steps_per_quarter)
    x = np.asarray(patterns, dtype=np.float64)
    if x.ndim != 3 or x.shape[2] != dmap.n_voices:
        raise ParameterError(f"patterns shape {x.shape} must be (n_bars, n_steps, {dmap.n_voices})")
    o = check_offsets(offsets, x.shape)
    if o is None:
        raise ParameterError("offsets=None: a feel is estimated from offsets (load_offsets)")
    hits = x > 0
    if not hits.any():
        raise DatasetError("no hits to estimate a groove feel from")
    pos = np.arange(x.shape[1]) % spq
    shape = (dmap.n_voices, spq)
    stats = {k: np.zeros(shape) for k in ("vm", "vs", "om", "os")}
    counts = np.zeros(shape, np.int64)
    everything = (*_moments(x[hits]), *_moments(o[hits]))
    for v in range(dmap.n_voices):
        voice_hits = hits[:, :, v]
        voice = ((*_moments(x[:, :, v][voice_hits]), *_moments(o[:, :, v][voice_hits]))
                 if voice_hits.sum() >= min_count else everything)
        for q in range(spq):
            cell = voice_hits[:, pos == q]
            counts[v, q] = int(cell.sum())
            if counts[v, q] >= min_count:
                moments = (*_moments(x[:, pos == q, v][cell]), *_moments(o[:, pos == q, v][cell]))
            else:
                moments = voice
            for key, value in zip(("vm", "vs", "om", "os"), moments, strict=True):
                stats[key][v, q] = value
    return GrooveFeel(dmap.name, spq, stats["vm"], stats["vs"], stats["om"], stats["os"], counts, int(min_count),
                      source)


def feel_from_dataset(dataset: str | Path | Dataset, *, split: str | None = "train",
                      min_count: int = 5) -> GrooveFeel:
    """Estimate the feel of a groove dataset's bars (its ``train`` split by default; None: every bar).

    Raises
    ------
    DatasetError
        Not a groove dataset, a dataset ingested before offsets were kept (re-ingest it),
        no such split or no hit in it.
    """
    from timbrespace.patterns.dataset import PATTERNS_FEATURE, load_offsets, load_patterns

    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    x, _ = load_patterns(ds, split)
    o = load_offsets(ds, split)
    if o is None:
        raise DatasetError(f"{ds.root}: this groove dataset has no micro-timing offsets (ingested by an older "
                           "timbrespace); ingest its MIDI again with `timbrespace drums ingest --overwrite`")
    sidecar = ds.feature_sidecar(PATTERNS_FEATURE)
    where = f"{ds.root.name} ({split} split)" if split else ds.root.name
    return fit_groove_feel(x, o, drum_map=str(sidecar["drum_map"]), steps_per_quarter=float(sidecar["steps_per_quarter"]),
                           min_count=min_count, source=f"groove dataset {where}, {len(x)} bars")


def read_feel(path: str | Path) -> GrooveFeel:
    """A feel saved by :meth:`GrooveFeel.save`.

    Raises
    ------
    DatasetError
        Unreadable, not JSON, or not a groove feel.
    """
    return GrooveFeel.from_dict(read_json(path, "groove feel"), where=str(path))


def default_feel() -> GrooveFeel:
    """The shipped feel, estimated from 300 human-written grooves (see the module docstring)."""
    text = resources.files("timbrespace.patterns").joinpath(DEFAULT_FEEL).read_text()
    return GrooveFeel.from_dict(json.loads(text), where=DEFAULT_FEEL)
