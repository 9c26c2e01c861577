"""Build a dataset from a labelled folder of real recordings.

Four layouts are understood:

``nsynth``
    ``FOLDER/audio/*.wav`` + ``FOLDER/examples.json`` keyed by file stem (NSynth, and
    ``../shared/data/notes``). Factors default to ``instrument_str``, ``pitch`` and
    ``velocity`` where present; any other keys of the entries can be chosen.
``seed002``
    ``FOLDER/audio/GROUP/DESCRIPTOR/MAGNITUDE/1-N.wav`` (Semantic Timbre Generation
    System, seed 002): N = 0..22 is the pitch E4..D6 (MIDI 64 + N). Factors
    ``descriptor``, ``magnitude``, ``pitch``; the group is kept as a metadata column.
``hf-audiofolder``
    A Hugging Face audiofolder: ``metadata.csv`` (or ``.jsonl``/``.parquet``) with a
    ``file_name`` column, at the root or in split folders (``train/``, ``valid/``,
    ``test/``, ...); other columns are the factors, and items keep the split of their
    folder (:mod:`timbrespace.datasets.audiofolder`).
``pattern``
    Any folder: a regular expression whose named groups are the factors is matched
    (``re.fullmatch``) against each audio file's path relative to the folder, without
    extension (or against the file stem when the pattern has no ``/``).

Audio is read with soundfile, mixed to mono and resampled with librosa when a file's
rate differs from the dataset's. Files longer than ``max_duration_s`` (30 s by default)
are cut to it, named and counted, so one long recording never makes every item long.
Unreadable or truncated files are skipped, named and counted (an error when none is
readable); silent files are kept and flagged (``silent`` column), and produce zeros,
never NaN, downstream. The dataset is written to a temporary folder beside ``out`` and
renamed into place at the end, under ``out``'s writer lock, so an interrupted ingest
leaves nothing half-written and an existing dataset is replaced only when complete (and
only with ``overwrite``); the staging folder of a killed ingest is removed by the next.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd
import soundfile as sf

from timbrespace.datasets.audiofolder import audiofolder_items, find_audiofolder_metadata
from timbrespace.datasets.card import CARD_NAME, DatasetCard, encode_factor
from timbrespace.datasets.dataset import (
    AUDIO_DIR,
    Dataset,
    assign_splits,
    write_audio_file,
    write_card,
    write_metadata,
)
from timbrespace.errors import AudioError, DatasetError, ParameterError
from timbrespace.utils.audio import read_mono
from timbrespace.utils.limits import check_sample_rate, check_seed
from timbrespace.utils.lock import LOCK_NAME, folder_lock
from timbrespace.utils.outputs import check_output_folder
from timbrespace.utils.paths import safe_name
from timbrespace.utils.progress import track

__all__ = [
    "ingest_folder", "detect_layout", "IngestReport", "AUDIO_EXTENSIONS", "LAYOUTS", "MAX_DURATION_S",
    "SEED002_PITCH0_MIDI",
]

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS = (".wav", ".flac", ".ogg", ".aif", ".aiff", ".mp3")
SEED002_PITCH0_MIDI = 64  # file 1-0.wav is E4
SEED002_N_PITCHES = 23
MAX_DURATION_S = 30.0
"""Default cap on an ingested item's length in seconds (longer files are cut)."""
NSYNTH_DEFAULT_FACTORS = ("instrument_str", "pitch", "velocity")
Layout = Literal["auto", "nsynth", "seed002", "hf-audiofolder", "pattern"]
LAYOUTS = ("auto", "nsynth", "seed002", "hf-audiofolder", "pattern")
_SEED002_FILE = re.compile(r"(?P<take>\d+)-(?P<n>\d+)")


@dataclass(frozen=True)
class _Item:
    path: Path
    item_id: str
    labels: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)
    split: str | None = None


@dataclass(frozen=True)
class IngestReport:
    """What an ingest kept and skipped (also stored in the card's ``extra``)."""

    n_found: int
    n_ingested: int
    unreadable: tuple[str, ...]
    unmatched: tuple[str, ...]
    silent: tuple[str, ...]


