"""Small trained runs of every kind the explorer plays, made once per session, and a live server.

- ``note_run``: ``timbrespace run`` on an 18-item additive grid (8 kHz, 0.5 s notes,
  per-item min–max of a dB STFT), an MLP β-VAE with 4 latents, 2 epochs (~10 s);
- ``shift_run``: the default experiment (``additive-4factor``: shift-VAE on a dB CQT, no
  normalisation) on a 12-item grid, 2 epochs (~3 s);
- ``train_run``: ``timbrespace train`` (β-VAE) on ``note_run``'s dataset and features,
  1 epoch (~5 s);
- ``timbre_run``: seed-002 folder of 2 descriptors × 3 magnitudes × 23 pitches of a
  synthetic note, ingested, the ``tiny`` conditional conv VAE, 2 epochs (~5 s);
- ``drum_run``: 48 random one-bar grooves written as MIDI, ingested, a small groove VAE,
  10 epochs (~2 s).

The ``run``, timbre and drums runs are made without drawing report.html (see ``_no_report``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import socket
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from tests.timbre.conftest import SR, harmonic_note

NOTE_RUN = {
    "name": "explore-tiny",
    "seed": 1,
    "dataset": {
        "sound_model": "additive",
        "sample_rate": 8000,
        "duration_s": 0.5,
        "fixed": {"n_partials": 12},
        "parameters": {
            "f0_hz": {"min": 150, "max": 600, "n": 3, "spacing": "log"},
            "slope_db_per_octave": {"min": -12, "max": -3, "n": 3},
            "decay_per_s": {"values": [2.0, 10.0]},
        },
        "splits": {"train": 0.6, "valid": 0.2, "test": 0.2},
    },
    "features": {"kind": "stft", "n_fft": 256, "hop_length": 64, "output": "db", "normalization": "minmax_item"},
    "model": {"latent_dim": 4, "hidden_sizes": [32], "beta": 1.0},
    "training": {"epochs": 2, "batch_size": 8, "num_threads": 1},
    "evaluation": {"n_traversal_steps": 2, "n_traversal_latents": 1, "n_reconstructions": 1, "n_iter": 2,
                   "linear_baselines": False, "align": "none"},
}


@contextlib.contextmanager
def _no_report():  # noqa: ANN202
    """Runs made without drawing report.html (figures and clips: over half of a tiny run's
    seconds): the explorer reads a run's checkpoint, latents, features and metrics, never its
    report; each kind's report is checked in tests/experiments, tests/cli and tests/patterns."""
    report = importlib.import_module("timbrespace.experiments.report")
    timbre = importlib.import_module("timbrespace.experiments.timbre")
    drums = importlib.import_module("timbrespace.experiments.drums")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(report, "write_run_report", lambda run_dir, **_: Path(run_dir) / "report.html")
        mp.setattr(timbre, "write_timbre_report", lambda run, **_: run.root / "report.html")
        mp.setattr(drums, "write_drums_report", lambda run, **_: run.root / "report.html")
        yield


@pytest.fixture(scope="session")
def note_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished ``run`` folder (see the module docstring)."""
    from timbrespace.experiments import load_experiment_config, run_experiment

    tmp = tmp_path_factory.mktemp("explore_note_run")
    (tmp / "tiny.yaml").write_text(yaml.safe_dump(NOTE_RUN, sort_keys=False))
    cfg = load_experiment_config(tmp / "tiny.yaml")
    with _no_report():
        return run_experiment(cfg, out=tmp / "run", progress=False, workers=1).run_dir


@pytest.fixture(scope="session")
def shift_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished default-experiment run, made small (see the module docstring)."""
    from timbrespace.experiments import load_experiment_config, run_experiment

    tmp = tmp_path_factory.mktemp("explore_shift_run")
    cfg = load_experiment_config("additive-4factor", overrides={
        "dataset.sample_rate": 8000, "dataset.duration_s": 0.5, "features.n_bins": 144, "features.hop_length": 512,
        "dataset.parameters.f0_hz.n": 3, "dataset.parameters.slope_db_per_octave.n": 2,
        "dataset.parameters.inharmonicity.n": 1, "dataset.parameters.decay_per_s.n": 2,
        "dataset.splits": {"train": 0.6, "valid": 0.2, "test": 0.2},
        "training.epochs": 2, "training.batch_size": 8, "training.num_threads": 1,
        "training.audio_decoder_epochs": 0,  # features + phase retrieval (test_audio_decoder.py has the other)
        "evaluation.n_traversal_steps": 2, "evaluation.n_traversal_latents": 1, "evaluation.n_reconstructions": 1,
        "evaluation.n_iter": 1, "evaluation.linear_baselines": False, "evaluation.align": "none",
    })
    with _no_report():
        return run_experiment(cfg, out=tmp / "run", progress=False, workers=1).run_dir


