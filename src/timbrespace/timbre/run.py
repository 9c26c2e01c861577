"""Train the conditional VAE on a descriptor dataset and reopen the run folder.

Run folder::

    RUN/
      config.yaml                    resolved config (dataset, descriptors, preprocessing, model)
      items.parquet                  row k of the features: item_id, descriptor, magnitude, pitch, split
      features/spectrograms.npy      (n_items, 512, 64) float32 in [0, 1] (memory-mapped, not all in RAM)
      features/stats.npz             min_db, max_db per item (inverse of the min–max)
      checkpoints/model.safetensors  weights; checkpoints/model.json the ConditionalVAEConfig
      history.json                   per-epoch train/valid loss, recon, kl
      metrics.json                   quality figures (timbrespace.timbre.quality)

The dataset is a timbrespace dataset with factors ``descriptor``, ``magnitude`` and
``pitch`` (``timbrespace ingest FOLDER --out DATASET`` of a seed-002 folder); a seed-002
folder itself is accepted and ingested into ``RUN/dataset`` first. Held-back notes are
the dataset's ``test`` split: never seen in training.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import yaml

from timbrespace.datasets.dataset import Dataset
from timbrespace.errors import DatasetError, ParameterError, TrainingError
from timbrespace.timbre.model import ConditionalConvVAE, ConditionalVAEConfig, preset
from timbrespace.timbre.preprocess import Spectrograms, TimbrePreprocessing, to_spectrogram
from timbrespace.utils.atomic import atomic_path, atomic_write_json, atomic_write_text

__all__ = ["TrainSummary", "TimbreRun", "train_timbre", "DEFAULT_DESCRIPTORS", "open_timbre_dataset"]

logger = logging.getLogger(__name__)

#: CPU default: Bright/Dark (the measured centroid direction) + one per other group.
DEFAULT_DESCRIPTORS: tuple[str, ...] = ("Bright", "Dark", "Crunch", "Shimmery", "Punch", "Stuttering")
_FACTORS = ("descriptor", "magnitude", "pitch")


@dataclass(frozen=True)
class TrainSummary:
    """Result of :func:`train_timbre`.

    Parameters
    ----------
    run_dir : str
    n_train, n_valid, n_test : int
        Items per split (test = held back).
    final_train_loss, final_valid_loss : float
    seconds : float
        Wall time of training.
    """

    run_dir: str
    n_train: int
    n_valid: int
    n_test: int
    final_train_loss: float
    final_valid_loss: float
    seconds: float


def open_timbre_dataset(path: str | Path, run_dir: str | Path) -> Dataset:
    """Open a dataset with descriptor/magnitude/pitch factors, ingesting a seed-002 folder.

    Raises
    ------
    DatasetError
        Not a dataset nor a seed-002 folder, or the factors are missing.
    """
    path = Path(path)
    if (path / "dataset.json").is_file():
        ds = Dataset(path)
    elif (path / "audio").is_dir() or path.is_dir():
        from timbrespace.datasets.ingest import ingest_folder

        target = Path(run_dir) / "dataset"
        logger.info("%s is not a dataset: ingesting it (layout seed002) into %s", path, target)
        ds = ingest_folder(path, target, layout="seed002", overwrite=True)
    else:
        raise DatasetError(f"{path} does not exist")
    missing = [f for f in _FACTORS if f not in ds.metadata.columns]
    if missing:
        raise DatasetError(
            f"{path}: factors {missing} missing (has {ds.factor_names}); "
            "build one with `timbrespace timbre build` and `timbrespace ingest`"
        )
    return ds


def _conditions(desc_idx: np.ndarray, magnitude: np.ndarray, pitch_idx: np.ndarray,
                n_descriptors: int, n_pitches: int) -> np.ndarray:
    n = len(desc_idx)
    c = np.zeros((n, n_descriptors + 1 + n_pitches), dtype=np.float32)
    c[np.arange(n), desc_idx] = 1.0
    c[:, n_descriptors] = np.asarray(magnitude, dtype=np.float32) / 100.0
    c[np.arange(n), n_descriptors + 1 + pitch_idx] = 1.0
    return c


def train_timbre(
    dataset: str | Path,
    out: str | Path,
    *,
    descriptors: Sequence[str] | None = DEFAULT_DESCRIPTORS,
    model: str | ConditionalVAEConfig = "cpu",
    epochs: int | None = None,
    seed: int = 0,
    preprocessing: TimbrePreprocessing | None = None,
) -> TrainSummary:
    """Preprocess a descriptor dataset and train the conditional conv VAE.

    Parameters
    ----------
    dataset : path-like
        Dataset (factors descriptor, magnitude, pitch) or a seed-002 folder.
    out : path-like
        Run folder (created; existing files are replaced).
    descriptors : sequence of str or None
        Subset to train on (default: :data:`DEFAULT_DESCRIPTORS`); None = all in the dataset.
    model : str or ConditionalVAEConfig
        Preset name (``cpu``, ``seed``, ``tiny``) or a config; its ``n_descriptors`` and
        ``n_pitches`` are set from the data.
    epochs : int, optional
        Overrides the config's.
    seed : int
        Weight init, shuffling and reparameterisation noise.
    preprocessing : TimbrePreprocessing, optional

    Returns
    -------
    TrainSummary

    Raises
    ------
    ParameterError
        A requested descriptor is not in the dataset (present ones listed).
    TrainingError
        Loss became NaN/inf.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    prep = preprocessing or TimbrePreprocessing()
    ds = open_timbre_dataset(dataset, out)
    if ds.sample_rate != prep.sample_rate:
        raise DatasetError(f"{ds.root}: sample rate {ds.sample_rate} Hz, the representation needs {prep.sample_rate} Hz")
    meta = ds.metadata
    present = sorted(meta["descriptor"].astype(str).unique())
    chosen = present if descriptors is None else list(descriptors)
    unknown = [d for d in chosen if d not in present]
    if unknown:
        raise ParameterError(f"descriptors {unknown} are not in {ds.root}: allowed {', '.join(present)}")
    rows = np.flatnonzero(meta["descriptor"].astype(str).isin(chosen).to_numpy())
    items = meta.iloc[rows][["item_id", "descriptor", "magnitude", "pitch", "split", "audio_path"]].copy()
    items["dataset_index"] = rows
    items = items.reset_index(drop=True)
    chosen = sorted(chosen)
    pitches = sorted(int(p) for p in meta["pitch"].unique())
    magnitudes = sorted(float(m) for m in items["magnitude"].unique())

    config = model if isinstance(model, ConditionalVAEConfig) else preset(model)
    config = ConditionalVAEConfig.from_dict({**config.to_dict(), "n_descriptors": len(chosen),
                                             "n_pitches": len(pitches), "input_shape": list(prep.shape),
                                             **({"epochs": int(epochs)} if epochs is not None else {})})
    _write_features(ds, items, prep, out)
    with atomic_path(out / "items.parquet") as tmp:
        items.to_parquet(tmp, index=False)
    atomic_write_text(out / "config.yaml", yaml.safe_dump({
        "dataset": str(Path(ds.root).resolve()), "descriptors": chosen, "pitches": pitches,
        "magnitudes": magnitudes, "seed": int(seed), "preprocessing": asdict(prep),
        "model": config.to_dict(),
    }, sort_keys=False))

    run = TimbreRun(out, load_model=False)
    x = run.spectrograms
    cond = run.conditions_of(np.arange(len(items)))
    split = items["split"].astype(str).to_numpy()
    train_idx = np.flatnonzero(split == "train")
    valid_idx = np.flatnonzero(split == "valid")
    if train_idx.size == 0:
        raise DatasetError(f"{ds.root}: no 'train' items among descriptors {chosen}")

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = ConditionalConvVAE(config)
    gen = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    opt = torch.optim.Adam(net.parameters(), lr=config.lr)
    history: list[dict[str, float]] = []
    start = time.perf_counter()
    for epoch in range(config.epochs):
        net.train()
        totals = np.zeros(3)
        order = rng.permutation(train_idx)
        for b in range(0, len(order), config.batch_size):
            idx = np.sort(order[b:b + config.batch_size])
            if len(idx) < 2:  # BatchNorm needs two items
                continue
            xb = torch.from_numpy(np.asarray(x[idx]))[:, None]
            cb = torch.from_numpy(cond[idx])
            x_hat, mu, logvar = net(xb, cb, generator=gen)
            loss, recon, kl = net.loss(xb, x_hat, mu, logvar)
            if not torch.isfinite(loss):
                raise TrainingError(f"loss became {loss.item()} at epoch {epoch}")
            opt.zero_grad()
            loss.backward()
            opt.step()
            totals += np.array([loss.item(), recon.item(), kl.item()]) * len(idx)
        record = {"epoch": epoch, "train_loss": totals[0] / len(train_idx), "train_recon": totals[1] / len(train_idx),
                  "train_kl": totals[2] / len(train_idx), "seconds": time.perf_counter() - start}
        if valid_idx.size:
            v = _evaluate(net, x, cond, valid_idx, config.batch_size)
            record.update({"valid_loss": v[0], "valid_recon": v[1], "valid_kl": v[2]})
        history.append(record)
        logger.info("epoch %d/%d  train %.4g  valid %.4g  (%.0f s)", epoch + 1, config.epochs,
                    record["train_loss"], record.get("valid_loss", float("nan")), record["seconds"])
    seconds = time.perf_counter() - start
    _save_checkpoint(net, out / "checkpoints")
    atomic_write_json(out / "history.json", history)
    summary = TrainSummary(str(out), int(train_idx.size), int(valid_idx.size), int(np.sum(split == "test")),
                           float(history[-1]["train_loss"]), float(history[-1].get("valid_loss", float("nan"))),
                           seconds)
    metrics_path = out / "metrics.json"
    existing = json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
    train_record = {k: (v if np.isfinite(v) else None) if isinstance(v, float) else v for k, v in asdict(summary).items()}
    atomic_write_json(metrics_path, {**existing, "train": train_record})
    return summary


