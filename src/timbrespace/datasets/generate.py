"""The generation engine: render a config's design in batches, on workers, resumably.

``generate_dataset`` expands the config into its design, renders batches of settings
through :meth:`SoundModel.render` with per-item seeds ``(seed, item_index)``, writes
each item's audio atomically, then the metadata, then the card (the card is the
"complete" marker). The same config and seed give the same bytes whatever the worker
count, batch size or scheduler (DESIGN.md, "Scale").

Resume: a journal (``.generate.json``) holds the config and its hash. A killed run
started again skips items whose audio file exists (files appear only complete, under
their final name) and renders the rest; a restart with a changed config is refused
with the fields that changed. The journal is written only once the design is built (the
scheduler address checked before that), so a config refused for its size, or too large
for memory, leaves no folder behind.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from timbrespace.datasets.card import CARD_NAME, METADATA_NAME, DatasetCard
from timbrespace.datasets.config import DatasetConfig, config_hash, load_dataset_config
from timbrespace.datasets.dataset import (
    AUDIO_DIR,
    METADATA_ROW_GROUP,
    Dataset,
    write_card,
    write_metadata_chunks,
)
from timbrespace.datasets.design import (
    Design,
    ItemNames,
    MetadataRows,
    build_design,
    item_names,
    split_unit,
)
from timbrespace.datasets.dsgenerator_records import write_dsgenerator_records
from timbrespace.errors import ConfigError, DatasetError, ParameterError
from timbrespace.utils.atomic import atomic_write_files, atomic_write_json
from timbrespace.utils.audio import encode_audio
from timbrespace.utils.lock import folder_lock
from timbrespace.utils.outputs import folder_is_empty
from timbrespace.utils.processes import die_with_parent

__all__ = [
    "generate_dataset",
    "resolve_config",
    "default_batch_size",
    "render_block",
    "JOURNAL_NAME",
]

log = logging.getLogger(__name__)

JOURNAL_NAME = ".generate.json"
_RENDER_BUDGET_SAMPLES = 4_000_000  # float32 samples per batch: ~16 MB of audio
_MAX_BATCH = 512
_MAX_BLOCK = 32


@dataclass(frozen=True)
class _BatchTask:
    sound_model: str
    fixed: dict[str, float | str]
    names: tuple[str, ...]
    values: np.ndarray  # (n_settings_in_batch, n_params)
    labels: np.ndarray  # (n_settings_in_batch, n_params): for DSGenerator file names
    setting_start: int
    n_variations: int
    n_samples: int
    sample_rate: int
    seed: int
    root: str
    naming: ItemNames  # each item's file name, from its index
    todo: np.ndarray  # (n_items_in_batch,) bool: still to be written
    block: int  # settings per render call


@dataclass(frozen=True)
class _BatchResult:
    item_start: int
    item_stop: int
    n_written: int


def _render_batch(task: _BatchTask) -> _BatchResult:
    """Render one batch and write the items whose file is missing (runs in a worker)."""
    from timbrespace.synths.registry import get_sound_model

    n_set = task.values.shape[0]
    item_start = task.setting_start * task.n_variations
    item_stop = item_start + n_set * task.n_variations
    model = get_sound_model(task.sound_model)
    long_samples = task.n_samples * task.n_variations
    written = 0
    for b0 in range(0, n_set, task.block):
        b1 = min(n_set, b0 + task.block)
        i0, i1 = b0 * task.n_variations, b1 * task.n_variations
        if not task.todo[i0:i1].any():
            continue
        params: dict[str, Any] = {k: [v] * (b1 - b0) for k, v in task.fixed.items()}
        params.update({k: task.values[b0:b1, j] for j, k in enumerate(task.names)})
        audio = model.render(
            params,
            sample_rate=task.sample_rate,
            duration_s=long_samples / task.sample_rate,
            seed=task.seed,
            item_index=np.arange(task.setting_start + b0, task.setting_start + b1),
        )
        if task.naming.audio_ext is not None:
            items = audio.reshape((b1 - b0) * task.n_variations, task.n_samples)
            written += atomic_write_files(Path(task.root) / AUDIO_DIR, _encoded(task, items, i0, i1))
    return _BatchResult(item_start, item_stop, written)


def _encoded(task: _BatchTask, items: np.ndarray, i0: int, i1: int) -> Iterator[tuple[str, bytes]]:
    """(file name, encoded audio) of the batch items ``i0:i1`` still to write; ``items`` holds them."""
    suffix = f".{task.naming.audio_ext}"
    item_start = task.setting_start * task.n_variations
    for i in range(i0, i1):
        if task.todo[i]:
            name = task.naming.file_name(item_start + i, task.labels[i // task.n_variations])
            yield name, encode_audio(items[i - i0], task.sample_rate, suffix)


def _worker_init(parent_pid: int) -> None:
    die_with_parent(parent_pid)  # a killed generate leaves no worker writing behind it
    # One thread per worker: parallelism comes from the processes.
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        pass
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def resolve_config(config: DatasetConfig | str | os.PathLike[str]) -> DatasetConfig:
    """A config object, a YAML/JSON path, or a preset name -> :class:`DatasetConfig`."""
    if isinstance(config, DatasetConfig):
        return config
    path = Path(config)
    if path.is_file():
        return load_dataset_config(path)
    from timbrespace.datasets.presets import list_presets, preset_path

    if str(config) in list_presets():
        return load_dataset_config(preset_path(str(config)))
    raise ConfigError(
        f"{config}: no such config file or preset; presets: {', '.join(list_presets())}"
    )


def render_block(config: DatasetConfig) -> int:
    """Settings per render call: 32, halved while a call would exceed ~4 M samples.

    Render calls always cover the same settings (aligned on multiples of this block,
    which depends on the config only), so an item's bytes never depend on the batch
    size, the worker count or the scheduler, even where a sound model's arithmetic
    (e.g. a BLAS matrix product) varies with the shape of the batch.
    """
    per_setting = config.n_samples * config.n_variations
    block = _MAX_BLOCK
    while block > 1 and block * per_setting > _RENDER_BUDGET_SAMPLES:
        block //= 2
    return block


def default_batch_size(config: DatasetConfig) -> int:
    """Items per batch: about 4 M float32 samples, at most 512 settings, whole render blocks."""
    per_setting = config.n_samples * config.n_variations
    block = render_block(config)
    settings = max(block, min(_MAX_BATCH, _RENDER_BUDGET_SAMPLES // per_setting) // block * block)
    return settings * config.n_variations


def _config_diff(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    keys = sorted(set(old) | set(new))
    return [f"{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]


def _prepare_folder(out: Path, config: DatasetConfig, digest: str, *, write_journal: bool) -> bool:
    """Check ``out`` for a resume (and write the journal of a new run when ``write_journal``);
    return True when the dataset there is already complete."""
    card_path = out / CARD_NAME
    journal_path = out / JOURNAL_NAME
    new = config.to_json_dict()
    if card_path.is_file():
        card = DatasetCard.read(out)
        if card.extra.get("config_hash") == digest and (out / METADATA_NAME).is_file():
            return True
        changed = _config_diff(card.source.get("config", {}), new)
        raise DatasetError(
            f"{out} already holds a dataset made from another config ({'; '.join(changed) or 'different hash'}); "
            "choose another --out or delete it"
        )
    if journal_path.is_file():
        import json

        try:
            journal = json.loads(journal_path.read_text())
        except json.JSONDecodeError:
            journal = {}
        if journal.get("config_hash") != digest:
            changed = _config_diff(journal.get("config", {}), new)
            raise DatasetError(
                f"{out}: refusing to resume, the config changed since the interrupted run "
                f"({'; '.join(changed) or 'unreadable journal'}); items made with the old config would be mixed "
                "with new ones. Use the old config to finish, or another --out"
            )
        return False
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder; choose another --out")
    if not folder_is_empty(out):
        raise DatasetError(
            f"{out} exists, is not empty and holds no interrupted generation; choose another --out"
        )
    if not write_journal:
        return False
    try:
        out.mkdir(parents=True, exist_ok=True)
        atomic_write_json(journal_path, {"config_hash": digest, "config": new})
    except OSError as exc:
        raise DatasetError(f"{out}: cannot write ({exc.strerror or exc})") from None
    return False


def _todo(folder: Path, names: ItemNames, design: Design) -> np.ndarray:
    """Which items still need their audio file: bool, one per item.

    One folder listing, no per-file stat. Under index naming a file's name gives its
    item, so one bool per item is all that is held; DSGenerator names are looked up in
    the set of names found, dropped before rendering starts.
    """
    found = np.zeros(design.n_items, dtype=bool)
    if names.sound is None:
        suffix = f".{names.audio_ext}"
        for name in _audio_names(folder):
            stem = name[: -len(suffix)] if name.endswith(suffix) else ""
            if len(stem) == names.width and stem.isascii() and stem.isdigit() and int(stem) < design.n_items:
                found[int(stem)] = True
    else:
        existing = set(_audio_names(folder))
        n_var = design.n_variations
        for i in range(design.n_items):
            found[i] = names.file_name(i, design.labels[i // n_var]) in existing
    return ~found


def _audio_names(folder: Path) -> Iterator[str]:
    """Names of the complete audio files in ``folder`` (one listing, no per-file stat).

    Files appear under their final name only when complete (atomic writes); the hidden
    temporary file of a write cut short by a kill is removed here.
    """
    if not folder.is_dir():
        return
    with os.scandir(folder) as entries:
        for entry in entries:
            if entry.name.startswith("."):
                os.unlink(entry.path)
            else:
                yield entry.name


def _batches(
    config: DatasetConfig,
    design: Design,
    names: ItemNames,
    todo: np.ndarray,
    batch_items: int,
    root: Path,
) -> Iterator[_BatchTask]:
    n_var = design.n_variations
    block = render_block(config)
    per_batch = max(1, -(-(batch_items // n_var) // block)) * block  # whole blocks, rounded up
    fixed = dict(config.fixed)
    for s0 in range(0, design.n_settings, per_batch):
        s1 = min(design.n_settings, s0 + per_batch)
        batch_todo = todo[s0 * n_var : s1 * n_var].copy()
        if not batch_todo.any():
            continue
        yield _BatchTask(
            config.sound_model,
            fixed,
            design.names,
            design.values[s0:s1].copy(),
            design.labels[s0:s1].copy(),
            s0,
            n_var,
            config.n_samples,
            config.sample_rate,
            config.seed,
            str(root),
            names,
            batch_todo,
            block,
        )


def _progress(enabled: bool, item_s: float) -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class RateColumn(ProgressColumn):
        """Items rendered by this run per second since it started: the summary's measure
        (rich's own speed is a short sliding window, which batch-sized jumps inflate)."""

        def render(self, task: Any) -> Text:
            elapsed = task.finished_time if task.finished else task.elapsed
            done = task.completed - task.fields.get("resumed_from", 0)
            speed = done / elapsed if elapsed else 0.0
            if not speed:
                return Text("-- items/s", style="progress.data.speed")
            return Text(
                f"{speed:,.0f} items/s {speed * item_s:,.1f}x realtime", style="progress.data.speed"
            )

    return Progress(
        TextColumn("[bold]generate"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),  # stdout stays the command's output
        disable=not enabled,
    )


def _run_local(tasks: Iterator[_BatchTask], workers: int) -> Iterator[_BatchResult]:
    if workers <= 1:
        for task in tasks:
            yield _render_batch(task)
        return
    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init, initargs=(os.getpid(),)) as pool:
        pending: set[Any] = set()
        for task in tasks:
            pending.add(pool.submit(_render_batch, task))
            if len(pending) >= 2 * workers:  # bounded in flight: memory bounded by batches
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for f in done:
                    yield f.result()
        for f in pending:
            yield f.result()


