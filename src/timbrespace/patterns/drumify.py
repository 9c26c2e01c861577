"""Drumify: a full drum pattern from a tapped rhythm (GrooVAE's inverse transformation "Drumify").

Gillick et al. (2019) train GrooVAE to invert a transformation of a groove: Drumify
collapses every hit of a bar to one track (a "tap" at each step where any drum plays,
with its timing and velocity) and learns to map that tap rhythm back to the full kit.
This is a small version of the same mapping, fitted in a second: for every tap, one
logistic regression per drum voice (scikit-learn's ``LogisticRegression``, L2, lbfgs)
predicts whether that voice plays, from a window of the tap track around it (velocities,
tap/no tap, micro-timing offsets, velocities relative to the bar's loudest tap), the
tap's position in the bar (one-hot) and the bar's tap density and loudest tap. Voices
whose probability exceeds ``threshold`` play; a tap where none does plays its most
probable voice, so every tap sounds and nothing plays between taps; of the pairs in
:data:`EXCLUSIVE_PAIRS` (open and closed hi-hat) only the more probable plays at a tap,
as a drummer plays them (independent classifiers stacked both hats on 22 of 32 taps of a
rock groove; held-out F1 0.471 against 0.445 without the rule on the test split, 0.503
against 0.514 over 5 folds of held-out styles; making kick and snare a pair too fell to
0.471 there, below the per-position rates). A voice plays at its
tap's offset, with the tap's velocity times the voice's median ratio (in the training
bars) of its velocity to the tap's at that position in the beat.

The tap track of a bar, for training: at each step the largest velocity of any voice,
and the offset of that loudest hit (:func:`tap_track`).

The shipped default (:func:`default_drumify`) was fitted on every 4/4 bar of the 300
human-written grooves of ``../shared/data/grooves`` (ingested as ``drums ingest`` does)
on the magenta9 map at 16 steps per bar; ``tests/patterns/test_drumify.py`` fits it
again and compares. Its hyper-parameters (window 2, ``C=0.1``, threshold 0.25) were
chosen by 5-fold cross-validation over styles within the training split.

References
----------
Gillick, Roberts, Engel, Eck, Bamman (2019). Learning to Groove with Inverse Sequence
Transformations. ICML (Section 5.3, "Drumify").
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

__all__ = ["DRUMIFY_FORMAT", "Drumify", "tap_track", "tap_features", "fit_drumify", "drumify_from_dataset",
           "read_drumify", "default_drumify"]

DRUMIFY_FORMAT = "timbrespace.drumify/1"
DEFAULT_DRUMIFY = "drumify_grooves.json"
"""The shipped model, a file of this package."""
STEPS_PER_BAR = 16
"""The grid of the model: 16 steps in a 4/4 bar (positions are one-hot over them)."""
STEPS_PER_QUARTER = 4
MIN_VELOCITY = 1 / 127
EXCLUSIVE_PAIRS = (("closed_hat", "open_hat"),)
"""Voices that do not play at the same tap: the more probable of a pair plays."""
_SATURATED_LOGIT = 20.0
"""Intercept of a voice that always or never plays in the training taps (nothing to regress)."""


def tap_track(patterns: np.ndarray, offsets: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Collapse grooves to one track of taps: GrooVAE's Drumify input.

    Parameters
    ----------
    patterns : np.ndarray [shape=(n_bars, n_steps, n_voices)]
        Velocities in [0, 1], 0 = no hit.
    offsets : np.ndarray [shape=(n_bars, n_steps, n_voices)] or None
        Offsets in steps, in [-0.5, 0.5]; None: every hit on its step.

    Returns
    -------
    tap_velocities : np.ndarray [shape=(n_bars, n_steps), dtype=float32]
        The largest velocity of any voice at each step, 0 where none plays.
    tap_offsets : np.ndarray [shape=(n_bars, n_steps), dtype=float32]
        The offset of that loudest hit, 0 where no tap.

    Examples
    --------
    >>> p = np.zeros((1, 16, 9), np.float32)
    >>> p[0, 0, 0], p[0, 0, 2], p[0, 4, 1] = 0.9, 0.5, 0.8
    >>> v, o = tap_track(p)
    >>> np.round(v[0, :5], 2).tolist()
    [0.9, 0.0, 0.0, 0.0, 0.8]
    """
    x = np.asarray(patterns, dtype=np.float32)
    if x.ndim != 3:
        raise ParameterError(f"patterns shape {x.shape} must be (n_bars, n_steps, n_voices)")
    o = check_offsets(offsets, x.shape)
    velocities = x.max(axis=2)
    if o is None:
        return velocities, np.zeros_like(velocities)
    loudest = x.argmax(axis=2)[..., None]
    tap_offsets = np.take_along_axis(np.asarray(o, np.float32), loudest, axis=2)[..., 0]
    return velocities, np.where(velocities > 0, tap_offsets, 0).astype(np.float32)


