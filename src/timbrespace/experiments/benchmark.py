"""One benchmark over every seed dataset: the model family × seeds × datasets, one table.

disentanglement_lib's value was one study over many datasets and models (Locatello et
al. 2019); this is the audio equivalent. Each job is one (dataset, model, seed): the
sweep's per-run training (:func:`~timbrespace.experiments.train.fit_dataset`) and
scoring (:func:`~timbrespace.experiments.sweep_table.run_row`, i.e.
:func:`~timbrespace.metrics.evaluate_representation`), then the resynthesis of a few
test items (decoded features → phase retrieval → spectral convergence and
multi-resolution STFT distance). Each dataset also gets one job for its linear
baselines (PCA and FastICA, :func:`~timbrespace.experiments.sweep_table.linear_baselines`)
and the features' own inverse; seed 004's grooves get the groove VAE's held-out hit F1
(:func:`~timbrespace.experiments.drums.train_drums`) against its baselines.

``DIR/jobs/<job>.json`` is written atomically when a job ends, so a rerun skips every
finished job and a killed study loses at most the job in flight (whose training itself
resumes from its last checkpoint). ``DIR/benchmark.json`` marks the folder and holds
the settings; another study's settings are refused there. The table is
:mod:`.benchmark_table`.

References
----------
Locatello, F. et al. (2019). Challenging common assumptions in the unsupervised learning
of disentangled representations. ICML.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from timbrespace.datasets import Dataset
from timbrespace.errors import DatasetError, ParameterError, TrainingError
from timbrespace.experiments.benchmark_datasets import (
    BENCHMARK_DATASETS,
    FEATURES,
    FULL,
    QUICK,
    BenchmarkDataset,
    BenchmarkSettings,
    default_data_dir,
    prepare_dataset,
)
from timbrespace.experiments.benchmark_table import (
    GROOVE_MODEL,
    MODEL_NAMES,
    DatasetSummary,
    JobResult,
    write_tables,
)
from timbrespace.utils.atomic import atomic_write_json, atomic_write_text
from timbrespace.utils.lock import LOCK_NAME, folder_lock

__all__ = ["BenchmarkResult", "check_benchmark_options", "run_benchmark"]

log = logging.getLogger(__name__)

FORMAT = "timbrespace.benchmark"
MARKER = "benchmark.json"
BASELINES = "baselines"
MAX_SEEDS = 100


@dataclass(frozen=True)
class BenchmarkResult:
    """What :func:`run_benchmark` returns: every job's row and the files written."""

    rows: tuple[JobResult, ...]
    csv: Path
    markdown: Path
    figure: Path
    n_trained: int
    n_skipped: int