def _audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS
                  and not p.name.startswith("."))


def detect_layout(folder: str | Path) -> str:
    """Guess the layout of ``folder``: ``nsynth``, ``hf-audiofolder``, ``seed002`` or raise.

    Raises
    ------
    DatasetError
        If the folder is missing, holds no audio, or matches no known layout (then
        ``--pattern`` is needed).
    """
    folder = Path(folder)
    _check_folder(folder)
    if (folder / "examples.json").is_file() and (folder / AUDIO_DIR).is_dir():
        return "nsynth"
    if find_audiofolder_metadata(folder):
        return "hf-audiofolder"
    audio_root = folder / AUDIO_DIR if (folder / AUDIO_DIR).is_dir() else folder
    files = _audio_files(audio_root)
    if files and all(len(p.relative_to(audio_root).parts) == 4 for p in files[:50]):
        return "seed002"
    raise DatasetError(
        f"{folder}: layout not recognised (expected audio/ + examples.json, metadata.csv with "
        "file_name, or audio/GROUP/DESCRIPTOR/MAGNITUDE/FILE); give --pattern with named groups"
    )


def _check_folder(folder: Path) -> None:
    if not folder.exists():
        raise DatasetError(f"folder {folder} does not exist")
    if not folder.is_dir():
        raise DatasetError(f"{folder} is not a folder")
    if not any(folder.iterdir()):
        raise DatasetError(f"folder {folder} is empty")


def _nsynth_items(folder: Path, factors: list[str] | None) -> tuple[list[_Item], list[str], list[str]]:
    try:
        examples = json.loads((folder / "examples.json").read_text())
    except json.JSONDecodeError as exc:
        raise DatasetError(f"{folder / 'examples.json'}: invalid JSON ({exc})") from None
    if not isinstance(examples, dict) or not examples:
        raise DatasetError(f"{folder / 'examples.json'}: expected a non-empty object keyed by file stem")
    keys_available = sorted({k for entry in examples.values() if isinstance(entry, dict) for k in entry})
    if factors is None:
        factors = [f for f in NSYNTH_DEFAULT_FACTORS if f in keys_available]
        if not factors:
            raise DatasetError(
                f"{folder / 'examples.json'}: none of the default factors {', '.join(NSYNTH_DEFAULT_FACTORS)}; "
                f"choose with --factors from: {', '.join(keys_available)}"
            )
    for f in factors:
        if f not in keys_available:
            raise ParameterError(f"factor {f!r} is not a key of examples.json; available: {', '.join(keys_available)}")
    files = {p.stem: p for p in _audio_files(folder / AUDIO_DIR)}
    items: list[_Item] = []
    unmatched = sorted(str(p.relative_to(folder)) for stem, p in files.items() if stem not in examples)
    missing = sorted(k for k in examples if k not in files)
    if missing:
        log.warning("%d entries of examples.json have no audio file (e.g. %s)", len(missing), missing[0])
    for stem in sorted(examples):
        if stem not in files:
            continue
        entry = examples[stem]
        if any(f not in entry for f in factors):
            unmatched.append(str(files[stem].relative_to(folder)))
            continue
        items.append(_Item(files[stem], stem, {f: entry[f] for f in factors}))
    return items, factors, unmatched


def _seed002_items(folder: Path) -> tuple[list[_Item], list[str], list[str]]:
    audio_root = folder / AUDIO_DIR if (folder / AUDIO_DIR).is_dir() else folder
    items: list[_Item] = []
    unmatched: list[str] = []
    for path in _audio_files(audio_root):
        rel = path.relative_to(audio_root)
        parts = rel.parts
        m = _SEED002_FILE.fullmatch(path.stem)
        if len(parts) != 4 or m is None:
            unmatched.append(str(rel))
            continue
        group, descriptor, magnitude = parts[0], parts[1], parts[2]
        n = int(m.group("n"))
        try:
            magnitude_value = float(magnitude)
        except ValueError:
            unmatched.append(str(rel))
            continue
        if not 0 <= n < SEED002_N_PITCHES:
            unmatched.append(str(rel))
            continue
        item_id = "-".join([group, descriptor, magnitude, path.stem])
        items.append(_Item(
            path, item_id,
            {"descriptor": descriptor, "magnitude": magnitude_value, "pitch": SEED002_PITCH0_MIDI + n},
            {"group": group},
        ))
    return items, ["descriptor", "magnitude", "pitch"], unmatched