def _evaluate(net: ConditionalConvVAE, x: np.ndarray, cond: np.ndarray, idx: np.ndarray, batch_size: int) -> np.ndarray:
    net.eval()
    totals = np.zeros(3)
    with torch.no_grad():
        for b in range(0, len(idx), batch_size):
            sel = idx[b:b + batch_size]
            xb = torch.from_numpy(np.asarray(x[sel]))[:, None]
            cb = torch.from_numpy(cond[sel])
            x_hat, mu, logvar = net(xb, cb)
            totals += np.array([t.item() for t in net.loss(xb, x_hat, mu, logvar)]) * len(sel)
    return totals / len(idx)


def _write_features(ds: Dataset, items: pd.DataFrame, prep: TimbrePreprocessing, out: Path, batch: int = 64) -> None:
    feat_dir = out / "features"
    feat_dir.mkdir(parents=True, exist_ok=True)
    n = len(items)
    min_db = np.zeros(n, np.float32)
    max_db = np.zeros(n, np.float32)
    with atomic_path(feat_dir / "spectrograms.npy") as tmp:
        arr = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=(n, *prep.shape))
        for b in range(0, n, batch):
            sel = items["dataset_index"].to_numpy()[b:b + batch]
            spec = to_spectrogram(ds.load_audio(sel), prep)
            arr[b:b + len(sel)] = spec.x
            min_db[b:b + len(sel)] = spec.min_db
            max_db[b:b + len(sel)] = spec.max_db
        arr.flush()
        del arr
    with atomic_path(feat_dir / "stats.npz") as tmp:
        np.savez(tmp, min_db=min_db, max_db=max_db)