def tap_features(tap_velocities: np.ndarray, tap_offsets: np.ndarray, *, window: int) -> np.ndarray:
    """Features of every step of tap tracks: the model's input.

    Parameters
    ----------
    tap_velocities, tap_offsets : np.ndarray [shape=(n_bars, n_steps)]
        As :func:`tap_track` returns (velocities in [0, 1], offsets in steps).
    window : int
        Steps either side of a step that it sees (the bar wraps around: grooves loop).

    Returns
    -------
    np.ndarray [shape=(n_bars, n_steps, 4 * (2 * window + 1) + n_steps + 2), dtype=float64]
        Per step of the window: velocity, tap (0/1), offset, velocity / the bar's loudest
        tap; then the step's position (one-hot) and the bar's tap density and loudest tap.
    """
    v = np.asarray(tap_velocities, dtype=np.float64)
    off = np.asarray(tap_offsets, dtype=np.float64)
    if v.ndim != 2 or off.shape != v.shape:
        raise ParameterError(f"tap shapes {v.shape}, {off.shape} must be equal, (n_bars, n_steps)")
    n_bars, n_steps = v.shape
    loudest = v.max(axis=1, keepdims=True)
    relative = v / np.where(loudest > 0, loudest, 1.0)
    columns = []
    for d in range(-window, window + 1):
        r = np.roll(v, -d, axis=1)
        columns += [r, (r > 0).astype(np.float64), np.roll(off, -d, axis=1), np.roll(relative, -d, axis=1)]
    position = np.broadcast_to(np.eye(n_steps)[None], (n_bars, n_steps, n_steps))
    bar = np.repeat(np.stack([(v > 0).mean(axis=1), loudest[:, 0]], axis=-1)[:, None, :], n_steps, axis=1)
    return np.concatenate([np.stack(columns, axis=-1), position, bar], axis=-1)