def _audiofolder_items(folder: Path, factors: list[str] | None) -> tuple[list[_Item], list[str], list[str]]:
    found, names, unmatched = audiofolder_items(folder, factors)
    items = [_Item(a.path, a.item_id, a.labels, a.extra, a.split) for a in found]
    return items, names, unmatched


def _pattern_items(folder: Path, pattern: str) -> tuple[list[_Item], list[str], list[str]]:
    try:
        regex = re.compile(pattern)
    except re.error as exc:
        raise ParameterError(f"--pattern {pattern!r} is not a valid regular expression ({exc})") from None
    names = list(regex.groupindex)
    if not names:
        raise ParameterError(f"--pattern {pattern!r} has no named groups (?P<factor>...) to use as factors")
    on_path = "/" in pattern
    items: list[_Item] = []
    unmatched: list[str] = []
    stems: Counter[str] = Counter(p.stem for p in _audio_files(folder))
    for path in _audio_files(folder):
        rel = path.relative_to(folder)
        subject = rel.with_suffix("").as_posix() if on_path else path.stem
        m = regex.fullmatch(subject)
        if m is None:
            unmatched.append(str(rel))
            continue
        labels = {k: _maybe_number(v) for k, v in m.groupdict().items()}
        item_id = path.stem if stems[path.stem] == 1 else rel.with_suffix("").as_posix().replace("/", "--")
        items.append(_Item(path, item_id, labels))
    return items, names, unmatched


def _maybe_number(text: str | None) -> Any:
    if text is None:
        return ""
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and re.fullmatch(r"[+-]?\d+", text) else value


def ingest_folder(
    folder: str | Path,
    out: str | Path,
    *,
    layout: Layout = "auto",
    factors: list[str] | None = None,
    pattern: str | None = None,
    sample_rate: int | None = None,
    duration_s: float | None = None,
    splits: dict[str, float] | None = None,
    seed: int = 0,
    name: str | None = None,
    overwrite: bool = False,
    max_duration_s: float | None = MAX_DURATION_S,
    progress: bool = False,
) -> Dataset:
    """Ingest a labelled folder of recordings as a timbrespace dataset.

    Parameters
    ----------
    folder : path-like
        The labelled folder (see the module docstring for the layouts).
    out : path-like
        Dataset folder to create. Must not exist (or be empty) unless ``overwrite``.
    layout : {"auto", "nsynth", "seed002", "hf-audiofolder", "pattern"}
        ``auto`` picks ``pattern`` when ``pattern`` is given, else detects.
    factors : list of str, optional
        NSynth layout: keys of ``examples.json`` to use as factors; audiofolder: metadata
        columns.
    pattern : str, optional
        Regular expression with named groups (the factors) for the ``pattern`` layout.
    sample_rate : int, optional
        Resample every file to this rate in Hz, 1000..384000 (default: the most common
        rate found).
    duration_s : float, optional
        Item length in seconds (items are padded or trimmed when loaded); default: the
        longest item after the ``max_duration_s`` cut.
    splits : dict of str to float, optional
        Split fractions (default train 0.8, valid 0.1, test 0.1), reproducible from
        ``seed``; not with an audiofolder's split folders, which are kept.
    seed : int
        Seed of the split assignment, ``0 <= seed < 2**32``.
    name : str, optional
        Dataset name (default: the folder's name).
    overwrite : bool
        Replace an existing dataset at ``out`` (a folder with ``dataset.json``; never the
        input, a folder holding it, or a folder that is not a dataset).
    max_duration_s : float or None
        Files longer than this many seconds are cut to it (named in a warning and in the
        card's ``cut`` list); None reads whole files. Default 30 s.
    progress : bool
        A bar over the files read on stderr.

    Returns
    -------
    Dataset

    Raises
    ------
    DatasetError
        Missing or empty folder, unknown layout, no readable audio, no file matching
        the pattern, ``out`` holding data that is not a dataset (or a dataset and no
        ``overwrite``), ``out`` being or holding the input, or another writer holding
        ``out``'s lock.
    ParameterError
        Invalid pattern or factor names.
    """
    folder = Path(folder)
    out = Path(out)
    _check_folder(folder)
    items, factor_names, unmatched, layout = _collect_items(folder, layout, factors, pattern)
    if duration_s is not None and not (np.isfinite(duration_s) and duration_s > 0):
        raise ParameterError(f"duration_s={duration_s} must be a positive number of seconds")
    if sample_rate is not None:
        check_sample_rate(sample_rate)
    check_seed(seed)
    given_splits = sorted({item.split for item in items if item.split is not None})
    if given_splits and splits is not None:
        raise ParameterError(f"{folder} has split folders ({', '.join(given_splits)}), which are kept; leave --splits out")
    if max_duration_s is not None and not (np.isfinite(max_duration_s) and max_duration_s > 0):
        raise ParameterError(f"max_duration_s={max_duration_s} must be a positive number of seconds")
    check_output_folder(out, marker=CARD_NAME, what="dataset", overwrite=overwrite, inputs=[folder])
    sample_rate = sample_rate or _common_sample_rate(items)
    with folder_lock(out, what="ingest"):
        _remove_stale_staging(out)
        return _ingest_locked(folder, out, items, factor_names, unmatched, layout, pattern=pattern,
                              sample_rate=sample_rate, duration_s=duration_s, splits=splits, seed=seed,
                              name=name, max_duration_s=max_duration_s, progress=progress)


