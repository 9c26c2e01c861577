"""The adapter interface between a run folder and the explorer: :class:`Explorable`.

The server, the static page and the model export only talk to an :class:`Explorable`.
One adapter per run kind (``run``: :mod:`~timbrespace.explore.run`, ``timbre``:
:mod:`~timbrespace.explore.timbre`, ``drums``: :mod:`~timbrespace.explore.drums`) says how
to decode a latent vector into sound; everything that only needs the items' latent means
and factors (active latents, their best factor and MIG, the default pad plane, the PCA
plane, A→B paths) is computed here once for every kind.
"""

from __future__ import annotations

import io
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import soundfile as sf

from timbrespace.errors import ParameterError

# The pipeline's definition of an active latent (mean KL to the prior above 0.01 nats).
from timbrespace.experiments.pipeline import _ACTIVE_KL_NATS as ACTIVE_KL_NATS
from timbrespace.experiments.pipeline import _kl_per_latent

__all__ = [
    "Clip",
    "Explorable",
    "ExportPart",
    "ItemTable",
    "LatentInfo",
    "Option",
    "PathResult",
    "peak_safe",
    "wav_bytes",
    "ACTIVE_KL_NATS",
]

_PEAK_CEILING = 10 ** (-1.0 / 20)  # -1 dBFS


def peak_safe(audio: np.ndarray) -> np.ndarray:
    """``audio`` as float32, scaled down to −1 dBFS if its peak is above that (never clipped).

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,)]

    Returns
    -------
    np.ndarray [shape=(n_samples,), dtype=float32]
    """
    y = np.asarray(audio, dtype=np.float32).reshape(-1)
    peak = float(np.max(np.abs(y))) if y.size else 0.0
    return y * np.float32(_PEAK_CEILING / peak) if peak > _PEAK_CEILING else y


def wav_bytes(audio: np.ndarray, sample_rate: int) -> bytes:
    """Mono 16-bit PCM WAV of :func:`peak_safe` ``(audio)``.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,), dtype=float32]
    sample_rate : int
        Hz.

    Returns
    -------
    bytes
        A complete RIFF/WAVE file.
    """
    buf = io.BytesIO()
    sf.write(buf, peak_safe(audio), int(sample_rate), format="WAV", subtype="PCM_16")
    return buf.getvalue()


@dataclass(frozen=True)
class Clip:
    """A decoded sound.

    Attributes
    ----------
    audio : np.ndarray [shape=(n_samples,), dtype=float32]
        Mono.
    sample_rate : int
        Hz.
    pattern : np.ndarray [shape=(n_steps, n_voices) or (n_bars, n_steps, n_voices), dtype=float32] or None
        A drum run's groove (velocities in [0, 1]): one bar (looped in ``audio``), or the
        bars of a path played one after the other.
    step_starts_s : tuple of float
        Where each step of a path starts in ``audio`` (seconds); empty for one clip.
    """

    audio: np.ndarray
    sample_rate: int
    pattern: np.ndarray | None = None
    step_starts_s: tuple[float, ...] = ()

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def rms(self) -> float:
        """Root mean square of the samples as delivered (:func:`peak_safe`; linear, full scale 1)."""
        y = peak_safe(self.audio)
        return float(np.sqrt(np.mean(np.square(y, dtype=np.float64)))) if y.size else 0.0

    def wav(self) -> bytes:
        """The clip as a WAV file (see :func:`wav_bytes`)."""
        return wav_bytes(self.audio, self.sample_rate)


