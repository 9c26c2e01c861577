"""The feature sidecar: what a stored or extracted feature set needs to be inverted.

On disk (``DATASET/features/<name>.json``) and in :class:`~timbrespace.features.FeatureResult`
the sidecar is JSON. :class:`FeatureSidecar` is the same content typed and validated
once: :func:`~timbrespace.features.invert`, the run pipeline and the report take it,
so nobody reads the JSON back with defaults of their own::

    {"format": "timbrespace.features/1", "library_version": "0.1.0",
     "config": {...FeatureConfig...}, "sample_rate": 8000, "n_samples": 4000,
     "shape": [65, 32], "layout": "stft: dB re 1.0 ...",
     "normalization": {"kind": "minmax_item", "item_min": [...], "item_max": [...]},
     "item_ids": [...]}                       # item_ids: stored feature sets only
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.features.config import FeatureConfig

__all__ = ["SIDECAR_FORMAT", "FeatureSidecar", "NormalizationStats"]

SIDECAR_FORMAT = "timbrespace.features/1"
_NORMALIZATIONS = ("none", "minmax_item", "standardize")


@dataclass(frozen=True, eq=False)
class NormalizationStats:
    """How features were normalised, with the statistics that undo it.

    Attributes
    ----------
    kind : {"none", "minmax_item", "standardize"}
    item_min, item_max : np.ndarray [shape=(n_items,), dtype=float64] or None
        Each item's min and max before ``minmax_item`` scaling.
    mean, std : np.ndarray [shape=(n_rows,), dtype=float64] or None
        Per-row statistics of ``standardize``.
    fitted_on : str or None
        Which items the ``standardize`` statistics come from (``"train"`` or ``"all"``).
    value_range : tuple of float or None
        Smallest and largest stored (normalised) value of the feature set: what
        :func:`~timbrespace.features.invert` clips a model's output to (issue 18).
    """

    kind: str = "none"
    item_min: np.ndarray | None = None
    item_max: np.ndarray | None = None
    mean: np.ndarray | None = None
    std: np.ndarray | None = None
    fitted_on: str | None = None
    value_range: tuple[float, float] | None = None

    def typical_minmax(self) -> tuple[float, float] | None:
        """Median item min and max: the range to undo ``minmax_item`` with for features
        that belong to no stored item (decoded latents); ``None`` for other kinds."""
        if self.kind != "minmax_item" or self.item_min is None or self.item_max is None:
            return None
        return float(np.median(self.item_min)), float(np.median(self.item_max))

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (only the statistics this kind has)."""
        out: dict[str, Any] = {"kind": self.kind}
        for name in ("item_min", "item_max", "mean", "std"):
            value = getattr(self, name)
            if value is not None:
                out[name] = value.tolist()
        if self.fitted_on is not None:
            out["fitted_on"] = self.fitted_on
        if self.value_range is not None:
            out["value_range"] = [float(v) for v in self.value_range]
        return out


@dataclass(frozen=True, eq=False)
class FeatureSidecar:
    """A feature set's transform, geometry and normalisation (see the module docstring).

    Attributes
    ----------
    config : FeatureConfig
    sample_rate : int
        Hz of the audio the features were computed from.
    n_samples : int
        Samples per item of that audio (the length :func:`invert` returns).
    shape : tuple of int
        Shape of one item's features.
    normalization : NormalizationStats
    layout : str
        What the rows hold, in words.
    library_version : str
    item_ids : tuple of str or None
        The items of a stored feature set, in order.
    """

    config: FeatureConfig
    sample_rate: int
    n_samples: int
    shape: tuple[int, ...]
    normalization: NormalizationStats
    layout: str = ""
    library_version: str = ""
    item_ids: tuple[str, ...] | None = None

    @property
    def duration_s(self) -> float:
        """Seconds of audio per item."""
        return self.n_samples / self.sample_rate

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FeatureSidecar:
        """Validate the JSON form (from :func:`~timbrespace.features.extract` or a
        dataset's ``features/<name>.json``).

        Raises
        ------
        ParameterError
            Another format, a missing field, or statistics missing for the
            normalisation kind (the message names what is missing).
        """
        if not isinstance(data, Mapping):
            raise ParameterError(f"a feature sidecar must be a mapping, got {type(data).__name__}")
        if data.get("format") != SIDECAR_FORMAT:
            raise ParameterError(f"sidecar format {data.get('format')!r} is not {SIDECAR_FORMAT!r}")
        missing = [k for k in ("config", "sample_rate", "n_samples", "shape", "normalization") if k not in data]
        if missing:
            raise ParameterError(f"feature sidecar lacks {', '.join(missing)}")
        norm = dict(data["normalization"])
        kind = norm.get("kind", "none")
        if kind not in _NORMALIZATIONS:
            raise ParameterError(f"sidecar normalization kind={kind!r} is not one of {', '.join(_NORMALIZATIONS)}")
        needed = {"minmax_item": ("item_min", "item_max"), "standardize": ("mean", "std")}.get(kind, ())
        lacking = [k for k in needed if k not in norm]
        if lacking:
            raise ParameterError(f"sidecar normalization {kind!r} lacks {', '.join(lacking)}")

        def stats(name: str) -> np.ndarray | None:
            return np.asarray(norm[name], dtype=np.float64) if name in norm else None

        ids = data.get("item_ids")
        return cls(
            config=FeatureConfig(**data["config"]),
            sample_rate=int(data["sample_rate"]),
            n_samples=int(data["n_samples"]),
            shape=tuple(int(s) for s in data["shape"]),
            normalization=NormalizationStats(
                kind=kind, item_min=stats("item_min"), item_max=stats("item_max"),
                mean=stats("mean"), std=stats("std"), fitted_on=norm.get("fitted_on"),
                value_range=None if "value_range" not in norm else (
                    float(norm["value_range"][0]), float(norm["value_range"][1])),
            ),
            layout=str(data.get("layout", "")),
            library_version=str(data.get("library_version", "")),
            item_ids=None if ids is None else tuple(str(i) for i in ids),
        )

    def to_dict(self) -> dict[str, Any]:
        """The JSON form (:meth:`from_dict` of it gives the same JSON back)."""
        out: dict[str, Any] = {
            "format": SIDECAR_FORMAT,
            "library_version": self.library_version,
            "config": self.config.model_dump(mode="json"),
            "sample_rate": self.sample_rate,
            "n_samples": self.n_samples,
            "shape": list(self.shape),
            "layout": self.layout,
            "normalization": self.normalization.to_dict(),
        }
        if self.item_ids is not None:
            out["item_ids"] = list(self.item_ids)
        return out