def _run_dask(tasks: Iterator[_BatchTask], scheduler: Any, workers: int) -> Iterator[_BatchResult]:
    from dask.distributed import Client, LocalCluster, as_completed

    own_client = None
    if isinstance(scheduler, Client):
        client = scheduler
    elif scheduler == "local":
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None
        )
        own_client = client = Client(cluster)
    else:
        own_client = client = Client(str(scheduler), timeout="30s")
    try:
        n_slots = max(1, sum(client.nthreads().values()))
        queue = as_completed()
        in_flight = 0
        for task in tasks:
            queue.add(client.submit(_render_batch, task, pure=False))
            in_flight += 1
            if in_flight >= 2 * n_slots:
                yield next(queue).result()
                in_flight -= 1
        for fut in queue:
            yield fut.result()
    finally:
        if own_client is not None:
            cluster_obj = own_client.cluster
            own_client.close()
            if cluster_obj is not None:
                cluster_obj.close()


_SCHEDULER_ADDRESS = re.compile(r"(?:(?:tcp|tls|ucx|ws|wss|inproc)://)?[A-Za-z0-9_.\-\[\]:]+(?::\d+)?")


def _check_scheduler(scheduler: Any) -> None:
    """Refuse a ``scheduler`` that is neither ``"local"``, a Dask address nor a ``Client``, before any file."""
    if scheduler is None or scheduler == "local" or not isinstance(scheduler, str):
        return
    if not _SCHEDULER_ADDRESS.fullmatch(scheduler.strip()):
        raise ParameterError(f"scheduler={scheduler!r} is not a Dask scheduler address: expected "
                             "tcp://HOST:PORT (or tls://, ucx://), or 'local'")


