"""The design of a generated dataset: one row per parameter setting, then per item.

A :class:`Design` is computed from a :class:`~timbrespace.datasets.config.DatasetConfig`
without rendering anything, so item counts, factor tables and file names are known
before (and independently of) generation.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from timbrespace.datasets.card import FactorSpec, encode_factor
from timbrespace.datasets.config import DatasetConfig, map_unit, sweep_values
from timbrespace.datasets.dataset import AUDIO_DIR, assign_split_codes
from timbrespace.datasets.dsgenerator import dsgenerator_name
from timbrespace.errors import ConfigError
from timbrespace.synths.registry import get_sound_model

logger = logging.getLogger(__name__)

__all__ = ["Design", "ItemNames", "MetadataRows", "build_design", "build_metadata", "item_names"]

_DESIGN_STREAM = 0xD351  # keeps design draws independent of per-item render streams


@dataclass(frozen=True)
class Design:
    """Parameter settings of a dataset.

    Attributes
    ----------
    names : tuple of str
        Swept parameters (the factors), in config order.
    values : np.ndarray [shape=(n_settings, n_params), dtype=float64]
        Values in each parameter's unit; categorical parameters hold their codes.
    labels : np.ndarray [shape=(n_settings, n_params), dtype=float64]
        Values shown in DSGenerator-style names (``label_values`` or ``values``).
    n_variations : int
        Items per setting.
    """

    names: tuple[str, ...]
    values: np.ndarray
    labels: np.ndarray
    n_variations: int

    @property
    def n_settings(self) -> int:
        return int(self.values.shape[0])

    @property
    def n_items(self) -> int:
        return self.n_settings * self.n_variations


def _unit_points(method: str, n: int, d: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), _DESIGN_STREAM]))
    if method == "random":
        return rng.random((n, d))
    from scipy.stats import qmc

    if method == "sobol":
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "balance properties" warning for n != 2**m
            return qmc.Sobol(d, scramble=True, rng=rng).random(n)
    return qmc.LatinHypercube(d, rng=rng).random(n)


def build_design(config: DatasetConfig) -> Design:
    """Expand a config into its parameter settings (no rendering).

    Grid: Cartesian product, the first parameter varying slowest (``itertools.product``
    order). Random / Sobol / LHS: ``sampling.n`` points drawn from ``seed``.
    """
    model = get_sound_model(config.sound_model)
    names = tuple(config.parameters)
    params = [model.parameter(k) for k in names]
    sweeps = [config.parameters[k] for k in names]
    if config.sampling.method == "grid":
        grids = [sweep_values(s, p) for s, p in zip(sweeps, params, strict=True)]
        shape = tuple(g.size for g in grids)
        idx = np.indices(shape).reshape(len(shape), -1).T
        values = np.stack([g[idx[:, j]] for j, g in enumerate(grids)], axis=1)
        labels = np.stack(
            [
                np.asarray(s.label_values, dtype=np.float64)[idx[:, j]]
                if s.label_values is not None
                else values[:, j]
                for j, s in enumerate(sweeps)
            ],
            axis=1,
        )
    else:
        u = _unit_points(
            config.sampling.method, int(config.sampling.n or 0), len(names), config.seed
        )
        values = np.stack(
            [map_unit(u[:, j], s, p) for j, (s, p) in enumerate(zip(sweeps, params, strict=True))],
            axis=1,
        )
        labels = values
    if values.shape[0] == 0:
        raise ConfigError(f"{config.name}: the design is empty (no items)")
    # one array when labels are the values (random, Sobol, LHS): workers inherit the design
    values_f = np.asarray(values, dtype=np.float64)
    labels_f = values_f if labels is values else np.asarray(labels, dtype=np.float64)
    return Design(names, values_f, labels_f, config.n_variations)


@dataclass(frozen=True)
class ItemNames:
    """Item ids and audio paths, computed from an item's index on demand.

    Generation hands this (a few fields) to its workers instead of one string per item,
    so that memory does not grow with the item count.

    Attributes
    ----------
    n_items, n_variations : int
    audio_ext : str or None
        ``"wav"`` or ``"flac"``; None when no audio is kept (``audio_path`` is None).
    sound : str or None
        DSGenerator naming: the sound name of the stems; None: items are named by id.
    label_names : tuple of str
        DSGenerator naming: the swept parameters' labels.
    fixed : tuple of (str, float)
        DSGenerator naming: fixed parameters written first in the stems.
    """

    n_items: int
    n_variations: int
    audio_ext: str | None
    sound: str | None = None
    label_names: tuple[str, ...] = ()
    fixed: tuple[tuple[str, float], ...] = ()

    @property
    def width(self) -> int:
        """Digits of an item id (at least 6)."""
        return max(6, len(str(max(self.n_items - 1, 0))))

    def item_id(self, item: int) -> str:
        """Id of item ``item`` (zero-padded index)."""
        return f"{item:0{self.width}d}"

    def file_name(self, item: int, labels: np.ndarray) -> str:
        """Audio file name of item ``item`` (no folder part); needs ``audio_ext``.

        ``labels`` is the label row of the item's setting
        (``design.labels[item // n_variations]``), used by DSGenerator naming only.
        """
        if self.sound is None:
            stem = self.item_id(item)
        else:
            stem = dsgenerator_name(self.sound, self.label_names, labels, item % self.n_variations,
                                    fixed=self.fixed)
        return f"{stem}.{self.audio_ext}"

    def audio_path(self, item: int, labels: np.ndarray) -> str | None:
        """Audio path of item ``item`` relative to the dataset folder (None: no audio)."""
        return None if self.audio_ext is None else f"{AUDIO_DIR}/{self.file_name(item, labels)}"

    def audio_paths(self, design: Design) -> Iterator[str | None]:
        """Every item's :meth:`audio_path`, in order (one at a time)."""
        for item in range(self.n_items):
            yield self.audio_path(item, design.labels[item // self.n_variations])


def _string_column(values: Any) -> Any:
    """A pyarrow string array as pandas holds a list of str: arrow-backed (pandas >= 3:
    a few bytes per item, no Python object each) or, under older pandas, a list."""
    dtype = pd.Series(["x"]).dtype
    if dtype == np.dtype(object):
        return values.to_pylist()
    return pd.array(values, dtype=dtype)


def _index_columns(names: ItemNames, start: int, stop: int) -> tuple[Any, Any]:
    """Ids of items ``start:stop`` and, under index naming with audio, their audio paths
    (else None), as columns built in Arrow: about 10 and 20 bytes per item instead of a
    Python string."""
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pc.utf8_lpad(pa.array(np.arange(start, stop)).cast(pa.string()), names.width, "0")
    if names.audio_ext is None or names.sound is not None:
        return _string_column(ids), None
    paths = pc.binary_join_element_wise(f"{AUDIO_DIR}/", ids, f".{names.audio_ext}", "")
    return _string_column(ids), _string_column(paths)


def item_names(config: DatasetConfig, design: Design) -> ItemNames:
    """How ``config``'s items are named.

    Raises
    ------
    ConfigError
        DSGenerator naming gives two items the same file name.
    """
    ext = None if config.audio_format == "none" else config.audio_format
    if ext is None or config.naming != "dsgenerator":
        return ItemNames(design.n_items, design.n_variations, ext)
    spec = config.dsgenerator
    names = ItemNames(
        design.n_items, design.n_variations, ext,
        sound=config.sound_model if spec is None else spec.soundname,
        label_names=tuple(config.parameters[k].label or k for k in design.names),
        fixed=() if spec is None else tuple((f.name, f.value) for f in spec.fixed),
    )
    seen: set[str | None] = set()
    for path in names.audio_paths(design):
        if path in seen:
            raise ConfigError(
                f"{config.name}: naming 'dsgenerator' gives duplicate file names (values equal at "
                "two decimals); use naming: index"
            )
        seen.add(path)
    return names


def split_unit(design: Design, fractions: dict[str, float]) -> str:
    """What a split assigns whole: ``"setting"`` or ``"item"``.

    The variations sliced from one long render (seed 003's DSGenerator sets) share their
    setting and most of their sound: with them in train and test alike, the test measures
    memory. So a split assigns whole settings whenever there are variations and every
    split with a non-zero fraction still gets a setting; with too few settings it falls
    back to items (:func:`split_labels` warns).
    """
    if design.n_variations == 1:
        return "item"
    counts = [int(round(f * design.n_settings)) for f in fractions.values()]
    counts[0] += design.n_settings - sum(counts)
    enough = all(c > 0 for c, f in zip(counts, fractions.values(), strict=True) if f > 0)
    return "setting" if enough else "item"


def split_codes(design: Design, fractions: dict[str, float], *, seed: int) -> np.ndarray:
    """Split of every item as an index into ``list(fractions)``: :func:`split_labels`, one byte per item.

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=uint8]
    """
    if split_unit(design, fractions) == "setting":
        per_setting = assign_split_codes(design.n_settings, fractions, seed=seed)
        return np.repeat(per_setting, design.n_variations)
    if design.n_variations > 1:
        logger.warning("%d settings are too few to split %s by setting: the split is by item, and the %d "
                       "variations of one render can land in different splits", design.n_settings,
                       fractions, design.n_variations)
    return assign_split_codes(design.n_items, fractions, seed=seed)


def split_labels(design: Design, fractions: dict[str, float], *, seed: int) -> np.ndarray:
    """Split name of every item, whole settings at a time where :func:`split_unit` says so.

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=object]
        With one variation per setting, exactly :func:`assign_splits` over the items.
    """
    return np.array(list(fractions), dtype=object)[split_codes(design, fractions, seed=seed)]


class MetadataRows:
    """Every item's metadata row (DESIGN.md columns), built a slice of items at a time.

    What is held is per setting or one byte per item (the factor codes of each setting,
    the split of each item); the rows themselves, with their strings, exist only for the
    slice asked for, so that generation writes ``metadata.parquet`` without the whole
    table in memory (issue 29).

    Parameters
    ----------
    config : DatasetConfig
    design : Design
        ``build_design(config)``.

    Attributes
    ----------
    factors : list of FactorSpec
        One per swept parameter, in design order.
    split_names : tuple of str
        ``list(config.splits)``.
    split_counts : dict of str to int
        Items per split.
    n_items : int
    """

    def __init__(self, config: DatasetConfig, design: Design) -> None:
        model = get_sound_model(config.sound_model)
        self._design = design
        self._names = item_names(config, design)
        self._params = [model.parameter(name) for name in design.names]
        self.split_names = tuple(config.splits)
        self._split = split_codes(design, dict(config.splits), seed=config.seed)
        counts = np.bincount(self._split, minlength=len(self.split_names))
        self.split_counts = {k: int(c) for k, c in zip(self.split_names, counts, strict=True)}
        self.n_items = design.n_items
        self._codes: list[np.ndarray] = []  # per setting
        self.factors: list[FactorSpec] = []
        grid = config.sampling.method == "grid"
        n_var = design.n_variations
        for j, (name, param) in enumerate(zip(design.names, self._params, strict=True)):
            sweep = config.parameters[name]
            col = design.values[:, j]
            scale = "categorical" if param.is_categorical else sweep.spacing
            if param.is_categorical:
                assert param.choices is not None
                present = np.unique(col).astype(np.int64)
                self._codes.append(np.searchsorted(present, col.astype(np.int64)).astype(np.int64))
                levels = tuple(param.choices[k] for k in present)
                self.factors.append(FactorSpec(name, param.unit, "categorical", levels, scale, param.doc))
                continue
            n_bins = None if grid or sweep.values is not None else config.sampling.n_bins
            # Equal-count bins are quantiles over the items, which repeat each setting n_var times.
            item_col = col if n_var == 1 else np.repeat(col, n_var)
            code, spec = encode_factor(item_col, name=name, unit=param.unit, n_bins=n_bins, doc=param.doc,
                                       scale=scale)
            self._codes.append(code[::n_var])
            self.factors.append(spec)

    def rows(self, start: int, stop: int) -> pd.DataFrame:
        """Rows of items ``start:stop``: ``item_id``, ``audio_path`` (None without audio),
        ``split``, ``variation``, one value column per factor (labels for categorical
        parameters, ints for integer ones) and ``<factor>_code``."""
        design, names = self._design, self._names
        n_var = design.n_variations
        items = np.arange(start, stop)
        setting = items // n_var
        ids, paths = _index_columns(names, start, stop)
        meta: dict[str, object] = {"item_id": ids}
        meta["audio_path"] = paths if paths is not None else [
            names.audio_path(i, design.labels[i // n_var]) for i in range(start, stop)
        ]
        meta["split"] = np.array(self.split_names, dtype=object)[self._split[start:stop]]
        meta["variation"] = (items % n_var).astype(np.int64)
        codes: dict[str, np.ndarray] = {}
        for j, (name, param) in enumerate(zip(design.names, self._params, strict=True)):
            col = design.values[setting, j]
            codes[f"{name}_code"] = self._codes[j][setting]
            if param.is_categorical:
                assert param.choices is not None
                meta[name] = np.array([param.choices[int(k)] for k in col], dtype=object)
            else:
                meta[name] = col.astype(np.int64) if param.integer else col
        meta.update(codes)
        return pd.DataFrame(meta)

    def chunks(self, n_rows: int) -> Iterator[pd.DataFrame]:
        """:meth:`rows` of every item, ``n_rows`` at a time, in order."""
        for start in range(0, self.n_items, n_rows):
            yield self.rows(start, min(self.n_items, start + n_rows))


def build_metadata(config: DatasetConfig, design: Design) -> tuple[pd.DataFrame, list[FactorSpec]]:
    """Metadata rows and factor specs of every item (DESIGN.md columns; see :class:`MetadataRows`).

    Returns
    -------
    metadata : pandas.DataFrame
        ``item_id``, ``audio_path`` (None without audio), ``split``, ``variation``, one
        value column per factor (labels for categorical parameters, ints for integer
        ones) and ``<factor>_code``.
    factors : list of FactorSpec
    """
    rows = MetadataRows(config, design)
    return rows.rows(0, design.n_items), rows.factors