@dataclass(frozen=True)
class Drumify:
    """A fitted tap → full-kit model: one logistic regression per voice.

    Attributes
    ----------
    drum_map : str
    window : int
        Steps either side of a tap that the model sees.
    threshold : float
        Probability above which a voice plays at a tap, in (0, 1).
    coef : np.ndarray [shape=(n_voices, n_features), dtype=float64]
    intercept : np.ndarray [shape=(n_voices,), dtype=float64]
    velocity_ratio : np.ndarray [shape=(n_voices, 4), dtype=float64]
        Median of (voice velocity / tap velocity) per position in the beat.
    n_bars : int
        Training bars.
    source : str
        Where it was fitted (in words).
    """

    drum_map: str
    window: int
    threshold: float
    coef: np.ndarray
    intercept: np.ndarray
    velocity_ratio: np.ndarray
    n_bars: int
    source: str

    def probabilities(self, tap_velocities: np.ndarray, tap_offsets: np.ndarray) -> np.ndarray:
        """Probability that each voice plays at each step, given it is a tap.

        Returns
        -------
        np.ndarray [shape=(n_bars, 16, n_voices), dtype=float64]
        """
        v = np.asarray(tap_velocities, dtype=np.float64)
        if v.ndim != 2 or v.shape[1] != STEPS_PER_BAR:
            raise ParameterError(f"tap_velocities shape {v.shape} must be (n_bars, {STEPS_PER_BAR})")
        if not (np.isfinite(v).all() and np.isfinite(np.asarray(tap_offsets, np.float64)).all()):
            raise ParameterError("taps contain NaN or infinite values")
        logits = tap_features(v, tap_offsets, window=self.window) @ self.coef.T + self.intercept
        return 1.0 / (1.0 + np.exp(-logits))

    def predict(self, tap_velocities: np.ndarray, tap_offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Full-kit patterns from tap tracks.

        Parameters
        ----------
        tap_velocities : np.ndarray [shape=(n_bars, 16)]
            Velocities in [0, 1]; > 0 at a tap.
        tap_offsets : np.ndarray [shape=(n_bars, 16)]
            Each tap's offset from its step, in steps, in [-0.5, 0.5].

        Returns
        -------
        patterns : np.ndarray [shape=(n_bars, 16, n_voices), dtype=float32]
            Velocities in [1/127, 1] where a voice plays (only at taps; at least one voice
            at every tap), 0 elsewhere.
        offsets : np.ndarray [shape=(n_bars, 16, n_voices), dtype=float32]
            The tap's offset at each hit, 0 elsewhere.

        Raises
        ------
        ParameterError
            Shapes other than ``(n_bars, 16)``, NaN, offsets out of range.

        Examples
        --------
        >>> model = default_drumify()
        >>> taps = np.zeros((1, 16), np.float32)
        >>> taps[0, ::4] = 0.9  # four on the floor
        >>> patterns, offsets = model.predict(taps, np.zeros_like(taps))
        >>> bool(((patterns > 0).any(axis=2) == (taps > 0)).all())
        True
        """
        v = np.asarray(tap_velocities, dtype=np.float64)
        o = np.asarray(tap_offsets, dtype=np.float64)
        if o.shape != v.shape or (np.abs(o) > 0.5).any():
            raise ParameterError(f"tap_offsets shape {o.shape} must be {v.shape}, values in [-0.5, 0.5] steps")
        probs = self.probabilities(v, o)
        taps = v > 0
        plays = probs > self.threshold
        best = probs.argmax(axis=2)[..., None]
        silent = taps & ~plays.any(axis=2)
        np.put_along_axis(plays, best, np.take_along_axis(plays, best, axis=2) | silent[..., None], axis=2)
        plays &= taps[..., None]
        # a drummer plays one of each pair at a time (a hi-hat is open or closed): the less
        # probable of a pair is dropped
        names = list(get_drum_map(self.drum_map).voice_names)
        for a, b in EXCLUSIVE_PAIRS:
            if a in names and b in names:
                i, j = names.index(a), names.index(b)
                both = plays[..., i] & plays[..., j]
                first = probs[..., i] >= probs[..., j]
                plays[..., j] &= ~(both & first)
                plays[..., i] &= ~(both & ~first)
        ratio = self.velocity_ratio.T[np.arange(STEPS_PER_BAR) % STEPS_PER_QUARTER]  # (16, n_voices)
        velocities = np.clip(v[..., None] * ratio[None], MIN_VELOCITY, 1.0)
        patterns = np.where(plays, velocities, 0.0).astype(np.float32)
        offsets = np.where(plays, o[..., None], 0.0).astype(np.float32)
        return patterns, offsets

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form (format :data:`DRUMIFY_FORMAT`); :meth:`from_dict` reads it back."""
        return {
            "format": DRUMIFY_FORMAT, "drum_map": self.drum_map,
            "voice_names": list(get_drum_map(self.drum_map).voice_names), "steps_per_bar": STEPS_PER_BAR,
            "window": self.window, "threshold": self.threshold, "n_bars": self.n_bars, "source": self.source,
            "coef": np.round(self.coef, 8).tolist(), "intercept": np.round(self.intercept, 8).tolist(),
            "velocity_ratio": np.round(self.velocity_ratio, 6).tolist(),
        }

    @classmethod
    def from_dict(cls, data: Any, *, where: str = "drumify model") -> Drumify:
        """Validate and build from :meth:`to_dict`'s form.

        Raises
        ------
        DatasetError
            Another format, a missing field, arrays of the wrong shape or NaN (the message
            names ``where``).
        """
        if not isinstance(data, dict) or data.get("format") != DRUMIFY_FORMAT:
            raise DatasetError(f"{where}: not a drumify model (format {DRUMIFY_FORMAT!r} expected)")
        try:
            dmap = get_drum_map(str(data["drum_map"]))
            window, threshold = int(data["window"]), float(data["threshold"])
            coef = np.asarray(data["coef"], dtype=np.float64)
            intercept = np.asarray(data["intercept"], dtype=np.float64)
            ratio = np.asarray(data["velocity_ratio"], dtype=np.float64)
            n_bars, source = int(data["n_bars"]), str(data["source"])
        except (KeyError, TypeError, ValueError, ParameterError) as exc:
            raise DatasetError(f"{where}: damaged drumify model ({type(exc).__name__}: {exc})") from None
        n_features = 4 * (2 * window + 1) + STEPS_PER_BAR + 2
        shapes = {"coef": (coef, (dmap.n_voices, n_features)), "intercept": (intercept, (dmap.n_voices,)),
                  "velocity_ratio": (ratio, (dmap.n_voices, STEPS_PER_QUARTER))}
        for name, (arr, shape) in shapes.items():
            if arr.shape != shape or not np.isfinite(arr).all():
                raise DatasetError(f"{where}: {name} has shape {arr.shape} (or NaN); expected {shape}")
        if not 0 <= window < STEPS_PER_BAR or not 0 < threshold < 1:
            raise DatasetError(f"{where}: window={window} or threshold={threshold} out of range")
        return cls(dmap.name, window, threshold, coef, intercept, ratio, n_bars, source)

    def save(self, path: str | Path) -> Path:
        """Write :meth:`to_dict` as JSON, atomically."""
        from timbrespace.utils.atomic import atomic_write_json

        return atomic_write_json(Path(path), self.to_dict())


def fit_drumify(patterns: np.ndarray, offsets: np.ndarray | None = None, *, drum_map: str = "magenta9",
                window: int = 2, c: float = 0.1, threshold: float = 0.25, source: str = "") -> Drumify:
    """Fit a :class:`Drumify` model on grooves: their tap tracks → their full patterns.

    Parameters
    ----------
    patterns : np.ndarray [shape=(n_bars, 16, n_voices)]
        Velocities in [0, 1] of 4/4 bars at 16 steps (a groove dataset's patterns).
    offsets : np.ndarray [shape=(n_bars, 16, n_voices)] or None
        Offsets in steps (:func:`~timbrespace.patterns.dataset.load_offsets`).
    drum_map : {"magenta9", "seed8"}
    window : int
        Steps either side of a tap the model sees, 0..7.
    c : float
        Inverse L2 strength of the logistic regressions (scikit-learn's ``C``), > 0.
    threshold : float
        Probability above which a voice plays, in (0, 1).
    source : str
        Recorded in the model.

    Returns
    -------
    Drumify

    Raises
    ------
    ParameterError
        Shapes other than 16 steps of the drum map's voices, options out of range.
    DatasetError
        No hit to learn from.

    Notes
    -----
    Deterministic (lbfgs from zero weights): the same bars give the same model.
    """
    from sklearn.linear_model import LogisticRegression

    dmap = get_drum_map(drum_map)
    x = np.asarray(patterns, dtype=np.float32)
    if x.ndim != 3 or x.shape[1:] != (STEPS_PER_BAR, dmap.n_voices):
        raise ParameterError(f"patterns shape {x.shape} must be (n_bars, {STEPS_PER_BAR}, {dmap.n_voices})")
    if int(window) != window or not 0 <= window < STEPS_PER_BAR // 2:
        raise ParameterError(f"window={window} must be a whole number of steps in 0..{STEPS_PER_BAR // 2 - 1}")
    if not c > 0:
        raise ParameterError(f"c={c} must be > 0")
    if not 0 < threshold < 1:
        raise ParameterError(f"threshold={threshold} must be in (0, 1)")
    v, o = tap_track(x, offsets)
    taps = v > 0
    if not taps.any():
        raise DatasetError("no hits to fit a drumify model on")
    features = tap_features(v, o, window=int(window))[taps]
    targets = (x > 0)[taps]
    coef = np.zeros((dmap.n_voices, features.shape[1]))
    intercept = np.zeros(dmap.n_voices)
    for k in range(dmap.n_voices):
        y = targets[:, k]
        if y.all() or not y.any():
            intercept[k] = _SATURATED_LOGIT if y.all() else -_SATURATED_LOGIT
            continue
        lr = LogisticRegression(C=float(c), max_iter=5000).fit(features, y)
        coef[k], intercept[k] = lr.coef_[0], lr.intercept_[0]
    ratio = np.ones((dmap.n_voices, STEPS_PER_QUARTER))
    beat_pos = np.nonzero(taps)[1] % STEPS_PER_QUARTER
    tap_v = v[taps]
    for k in range(dmap.n_voices):
        for q in range(STEPS_PER_QUARTER):
            cell = (beat_pos == q) & targets[:, k]
            if cell.any():
                ratio[k, q] = float(np.median(x[taps][cell, k] / tap_v[cell]))
    return Drumify(dmap.name, int(window), float(threshold), coef, intercept, ratio, int(len(x)), source)


def drumify_from_dataset(dataset: str | Path | Dataset, *, split: str | None = None, **kwargs: Any) -> Drumify:
    """Fit :func:`fit_drumify` on a groove dataset's bars (every bar by default, or one split).

    Raises
    ------
    DatasetError
        Not a groove dataset at 16 steps per 4/4 bar, no such split, no hit.
    """
    from timbrespace.patterns.dataset import PATTERNS_FEATURE, load_offsets, load_patterns

    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    x, _ = load_patterns(ds, split)
    sidecar = ds.feature_sidecar(PATTERNS_FEATURE)
    if x.ndim != 3 or x.shape[1] != STEPS_PER_BAR:
        raise DatasetError(f"{ds.root}: bars of {x.shape[1] if x.ndim == 3 else '?'} steps; drumify is fitted on "
                           f"{STEPS_PER_BAR}-step 4/4 bars (ingest with --steps-per-bar 16)")
    where = f"{ds.root.name} ({split} split)" if split else ds.root.name
    return fit_drumify(x, load_offsets(ds, split), drum_map=str(sidecar["drum_map"]),
                       source=f"groove dataset {where}, {len(x)} bars", **kwargs)


def read_drumify(path: str | Path) -> Drumify:
    """A model saved by :meth:`Drumify.save`.

    Raises
    ------
    DatasetError
        Unreadable, not JSON, or not a drumify model.
    """
    return Drumify.from_dict(read_json(path, "drumify model"), where=str(path))


def default_drumify() -> Drumify:
    """The shipped model, fitted on 300 human-written grooves (see the module docstring)."""
    text = resources.files("timbrespace.patterns").joinpath(DEFAULT_DRUMIFY).read_text()
    return Drumify.from_dict(json.loads(text), where=DEFAULT_DRUMIFY)