def generate_dataset(
    config: DatasetConfig | str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    workers: int | None = None,
    batch_size: int | None = None,
    scheduler: Any = None,
    progress: bool = True,
) -> Dataset:
    """Render a config's design to a dataset folder (resumable, deterministic).

    Parameters
    ----------
    config : DatasetConfig, path-like or str
        A config, a YAML/JSON file (ours or DSGenerator's), or a preset name.
    out : path-like
        Dataset folder (created). An interrupted generation there is resumed.
    workers : int, optional
        Worker processes (default: all cores; 1 renders in this process).
    batch_size : int, optional
        Items per batch (default: about 4 M samples per batch, see
        :func:`default_batch_size`), rounded up to whole render blocks of settings
        (:func:`render_block`), which keeps the bytes independent of it.
    scheduler : {"local"}, str or dask.distributed.Client, optional
        Run the batches as Dask tasks: ``"local"`` starts a LocalCluster of ``workers``
        processes, ``"tcp://host:port"`` connects to a scheduler (``out`` must be on a
        file system the workers share), or pass a ``Client``.
    progress : bool
        Show a progress bar (items/s and x-realtime).

    Returns
    -------
    Dataset

    Raises
    ------
    ConfigError
        Invalid config or unknown preset.
    DatasetError
        ``out`` holds something else, the config changed since an interrupted run, or
        the folder cannot be written (what was written before stays valid; run again to
        resume), or another generate is writing ``out`` (one writer per folder; its
        lock names the pid). Local worker processes exit if this process is killed.

    Examples
    --------
    >>> import tempfile
    >>> from timbrespace.datasets import DatasetConfig, generate_dataset
    >>> config = DatasetConfig(name="tiny", sound_model="additive", sample_rate=8000,
    ...                        duration_s=0.1,
    ...                        parameters={"f0_hz": {"min": 220, "max": 880, "n": 3}})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     ds = generate_dataset(config, tmp, workers=0, progress=False)
    ...     print(ds.card.n_items, ds.card.n_samples, ds.factors[0].values)
    3 800 (220.0, 550.0, 880.0)

    A preset by name, on worker processes (``timbrespace datasets`` lists the presets):

    >>> ds = generate_dataset("seed001-additive", "data/seed001", workers=2)  # doctest: +SKIP
    """
    config = resolve_config(config)
    _check_scheduler(scheduler)
    out = Path(out)
    digest = config_hash(config)
    if out.exists() and not out.is_dir():
        raise DatasetError(f"{out} exists and is not a folder; choose another --out")
    with folder_lock(out, what="generate"):
        return _generate_locked(out, config, digest, workers, batch_size, scheduler, progress)


