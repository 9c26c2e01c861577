"""The adapter interface between a run folder and the explorer: :class:`Explorable`.

The server, the static page and the model export only talk to an :class:`Explorable`.
One adapter per run kind (``run``: :mod:`~timbrespace.explore.run`, ``timbre``:
:mod:`~timbrespace.explore.timbre`, ``drums``: :mod:`~timbrespace.explore.drums`) says how
to decode a latent vector into sound; everything that only needs the items' latent means
and factors (active latents, their best factor and MIG, the default pad plane, the PCA
plane, A→B paths) is computed here once for every kind.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timbrespace.conventions import MAX_INTERPOLATION_STEPS, MIN_INTERPOLATION_STEPS, check_steps
from timbrespace.errors import ParameterError
from timbrespace.explore.types import (
    Clip,
    Encoding,
    ExportPart,
    ItemTable,
    LatentInfo,
    Option,
    PathResult,
)

__all__ = ["Explorable", "MAX_AUDIO_BYTES"]

MAX_AUDIO_BYTES = 16 << 20
"""The largest recording the explorer encodes (16 MiB of WAV: 95 s of 16-bit stereo at 44.1 kHz).

``POST /api/encode`` answers 413 to a larger body before reading it; ``/api/info`` says
it (``max_encode_bytes``), so that the page refuses a larger file before sending it."""


class Explorable(ABC):
    """A trained run the explorer can play.

    Subclasses set the items (:meth:`_set_items`) in their constructor and implement
    :meth:`decode_batch`, :meth:`_item_clips`, :meth:`export_part` and, if they render
    paths differently from "one clip per step, one after the other",
    :meth:`_path_clip`. One whose model encodes a recording alone sets
    :attr:`can_encode` and implements :meth:`_encode_audio`; the others say why not in
    :attr:`cannot_encode`.

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
    can_encode : bool
        Whether :meth:`encode` takes a recording (``/api/info``'s ``can_encode``: the page
        offers to drop one only then).
    cannot_encode : str
        Why this kind cannot, for the refusal's message.
    static_grid : int
        The static page's default grid points per side (a groove clip is seconds long,
        so a drum run's is smaller).
    """

    kind: str = ""
    options: tuple[Option, ...] = ()
    can_encode: bool = False
    cannot_encode: str = "its model has no audio encoder"
    static_grid: int = 9

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

    def _encode_audio(self, y: np.ndarray, sample_rate: int, *, name: str) -> Encoding:
        """The latents of mono audio ``y`` at ``sample_rate`` Hz (kinds with :attr:`can_encode`)."""
        raise self._encode_refusal()

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
    def _encode_refusal(self) -> ParameterError:
        return ParameterError(f"a {self.kind!r} run cannot encode a recording ({self.cannot_encode}); "
                              "'run' and unconditional 'train' runs can")

    def check_can_encode(self) -> None:
        """Refuse, before anything is read, to encode with a run that cannot.

        Raises
        ------
        ParameterError
            :attr:`can_encode` is false; the message says why.
        """
        if not self.can_encode:
            raise self._encode_refusal()

    def encode(self, data: bytes, *, name: str = "recording") -> Encoding:
        """The latents of the recording in an audio file's bytes, as the run's own items were encoded.

        The recording is read as mono, resampled to :attr:`sample_rate` and trimmed or
        zero-padded to the run's item length (each change is a line of
        :attr:`Encoding.notes`), as ``timbrespace encode`` does.

        Parameters
        ----------
        data : bytes
            A whole audio file (WAV, or anything libsndfile reads).
        name : str
            What the recording is called in the notes and messages.

        Returns
        -------
        Encoding

        Raises
        ------
        ParameterError
            This run kind cannot encode (:attr:`can_encode` false).
        AudioError
            Bytes that are not audio; no, NaN or infinite samples; a silent recording.
        """
        from timbrespace.generation.audio import read_audio_bytes

        self.check_can_encode()
        y, sample_rate = read_audio_bytes(data, name=name)
        return self._encode_audio(y, sample_rate, name=name)

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
            ``pca`` (``mean``, ``components`` (2, latent_dim), ``std``), ``options``,
            ``can_encode`` (whether ``POST /api/encode`` takes a recording),
            ``max_encode_bytes`` (:data:`MAX_AUDIO_BYTES`), ``path_steps`` (the fewest and most points
            of a path) and kind-specific fields.
        """
        if self._info is None:
            self._info = self._compute_info()
        return self._info

    def _compute_info(self) -> dict[str, Any]:
        from sklearn.decomposition import PCA

        from timbrespace.metrics import active_latents, kl_per_latent, mig

        items = self.items()
        mu = items.latents.astype(np.float64)
        kl = kl_per_latent(items.latents, self._logvar)
        names = list(items.factors.columns)
        codes = np.stack([pd.factorize(items.factors[n].astype(str))[0] for n in names], axis=1)
        varying = [k for k in range(len(names)) if len(np.unique(codes[:, k])) > 1]
        mi = np.zeros((self.latent_dim, len(names)))
        entropy = np.ones(len(names))
        if varying and len(mu) > 1:
            result = mig(mu, codes[:, varying], n_bins=self.n_bins)
            mi[:, varying], entropy[varying] = result.mi, result.factor_entropy
        norm_mi = mi / np.where(entropy > 0, entropy, 1.0)
        active = np.flatnonzero(active_latents(items.latents))
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
            "can_encode": bool(self.can_encode),
            "max_encode_bytes": MAX_AUDIO_BYTES,
            "path_steps": [MIN_INTERPOLATION_STEPS, MAX_INTERPOLATION_STEPS],
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
            Points from ``a`` to ``b``, both included (2..16,
            :data:`~timbrespace.conventions.MAX_INTERPOLATION_STEPS`).
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
        check_steps(steps)
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
        return Clip(np.concatenate(parts), self.sample_rate, step_starts_s=tuple(starts),
                    clipped_fraction=float(np.mean([clip.clipped_fraction for clip in clips])))
