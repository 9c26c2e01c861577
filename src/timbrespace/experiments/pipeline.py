"""The experiment pipeline that ``timbrespace run`` walks once.

dataset (generate or open) → features → VAE training → latents (μ) → metrics →
reconstruction and resynthesis → report. Every stage is a library call of its own
package; this module only wires them and writes the run folder::

    RUN/
      run.json           the run card (kind "run", library version, dataset, created)
      config.yaml        resolved config
      dataset/           the generated dataset (synthetic runs)
      checkpoints/       model.safetensors + model.json
      logs/              CSV / TensorBoard logs of training
      latents.npz        μ and log σ² of every item, with the factor codes
      metrics.json       every number the run measured
      report.html        one self-contained page
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from timbrespace.errors import ConfigError, DatasetError, ParameterError
from timbrespace.experiments.config import ExperimentConfig
from timbrespace.experiments.runs import write_run_card
from timbrespace.utils.atomic import atomic_path, atomic_write_json, atomic_write_text

__all__ = ["RunResult", "run_experiment", "evaluate_run", "default_run_dir"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunResult:
    """What a run produced.

    Attributes
    ----------
    run_dir : Path
    metrics : dict
        The contents of ``metrics.json``.
    report_path : Path
    """

    run_dir: Path
    metrics: dict[str, Any]
    report_path: Path


def default_run_dir(name: str) -> Path:
    """``runs/<name>-<YYYYmmdd-HHMMSS>`` under the current directory."""
    stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path("runs") / f"{name}-{stamp}"


class _Stages:
    """Logs each stage with its wall time."""

    def __init__(self) -> None:
        self.times: dict[str, float] = {}

    def __call__(self, name: str) -> _Stage:
        return _Stage(self, name)


class _Stage:
    def __init__(self, owner: _Stages, name: str) -> None:
        self.owner, self.name = owner, name

    def __enter__(self) -> None:
        log.info("▸ %s …", self.name)
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        dt = time.perf_counter() - self.t0
        self.owner.times[self.name] = dt
        if exc[0] is None:
            log.info("  %s done in %.1f s", self.name, dt)


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
    out : path-like, optional
        Run folder (default :func:`default_run_dir`). A folder holding a finished run
        (``metrics.json``) is refused unless ``overwrite``; an unfinished one is reused
        (dataset generation and features resume).
    dataset : path-like, optional
        An existing dataset (e.g. from ``timbrespace ingest``) used instead of the
        config's ``dataset`` section.
    workers : int, optional
        Worker processes for dataset generation.
    progress : bool
        Show progress bars.
    overwrite : bool
    source : str
        Where the config came from (for error messages).

    Returns
    -------
    RunResult

    Raises
    ------
    ConfigError, DatasetError, ParameterError, TrainingError
        On bad configs, datasets or a diverging training run (the message names the cause).
    """
    from timbrespace.datasets import Dataset, generate_dataset
    from timbrespace.features import compute_dataset_features

    t_start = time.perf_counter()
    stage = _Stages()
    run_dir = Path(out) if out is not None else default_run_dir(config.name)
    if (run_dir / "metrics.json").exists() and not overwrite:
        raise ConfigError(f"{run_dir} already holds a finished run; choose another --out or pass --overwrite")
    # Validate everything that can fail fast before the run folder is created.
    feature_config = config.feature_config(source)
    dataset_config = None if dataset is not None else config.dataset_config(source)
    given = Dataset(dataset) if dataset is not None else None
    _train_config(config)
    run_dir.mkdir(parents=True, exist_ok=True)

    resolved = config.model_dump(mode="json")
    if dataset_config is not None:
        resolved["dataset"] = dataset_config.model_dump(mode="json")
    else:
        resolved["dataset"] = None
        resolved["dataset_path"] = str(Path(dataset).resolve())
    resolved["features"] = feature_config.model_dump(mode="json")
    atomic_write_text(run_dir / "config.yaml", yaml.safe_dump(resolved, sort_keys=False))
    write_run_card(run_dir, "run", dataset=dataset if dataset is not None else run_dir / "dataset")

    with stage("dataset"):
        if given is not None:
            ds = given
        else:
            ds = generate_dataset(dataset_config, run_dir / "dataset", workers=workers, progress=progress)
    _check_dataset(ds)

    with stage("features"):
        feature_name = compute_dataset_features(ds, feature_config, name="run_features")
        x = ds.load_features(feature_name)
        sidecar = ds.feature_sidecar(feature_name)
    if not np.all(np.isfinite(x)):
        raise DatasetError(f"{ds.root}: features contain NaN or inf")

    train_idx, valid_idx, _ = _split_indices(ds)

    with stage("training"):
        model, history, checkpoint = _train(config, x, train_idx, valid_idx, run_dir, progress)

    return _evaluate(config, ds, x, sidecar, model, history, checkpoint, run_dir, stage, t_start)