def _remove_stale_staging(out: Path) -> None:
    """Remove the staging (and backup) folders a killed ingest into ``out`` left beside it.

    Called under ``out``'s lock: no live ingest into ``out`` can own them.
    """
    prefixes = (f".{out.name}.ingest-", f".{out.name}.old-")
    for stale in out.parent.iterdir():
        if stale.name.startswith(prefixes) and stale.is_dir():
            log.info("removing %s left by an interrupted ingest", stale)
            shutil.rmtree(stale, ignore_errors=True)


def _ingest_locked(folder: Path, out: Path, items: list[_Item], factor_names: list[str], unmatched: list[str],
                   layout: str, *, pattern: str | None, sample_rate: int, duration_s: float | None,
                   splits: dict[str, float] | None, seed: int, name: str | None,
                   max_duration_s: float | None, progress: bool = False) -> Dataset:
    """Stage every item, write the metadata and card, and swap the dataset in (lock held)."""
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.ingest-", dir=out.parent))
    try:
        staged = _stage_audio(items, folder, staging, sample_rate, max_duration_s, progress=progress)
        meta = pd.DataFrame(staged.rows)
        specs = []
        for f in factor_names:
            codes, spec = encode_factor(meta[f].to_numpy(), name=f, unit=_guess_unit(f))
            meta[f"{f}_code"] = codes
            specs.append(spec)
        if "variation" not in meta:
            meta["variation"] = 0
        if "split" in meta:  # an audiofolder's split folders are kept
            fractions = {k: 0.0 for k in meta["split"].unique().tolist()}
        else:
            fractions = splits or {"train": 0.8, "valid": 0.1, "test": 0.1}
            meta["split"] = assign_splits(len(meta), fractions, seed=seed)
        n_samples = int(round(duration_s * sample_rate)) if duration_s is not None else int(max(staged.lengths))
        card = DatasetCard(
            name=name or folder.resolve().name,
            source={"kind": "ingest", "layout": layout, "path": str(folder.resolve()),
                    **({"pattern": pattern} if pattern else {})},
            factors=specs, sample_rate=int(sample_rate), n_samples=n_samples, n_items=len(meta), seed=seed,
            splits={k: int((meta["split"] == k).sum()) for k in fractions},
            audio_format="wav",
            extra={"n_found": len(items) + len(unmatched), "unreadable": staged.unreadable,
                   "unmatched": unmatched, "silent": staged.silent, "cut": staged.cut,
                   "max_duration_s": max_duration_s},
        )
        write_metadata(staging, meta)
        write_card(staging, card)
        (staging / LOCK_NAME).write_bytes((out / LOCK_NAME).read_bytes())  # the lock moves with the dataset
        _swap_in(staging, out)
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    log.info("ingested %d items (%d unreadable, %d unmatched, %d silent) into %s",
             len(staged.rows), len(staged.unreadable), len(unmatched), len(staged.silent), out)
    return Dataset(out)