def check_benchmark_options(*, datasets: Sequence[str] | None, models: Sequence[str] | None,
                            seeds: int, devices: int | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Refuse options the study cannot run, before anything is written.

    Returns
    -------
    (datasets, models) : tuple of tuple of str
        The names, in table order.

    Raises
    ------
    ParameterError
        An unknown or repeated dataset or model, ``seeds`` outside 1..100, ``devices`` other than 1.
    """
    known = [d.name for d in BENCHMARK_DATASETS]
    chosen = []
    for what, given, allowed in (("datasets", datasets, known), ("models", models, list(MODEL_NAMES))):
        names = list(allowed if given is None else given)
        unknown = [n for n in names if n not in allowed]
        if unknown or not names:
            raise ParameterError(f"{what}={','.join(names)}: {', '.join(map(repr, unknown)) or 'none given'} "
                                 f"not allowed; choose from {', '.join(allowed)}")
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ParameterError(f"{what}={','.join(names)} gives {', '.join(twice)} twice; give each once")
        chosen.append(tuple(n for n in allowed if n in names))
    if not 1 <= seeds <= MAX_SEEDS:
        raise ParameterError(f"seeds={seeds} must be in 1..{MAX_SEEDS} (seeds 0..seeds-1 per job)")
    if devices is not None and devices != 1:
        # Lightning's DDP re-runs the whole command in each device's process: one job per device
        # would need a scheduler of its own, which the study does not have yet
        raise ParameterError(f"devices={devices} not allowed: each job trains on one device (devices=1); "
                             "for more devices run one study per device with --datasets subsets")
    return chosen[0], chosen[1]


def run_benchmark(
    out: str | Path,
    *,
    quick: bool = False,
    devices: int | None = None,
    datasets: Sequence[str] | None = None,
    models: Sequence[str] | None = None,
    seeds: int = 3,
    data_dir: str | Path | None = None,
    settings: BenchmarkSettings | None = None,
    progress: bool = False,
) -> BenchmarkResult:
    """Train the model family on every seed dataset and write ``benchmark.{csv,md,png}``.

    Parameters
    ----------
    out : path-like
        The study's folder: absent, empty, or an earlier study with the same settings
        (resumed: finished jobs are not trained again).
    quick : bool
        The quick sizes (:data:`~.benchmark_datasets.QUICK`, two CPU cores, < 20 min)
        instead of the full ones (:data:`~.benchmark_datasets.FULL`).
    devices : {1}, optional
        Train each job on one accelerator device (Lightning ``accelerator="auto"``, e.g. a
        GPU); default: the CPU, one thread. Data-parallel training over several devices is
        not offered: Lightning's DDP re-runs the whole command per device.
    datasets : sequence of str, optional
        A subset of the datasets (:data:`~.benchmark_datasets.BENCHMARK_DATASETS` names).
    models : sequence of str, optional
        A subset of ``beta_vae``, ``tcvae``, ``factorvae``, ``shift``, ``ada_gvae``
        (grooves always train the groove VAE).
    seeds : int
        Seeds ``0..seeds-1`` of every job.
    data_dir : path-like, optional
        The real notes and grooves (default ``$TIMBRESPACE_SHARED_DATA`` or
        ``../shared/data``); a dataset whose data is missing is left out with a note.
    settings : BenchmarkSettings, optional
        Sizes; overrides ``quick`` (tests use tiny ones).
    progress : bool
        A bar over the jobs on stderr (each job is also logged).

    Returns
    -------
    BenchmarkResult

    Raises
    ------
    ParameterError
        As :func:`check_benchmark_options`; ``out`` that is a file, a folder holding
        anything but a study, or a study made with other settings.
    DatasetError
        Another process is writing the same study (one writer per folder).

    Examples
    --------
    >>> run_benchmark("bench", quick=True, datasets=["seed000-richness"])  # doctest: +SKIP
    """
    names, model_names = check_benchmark_options(datasets=datasets, models=models, seeds=seeds, devices=devices)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise ParameterError(f"data_dir={data_dir} is not a folder; give the folder holding notes/ and grooves/ "
                             "(e.g. ../shared/data)")
    settings = settings or (QUICK if quick else FULL)
    out = Path(out)
    _check_folder(out, settings)
    specs = [d for d in BENCHMARK_DATASETS if d.name in names]
    _check_real_data(specs, out, data_dir)
    if devices == 1:
        import torch

        if not torch.cuda.is_available():
            log.warning("benchmark: devices=1, but no GPU is visible: the jobs train on the CPU")
    rows: list[JobResult] = []
    summaries: list[DatasetSummary] = []
    trained = skipped = 0
    n_jobs = sum(len(_jobs(spec, model_names, seeds)) for spec in specs)
    with folder_lock(out, what="benchmark"), _JobBar(n_jobs, enabled=progress) as bar:
        marker = out / MARKER
        if not marker.is_file():
            atomic_write_text(marker, json.dumps({"format": FORMAT, "settings": settings.to_dict()}, indent=2) + "\n")
        for spec in specs:
            jobs = _jobs(spec, model_names, seeds)
            try:
                ds = prepare_dataset(spec, settings.sizes[spec.name], out / "datasets" / spec.name,
                                     data_dir=data_dir)
            except DatasetError as exc:
                log.warning("benchmark: %s left out: %s", spec.name, exc)
                rows.append(JobResult(spec.name, "*", -1, status="missing", reason=str(exc)))
                bar.advance(len(jobs))
                continue
            summaries.append(_summary(ds, spec))
            for job in jobs:
                path = out / "jobs" / f"{job.name}.json"
                if path.is_file():
                    rows.extend(JobResult.read(path))
                    skipped += 1
                    bar.advance(1)
                    continue
                log.info("benchmark: job %s (%d of %d)", job.name, trained + skipped + 1, n_jobs)
                start = time.perf_counter()
                try:
                    result = _run_job(ds, spec, job, settings, out / "runs" / job.name, devices)
                except TrainingError as exc:  # e.g. a NaN loss: one cell fails, not the study; retried on a rerun
                    log.warning("benchmark: job %s failed: %s", job.name, exc)
                    rows.append(JobResult(spec.name, job.model, job.seed, status="failed", reason=f"failed: {exc}"))
                    bar.advance(1)
                    continue
                atomic_write_json(path, {"format": f"{FORMAT}.job", "job": job.name,
                                         "wall_s": round(time.perf_counter() - start, 3),
                                         "rows": [r.to_dict() for r in result]})
                rows.extend(result)
                trained += 1
                bar.advance(1)
        # the table is the study's: jobs finished by earlier runs with other subsets stay in it
        seen = {(r.dataset, r.model, r.seed) for r in rows}
        for path in sorted((out / "jobs").glob("*.json")):
            earlier = [r for r in JobResult.read(path) if (r.dataset, r.model, r.seed) not in seen]
            rows.extend(earlier)
            seen.update((r.dataset, r.model, r.seed) for r in earlier)
        in_table = {r.dataset for r in rows}
        table_specs = [d for d in BENCHMARK_DATASETS if d.name in in_table]
        for spec in table_specs:
            if spec.name not in {d.name for d in summaries} and (out / "datasets" / spec.name).is_dir():
                summaries.append(_summary(Dataset(out / "datasets" / spec.name), spec))
        table_models = tuple(m for m in MODEL_NAMES if m in model_names or m in {r.model for r in rows})
        csv, md, png = write_tables(rows, out, specs=table_specs, models=table_models, settings=settings,
                                    summaries=summaries)
    return BenchmarkResult(tuple(rows), csv, md, png, trained, skipped)


class _JobBar:
    """A rich bar over the study's jobs on stderr (nothing when disabled)."""

    def __init__(self, total: int, *, enabled: bool) -> None:
        self._bar: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import Progress

            self._bar = Progress(console=Console(stderr=True))
            self._task = self._bar.add_task("benchmark jobs", total=total)

    def __enter__(self) -> _JobBar:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.stop()

    def advance(self, n: int) -> None:
        if self._bar is not None:
            self._bar.advance(self._task, n)


def _check_real_data(specs: Sequence[BenchmarkDataset], out: Path, data_dir: str | Path | None) -> None:
    """Refuse a study whose every dataset is built from real data that is not there (nothing would run)."""
    root = Path(data_dir) if data_dir is not None else default_data_dir()
    sub = {"semantic": "notes", "grooves": "grooves"}
    missing = [spec for spec in specs if spec.source in sub and not (root / sub[spec.source]).is_dir()
               and not (out / "datasets" / spec.name / "dataset.json").is_file()]
    if specs and len(missing) == len(specs):
        raise ParameterError(f"datasets={','.join(s.name for s in specs)} are built from real data, and "
                             f"{root} holds no {' or '.join(sorted({sub[s.source] + '/' for s in missing}))}; "
                             "give --data (the folder of notes/ and grooves/) or set TIMBRESPACE_SHARED_DATA")


def _check_folder(out: Path, settings: BenchmarkSettings) -> None:
    """Accept an absent or empty ``out``, or an earlier study with the same settings (reads only)."""
    marker = out / MARKER
    wanted = {"format": FORMAT, "settings": settings.to_dict()}
    if out.exists() and not out.is_dir():
        raise ParameterError(f"out={out} is a file; give a folder for the study")
    if out.is_dir() and any(p.name != LOCK_NAME for p in out.iterdir()):
        try:
            found = json.loads(marker.read_text())
        except (OSError, ValueError):
            raise ParameterError(f"out={out} holds other files and is not a benchmark folder; "
                                 "give a new or empty folder (an earlier benchmark folder is resumed)") from None
        if found.get("format") != FORMAT:
            raise ParameterError(f"out={out} is not a benchmark folder ({marker.name} of another format)")
        if found.get("settings") != wanted["settings"]:
            profile = (found.get("settings") or {}).get("profile", "?")
            raise ParameterError(f"out={out} holds a {profile!r} benchmark made with other settings; resume it "
                                 f"with the same options, or give another folder for a {settings.profile!r} one")


def _summary(ds: Dataset, spec: BenchmarkDataset) -> DatasetSummary:
    """Items, factors with their level counts, and the features' kind and item shape."""
    from timbrespace.experiments.train import feature_shape

    codes = ds.factor_codes
    factors = tuple(f"{name} ({len(np.unique(codes[:, j]))})" for j, name in enumerate(ds.factor_names))
    if spec.source == "grooves":
        return DatasetSummary(spec.name, len(ds), factors or ("none: bars",), "hit/velocity grid (bars)")
    shape = " × ".join(map(str, feature_shape(ds, FEATURES)))
    kind = spec.features.get("kind", "")
    return DatasetSummary(spec.name, len(ds), factors, f"{kind} {spec.features.get('output', '')}, {shape}")


@dataclass(frozen=True)
class _Job:
    """One job: a model and seed on a dataset, or (``model`` ``baselines``) its linear baselines."""

    dataset: str
    model: str
    seed: int = 0

    @property
    def name(self) -> str:
        """``<dataset>--<model>--seed<s>``, or ``<dataset>--baselines``: its job file and run folder."""
        if self.model == BASELINES:
            return f"{self.dataset}--{BASELINES}"
        return f"{self.dataset}--{self.model}--seed{self.seed}"


def _jobs(spec: BenchmarkDataset, models: Sequence[str], seeds: int) -> list[_Job]:
    """The jobs of one dataset: its baselines, then every (model, seed) that applies."""
    if spec.source == "grooves":
        return [_Job(spec.name, GROOVE_MODEL, s) for s in range(seeds)]
    models = [m for m in models if m != "shift" or spec.pitched]
    return [_Job(spec.name, BASELINES)] + [_Job(spec.name, m, s) for m in models for s in range(seeds)]


def _run_job(ds: Dataset, spec: BenchmarkDataset, job: _Job, settings: BenchmarkSettings, run: Path,
             devices: int | None) -> list[JobResult]:
    if job.model == BASELINES:
        return _baselines(ds, spec, settings)
    if job.model == GROOVE_MODEL:
        return [_groove(ds, spec, job.seed, settings, run)]
    return [_train(ds, spec, job.model, job.seed, settings, run, devices)]


def _latent_dim(ds: Dataset) -> int:
    return max(4, len(ds.factor_names) + 2)


def _model_config(ds: Dataset, model: str, settings: BenchmarkSettings) -> Any:
    from timbrespace.experiments.config import load_experiment_config
    from timbrespace.experiments.train import feature_shape, model_config_for

    beta = float(settings.betas[model])
    if model == "shift":
        # the default experiment's shift-VAE (β-TCVAE on a CQT), without its warp latent
        base = load_experiment_config("additive-4factor").model
        assert base.shift is not None
        return dataclasses.replace(base, input_shape=feature_shape(ds, FEATURES), latent_dim=_latent_dim(ds),
                                   beta=beta, shift=dataclasses.replace(base.shift, warp=False))
    return model_config_for(ds, FEATURES, model, architecture="mlp", latent_dim=_latent_dim(ds),
                            hidden_sizes=tuple(settings.hidden_sizes), beta=beta)


def _train(ds: Dataset, spec: BenchmarkDataset, model: str, seed: int, settings: BenchmarkSettings, run: Path,
           devices: int | None) -> JobResult:
    from timbrespace.datasets import PairSampler
    from timbrespace.experiments.runs import write_run_card
    from timbrespace.experiments.sweep_table import run_row
    from timbrespace.experiments.train import fit_dataset
    from timbrespace.experiments.train_runs import write_evaluable_config
    from timbrespace.training import TrainConfig, load_checkpoint

    train_idx = ds.split_indices("train")
    if model == "ada_gvae":
        try:
            PairSampler(ds.factor_codes[train_idx], k=1)
        except DatasetError as exc:
            return JobResult(spec.name, model, seed, status="n/a", reason=f"no pairs: {exc}")
    config = _model_config(ds, model, settings)
    steps = settings.epochs * math.ceil(len(train_idx) / settings.batch_size)
    train_config = TrainConfig(
        epochs=settings.epochs, batch_size=settings.batch_size, seed=seed, beta_schedule="linear",
        warmup_steps=max(1, steps // 2), num_threads=1 if devices is None else None,
        accelerator="cpu" if devices is None else "auto", devices=devices or 1,
    )
    if not (run / "latents.npz").is_file():
        start = time.perf_counter()
        fitted = fit_dataset(ds, features=FEATURES, model_config=config, train_config=train_config, out_dir=run,
                             resume=True)
        atomic_write_text(run / "train_time_s.txt", f"{time.perf_counter() - start:.3f}\n")
        # a `train` run's card and config: `evaluate`, `encode` and `explore` open the job's run
        write_evaluable_config(run, ds, FEATURES, fitted.train.model.config, train_config, name=run.name)
        write_run_card(run, "train", dataset=ds.root)
    row = run_row(run, run.name, model, config.beta, seed, settings.dci_estimator, "random")
    sc, mrstft = _resynthesis(ds, settings, load_checkpoint(run / "checkpoints" / "last"))
    return JobResult.from_sweep_row(spec.name, row, spectral_convergence=sc, mrstft=mrstft)


def _test_rows(ds: Dataset, n: int) -> np.ndarray:
    """Up to ``n`` test items (else valid, else any), evenly spread over the split."""
    for split in ("test", "valid", "train"):
        try:
            idx = ds.split_indices(split)
        except DatasetError:
            continue
        if idx.size:
            return idx[np.unique(np.linspace(0, idx.size - 1, min(n, idx.size)).round().astype(np.int64))]
    return np.arange(min(n, len(ds)))


def _resynthesis(ds: Dataset, settings: BenchmarkSettings, model: Any | None) -> tuple[float, float]:
    """Mean spectral convergence and multi-resolution STFT distance of resynthesised test items.

    ``model`` ``None``: the stored features themselves inverted (the inverse's own limit).
    Spectral convergence is measured in the features' STFT frames (Hann frames of
    ``n_fft`` for a CQT), as ``timbrespace run`` measures it; silent originals (no
    spectral convergence) are left out of both means.
    """
    from timbrespace.features import FeatureSidecar, StftGeometry, invert, stft_magnitude
    from timbrespace.metrics import spectral_convergence
    from timbrespace.metrics.audio import MRSTFT_FFT_SIZES, multi_resolution_stft_distance
    from timbrespace.training import decode_array, encode_array

    nan = float("nan")
    if settings.n_resynthesised == 0 or ds.card.audio_format in (None, "none"):
        return nan, nan
    rows = _test_rows(ds, settings.n_resynthesised)
    x = ds.load_features(FEATURES, rows)
    if model is not None:
        mu = encode_array(model, x)
        assert isinstance(mu, np.ndarray)  # without return_logvar, the means alone
        x = decode_array(model, mu)
    sidecar = FeatureSidecar.from_dict(ds.feature_sidecar(FEATURES))
    original = ds.load_audio(rows)
    audio = np.asarray(invert(x, sidecar, method="pghi+gl", n_iter=settings.n_iter, indices=rows))
    n = original.shape[1]
    audio = audio[:, :n] if audio.shape[1] >= n else np.pad(audio, ((0, 0), (0, n - audio.shape[1])))
    cfg = sidecar.config
    geometry = cfg if cfg.kind in ("stft", "mel") else StftGeometry(cfg.n_fft, cfg.hop_length or cfg.n_fft // 4,
                                                                      cfg.n_fft)
    sc = spectral_convergence(stft_magnitude(original, geometry), stft_magnitude(audio, geometry))
    mrstft = multi_resolution_stft_distance(original, audio) if n > max(MRSTFT_FFT_SIZES) // 2 else np.full(len(rows), nan)
    # a silent original (e.g. a band-pass far from every partial) has no spectral convergence: left out
    heard = np.isfinite(sc)
    if not heard.any():
        return nan, nan
    return float(np.mean(sc[heard])), float(np.mean(np.asarray(mrstft)[heard]))


def _baselines(ds: Dataset, spec: BenchmarkDataset, settings: BenchmarkSettings) -> list[JobResult]:
    """PCA and FastICA (seed 0) with the models' latent count, and the features' inverse alone."""
    from timbrespace.experiments.sweep_table import linear_baselines

    rows = [JobResult.from_sweep_row(spec.name, r) for r in linear_baselines(
        ds, features=FEATURES, n_components=_latent_dim(ds), seeds=(0,), dci_estimator=settings.dci_estimator)]
    sc, mrstft = _resynthesis(ds, settings, None)
    rows.append(JobResult(spec.name, "inverse", 0, spectral_convergence=sc, mrstft=mrstft))
    return rows


def _groove(ds: Dataset, spec: BenchmarkDataset, seed: int, settings: BenchmarkSettings, run: Path) -> JobResult:
    """The groove VAE (seed 004's MLP) on the grooves; held-out hit F1 and its baselines."""
    from timbrespace.experiments.drums import GrooveTrainConfig, train_drums

    start = time.perf_counter()
    config = GrooveTrainConfig(epochs=settings.groove_epochs, seed=seed,
                               warmup_epochs=max(0, min(50, settings.groove_epochs // 3)))
    # a run folder without a job file is one killed in flight: ours to replace
    ev = train_drums(ds.root, run, train_config=config, overwrite=run.exists())
    return JobResult(spec.name, GROOVE_MODEL, seed, hit_f1=ev.model.f1, baseline_f1=ev.baseline_sampled.f1,
                     baseline_mode_f1=ev.baseline_mode.f1, epochs=settings.groove_epochs,
                     train_time_s=time.perf_counter() - start)
