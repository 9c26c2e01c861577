"""Dataset summaries: items, factors and their levels, per split (``timbrespace info``)."""

from __future__ import annotations

from dataclasses import dataclass

from timbrespace.datasets.dataset import Dataset

__all__ = ["DatasetSummary", "FactorSummary", "summarize_dataset"]


@dataclass(frozen=True)
class FactorSummary:
    name: str
    unit: str
    kind: str
    n_levels: int
    first: str
    last: str


@dataclass(frozen=True)
class DatasetSummary:
    """What ``timbrespace info`` prints."""

    name: str
    n_items: int
    sample_rate: int
    duration_s: float | None
    total_duration_s: float | None
    splits: dict[str, int]
    factors: tuple[FactorSummary, ...]
    audio_format: str | None
    size_bytes: int
    features: tuple[str, ...]
    split_by: str = "item"


def summarize_dataset(dataset: Dataset) -> DatasetSummary:
    """Factors, levels, split counts, durations and size on disk of ``dataset``."""
    factors = tuple(
        FactorSummary(
            f.name,
            f.unit,
            f.kind,
            f.n_levels,
            str(f.values[0]) if f.values else "",
            str(f.values[-1]) if f.values else "",
        )
        for f in dataset.factors
    )
    size = sum(p.stat().st_size for p in dataset.root.rglob("*") if p.is_file())
    dur = dataset.card.duration_s
    splits = (
        dataset.metadata["split"].value_counts().to_dict() if "split" in dataset.metadata else {}
    )
    return DatasetSummary(
        dataset.name,
        len(dataset),
        dataset.sample_rate,
        dur,
        None if dur is None else dur * len(dataset),
        {str(k): int(v) for k, v in sorted(splits.items())},
        factors,
        dataset.card.audio_format,
        size,
        tuple(dataset.feature_names()),
        _split_by(dataset),
    )


def _split_by(dataset: Dataset) -> str:
    """How the split was made, in words: what a split assigns whole."""
    extra = dataset.card.extra or {}
    unit = extra.get("split_unit")
    n_var = int(extra.get("n_variations", 1) or 1)
    if unit == "setting":
        return f"by setting (the {n_var} variations of one render stay in one split)"
    if n_var > 1:
        return f"by item (the {n_var} variations of one render may share splits)"
    return "by item"