def _collect_items(folder: Path, layout: str, factors: list[str] | None,
                   pattern: str | None) -> tuple[list[_Item], list[str], list[str], str]:
    """The labelled items of the folder under its layout (detected for ``auto``)."""
    if layout == "auto":
        layout = "pattern" if pattern is not None else detect_layout(folder)
    if layout == "nsynth":
        items, factor_names, unmatched = _nsynth_items(folder, factors)
    elif layout == "seed002":
        items, factor_names, unmatched = _seed002_items(folder)
    elif layout == "hf-audiofolder":
        items, factor_names, unmatched = _audiofolder_items(folder, factors)
    elif layout == "pattern":
        if not pattern:
            raise ParameterError("layout 'pattern' needs --pattern with named groups, e.g. '(?P<pitch>\\d+)-(?P<velocity>\\d+)'")
        items, factor_names, unmatched = _pattern_items(folder, pattern)
    else:
        raise ParameterError(f"layout={layout!r} is not one of {', '.join(LAYOUTS)}")
    if unmatched:
        shown = ", ".join(unmatched[:10]) + (f" and {len(unmatched) - 10} more" if len(unmatched) > 10 else "")
        log.warning("%d files do not match the %s layout and are skipped: %s", len(unmatched), layout, shown)
    if not items:
        raise DatasetError(f"{folder}: no audio file matches the {layout} layout ({len(unmatched)} files did not match)")
    _check_names(folder, items, factor_names)
    source = {"nsynth": folder / "examples.json", "hf-audiofolder": folder / "metadata"}.get(layout, folder)
    _check_factor_values(items, factor_names, source)
    return items, factor_names, unmatched, layout


def _check_names(folder: Path, items: list[_Item], factor_names: list[str]) -> None:
    """Refuse names that would leave their folder once they name files: ids (``audio/<id>.wav``),
    factors (figure files), and any audio file outside ``folder``."""
    for f in factor_names:
        safe_name(f, what=f"{folder}: factor name", error=DatasetError)
    for item in items:
        safe_name(item.item_id, what=f"{item.path}: item_id", error=DatasetError)
        if not item.path.is_relative_to(folder):
            raise DatasetError(f"{item.path} lies outside the input folder {folder}; nothing outside it is read")


def _value_kind(value: Any) -> str | None:
    """``"number"``, ``"string"`` or ``"bool"`` for a factor value a dataset can hold; None otherwise."""
    if isinstance(value, (bool, np.bool_)):
        return "bool"
    if isinstance(value, (int, float, np.integer, np.floating)):
        return "number" if np.isfinite(float(value)) else None
    return "string" if isinstance(value, str) else None


def _shown(value: Any) -> str:
    try:
        return json.dumps(value)[:60]
    except (TypeError, ValueError):
        return repr(value)[:60]