def _evaluate(config: ExperimentConfig, ds: Any, x: np.ndarray, sidecar: dict[str, Any], model: Any,
              history: list[Any], checkpoint: Path, run_dir: Path, stage: _Stages, t_start: float) -> RunResult:
    """Encode, measure, resynthesise and report: the stages after training."""
    from timbrespace.training import encode_array

    train_idx, _, test_idx = _split_indices(ds)
    codes = ds.factor_codes
    with stage("encoding"):
        mu, logvar = encode_array(model, x, return_logvar=True)
        with atomic_path(run_dir / "latents.npz") as tmp:
            np.savez_compressed(tmp, mu=mu, logvar=logvar, factor_codes=codes, item_id=np.asarray(ds.item_ids))

    with stage("metrics"):
        metrics = _measure(config, ds, mu, logvar, codes, train_idx, test_idx)
        if config.evaluation.linear_baselines:
            metrics.update(_linear_baselines(config, x, codes, train_idx, ds.factor_names, mu.shape[1]))

    with stage("reconstruction"):
        recon, recon_media = _reconstruction(config, ds, model, x, sidecar, test_idx)
        metrics["reconstruction"] = recon

    with stage("report"):
        from timbrespace.experiments.report import write_run_report

        report_path = write_run_report(
            run_dir, config=config, dataset=ds, history=history, mu=mu, logvar=logvar,
            metrics=metrics, model=model, sidecar=sidecar, x=x, test_idx=test_idx,
            recon_media=recon_media,
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
        "final_epoch": final.to_dict() if hasattr(final, "to_dict") else final,
        "stage_times_s": {k: round(v, 3) for k, v in stage.times.items()},
        "runtime_s": round(time.perf_counter() - t_start, 3),
    })
    atomic_write_json(run_dir / "metrics.json", _clean(metrics))
    log.info("run finished in %.1f s: %s", metrics["runtime_s"], run_dir)
    return RunResult(run_dir=run_dir, metrics=metrics, report_path=report_path)


def evaluate_run(run_dir: str | Path) -> RunResult:
    """Recompute the metrics, resynthesis and report of a finished (or trained) run.

    Reads ``RUN/config.yaml``, the run's dataset (``RUN/dataset`` or the recorded
    ``dataset_path``), its stored features and the last checkpoint (the model ``run``
    scored; ``best`` when there is no ``last``), then rewrites
    ``metrics.json``, ``latents.npz`` and ``report.html``. Use it after changing the
    evaluation section of the config or upgrading timbrespace.

    Raises
    ------
    DatasetError
        If the folder is not a run folder, or its dataset or checkpoint is missing.
    """
    from timbrespace.datasets import Dataset
    from timbrespace.experiments.config import ExperimentConfig
    from timbrespace.training import EpochRecord, load_checkpoint

    t_start = time.perf_counter()
    run_dir = Path(run_dir)
    cfg_path = run_dir / "config.yaml"
    if not cfg_path.is_file():
        raise DatasetError(f"{run_dir}: not a run folder (no config.yaml)")
    resolved = yaml.safe_load(cfg_path.read_text())
    dataset_path = resolved.pop("dataset_path", None)
    config = ExperimentConfig.model_validate(resolved)
    ds = Dataset(dataset_path if dataset_path else run_dir / "dataset")
    name = "run_features"
    if name not in ds.feature_names():
        raise DatasetError(f"{ds.root}: features {name!r} are missing; run the experiment again")
    x = ds.load_features(name)
    sidecar = ds.feature_sidecar(name)
    # `run` scores the model at the end of training: the last checkpoint (best is a fallback)
    checkpoint = next((p for p in (run_dir / "checkpoints" / "last", run_dir / "checkpoints" / "best")
                       if (p / "model.json").is_file()), None)
    if checkpoint is None:
        raise DatasetError(f"{run_dir}: no checkpoint under checkpoints/last or checkpoints/best")
    model = load_checkpoint(checkpoint)
    history_path = run_dir / "history.json"
    history: list[Any] = []
    if history_path.is_file():
        records = json.loads(history_path.read_text())
        records = records.get("history", records) if isinstance(records, dict) else records
        history = [EpochRecord.from_dict(r) for r in records]
    return _evaluate(config, ds, x, sidecar, model, history, checkpoint, run_dir, _Stages(), t_start)


def _check_dataset(ds: Any) -> None:
    if len(ds) < 10:
        raise DatasetError(f"{ds.root}: {len(ds)} items is too few to train and measure (need at least 10)")
    if not ds.factor_names:
        raise DatasetError(f"{ds.root}: the dataset declares no factors")


