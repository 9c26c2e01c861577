"""The dataset card (``dataset.json``) and factor specifications."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from timbrespace.errors import DatasetError
from timbrespace.utils.paths import safe_name

__all__ = ["FactorSpec", "DatasetCard", "encode_factor", "CARD_NAME", "METADATA_NAME", "FORMAT_VERSION"]

CARD_NAME = "dataset.json"
METADATA_NAME = "metadata.parquet"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class FactorSpec:
    """A known factor of variation.

    Parameters
    ----------
    name : str
        Column name in the metadata (e.g. ``f0_hz``, ``instrument_str``).
    unit : str
        Physical unit of the values (``"Hz"``, ``"1/s"``, ``""``).
    kind : {"continuous", "categorical"}
        Categorical values are labels (strings) or unordered codes.
    values : tuple
        The distinct levels in code order: code ``k`` means ``values[k]``. For a
        continuous factor drawn at random (not on a grid) the values are the bin centres
        used to make codes.
    scale : str
        Spacing of the levels (``linear``, ``log``, ``exp2``, ``categorical``).
    doc : str
        One line.

    Examples
    --------
    >>> from timbrespace.datasets import FactorSpec
    >>> spec = FactorSpec(name="f0_hz", unit="Hz", values=(220.0, 440.0, 880.0), scale="log")
    >>> spec.n_levels, spec.values[2]  # code 2 means 880 Hz
    (3, 880.0)
    """

    name: str
    unit: str = ""
    kind: Literal["continuous", "categorical"] = "continuous"
    values: tuple[Any, ...] = ()
    scale: str = "linear"
    doc: str = ""

    @property
    def n_levels(self) -> int:
        return len(self.values)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["values"] = [v.item() if isinstance(v, np.generic) else v for v in self.values]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> FactorSpec:
        return cls(
            name=d["name"], unit=d.get("unit", ""), kind=d.get("kind", "continuous"),
            values=tuple(d.get("values", ())), scale=d.get("scale", "linear"), doc=d.get("doc", ""),
        )


def encode_factor(values: Any, *, name: str = "factor", unit: str = "", n_bins: int | None = None,
                  doc: str = "", scale: str | None = None) -> tuple[np.ndarray, FactorSpec]:
    """Turn a column of factor values into integer codes and a :class:`FactorSpec`.

    Parameters
    ----------
    values : array-like of shape (n_items,)
        Physical values (numbers) or labels (strings).
    n_bins : int, optional
        For numeric values with more than ``n_bins`` distinct levels: quantise into
        ``n_bins`` equal-count bins (codes ordered by value). Default: one code per
        distinct value.

    Returns
    -------
    codes : np.ndarray [shape=(n_items,), dtype=int64]
    spec : FactorSpec

    Examples
    --------
    >>> from timbrespace.datasets import encode_factor
    >>> codes, spec = encode_factor([220.0, 440.0, 220.0, 880.0], name="f0_hz", unit="Hz")
    >>> codes.tolist(), spec.values
    ([0, 1, 0, 2], (220.0, 440.0, 880.0))
    >>> codes, spec = encode_factor(["odd", "all", "odd"], name="presence")
    >>> codes.tolist(), spec.kind, spec.values
    ([1, 0, 1], 'categorical', ('all', 'odd'))
    """
    arr = np.asarray(values)
    if arr.dtype.kind in "OUS" or arr.dtype == bool:
        labels = arr.astype(str)
        levels = tuple(sorted(set(labels.tolist()), key=_natural_key))
        lookup = {v: i for i, v in enumerate(levels)}
        codes = np.array([lookup[v] for v in labels], dtype=np.int64)
        return codes, FactorSpec(name, unit, "categorical", levels, scale or "categorical", doc)
    arr = arr.astype(np.float64)
    uniq = np.unique(arr)
    if n_bins is not None and uniq.size > n_bins:
        edges = np.quantile(arr, np.linspace(0, 1, n_bins + 1)[1:-1])
        codes = np.searchsorted(edges, arr, side="right").astype(np.int64)
        centres = tuple(float(np.median(arr[codes == k])) if np.any(codes == k) else float("nan")
                        for k in range(n_bins))
        return codes, FactorSpec(name, unit, "continuous", centres, scale or "linear", doc)
    codes = np.searchsorted(uniq, arr).astype(np.int64)
    whole = bool(np.all(uniq == np.round(uniq))) and np.asarray(values).dtype.kind in "iu"
    levels = tuple(int(v) if whole else float(v) for v in uniq)
    return codes, FactorSpec(name, unit, "continuous", levels, scale or "linear", doc)


def _natural_key(s: str) -> tuple[Any, ...]:
    try:
        return (0, float(s), s)
    except ValueError:
        return (1, 0.0, s)


@dataclass
class DatasetCard:
    """Contents of ``dataset.json``: what a dataset is and how it was made.

    Parameters
    ----------
    name : str
        Dataset name.
    source : dict
        How it was made: ``{"kind": "synth", "sound_model": ..., "space": ...}`` or
        ``{"kind": "ingest", "layout": ..., "path": ...}``.
    factors : list of FactorSpec
        Known factors, in the column order of ``factor_codes``.
    sample_rate : int
        Hz, of every audio file.
    n_samples : int or None
        Samples per item (items are padded/trimmed to it when loaded), None if ragged.
    n_items : int
    seed : int
    splits : dict of str to int
        Item count per split.
    audio_format : {"wav", "flac"} or None
        None when the dataset keeps features only.
    extra : dict
        Free-form provenance (config, skipped files, ...).
    """

    name: str
    source: dict[str, Any]
    factors: list[FactorSpec]
    sample_rate: int
    n_samples: int | None
    n_items: int
    seed: int = 0
    splits: dict[str, int] = field(default_factory=dict)
    audio_format: str | None = "wav"
    extra: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION
    library_version: str = ""

    @property
    def duration_s(self) -> float | None:
        return None if self.n_samples is None else self.n_samples / self.sample_rate

    @property
    def factor_names(self) -> list[str]:
        return [f.name for f in self.factors]

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["factors"] = [f.to_dict() for f in self.factors]
        d["duration_s"] = self.duration_s
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> DatasetCard:
        return cls(
            name=d["name"], source=d.get("source", {}),
            factors=[FactorSpec.from_dict(f) for f in d.get("factors", [])],
            sample_rate=int(d["sample_rate"]), n_samples=d.get("n_samples"),
            n_items=int(d["n_items"]), seed=int(d.get("seed", 0)), splits=d.get("splits", {}),
            audio_format=d.get("audio_format", "wav"), extra=d.get("extra", {}),
            format_version=int(d.get("format_version", FORMAT_VERSION)),
            library_version=d.get("library_version", ""),
        )

    @classmethod
    def read(cls, root: str | Path) -> DatasetCard:
        path = Path(root) / CARD_NAME
        if not path.is_file():
            hint = ""
            if (Path(root) / "run.json").is_file() and (Path(root) / "dataset" / CARD_NAME).is_file():
                hint = f"; it is a run folder: its dataset is {Path(root) / 'dataset'}"
            raise DatasetError(f"{root}: not a timbrespace dataset (no {CARD_NAME}){hint}")
        try:
            card = cls.from_dict(json.loads(path.read_text()))
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise DatasetError(f"{path}: unreadable dataset card ({exc})") from None
        for name in card.factor_names:  # factor names name figure files (projection_<factor>.png)
            safe_name(name, what=f"{path}: factor name", error=DatasetError)
        return card


def factor_table(metadata: pd.DataFrame, factors: list[FactorSpec]) -> np.ndarray:
    """Integer factor codes ``(n_items, n_factors)`` from the ``<name>_code`` columns."""
    cols = [f"{f.name}_code" for f in factors]
    missing = [c for c in cols if c not in metadata.columns]
    if missing:
        raise DatasetError(f"metadata lacks factor code columns: {', '.join(missing)}")
    return metadata[cols].to_numpy(dtype=np.int64)