def _check_factor_values(items: list[_Item], factors: list[str], source: Path) -> None:
    """Refuse factor values that are not finite numbers or strings, or mix kinds within a factor.

    Raises
    ------
    DatasetError
        Naming ``source`` (e.g. ``examples.json``), the factor, the item and the value: a
        nested object or list, a null, NaN or Infinity, or numbers beside strings.
    """
    for name in factors:
        first: dict[str, str] = {}
        for item in items:
            value = item.labels.get(name)
            kind = _value_kind(value)
            if kind is None:
                raise DatasetError(
                    f"{source}: factor {name!r} of {item.item_id!r} is {_shown(value)}: a factor value "
                    "must be a finite number or a string (not an object, a list, null, NaN or Infinity)"
                )
            first.setdefault(kind, item.item_id)
            if len(first) > 1:
                (k1, id1), (k2, id2) = list(first.items())[:2]
                raise DatasetError(f"{source}: factor {name!r} mixes kinds ({k1} for {id1!r}, {k2} for {id2!r}): "
                                   "one kind per factor")


def _common_sample_rate(items: list[_Item]) -> int:
    """The most common sample rate among (the first 200) files; 22,050 Hz if none is readable."""
    rates: Counter[int] = Counter()
    for item in items[:200]:
        try:
            rates[sf.info(item.path).samplerate] += 1
        except Exception:
            continue
    return rates.most_common(1)[0][0] if rates else 22050


@dataclass
class _Staged:
    rows: list[dict[str, Any]] = field(default_factory=list)
    unreadable: list[str] = field(default_factory=list)
    silent: list[str] = field(default_factory=list)
    cut: list[str] = field(default_factory=list)
    lengths: list[int] = field(default_factory=list)


def _stage_audio(items: list[_Item], folder: Path, staging: Path, sample_rate: int,
                 max_duration_s: float | None, *, progress: bool = False) -> _Staged:
    """Read, resample, cut and write every item's audio under ``staging``; one metadata row each."""
    staged = _Staged()
    max_samples = None if max_duration_s is None else int(round(max_duration_s * sample_rate))
    for item in track(items, "ingest", enabled=progress, unit="files"):
        try:
            y, _ = read_mono(item.path, sample_rate=sample_rate, max_duration_s=max_duration_s)
            if max_samples is not None and sf.info(str(item.path)).duration > max_duration_s:
                staged.cut.append(str(item.path.relative_to(folder)))
                y = y[:max_samples]
        except AudioError as exc:
            staged.unreadable.append(f"{item.path.relative_to(folder)} ({str(exc).split(': ', 1)[-1]})")
            continue
        is_silent = not np.any(np.abs(y) > 1e-7)
        if is_silent:
            staged.silent.append(str(item.path.relative_to(folder)))
        rel_audio = f"{AUDIO_DIR}/{item.item_id}.wav"
        write_audio_file(staging / rel_audio, y, sample_rate)
        staged.lengths.append(len(y))
        staged.rows.append({"item_id": item.item_id, "audio_path": rel_audio,
                            "source_path": str(item.path.relative_to(folder)), "silent": is_silent,
                            **item.extra, **item.labels,
                            **({"split": item.split} if item.split is not None else {})})
    if staged.unreadable:
        log.warning("%d unreadable files skipped: %s", len(staged.unreadable), "; ".join(staged.unreadable[:5]))
    if not staged.rows:
        raise DatasetError(f"{folder}: none of the {len(items)} audio files could be read ({staged.unreadable[0]})")
    if staged.cut:
        log.warning("%d files longer than --max-duration-s %g s were cut to it: %s", len(staged.cut),
                    max_duration_s, ", ".join(staged.cut[:5]))
    if staged.silent:
        log.warning("%d silent files kept (flagged in the 'silent' column): %s", len(staged.silent),
                    ", ".join(staged.silent[:5]))
    return staged


def _swap_in(staging: Path, out: Path) -> None:
    """Put the complete dataset in place; an old one is replaced only once the new one is whole."""
    if out.exists():
        backup = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, backup)
        os.replace(staging, out)
        shutil.rmtree(backup, ignore_errors=True)
    else:
        os.replace(staging, out)


def _guess_unit(name: str) -> str:
    if name.endswith("_hz"):
        return "Hz"
    if name.endswith("_db"):
        return "dB"
    if name.endswith("_s"):
        return "s"
    if name in ("pitch", "midi_note") or name.startswith("midi_"):
        return "MIDI note"
    return ""