def _save_checkpoint(net: ConditionalConvVAE, folder: Path) -> None:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    with atomic_path(folder / "model.safetensors") as tmp:
        save_file({k: v.contiguous() for k, v in net.state_dict().items()}, str(tmp))
    atomic_write_json(folder / "model.json", net.config.to_dict())


class TimbreRun:
    """A trained run folder, reopened for generation.

    Parameters
    ----------
    root : path-like
        Run folder written by :func:`train_timbre`.
    load_model : bool
        Load the checkpoint (False while training writes it).

    Raises
    ------
    DatasetError
        Not a run folder, or its checkpoint missing.
    """

    def __init__(self, root: str | Path, *, load_model: bool = True) -> None:
        self.root = Path(root)
        cfg_path = self.root / "config.yaml"
        if not cfg_path.is_file():
            raise DatasetError(f"{self.root}: not a timbre run (no config.yaml); train one with `timbrespace timbre train`")
        self.config = yaml.safe_load(cfg_path.read_text())
        self.descriptors: list[str] = list(self.config["descriptors"])
        self.pitches: list[int] = [int(p) for p in self.config["pitches"]]
        self.magnitudes: list[float] = [float(m) for m in self.config["magnitudes"]]
        self.preprocessing = TimbrePreprocessing(**self.config["preprocessing"])
        self.items = pd.read_parquet(self.root / "items.parquet")
        self.spectrograms = np.load(self.root / "features" / "spectrograms.npy", mmap_mode="r")
        stats = np.load(self.root / "features" / "stats.npz")
        self.min_db, self.max_db = stats["min_db"], stats["max_db"]
        self.model: ConditionalConvVAE | None = None
        if load_model:
            ckpt = self.root / "checkpoints"
            if not (ckpt / "model.safetensors").is_file():
                raise DatasetError(f"{self.root}: no checkpoint (training unfinished?)")
            from safetensors.torch import load_file

            self.model = ConditionalConvVAE(ConditionalVAEConfig.from_dict(json.loads((ckpt / "model.json").read_text())))
            self.model.load_state_dict(load_file(str(ckpt / "model.safetensors")))
            self.model.eval()

    @property
    def dataset(self) -> Dataset:
        return Dataset(self.config["dataset"])

    def conditions(self, descriptors: Sequence[str], magnitudes: Sequence[float], pitches: Sequence[int]) -> np.ndarray:
        """Condition vectors ``(n, n_conditions)`` float32 for the given labels."""
        d_idx = np.array([self.descriptors.index(d) for d in descriptors], dtype=np.int64)
        p_idx = np.array([self.pitches.index(int(p)) for p in pitches], dtype=np.int64)
        return _conditions(d_idx, np.asarray(magnitudes, dtype=np.float32), p_idx, len(self.descriptors), len(self.pitches))

    def conditions_of(self, rows: np.ndarray) -> np.ndarray:
        sub = self.items.iloc[np.asarray(rows)]
        return self.conditions(sub["descriptor"].astype(str).tolist(), sub["magnitude"].to_numpy(),
                               sub["pitch"].astype(int).tolist())

    def find(self, descriptor: str, magnitude: float, pitch: int) -> int:
        """Row of the original note with these labels.

        Raises
        ------
        ParameterError
            A label not in the run (allowed values listed).
        """
        if descriptor not in self.descriptors:
            raise ParameterError(f"descriptor={descriptor!r} is not in this run: allowed {', '.join(self.descriptors)}")
        if float(magnitude) not in self.magnitudes:
            raise ParameterError(f"magnitude={magnitude} is not in this run: allowed {', '.join(f'{m:g}' for m in self.magnitudes)}")
        if int(pitch) not in self.pitches:
            raise ParameterError(f"pitch={pitch} is not in this run: allowed MIDI {self.pitches[0]}..{self.pitches[-1]}")
        hit = np.flatnonzero((self.items["descriptor"].astype(str) == descriptor).to_numpy()
                             & np.isclose(self.items["magnitude"].to_numpy(dtype=float), float(magnitude))
                             & (self.items["pitch"].astype(int) == int(pitch)).to_numpy())
        if hit.size == 0:
            raise DatasetError(f"{self.root}: no original note for ({descriptor}, {magnitude:g}, {pitch})")
        return int(hit[0])

    def stats_of(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        rows = np.asarray(rows)
        return self.min_db[rows], self.max_db[rows]

    def require_model(self) -> ConditionalConvVAE:
        """The loaded model (raises :class:`DatasetError` if opened with ``load_model=False``)."""
        if self.model is None:
            raise DatasetError(f"{self.root}: opened without its model (load_model=False)")
        return self.model

    def encode(self, rows: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Latent means ``mu`` (n, latent_dim) of stored items."""
        model = self.require_model()
        rows = np.asarray(rows)
        out = []
        with torch.no_grad():
            for b in range(0, len(rows), batch_size):
                sel = rows[b:b + batch_size]
                x = np.asarray(self.spectrograms[sel])
                mu, _ = model.encode(torch.from_numpy(x)[:, None], torch.from_numpy(self.conditions_of(sel)))
                out.append(mu.numpy())
        return np.concatenate(out) if out else np.zeros((0, model.config.latent_dim), np.float32)

    def decode(self, z: np.ndarray, conditions: np.ndarray, batch_size: int = 64) -> np.ndarray:
        """Normalised spectrograms ``(n, n_bins, n_frames)`` from latents and conditions."""
        model = self.require_model()
        out = []
        with torch.no_grad():
            for b in range(0, len(z), batch_size):
                zb = torch.as_tensor(np.asarray(z[b:b + batch_size], dtype=np.float32))
                cb = torch.as_tensor(np.asarray(conditions[b:b + batch_size], dtype=np.float32))
                out.append(model.decode(zb, cb)[:, 0].numpy())
        return np.concatenate(out)

    def spectrograms_of(self, x: np.ndarray, rows_or_min: np.ndarray, max_db: np.ndarray | None = None) -> Spectrograms:
        """Wrap decoded ``x`` with the min/max of rows (or given min_db/max_db arrays)."""
        if max_db is None:
            min_db, max_db = self.stats_of(rows_or_min)
        else:
            min_db = rows_or_min
        return Spectrograms(x=np.asarray(x, np.float32), min_db=np.asarray(min_db, np.float32),
                            max_db=np.asarray(max_db, np.float32))
