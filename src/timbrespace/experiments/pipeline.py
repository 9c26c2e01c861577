"""The experiment pipeline that ``timbrespace run`` walks once.

dataset (generate or open) → features → VAE training → latents (μ) → metrics →
reconstruction and resynthesis → report. Every stage is a library call of its own
package; this module only wires them and writes the run folder::

    RUN/
      run.json           the run card (kind "run", library version, dataset, created)
      config.yaml        resolved config
      dataset/           the generated dataset (synthetic runs)
      checkpoints/       model.safetensors + model.json (audio_decoder/: the DDSP decoder, when trained)
      logs/              CSV / TensorBoard logs of training
      latents.npz        μ and log σ² of every item, with the factor codes
      metrics.json       every number the run measured
      report.html        one self-contained page
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import ValidationError

from timbrespace.analysis import reference_latents
from timbrespace.datasets import Dataset, generate_dataset
from timbrespace.errors import ConfigError, DatasetError
from timbrespace.experiments.config import ExperimentConfig
from timbrespace.experiments.runs import (
    TrainingProgress,
    after_training,
    read_run_config,
    training_progress,
    unfinished_training,
    write_latents,
    write_run_card,
)
from timbrespace.experiments.train import INIT_LATENTS, latents_at_init, supervision_for
from timbrespace.features import (
    FeatureConfig,
    FeatureSidecar,
    StftGeometry,
    compute_dataset_features,
    invert,
    stft_magnitude,
)
from timbrespace.metrics import (
    RepresentationScores,
    audio_measures,
    evaluate_representation,
    spectral_convergence,
)
from timbrespace.metrics.audio import MRSTFT_FFT_SIZES
from timbrespace.models import VAE
from timbrespace.models.ddsp import AudioDecoder, audio_decoder_config
from timbrespace.training import EpochRecord, decode_array, encode_array, load_checkpoint
from timbrespace.training.audio_decoder import (
    AUDIO_DECODER_DIR,
    audio_decoder_summary,
    decode_audio,
    fit_audio_decoder,
    load_audio_decoder,
    save_audio_decoder,
)
from timbrespace.training.checkpoint import read_checkpoint_json
from timbrespace.utils.atomic import atomic_write_json, atomic_write_text
from timbrespace.utils.fields import format_validation_error
from timbrespace.utils.progress import stage as progress_stage

__all__ = ["RunResult", "run_experiment", "evaluate_run", "default_run_dir", "training_note"]

log = logging.getLogger(__name__)

FEATURES_NAME = "run_features"
N_RESYNTHESISED = 32  # test items whose audio is resynthesised and measured
AUDIO_DECODER_LR = 3e-3  # training.audio_decoder_lr's default
AUDIO_DECODER_BATCH = 16  # items per step of the audio decoder (more steps per epoch than training's 32)


@dataclass(frozen=True)
class RunResult:
    """What a run produced.

    Attributes
    ----------
    run_dir : Path
    metrics : dict
        The contents of ``metrics.json``.
    report_path : Path
    scores : RepresentationScores
        The typed scores behind ``metrics`` (:func:`timbrespace.metrics.evaluate_representation`).
    """

    run_dir: Path
    metrics: dict[str, Any]
    report_path: Path
    scores: RepresentationScores


def default_run_dir(name: str) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>`` under the current directory."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{name}-{stamp}"


class _Stages:
    """Times each stage; a spinner on stderr for the stages without a bar of their own."""

    def __init__(self, progress: bool = False) -> None:
        self.times: dict[str, float] = {}
        self.progress = progress

    def __call__(self, name: str, *, spinner: bool = False) -> _Stage:
        return _Stage(self, name, spinner=spinner and self.progress)


class _Stage:
    def __init__(self, owner: _Stages, name: str, *, spinner: bool) -> None:
        self.owner, self.name = owner, name
        # a stage with its own bar (dataset, features, training) draws it; the spinner says the rest;
        # --no-progress leaves stderr to results (the stage lines are debug messages: --verbose)
        self.shown = progress_stage(name, enabled=spinner)

    def __enter__(self) -> None:
        log.debug("▸ %s …", self.name)
        self.shown.__enter__()
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        dt = time.perf_counter() - self.t0
        self.shown.__exit__(*exc)  # type: ignore[arg-type]
        self.owner.times[self.name] = dt
        if exc[0] is None:
            log.debug("  %s done in %.1f s", self.name, dt)


@dataclass
class _Run:
    """Everything the stages after training share."""

    config: ExperimentConfig
    dataset: Dataset
    x: np.ndarray
    sidecar: FeatureSidecar
    run_dir: Path
    stages: _Stages
    t_start: float
    progress: bool = False
    unfinished: TrainingProgress | None = None  # evaluated before training finished
    reevaluation: bool = False  # `evaluate` of a run made before: its training times are kept


def run_experiment(
    config: ExperimentConfig,
    *,
    out: str | Path | None = None,
    dataset: str | Path | None = None,
    workers: int | None = None,
    progress: bool = True,
    overwrite: bool = False,
    source: str = "<config>",
) -> RunResult:
    """Run one experiment end to end and write its run folder.

    Parameters
    ----------
    config : ExperimentConfig
        Validated at load (:func:`~timbrespace.experiments.load_experiment_config`).
    out : path-like, optional
        Run folder (default :func:`default_run_dir`). A folder holding a finished run
        (``metrics.json`` and a finished training checkpoint) is refused unless
        ``overwrite``; an unfinished one is resumed: dataset generation, features, and
        training from ``checkpoints/last`` (the same model config; an interrupted run
        continues to the same weights).
    dataset : path-like, optional
        An existing dataset (e.g. from ``timbrespace ingest``) used instead of the
        config's ``dataset`` section.
    workers : int, optional
        Worker processes for dataset generation.
    progress : bool
        Show progress bars.
    overwrite : bool
        Write over a finished run; training starts afresh.
    source : str
        Where the config came from (for error messages).

    Returns
    -------
    RunResult

    Raises
    ------
    ConfigError, DatasetError, ParameterError, TrainingError
        On bad configs, datasets or a diverging training run (the message names the cause).
    EvaluationError
        A step after training failed; the trained model, ``history.json`` and the config
        are kept (:func:`~timbrespace.experiments.runs.after_training`).
    """
    from timbrespace.training import fit  # Lightning: imported when a run trains

    t_start = time.perf_counter()
    stages = _Stages(progress)
    run_dir = Path(out) if out is not None else default_run_dir(config.name)
    progress = training_progress(run_dir)
    resumable = not overwrite and progress is not None and not progress.finished
    # metrics.json beside an unfinished checkpoint: `evaluate --allow-unfinished` wrote it; resume
    if (run_dir / "metrics.json").exists() and not overwrite and not resumable:
        raise ConfigError(f"{run_dir} already holds a finished run; choose another --out or pass --overwrite")
    if dataset is None and config.dataset is None:
        raise ConfigError(f"{source}: no 'dataset' section; give one or run with --dataset DATASET")
    given = Dataset(dataset) if dataset is not None else None  # fails before the run folder exists
    if given is None:
        config.features.check_audio(config.features.n_samples or config.dataset.n_samples, config.dataset.sample_rate)
        _check_n_items(config.dataset.n_items, f"{source}: the dataset section")
    else:
        _check_dataset(given)  # too small or without factors: refused before the run folder exists
        if given.card.n_samples:
            config.features.check_audio(config.features.n_samples or given.card.n_samples, given.sample_rate)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_resolved_config(config, run_dir, dataset)
    write_run_card(run_dir, "run", dataset=dataset if dataset is not None else run_dir / "dataset")

    with stages("dataset"):
        ds = given if given is not None else generate_dataset(
            config.dataset, run_dir / "dataset", workers=workers, progress=progress
        )
    _check_dataset(ds)
    if config.training.audio_decoder_epochs and ds.card.audio_format in (None, "none"):
        raise ConfigError(f"training.audio_decoder_epochs={config.training.audio_decoder_epochs} trains on the "
                          f"items' audio, and the dataset {ds.root} stores none")
    with stages("features"):
        # the command's own derived feature set (recomputable): a changed config replaces it
        name = compute_dataset_features(ds, config.features, name=FEATURES_NAME, overwrite=True, progress=progress)
        x = ds.load_features(name)
        sidecar = FeatureSidecar.from_dict(ds.feature_sidecar(name))
    if not np.all(np.isfinite(x)):
        raise DatasetError(f"{ds.root}: features contain NaN or inf")
    train_idx, valid_idx, _ = _split_indices(ds)
    with stages("training"):
        model_config = dataclasses.replace(config.model, input_shape=tuple(int(s) for s in x.shape[1:]))
        training = dataclasses.replace(config.training, enable_progress_bar=progress)
        result = fit(model_config, training, x[train_idx], x[valid_idx] if len(valid_idx) else None,
                     out_dir=run_dir, resume=not overwrite, callbacks=[latents_at_init(x, run_dir / INIT_LATENTS)],
                     **supervision_for(ds, train_idx, config.model, config.training),
                     feature_scale=config.features.magnitude_scale)
    run = _Run(config, ds, x, sidecar, run_dir, stages, t_start, progress)
    with after_training(run_dir):
        audio_decoder = _train_audio_decoder(run, result.model, train_idx)
        return _evaluate(run, result.model, list(result.history), Path(result.checkpoint_path), audio_decoder)


def _train_audio_decoder(run: _Run, model: VAE, train_idx: np.ndarray) -> AudioDecoder | None:
    """With ``training.audio_decoder_epochs``: the DDSP decoder trained on the training items'
    ``mu`` and audio, saved in ``checkpoints/audio_decoder`` (:mod:`timbrespace.training.audio_decoder`)."""
    training = run.config.training
    if not training.audio_decoder_epochs:
        return None
    with run.stages("audio decoder"):
        audio = run.dataset.load_audio(train_idx)
        features = run.sidecar.config
        decoder = AudioDecoder(audio_decoder_config(
            model.config, sample_rate=run.dataset.sample_rate, n_samples=audio.shape[1],
            fmin_hz=features.fmin_hz, bins_per_octave=features.bins_per_octave, seed=training.seed))
        fit_audio_decoder(decoder, encode_array(model, run.x[train_idx]), audio, sample_rate=run.dataset.sample_rate,
                          epochs=training.audio_decoder_epochs, batch_size=AUDIO_DECODER_BATCH,
                          lr=training.audio_decoder_lr or AUDIO_DECODER_LR, seed=training.seed,
                          progress=run.progress)
        save_audio_decoder(decoder, run.run_dir / "checkpoints" / AUDIO_DECODER_DIR)
    log.info("audio decoder trained for %d epochs: loss %.4g -> %.4g", len(decoder.loss_history),
             decoder.loss_history[0], decoder.loss_history[-1])
    return decoder


def _at_init(config: ExperimentConfig, ds: Dataset, run_dir: Path, metrics: dict[str, Any]) -> dict[str, Any]:
    """MIG of the encoder before training, scored like the final one, and what it says.

    Returns ``mig_at_init``, ``per_factor_at_init`` and ``training_gain`` (final − init),
    and a one-line ``note`` (:func:`training_note`) when the final MIG is within 0.02 of the
    best linear baseline or not 0.02 above the MIG at init.
    """
    from timbrespace.metrics import mig

    out: dict[str, Any] = {}
    path = run_dir / INIT_LATENTS
    if path.is_file():
        m = mig(np.load(path)["mu"], ds.factor_codes, n_bins=config.evaluation.n_bins)
        out["mig_at_init"] = float(m.score)
        out["per_factor_at_init"] = {n: float(v) for n, v in zip(ds.factor_names, m.per_factor, strict=True)}
        if metrics.get("mig") is not None:
            out["training_gain"] = float(metrics["mig"]) - float(m.score)
    baselines = {k: v["mig"] for k, v in (metrics.get("linear_baselines") or {}).items()
                 if isinstance(v, dict) and v.get("mig") is not None}
    if metrics.get("mig") is not None:
        note = training_note(float(metrics["mig"]), out.get("mig_at_init"), baselines)
        if note:
            out["note"] = note
    return out


def training_note(mig: float, mig_at_init: float | None, baselines: dict[str, float]) -> str | None:
    """One line when a final MIG is no result: within 0.02 of the best linear baseline, or not
    more than 0.02 above the encoder's MIG before training (``None`` otherwise).

    Parameters
    ----------
    mig : float
        The final MIG.
    mig_at_init : float, optional
        The MIG of the encoder before its first optimiser step.
    baselines : dict of str to float
        MIG of each linear baseline (e.g. ``{"pca": 0.18, "ica": 0.26}``).
    """
    said = []
    if baselines:
        best = max(baselines, key=lambda k: baselines[k])
        if abs(mig - baselines[best]) <= 0.02:
            said.append(f"within 0.02 of the {best.upper()} baseline ({baselines[best]:.3f}): "
                        "the model adds nothing a linear method does not find")
    if mig_at_init is not None and mig - mig_at_init <= 0.02:
        said.append(f"not 0.02 above its value at init ({mig_at_init:.3f}): training did not raise the overall score")
    return f"MIG {mig:.3f} is " + "; and ".join(said) if said else None


def write_resolved_config(config: ExperimentConfig, run_dir: str | Path, dataset: str | Path | None,
                          features_name: str = FEATURES_NAME) -> None:
    """Write ``RUN/config.yaml``: the validated config, and where the run's dataset and
    feature set are when they are not ``RUN/dataset`` and ``run_features``
    (``dataset_path``, ``features_name``; :func:`evaluate_run` reads them back)."""
    resolved = config.model_dump(mode="json")
    if dataset is not None:
        resolved["dataset"] = None
        resolved["dataset_path"] = str(Path(dataset).resolve())
    if features_name != FEATURES_NAME:
        resolved["features_name"] = features_name
    atomic_write_text(Path(run_dir) / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))


def _evaluate(run: _Run, model: VAE, history: list[EpochRecord], checkpoint: Path,
              audio_decoder: AudioDecoder | None = None) -> RunResult:
    """Encode, measure, resynthesise and report: the stages after training (the report's audio
    from ``audio_decoder`` when there is one)."""
    from timbrespace.experiments.report import write_run_report

    config, ds, stage = run.config, run.dataset, run.stages
    train_idx, _, test_idx = _split_indices(ds)
    with stage("encoding", spinner=True):
        mu, logvar = encode_array(model, run.x, return_logvar=True)
        write_latents(run.run_dir, mu, logvar, ds)
    with stage("metrics", spinner=True):
        scores = score_run(config, ds, run.x, mu, logvar, train_idx, test_idx)
        metrics = scores.to_dict()
        metrics.update(_at_init(config, ds, run.run_dir, metrics))
        if run.unfinished is not None:
            metrics["training_unfinished"] = dataclasses.asdict(run.unfinished)
    with stage("reconstruction", spinner=True):
        metrics["reconstruction"], recon_media = _reconstruction(run, model, test_idx, audio_decoder)
        refined = _refinement(checkpoint)
        if refined:
            metrics["reconstruction"]["decoder_refinement"] = refined
    with stage("report", spinner=True):
        report_path = write_run_report(
            run.run_dir, config=config, dataset=ds, history=history, mu=mu, scores=scores,
            metrics=metrics, model=model, sidecar=run.sidecar, recon_media=recon_media,
            audio_decoder=audio_decoder,
        )
    final = history[-1] if history else None
    metrics.update({
        "experiment": config.name,
        "n_items": int(len(ds)),
        "n_train": int(len(train_idx)),
        "n_test": int(len(test_idx)),
        "factors": ds.factor_names,
        "latent_dim": int(mu.shape[1]),
        "dataset": str(ds.root),
        "checkpoint": str(checkpoint),
        "final_epoch": final.to_dict() if final is not None else None,
        "stage_times_s": {k: round(v, 3) for k, v in stage.times.items()},
        "runtime_s": round(time.perf_counter() - run.t_start, 3),
    })
    previous = run.run_dir / "metrics.json"
    if run.reevaluation and previous.is_file():  # keep what the run measured of its own making
        try:
            before = json.loads(previous.read_text())
        except (OSError, ValueError):
            before = {}
        if isinstance(before, dict) and isinstance(before.get("runtime_s"), (int, float)):
            metrics["evaluate_runtime_s"] = metrics["runtime_s"]
            metrics["runtime_s"] = before["runtime_s"]
            metrics["stage_times_s"] = {**(before.get("stage_times_s") or {}), **metrics["stage_times_s"]}
    metrics = _clean(metrics)
    atomic_write_json(run.run_dir / "metrics.json", metrics)
    log.info("run finished in %.1f s: %s", metrics["runtime_s"], run.run_dir)
    return RunResult(run_dir=run.run_dir, metrics=metrics, report_path=report_path, scores=scores)


def score_run(config: ExperimentConfig, dataset: Dataset, x: np.ndarray, mu: np.ndarray, logvar: np.ndarray,
              train_idx: np.ndarray, test_idx: np.ndarray) -> RepresentationScores:
    """The run's scores: MIG on every item, DCI fitted on ``train`` and scored on ``test``,
    beside the re-aligned latents and the linear baselines of the features
    (:func:`timbrespace.metrics.evaluate_representation`, ``config.evaluation``'s settings).
    """
    ev = config.evaluation
    references = reference_latents(
        mu, align=ev.align, features=x if ev.linear_baselines else None, train=train_idx,
        random_state=config.seed,
    )
    return evaluate_representation(
        mu, dataset.factor_codes, train=train_idx, test=test_idx, logvar=logvar,
        factor_names=dataset.factor_names, factor_levels=[f.n_levels for f in dataset.factors],
        metrics=("mig", "dci"), mi_items="all", references=references, n_bins=ev.n_bins,
        random_state=config.seed,
    )


def evaluate_run(run_dir: str | Path, *, allow_unfinished: bool = False, progress: bool = False) -> RunResult:
    """Recompute the metrics, resynthesis and report of a finished (or trained) run.

    Reads ``RUN/config.yaml``, the run's dataset (``RUN/dataset`` or the recorded
    ``dataset_path``), its stored features and the last checkpoint (the model ``run``
    scored; ``best`` when there is no ``last``) and the audio decoder if the run trained one,
    then rewrites
    ``metrics.json``, ``latents.npz`` and ``report.html``. Use it after changing the
    evaluation section of the config or upgrading timbrespace. A model section edited
    since training does not describe the weights: the checkpoint's model config is
    used and reported, with one warning naming the fields that differ.

    Parameters
    ----------
    run_dir : path-like
        The run folder.
    allow_unfinished : bool
        Evaluate a run whose training did not finish (its last checkpoint): ``metrics.json``
        records ``training_unfinished`` and the report says so; ``run`` still resumes it.
    progress : bool
        A spinner on stderr for each stage (encoding, metrics, reconstruction, report).

    Raises
    ------
    DatasetError
        If the folder is not a run folder, or its dataset or checkpoint is missing, or
        its training did not finish (without ``allow_unfinished``).
    ConfigError
        If its ``config.yaml`` is no longer valid.
    """
    t_start = time.perf_counter()
    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.yaml"
    if not cfg_path.is_file():
        raise DatasetError(f"{run_dir}: not a run folder (no config.yaml)")
    unfinished = unfinished_training(run_dir, allow_unfinished=allow_unfinished)
    resolved = read_run_config(run_dir)
    dataset_path = resolved.pop("dataset_path", None)
    features_name = resolved.pop("features_name", FEATURES_NAME)
    try:
        config = ExperimentConfig.model_validate(resolved)
    except ValidationError as exc:
        raise ConfigError(format_validation_error(exc, str(cfg_path), model=ExperimentConfig)) from None
    ds = Dataset(dataset_path if dataset_path else run_dir / "dataset")
    if features_name not in ds.feature_names():
        raise DatasetError(f"{ds.root}: features {features_name!r} are missing; run the experiment again")
    # `run` scores the model at the end of training: the last checkpoint (best is a fallback)
    checkpoint = next((p for p in (run_dir / "checkpoints" / "last", run_dir / "checkpoints" / "best")
                       if (p / "model.json").is_file()), None)
    if checkpoint is None:
        raise DatasetError(f"{run_dir}: no checkpoint under checkpoints/last or checkpoints/best")
    history_path = run_dir / "history.json"
    records: Any = []
    if history_path.is_file():
        records = json.loads(history_path.read_text())
        records = records.get("history", records) if isinstance(records, dict) else records
    elif (checkpoint / "training_state.json").is_file():  # killed before fit wrote history.json
        records = read_checkpoint_json(checkpoint / "training_state.json").get("history") or []
    history = [EpochRecord.from_dict(r) for r in records]
    model = load_checkpoint(checkpoint)  # before anything is written: a corrupt checkpoint changes nothing
    edited = _model_differences(config.model.to_dict(), model.config.to_dict())
    if edited:  # the weights are what they are: report the model they belong to
        log.warning("%s: %s; the checkpoint's model config is the one evaluated and reported (was config.yaml "
                    "edited?)", cfg_path, ", ".join(edited[:3]) + (f" and {len(edited) - 3} more" if len(edited) > 3
                                                                   else ""))
        config = config.model_copy(update={"model": model.config})
    sidecar = FeatureSidecar.from_dict(ds.feature_sidecar(features_name))
    run = _Run(config, ds, ds.load_features(features_name), sidecar, run_dir, _Stages(progress), t_start,
               unfinished=unfinished, reevaluation=True)
    audio_dir = run_dir / "checkpoints" / AUDIO_DECODER_DIR
    audio_decoder = load_audio_decoder(audio_dir) if (audio_dir / "model.json").is_file() else None
    return _evaluate(run, model, history, checkpoint, audio_decoder)


def _model_differences(written: dict[str, Any], trained: dict[str, Any], prefix: str = "model.") -> list[str]:
    """``model.latent_dim=7 but the checkpoint has 3`` for each field ``config.yaml`` sets
    otherwise than the checkpoint (``None`` there is a value training fills in)."""
    out = []
    for key, value in written.items():
        other = trained.get(key)
        if value is None or key == "input_shape":
            continue
        if isinstance(value, dict) and isinstance(other, dict):
            out += _model_differences(value, other, f"{prefix}{key}.")
        elif value != other:
            out.append(f"{prefix}{key}={value!r} but the checkpoint has {other!r}")
    return out


MIN_ITEMS = 10


def _check_n_items(n_items: int, what: object) -> None:
    if n_items < MIN_ITEMS:
        raise DatasetError(f"{what}: {n_items} items is too few to train and measure (need at least {MIN_ITEMS})")


def _check_dataset(ds: Dataset) -> None:
    _check_n_items(len(ds), ds.root)
    if not ds.factor_names:
        raise DatasetError(f"{ds.root}: the dataset declares no factors")


def _split_indices(ds: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    splits = set(ds.metadata["split"].unique()) if "split" in ds.metadata else set()
    if "train" not in splits:
        raise DatasetError(f"{ds.root}: no 'train' split (splits: {', '.join(sorted(splits)) or 'none'})")
    train = ds.split_indices("train")
    valid = ds.split_indices("valid") if "valid" in splits else np.zeros(0, dtype=np.int64)
    test = ds.split_indices("test") if "test" in splits else valid
    if len(test) == 0:
        test = train
    return train, valid, test


def _reconstruction(run: _Run, model: VAE, test_idx: np.ndarray,
                    audio_decoder: AudioDecoder | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Feature error on the test split, and measures of the resynthesised audio.

    ``spectral_convergence`` is the decoded features' after phase retrieval; with an
    ``audio_decoder``, ``audio_decoder.spectral_convergence`` is its audio's on the same
    items, measured the same way, and the media's resynthesis is that audio. With its tuning
    head, ``audio_decoder.measured_tuning`` measures the same items decoded from ``z`` plus
    each item's tuning residual measured in its audio (two numbers per item, as ``timbrespace
    encode`` plays a recording; DDSP conditions on f0 measured in the audio likewise).

    The audio measures take up to ``N_RESYNTHESISED`` test items (or
    ``evaluation.n_reconstructions``, if more) evenly spread over the test split:
    spectral convergence with the package's one STFT in the features' own frames
    (:func:`timbrespace.features.stft_magnitude`), and the measures of sound of
    :func:`timbrespace.metrics.audio_measures` (multi-resolution STFT distance, pYIN f0
    error in cents, A-weighted loudness error in dB).
    """
    ev = run.config.evaluation
    x_test = run.x[test_idx]
    mu_test = encode_array(model, x_test)
    x_hat = decode_array(model, mu_test)
    mse = float(np.mean((x_hat - x_test) ** 2))
    out: dict[str, Any] = {"feature_mse": mse, "feature_rmse": float(np.sqrt(mse))}
    n_audio = min(len(test_idx), max(ev.n_reconstructions, N_RESYNTHESISED))
    if n_audio == 0 or run.dataset.card.audio_format in (None, "none"):
        return out, {}
    # spread over the test split (items are stored by factor: the first ones share an instrument, a pitch)
    rows = np.unique(np.linspace(0, len(test_idx) - 1, n_audio).round().astype(np.int64))  # rows of x_test
    chosen, n_audio = test_idx[rows], len(rows)
    original = run.dataset.load_audio(chosen)
    resynth = invert(x_hat[rows], run.sidecar, method=ev.inversion, n_iter=ev.n_iter, indices=chosen)
    resynth = _match_length(resynth, original.shape[1])
    geometry = _measurement_geometry(run.sidecar.config)
    sc = spectral_convergence(stft_magnitude(original, geometry), stft_magnitude(resynth, geometry))
    out["spectral_convergence"] = float(np.mean(sc))
    out["spectral_convergence_per_item"] = [float(v) for v in sc]
    out["n_resynthesised"] = int(n_audio)
    out.update(_sound_measures(original, resynth, run.dataset.sample_rate))
    media = {"indices": chosen, "original": original, "resynth": resynth,
             "x": x_test[rows], "x_hat": x_hat[rows]}
    if audio_decoder is not None:
        direct = _match_length(decode_audio(audio_decoder, mu_test[rows])[0], original.shape[1])
        sc_direct = spectral_convergence(stft_magnitude(original, geometry), stft_magnitude(direct, geometry))
        out["audio_decoder"] = {"spectral_convergence": float(np.mean(sc_direct)),
                                "spectral_convergence_per_item": [float(v) for v in sc_direct],
                                **_sound_measures(original, direct, run.dataset.sample_rate),
                                **audio_decoder_summary(audio_decoder)}
        if audio_decoder.tuning is not None:  # as `timbrespace encode` plays a recording: z + its measured tuning
            import torch

            z_rows = torch.as_tensor(mu_test[rows], dtype=torch.float32)
            tuning = audio_decoder.measure_tuning_residual(z_rows, torch.as_tensor(original))
            tuned = _match_length(decode_audio(audio_decoder, mu_test[rows], tuning)[0], original.shape[1])
            sc_tuned = spectral_convergence(stft_magnitude(original, geometry), stft_magnitude(tuned, geometry))
            out["audio_decoder"]["measured_tuning"] = {
                "spectral_convergence": float(np.mean(sc_tuned)),
                "spectral_convergence_per_item": [float(v) for v in sc_tuned],
                "residual_cents_median_abs": float(tuning[:, 0].abs().median()),
                "residual_stiffness_median_abs": float(tuning[:, 1].abs().median()),
                **_sound_measures(original, tuned, run.dataset.sample_rate)}
        media.update(resynth=direct, resynth_sc=sc_direct, resynth_source="DDSP audio decoder")
    return out, media