@pytest.fixture(scope="session")
def train_run(tmp_path_factory: pytest.TempPathFactory, note_run: Path) -> Path:
    """A ``timbrespace train`` run on ``note_run``'s dataset (see the module docstring)."""
    from timbrespace.experiments.train_runs import train_dataset
    from timbrespace.training import TrainConfig

    out = tmp_path_factory.mktemp("explore_train_run") / "run"
    train_dataset(note_run / "dataset", out_dir=out, features="run_features", model="beta_vae",
                  model_options={"latent_dim": 3, "hidden_sizes": (16,)},
                  train_config=TrainConfig(epochs=1, batch_size=8, num_threads=1))
    return out


@pytest.fixture(scope="session")
def note_explorable(note_run: Path):  # noqa: ANN201
    from timbrespace.explore import open_explorable

    return open_explorable(note_run)


@pytest.fixture(scope="session")
def timbre_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``timbre train`` run folder (see the module docstring)."""
    from timbrespace.datasets.ingest import ingest_folder
    from timbrespace.experiments import train_timbre
    from timbrespace.timbre.build import build_timbre_folder

    tmp = tmp_path_factory.mktemp("explore_timbre_run")
    notes = tmp / "notes"
    (notes / "audio").mkdir(parents=True)
    examples = {}
    for p in range(64, 87):
        stem = f"fake_guitar-{p:03d}-100"
        sf.write(notes / "audio" / f"{stem}.wav", harmonic_note(p), SR, subtype="PCM_16")
        examples[stem] = {"instrument_str": "fake_guitar", "pitch": p, "velocity": 100, "sample_rate": SR}
    (notes / "examples.json").write_text(json.dumps(examples))
    build_timbre_folder(notes, tmp / "folder", instrument="fake_guitar", velocity=100,
                        descriptors=["Bright", "Dark"], magnitudes=[0, 50, 100])
    ingest_folder(tmp / "folder", tmp / "dataset", layout="seed002")
    with _no_report():
        train_timbre(tmp / "dataset", tmp / "run", descriptors=["Bright", "Dark"], model="tiny", epochs=2)
    return tmp / "run"


@pytest.fixture(scope="session")
def drum_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``drums train`` run folder on random grooves (see the module docstring)."""
    from timbrespace.experiments import GrooveTrainConfig, train_drums
    from timbrespace.models import groove_config
    from timbrespace.patterns.dataset import GrooveDatasetConfig, build_groove_dataset
    from timbrespace.patterns.midi import write_midi

    tmp = tmp_path_factory.mktemp("explore_drum_run")
    rng = np.random.default_rng(0)
    (tmp / "midi").mkdir()
    rates = rng.uniform(0.05, 0.5, size=(1, 16, 9))
    for k in range(48):
        bars = (rng.random((2, 16, 9)) < rates) * rng.uniform(0.3, 1.0, size=(2, 16, 9))
        write_midi(tmp / "midi" / f"test__{chr(97 + k // 4)}groove__v{k % 4}.mid", bars.astype(np.float32), bpm=120)
    build_groove_dataset(tmp / "midi", tmp / "dataset", config=GrooveDatasetConfig())
    with _no_report():
        train_drums(tmp / "dataset", tmp / "run", model_config=groove_config(latent_dim=4, hidden_sizes=(64,)),
                    train_config=GrooveTrainConfig(epochs=10, warmup_epochs=3))
    return tmp / "run"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """The explorer app of ``run`` under uvicorn on 127.0.0.1, in a thread, for a ``with`` block.

    With ``hosts``, the app answers only the ``Host`` headers :func:`serve` would allow.
    """

    def __init__(self, run, *, hosts: bool = False) -> None:  # noqa: ANN001
        import uvicorn

        from timbrespace.explore import create_app
        from timbrespace.explore.server import allowed_hosts

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        app = create_app(run, hosts=allowed_hosts("127.0.0.1", self.port) if hosts else None)
        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 60  # a loaded CI machine (the app loads the run first)
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the explorer server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


class CountingBody:
    """An ASGI ``receive`` that hands out ``total`` bytes in 64 KiB chunks and counts what was
    taken: ``head`` first, then ``fill`` repeated (a server that refuses early takes 0)."""

    CHUNK = 64 * 1024

    def __init__(self, total: int, *, fill: bytes = b"[", head: bytes = b"") -> None:
        self.total, self.consumed, self.fill, self.head = total, 0, fill, head

    async def receive(self) -> dict:
        if self.consumed >= self.total and self.total:
            return {"type": "http.disconnect"}
        n = min(self.CHUNK, self.total - self.consumed)
        head = self.head if self.consumed == 0 else b""
        self.consumed += n
        body = head + self.fill * ((n - len(head)) // len(self.fill) + 1)
        return {"type": "http.request", "body": body[:n], "more_body": self.consumed < self.total}