@dataclass(frozen=True)
class Option:
    """A decode option a run kind takes beside ``z`` (a drum kit, a descriptor, a tempo).

    A choice has ``values`` (and optional display ``labels``); a number has ``min``,
    ``max`` and ``step``. The page draws one control per option.
    """

    name: str
    label: str
    default: Any
    values: tuple[Any, ...] | None = None
    labels: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    step: float | None = None
    unit: str = ""

    def check(self, value: Any) -> Any:
        """``value`` converted to the option's type.

        Raises
        ------
        ParameterError
            Not one of ``values``, or not a finite number in ``[min, max]``.
        """
        if self.values is not None:
            for allowed in self.values:
                if value == allowed or (isinstance(allowed, str) and str(value).lower() == allowed.lower()):
                    return allowed
            shown = ", ".join(str(v) for v in self.values[:20]) + (", …" if len(self.values) > 20 else "")
            raise ParameterError(f"{self.name}={value!r} is not allowed: one of {shown}")
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise ParameterError(f"{self.name}={value!r} must be a finite number in {self.min:g}..{self.max:g}{self.unit}")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise ParameterError(f"{self.name}={value!r} is out of range: allowed {self.min:g}..{self.max:g}{self.unit}")
        if isinstance(self.default, int) and value != int(value):
            raise ParameterError(f"{self.name}={value!r} must be a whole number in {self.min:g}..{self.max:g}")
        return type(self.default)(value)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "label": self.label, "default": self.default, "unit": self.unit}
        if self.values is not None:
            out["values"] = list(self.values)
            out["labels"] = list(self.labels) if self.labels is not None else [str(v) for v in self.values]
        else:
            out.update(min=self.min, max=self.max, step=self.step)
        return out


@dataclass(frozen=True)
class LatentInfo:
    """What the page labels a latent's slider with.

    Attributes
    ----------
    index : int
    kl_nats : float
        Mean KL of the posterior to the prior over the items (active above 0.01 nats).
    best_factor : str
        The factor this latent shares the most normalised mutual information with.
    mig : float
        This latent's gap for its best factor: its MI minus the largest MI of any other
        latent, over the factor's entropy, floored at 0. It equals the factor's MIG
        when this latent is the factor's most informative one, and is 0 otherwise.
    range : tuple of float
        Items' smallest and largest mean, widened by 10 % on each side.
    """

    index: int
    kl_nats: float
    best_factor: str
    mig: float
    range: tuple[float, float]

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "kl_nats": round(self.kl_nats, 6), "best_factor": self.best_factor,
                "mig": round(self.mig, 6), "range": [round(v, 6) for v in self.range]}


@dataclass(frozen=True)
class ItemTable:
    """The dataset's items as the explorer shows them.

    Attributes
    ----------
    ids : list of str
    latents : np.ndarray [shape=(n_items, latent_dim), dtype=float32]
        Posterior means ``mu``.
    factors : pandas.DataFrame
        One column per factor, in physical units or labels.
    split : list of str
    """

    ids: list[str]
    latents: np.ndarray
    factors: pd.DataFrame
    split: list[str]

    def to_dict(self) -> dict[str, Any]:
        factors = {}
        for name in self.factors.columns:
            col = self.factors[name]
            factors[name] = [_jsonable(v) for v in col.tolist()]
        return {"ids": self.ids, "latents": np.round(self.latents.astype(np.float64), 5).tolist(),
                "factors": factors, "split": self.split}


def _jsonable(v: Any) -> Any:
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (float, np.floating)):
        return round(float(v), 6) if math.isfinite(v) else None
    return v if isinstance(v, (int, str, bool)) or v is None else str(v)


@dataclass(frozen=True)
class PathResult:
    """Linear and spherical paths between two items, decoded.

    Attributes
    ----------
    a, b : int
        Item indices of the end points.
    t : np.ndarray [shape=(steps,)]
    z : dict of str to np.ndarray [shape=(steps, latent_dim)]
        ``"lerp"`` and ``"slerp"``.
    clips : dict of str to Clip
        The steps played one after the other.
    """

    a: int
    b: int
    t: np.ndarray
    z: dict[str, np.ndarray]
    clips: dict[str, Clip]