def _generate_locked(out: Path, config: DatasetConfig, digest: str, workers: int | None, batch_size: int | None,
                     scheduler: Any, progress: bool) -> Dataset:
    """:func:`generate_dataset` with ``out``'s writer lock held."""
    if _prepare_folder(out, config, digest, write_journal=False):
        log.info("%s is already complete (%d items)", out, config.n_items)
        return Dataset(out)
    # Nothing per item is held while rendering (issue 29: memory flat in the item count,
    # in this process and in the workers it forks): names come from item indices, the
    # to-do list is one bool per item, and the metadata table is built at the end. The
    # design comes first: a config too large for memory fails here, before the journal
    # exists (which would make the next run refuse a corrected config as "changed").
    design = build_design(config)
    names = item_names(config, design)
    _prepare_folder(out, config, digest, write_journal=True)
    workers = (os.cpu_count() or 1) if workers is None else max(1, int(workers))
    batch_items = default_batch_size(config) if batch_size is None else max(1, int(batch_size))
    keeps_audio = config.audio_format != "none"
    todo = _todo(out / AUDIO_DIR, names, design) if keeps_audio else np.ones(design.n_items, dtype=bool)
    n_done = design.n_items - int(todo.sum())
    if n_done:
        log.info("resuming %s: %d of %d items already written", out, n_done, design.n_items)
    t0 = time.perf_counter()
    tasks = _batches(config, design, names, todo, batch_items, out)
    del todo
    runner = _run_dask(tasks, scheduler, workers) if scheduler is not None else _run_local(tasks, workers)
    _render_all(runner, out, progress, config, design.n_items, n_done)
    if keeps_audio:
        left = _todo(out / AUDIO_DIR, names, design)
        if left.any():
            first = int(np.argmax(left))
            example = names.file_name(first, design.labels[first // design.n_variations])
            raise DatasetError(f"{out}: {int(left.sum())} items missing after generation, e.g. {AUDIO_DIR}/{example}")
    elapsed = time.perf_counter() - t0
    _finish(out, config, design, names, MetadataRows(config, design), digest)
    rendered = max(design.n_items - n_done, 0)
    if elapsed > 0 and rendered:
        log.info(
            "%d items in %.1f s: %.0f items/s, %.1fx realtime",
            rendered,
            elapsed,
            rendered / elapsed,
            rendered * config.item_duration_s / elapsed,
        )
    return Dataset(out)


def _render_all(runner: Iterator[_BatchResult], out: Path, progress: bool, config: DatasetConfig,
                n_items: int, n_done: int) -> None:
    """Drain the batch results into the progress bar; a write failure is one clear error."""
    keeps_audio = config.audio_format != "none"
    try:
        with _progress(progress, config.item_duration_s) as bar:
            task_id = bar.add_task("generate", total=n_items, completed=n_done, resumed_from=n_done)
            for result in runner:
                advance = result.n_written if keeps_audio else result.item_stop - result.item_start
                bar.update(task_id, advance=advance)
    except OSError as exc:
        raise DatasetError(
            f"{out}: cannot write ({exc.strerror or exc}); the items written so far are complete, run again to resume"
        ) from None


def _finish(out: Path, config: DatasetConfig, design: Design, names: ItemNames, rows: MetadataRows,
            digest: str) -> None:
    """Write the metadata (a row group at a time), then the card, which marks the dataset complete."""
    card = DatasetCard(
        name=config.name,
        source={"kind": "synth", "sound_model": config.sound_model, "config": config.to_json_dict()},
        factors=rows.factors,
        sample_rate=config.sample_rate,
        n_samples=config.n_samples,
        n_items=design.n_items,
        seed=config.seed,
        splits=rows.split_counts,
        audio_format=None if config.audio_format == "none" else config.audio_format,
        extra={"config_hash": digest, "n_settings": design.n_settings, "n_variations": design.n_variations,
               "split_unit": split_unit(design, dict(config.splits)),
               "fixed": dict(config.fixed), "naming": config.naming},
    )
    try:
        if config.dsgenerator is not None and config.dsgenerator.record_format is not None:
            # DSGenerator's records list every file: the one place that holds every path
            write_dsgenerator_records(out, config, pd.DataFrame({"audio_path": list(names.audio_paths(design))}))
        write_metadata_chunks(out, rows.chunks(METADATA_ROW_GROUP))  # ids are item indices: unique
        write_card(out, card)  # last: the card marks the dataset complete
        (out / JOURNAL_NAME).unlink(missing_ok=True)
    except OSError as exc:
        raise DatasetError(f"{out}: cannot write metadata ({exc.strerror or exc}); run again to finish") from None