def _split_indices(ds: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    splits = set(ds.metadata["split"].unique()) if "split" in ds.metadata else set()
    if "train" not in splits:
        raise DatasetError(f"{ds.root}: no 'train' split (splits: {', '.join(sorted(splits)) or 'none'})")
    train = ds.split_indices("train")
    valid = ds.split_indices("valid") if "valid" in splits else np.zeros(0, dtype=np.int64)
    test = ds.split_indices("test") if "test" in splits else valid
    if len(test) == 0:
        test = train
    return train, valid, test


def _train_config(config: ExperimentConfig) -> Any:
    """The run's :class:`~timbrespace.training.TrainConfig`, validated."""
    from timbrespace.training import TrainConfig

    try:
        train_config = TrainConfig(**{"seed": config.seed, **config.training})
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"training: {exc}") from None
    if str(train_config.devices) != "1":
        # A data-parallel launcher re-runs the whole command in every process, which would
        # make each one generate and write the run folder; `train` handles that case.
        raise ConfigError(
            f"training.devices={train_config.devices!r}: `timbrespace run` trains on one device; "
            "for data-parallel training use `timbrespace train DATASET --devices N`"
        )
    if train_config.init != "random" and not config.model.get("linear_skip", False):
        raise ConfigError(
            f"training.init={train_config.init!r} starts the model's linear paths: "
            "set model.linear_skip: true (architecture mlp)"
        )
    return train_config


def _train(config: ExperimentConfig, x: np.ndarray, train_idx: np.ndarray, valid_idx: np.ndarray,
           run_dir: Path, progress: bool) -> tuple[Any, list[Any], Path]:
    from timbrespace.models import VAEConfig
    from timbrespace.training import fit

    model_fields = {"input_shape": tuple(int(s) for s in x.shape[1:]), **config.model}
    try:
        model_config = VAEConfig(**model_fields)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"model: {exc}") from None
    train_config = _train_config(config)
    x_valid = x[valid_idx] if len(valid_idx) else None
    result = fit(model_config, train_config, x[train_idx], x_valid, out_dir=run_dir)
    return result.model, list(result.history), Path(result.checkpoint_path)


def _measure(config: ExperimentConfig, ds: Any, mu: np.ndarray, logvar: np.ndarray, codes: np.ndarray,
             train_idx: np.ndarray, test_idx: np.ndarray) -> dict[str, Any]:
    from timbrespace.metrics import dci, mig

    names = ds.factor_names
    m = mig(mu, codes, n_bins=config.evaluation.n_bins)
    d = dci(mu[train_idx], codes[train_idx], mu[test_idx], codes[test_idx], random_state=config.seed)
    per_factor: dict[str, dict[str, Any]] = {}
    for k, name in enumerate(names):
        per_factor[name] = {
            "mig": _num(m.per_factor[k]),
            "n_levels": int(ds.factors[k].n_levels),
            "entropy_nats": _num(m.factor_entropy[k]),
            "best_latent": int(np.argmax(m.mi[:, k])),
            "dci_completeness": _num(d.completeness_per_factor[k]),
            "dci_informativeness": _num(d.informativeness_test_per_factor[k]),
        }
    kl = _kl_per_latent(mu, logvar)
    return {
        "mig": _num(m.score),
        "dci": {
            "disentanglement": _num(d.disentanglement),
            "completeness": _num(d.completeness),
            "informativeness": _num(d.informativeness_test),
            "informativeness_train": _num(d.informativeness_train),
            "informativeness_test": _num(d.informativeness_test),
        },
        "per_factor": per_factor,
        "active_latents": int(np.sum(kl > _ACTIVE_KL_NATS)),
        "kl_per_latent_nats": np.round(kl, 6).tolist(),
        "mi_nats": np.round(m.mi, 9).tolist(),
        "dci_importance": np.round(d.importance, 9).tolist(),
        **_aligned(config, mu, kl, codes, names),
    }


def _aligned(config: ExperimentConfig, mu: np.ndarray, kl: np.ndarray, codes: np.ndarray,
             names: list[str]) -> dict[str, Any]:
    """MIG after an unsupervised linear re-alignment of the active latents (no labels used).

    An analysis beside the score: a latent space it cannot align (e.g. two active latents
    that copy each other) is logged and left out, never allowed to fail the run.
    """
    from timbrespace.analysis import align_active_latents
    from timbrespace.metrics import mig

    method = config.evaluation.align
    active = kl > _ACTIVE_KL_NATS
    if method == "none" or active.sum() < 2:
        return {}
    try:
        z = align_active_latents(mu, method, active=active, random_state=config.seed)
    except ParameterError as exc:
        log.warning("latent re-alignment skipped: %s", exc)
        return {}
    m = mig(z, codes, n_bins=config.evaluation.n_bins)
    return {"aligned": {
        "method": method,
        "latents": np.flatnonzero(active).tolist(),
        "mig": _num(m.score),
        "per_factor": {name: _num(m.per_factor[k]) for k, name in enumerate(names)},
        "mi_nats": np.round(m.mi, 9).tolist(),
    }}