@dataclass(frozen=True)
class ExportPart:
    """A module to export and what a user needs to run it outside Python.

    Attributes
    ----------
    module : torch.nn.Module
        In eval mode; its ``forward`` takes ``example_inputs``.
    example_inputs : tuple of torch.Tensor
        Batch dimension first (exported as dynamic).
    input_names, output_names : tuple of str
    metadata : dict
        JSON-able: run kind, part, shapes, and the feature config (sidecar) that turns the
        decoder's output back into sound.
    """

    module: Any
    example_inputs: tuple[Any, ...]
    input_names: tuple[str, ...]
    output_names: tuple[str, ...]
    metadata: dict[str, Any] = field(default_factory=dict)


class Explorable(ABC):
    """A trained run the explorer can play.

    Subclasses set the items (:meth:`_set_items`) in their constructor and implement
    :meth:`decode_batch`, :meth:`_item_clips`, :meth:`export_part` and, if they render
    paths differently from "one clip per step, one after the other",
    :meth:`_path_clip`.

    Attributes
    ----------
    kind : str
        The run kind (``run.json``'s ``kind``).
    root : Path
        The run folder.
    latent_dim : int
    sample_rate : int
        Hz of the clips.
    options : tuple of Option
        Decode options beside ``z``.
    """

    kind: str = ""
    options: tuple[Option, ...] = ()

    def __init__(self, root: str | Path, *, latent_dim: int, sample_rate: int, n_bins: int = 20) -> None:
        self.root = Path(root)
        self.latent_dim = int(latent_dim)
        self.sample_rate = int(sample_rate)
        self.n_bins = int(n_bins)
        self._items: ItemTable | None = None
        self._info: dict[str, Any] | None = None

    # ------------------------------------------------------------------ subclass API
    @abstractmethod
    def decode_batch(self, z: np.ndarray, options: Mapping[str, Any]) -> list[Clip]:
        """One clip per row of ``z`` ``(n, latent_dim)``, with checked ``options``."""

    @abstractmethod
    def _item_clips(self, index: int, options: Mapping[str, Any]) -> tuple[Clip, Clip]:
        """The original of item ``index`` and its reconstruction, with checked ``options``."""

    @abstractmethod
    def export_part(self, part: str) -> ExportPart:
        """The ``decoder`` or ``encoder`` as a module to export."""

    def decode_midi(self, z: np.ndarray, **options: Any) -> bytes:
        """A Standard MIDI File of the groove at ``z`` (drum runs only).

        Raises
        ------
        ParameterError
            This run kind decodes to audio only.
        """
        raise ParameterError(f"format='mid' is only available for drum runs; this is a {self.kind!r} run")

    def extra_info(self) -> dict[str, Any]:
        """Kind-specific fields of :meth:`info` (e.g. a drum run's voices)."""
        return {}

    # ------------------------------------------------------------------ shared
    def _set_items(self, ids: Sequence[str], mu: np.ndarray, logvar: np.ndarray, factors: pd.DataFrame,
                   split: Sequence[str]) -> None:
        mu = np.asarray(mu, dtype=np.float32)
        if mu.shape != (len(ids), self.latent_dim):
            raise ParameterError(f"latent means of shape {mu.shape}; expected ({len(ids)}, {self.latent_dim})")
        self._items = ItemTable(list(map(str, ids)), mu, factors.reset_index(drop=True), list(map(str, split)))
        self._logvar = np.asarray(logvar, dtype=np.float32)

    def items(self) -> ItemTable:
        """The dataset's items: ids, latent means, factor values, split."""
        if self._items is None:  # pragma: no cover - subclasses set them in __init__
            raise ParameterError("the adapter did not set its items")
        return self._items

    def info(self) -> dict[str, Any]:
        """What ``GET /api/info`` returns (computed once).

        Returns
        -------
        dict
            ``kind``, ``name``, ``latent_dim``, ``sample_rate``, ``factors``, ``latents``
            (the active ones, see :class:`LatentInfo`), ``default_plane`` (two latent
            indices), ``origin`` (the items' mean latent, where the page starts),
            ``pca`` (``mean``, ``components`` (2, latent_dim), ``std``), ``options`` and
            kind-specific fields.
        """
        if self._info is None:
            self._info = self._compute_info()
        return self._info

    def _compute_info(self) -> dict[str, Any]:
        from sklearn.decomposition import PCA

        from timbrespace.metrics import mig

        items = self.items()
        mu = items.latents.astype(np.float64)
        kl = _kl_per_latent(items.latents, self._logvar)
        names = list(items.factors.columns)
        codes = np.stack([pd.factorize(items.factors[n].astype(str))[0] for n in names], axis=1)
        varying = [k for k in range(len(names)) if len(np.unique(codes[:, k])) > 1]
        mi = np.zeros((self.latent_dim, len(names)))
        entropy = np.ones(len(names))
        if varying and len(mu) > 1:
            result = mig(mu, codes[:, varying], n_bins=self.n_bins)
            mi[:, varying], entropy[varying] = result.mi, result.factor_entropy
        norm_mi = mi / np.where(entropy > 0, entropy, 1.0)
        active = np.flatnonzero(kl > ACTIVE_KL_NATS)
        latents = []
        for j in active:
            k = int(np.argmax(norm_mi[j])) if names else 0
            others = np.delete(norm_mi[:, k], j) if names else np.zeros(0)
            gap = float(norm_mi[j, k] - (others.max() if others.size else 0.0)) if names else 0.0
            lo, hi = float(mu[:, j].min()), float(mu[:, j].max())
            pad = 0.1 * max(hi - lo, 1e-3)
            latents.append(LatentInfo(int(j), float(kl[j]), names[k] if names else "", max(gap, 0.0),
                                      (lo - pad, hi + pad)))
        ranked = sorted(range(self.latent_dim), key=lambda j: (-(j in active), -norm_mi[j].max(initial=0.0), -kl[j]))
        n_pca = min(2, self.latent_dim, max(len(mu) - 1, 1))
        pca = PCA(n_components=n_pca, random_state=0).fit(mu)
        components = np.zeros((2, self.latent_dim))
        components[:n_pca] = pca.components_
        std = np.ones(2)
        std[:n_pca] = np.sqrt(np.maximum(pca.explained_variance_, 1e-12))
        info = {
            "kind": self.kind,
            "name": self.root.name,
            "latent_dim": self.latent_dim,
            "sample_rate": self.sample_rate,
            "factors": names,
            "latents": [lat.to_dict() for lat in latents],
            "default_plane": self.default_plane(ranked),
            "origin": np.round(mu.mean(axis=0), 6).tolist(),
            "pca": {"mean": np.round(pca.mean_, 6).tolist(), "components": np.round(components, 6).tolist(),
                    "std": np.round(std, 6).tolist()},
            "options": [opt.to_dict() for opt in self.options],
            "n_items": len(items.ids),
        }
        info.update(self.extra_info())
        return info

    def default_plane(self, ranked: list[int]) -> list[int]:
        """The pad's default latent pair: the two most informative about the factors.

        ``ranked`` lists latents active first, then by largest normalised MI with any factor.
        """
        return [ranked[0], ranked[1] if len(ranked) > 1 else ranked[0]]

    def check_z(self, z: Any) -> np.ndarray:
        """``z`` as float32 ``(latent_dim,)``.

        Raises
        ------
        ParameterError
            Not a flat list of ``latent_dim`` finite numbers.
        """
        if not isinstance(z, (list, tuple, np.ndarray)):
            raise ParameterError(f"z must be a list of {self.latent_dim} numbers, got {type(z).__name__}")
        try:
            arr = np.asarray(z, dtype=np.float64)
        except (TypeError, ValueError):
            raise ParameterError(f"z must be a list of {self.latent_dim} numbers") from None
        if arr.shape != (self.latent_dim,):
            raise ParameterError(f"z has shape {arr.shape}; expected ({self.latent_dim},): one value per latent")
        if not np.all(np.isfinite(arr)):
            raise ParameterError("z contains NaN or infinite values")
        if np.any(np.abs(arr) > 1e3):
            raise ParameterError("z values must lie within ±1000")
        return arr.astype(np.float32)

    def check_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Options with defaults filled in and values checked.

        Raises
        ------
        ParameterError
            An unknown option, or a value the option does not allow.
        """
        known = {opt.name: opt for opt in self.options}
        unknown = sorted(set(given) - set(known))
        if unknown:
            allowed = ", ".join(known) or "none"
            raise ParameterError(f"unknown option {unknown[0]!r} for a {self.kind!r} run: allowed {allowed}")
        return {name: opt.check(given[name]) if name in given else opt.default for name, opt in known.items()}

    def check_index(self, index: Any) -> int:
        """An item index in ``0..n_items-1``.

        Raises
        ------
        ParameterError
        """
        n = len(self.items().ids)
        if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not 0 <= int(index) < n:
            raise ParameterError(f"item index {index!r} is out of range: allowed 0..{n - 1}")
        return int(index)

    def decode(self, z: Any, **options: Any) -> Clip:
        """The sound at ``z``.

        Parameters
        ----------
        z : array-like [shape=(latent_dim,)]
        **options
            See :attr:`options`.

        Returns
        -------
        Clip

        Raises
        ------
        ParameterError
            Bad ``z`` or option.
        """
        return self.decode_batch(self.check_z(z)[None], self.check_options(options))[0]

    def item_clips(self, index: int, **options: Any) -> tuple[Clip, Clip]:
        """The original of item ``index`` and its reconstruction (decoded from its ``mu``).

        Raises
        ------
        ParameterError
            Bad index or option.
        DatasetError
            The dataset keeps no originals.
        """
        return self._item_clips(self.check_index(index), self.check_options(options))

    def path(self, a: int, b: int, *, steps: int = 7, **options: Any) -> PathResult:
        """Linear and spherical paths from item ``a``'s latent mean to item ``b``'s.

        Parameters
        ----------
        a, b : int
            Item indices.
        steps : int
            Points from ``a`` to ``b``, both included (2..16).
        **options
            Decode options.

        Returns
        -------
        PathResult

        Raises
        ------
        ParameterError
            Bad indices, steps or options.

        References
        ----------
        White, "Sampling generative networks", 2016 (slerp); seed 002's interpolation.
        """
        from timbrespace.generation.latent import lerp, slerp

        a, b = self.check_index(a), self.check_index(b)
        if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or not 2 <= steps <= 16:
            raise ParameterError(f"steps={steps!r} is out of range: allowed 2..16")
        checked = self.check_options(options)
        mu = self.items().latents
        t = np.linspace(0.0, 1.0, int(steps))
        z = {"lerp": lerp(mu[a], mu[b], t), "slerp": slerp(mu[a], mu[b], t)}
        clips = {name: self._path_clip(a, b, t, zs, checked) for name, zs in z.items()}
        return PathResult(a, b, t, z, clips)

    def _path_clip(self, a: int, b: int, t: np.ndarray, z: np.ndarray, options: Mapping[str, Any]) -> Clip:
        """The steps of a path played one after the other, 0.1 s of silence between notes."""
        clips = self.decode_batch(z, options)
        gap = np.zeros(int(0.1 * self.sample_rate), np.float32)
        starts, parts, at = [], [], 0
        for clip in clips:
            starts.append(at / self.sample_rate)
            parts += [clip.audio, gap]
            at += len(clip.audio) + len(gap)
        return Clip(np.concatenate(parts), self.sample_rate, step_starts_s=tuple(starts))