def _sound_measures(original: np.ndarray, resynth: np.ndarray, sample_rate: int) -> dict[str, Any]:
    """:func:`timbrespace.metrics.audio_measures` of the resynthesised items, or a note when
    the items are too short for the multi-resolution STFT's longest frame."""
    shortest = max(MRSTFT_FFT_SIZES) // 2 + 1
    if original.shape[1] < shortest:
        return {"sound_note": f"items of {original.shape[1]} samples are too short for the measures of sound "
                              f"(the multi-resolution STFT needs at least {shortest})"}
    return audio_measures(original, resynth, sample_rate=sample_rate).to_dict()


def _refinement(checkpoint: Path) -> dict[str, Any] | None:
    """Epochs and first/last spectral loss of the decoder refinement recorded in ``checkpoint``."""
    path = checkpoint / "training_state.json"
    if not path.is_file():
        return None
    losses = (read_checkpoint_json(path).get("refine") or {}).get("loss")
    if not losses:
        return None
    return {"epochs": len(losses), "spectral_loss_first": float(losses[0]), "spectral_loss_last": float(losses[-1])}


def _measurement_geometry(cfg: FeatureConfig) -> FeatureConfig | StftGeometry:
    """The features' own STFT frames; Hann frames of ``n_fft`` for other transforms."""
    if cfg.kind in ("stft", "mel"):
        return cfg
    return StftGeometry(cfg.n_fft, cfg.hop_length or cfg.n_fft // 4, cfg.n_fft)


def _match_length(audio: np.ndarray, n: int) -> np.ndarray:
    if audio.shape[1] >= n:
        return audio[:, :n]
    return np.pad(audio, ((0, 0), (0, n - audio.shape[1])))


def _clean(obj: Any) -> Any:
    """JSON types, with non-finite numbers as ``None`` (``metrics.json`` is strict JSON)."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple, np.ndarray)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if np.isfinite(obj) else None
    if isinstance(obj, np.integer):
        return int(obj)
    return obj