def _linear_baselines(config: ExperimentConfig, x: np.ndarray, codes: np.ndarray,
                      train_idx: np.ndarray, names: list[str], k: int) -> dict[str, Any]:
    """MIG of PCA and FastICA of the flattened features (no model), fitted on ``train``.

    Reference points, never the run's score; a baseline that cannot be fitted (fewer
    items than components) is logged and left out.
    """
    from timbrespace.metrics import mig
    from timbrespace.training.linear import fit_linear_baseline

    flat = x.reshape(len(x), -1)
    fit_rows = train_idx if len(train_idx) else None
    out: dict[str, Any] = {"n_components": k}
    for method in ("pca", "ica"):
        try:
            z = fit_linear_baseline(flat, method, k, train=fit_rows, random_state=config.seed)
        except ParameterError as exc:
            log.warning("linear baseline %s skipped: %s", method, exc)
            return {}
        m = mig(z, codes, n_bins=config.evaluation.n_bins)
        out[method] = {
            "mig": _num(m.score),
            "per_factor": {name: _num(m.per_factor[i]) for i, name in enumerate(names)},
        }
    return {"linear_baselines": out}


_ACTIVE_KL_NATS = 0.01


def _kl_per_latent(mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
    """Mean KL(q(z_k|x) || N(0, 1)) per latent in nats; below 0.01 a latent is inactive."""
    mu64, lv64 = mu.astype(np.float64), logvar.astype(np.float64)
    return np.mean(0.5 * (mu64**2 + np.exp(lv64) - lv64 - 1.0), axis=0)


def _reconstruction(config: ExperimentConfig, ds: Any, model: Any, x: np.ndarray, sidecar: dict[str, Any],
                    test_idx: np.ndarray) -> tuple[dict[str, Any], dict[str, Any]]:
    """Feature error on the test split and spectral convergence of resynthesised audio."""
    from timbrespace.features import invert
    from timbrespace.metrics import spectral_convergence
    from timbrespace.training import decode_array, encode_array

    x_test = x[test_idx]
    x_hat = decode_array(model, encode_array(model, x_test))
    mse = float(np.mean((x_hat - x_test) ** 2))
    out: dict[str, Any] = {"feature_mse": mse, "feature_rmse": float(np.sqrt(mse))}
    media: dict[str, Any] = {}
    n_audio = min(len(test_idx), max(config.evaluation.n_reconstructions, 8))
    if n_audio == 0 or ds.card.audio_format in (None, "none"):
        return out, media
    chosen = test_idx[:n_audio]
    original = ds.load_audio(chosen)
    resynth = invert(x_hat[:n_audio], sidecar, method=config.evaluation.inversion, n_iter=config.evaluation.n_iter,
                     indices=chosen)
    resynth = _match_length(resynth, original.shape[1])
    n_fft = int(sidecar.get("config", sidecar).get("n_fft", 1024))
    hop = int(sidecar.get("config", sidecar).get("hop_length", n_fft // 4))
    ref_mag = _stft_mag(original, n_fft, hop)
    est_mag = _stft_mag(resynth, n_fft, hop)
    sc = spectral_convergence(ref_mag, est_mag)
    out["spectral_convergence"] = float(np.mean(sc))
    out["spectral_convergence_per_item"] = [float(v) for v in sc]
    out["n_resynthesised"] = int(n_audio)
    media = {"indices": chosen, "original": original, "resynth": resynth,
             "x": x_test[:n_audio], "x_hat": x_hat[:n_audio]}
    return out, media


def _match_length(audio: np.ndarray, n: int) -> np.ndarray:
    if audio.shape[1] >= n:
        return audio[:, :n]
    return np.pad(audio, ((0, 0), (0, n - audio.shape[1])))


def _stft_mag(audio: np.ndarray, n_fft: int, hop_length: int) -> np.ndarray:
    import librosa

    return np.abs(librosa.stft(audio, n_fft=n_fft, hop_length=hop_length))


def _num(x: Any) -> float | None:
    x = float(x)
    return None if not np.isfinite(x) else x


def _clean(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, float)):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.ndarray):
        return _clean(obj.tolist())
    return obj
