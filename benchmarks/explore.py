"""Benchmark of the explorer's HTTP API: latency of ``POST /api/decode``, through HTTP.

Run (about three minutes on 2 cores)::

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/explore.py [--n 100] [--default-run RUN]

It makes what it measures, in a temporary folder:

- the default experiment (``timbrespace run``, ``additive-4factor``: a shift-VAE on a dB CQT
  of 1 s notes at 16 kHz, 168 bins x 8 frames, with its DDSP decoder; a few minutes), unless
  ``--default-run`` names a finished one; its rows decode the features through phase
  retrieval (``use_audio_decoder=False``), the audio rows play its DDSP decoder;
- a ``run`` run of 1 s notes: the additive synth at 22050 Hz, 1.0 s, log-magnitude STFT
  (``n_fft`` 1024, hop 256: 513 × 87 per note), per-item min–max, MLP β-VAE (8 latents,
  one hidden layer of 256), 3 epochs;
- a ``run`` run with the DDSP audio decoder (``training.audio_decoder_epochs``): the
  default experiment made of 1 s notes (4 × 2 × 2 × 2 = 32 items at 8 kHz, 3 epochs, 2
  epochs of the audio decoder), unless ``--audio-run`` names a finished one; it is served
  twice, decoding ``z`` through the features and phase retrieval (``use_audio_decoder=False``,
  0 and 8 iterations) and through the audio decoder;
- a ``drums`` run: 48 random one-bar grooves (16 steps, magenta9 drum map) written as MIDI,
  ingested and fitted by the groove VAE (20 epochs).

Each is served by ``timbrespace.explore.serve``'s app under uvicorn on 127.0.0.1, and an
HTTP client posts ``--n`` latents drawn from the prior (seeded), after 5 warm-up
requests. Printed: median and 95th percentile of the request wall time (client side:
decoding, phase retrieval or drum rendering, WAV encoding and HTTP), for

- the default run's 1 s note and the 1 s STFT note, each with 0 (PGHI alone), 8 (the
  explorer's default) and 16 Griffin-Lim iterations after PGHI (the CQT first mapped to an
  STFT magnitude, :mod:`timbrespace.features.constant_q`), beside the mean spectral
  convergence of the audio against the original items, measured as the run's
  ``reconstruction.spectral_convergence`` (``||S - |STFT(y)| ||_F / ||S||_F`` in the
  features' frames, lower is better) on 20 items: of their stored features inverted (the
  inverse alone) and of their reconstructions decoded from ``mu`` (the model too);
- the first request after the server's startup (its warm-up decode done);
- a 2-bar groove at 120 BPM on the GM soundfont, and on a Hydrogen kit when one is found
  (``$TIMBRESPACE_DRUMKITS``, or ``drumkits`` under ``$TIMBRESPACE_SHARED_DATA``, by default
  ``../shared/data``).

Targets (issue 19): note ≤ 100 ms median and ≤ 250 ms p95; groove ≤ 150 ms median.
Issue 28: a 1 s clip from the audio decoder ≤ 50 ms p95 on 2 cores. ``--only audio`` makes
and measures the audio-decoder run alone (about 40 s).
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

import httpx
import numpy as np
import torch
import uvicorn

from timbrespace.experiments import load_experiment_config, run_experiment
from timbrespace.explore import create_app, open_explorable
from timbrespace.explore.base import Explorable
from timbrespace.explore.run import RunExplorable

NOTE_RUN = {
    "name": "bench-notes",
    "seed": 0,
    "dataset": {
        "sound_model": "additive",
        "sample_rate": 22050,
        "duration_s": 1.0,
        "fixed": {"n_partials": 30},
        "parameters": {
            "f0_hz": {"min": 110, "max": 880, "n": 4, "spacing": "log"},
            "slope_db_per_octave": {"min": -12, "max": -3, "n": 3},
            "decay_per_s": {"min": 1, "max": 8, "n": 3, "spacing": "log"},
        },
        "splits": {"train": 0.8, "valid": 0.1, "test": 0.1},
    },
    "features": {"kind": "stft", "n_fft": 1024, "hop_length": 256, "output": "db", "normalization": "minmax_item"},
    "model": {"latent_dim": 8, "hidden_sizes": [256], "beta": 1.0},
    "training": {"epochs": 3, "batch_size": 16},
    "evaluation": {"n_traversal_steps": 3, "n_traversal_latents": 1, "n_reconstructions": 1, "n_iter": 4,
                   "linear_baselines": False, "align": "none"},
}


def make_note_run(tmp: Path) -> Path:
    import yaml

    path = tmp / "notes.yaml"
    path.write_text(yaml.safe_dump(NOTE_RUN))
    return run_experiment(load_experiment_config(path), out=tmp / "notes", progress=False, workers=1).run_dir


AUDIO_RUN = {  # overrides of the default experiment: 1 s notes, a small grid, the DDSP decoder
    "dataset.duration_s": 1.0,
    "dataset.parameters.f0_hz.n": 4, "dataset.parameters.slope_db_per_octave.n": 2,
    "dataset.parameters.inharmonicity.n": 2, "dataset.parameters.decay_per_s.n": 2,
    "training.epochs": 3, "training.warmup_steps": 1, "training.refine_epochs": 0, "training.audio_decoder_epochs": 2,
    "evaluation.n_traversal_steps": 2, "evaluation.n_traversal_latents": 1, "evaluation.n_reconstructions": 1,
    "evaluation.n_iter": 1, "evaluation.linear_baselines": False, "evaluation.align": "none",
}


def make_audio_run(tmp: Path) -> Path:
    return run_experiment(load_experiment_config("additive-4factor", overrides=AUDIO_RUN), out=tmp / "ddsp",
                          progress=False, workers=1).run_dir


def audio_rows(run_dir: Path, n: int, rng: np.random.Generator) -> None:
    """``POST /api/decode`` of a run with an audio decoder: features + phase retrieval against the decoder."""
    features = RunExplorable(run_dir, use_audio_decoder=False)
    audio = RunExplorable(run_dir)
    if audio.audio_decoder is None:
        raise SystemExit(f"{run_dir} has no audio decoder (train with training.audio_decoder_epochs > 0)")
    mu = audio.items().latents
    z = (mu.mean(0) + mu.std(0) * rng.standard_normal((n, audio.latent_dim))).astype(np.float32)
    seconds = audio.audio_decoder.config.n_samples / audio.sample_rate
    label = f"{seconds:g} s CQT note at {audio.sample_rate} Hz,"
    with Served(features) as url, httpx.Client(timeout=60) as client:
        for n_iter in (0, 8):
            ms = latency_ms(client, f"{url}/api/decode", [{"z": v.tolist(), "n_iter": n_iter} for v in z])
            row(f"{label} features + PGHI + {n_iter} GL iterations", ms)
    with Served(audio) as url, httpx.Client(timeout=60) as client:
        first = first_request_ms(client, f"{url}/api/decode", {"z": z[0].tolist()})
        ms = latency_ms(client, f"{url}/api/decode", [{"z": v.tolist()} for v in z])
        row(f"{label} DDSP audio decoder", ms, "(target: p95 <= 50 ms on 2 cores)")
    print(f"{label} DDSP audio decoder, first request after startup: {first:.1f} ms")
    decoder_alone(audio.audio_decoder.config, z)


def decoder_alone(config: object, z: np.ndarray) -> None:
    """``decode_audio`` of a 1 s clip, no HTTP, at higher sample rates: the run's decoder config at
    22050 and 44100 Hz, weights untrained (the cost does not depend on them)."""
    import dataclasses

    from timbrespace.models.ddsp import AudioDecoder
    from timbrespace.training.audio_decoder import decode_audio

    for sample_rate in (22050, 44100):
        cfg = dataclasses.replace(config, sample_rate=sample_rate, n_samples=sample_rate,
                                  hop_length=round(config.hop_length * sample_rate / config.sample_rate))
        model = AudioDecoder(cfg).eval()
        for v in z[:5]:
            decode_audio(model, v)
        times = []
        for v in z:
            t0 = time.perf_counter()
            decode_audio(model, v)
            times.append(1000 * (time.perf_counter() - t0))
        row(f"1 s at {sample_rate} Hz, DDSP decode_audio alone (no HTTP)", np.asarray(times))


def make_drum_run(tmp: Path) -> Path:
    from timbrespace.experiments import GrooveTrainConfig, train_drums
    from timbrespace.models import groove_config
    from timbrespace.patterns.dataset import GrooveDatasetConfig, build_groove_dataset
    from timbrespace.patterns.midi import write_midi

    rng = np.random.default_rng(0)
    midi = tmp / "grooves"
    midi.mkdir()
    rates = rng.uniform(0.05, 0.5, size=(1, 16, 9))
    for k in range(48):
        bars = (rng.random((2, 16, 9)) < rates) * rng.uniform(0.3, 1.0, size=(2, 16, 9))
        write_midi(midi / f"bench__{chr(97 + k // 4)}groove__v{k % 4}.mid", bars.astype(np.float32), drum_map="magenta9", bpm=120)
    build_groove_dataset(midi, tmp / "groove_ds", config=GrooveDatasetConfig())
    train_drums(tmp / "groove_ds", tmp / "drums", model_config=groove_config(latent_dim=4, hidden_sizes=(128,)),
                train_config=GrooveTrainConfig(epochs=20, warmup_epochs=5))
    return tmp / "drums"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Served:
    """The explorer app of ``run`` under uvicorn in a thread, for the duration of a ``with``."""

    def __init__(self, run: Explorable) -> None:
        self.port = free_port()
        self.server = uvicorn.Server(uvicorn.Config(create_app(run), host="127.0.0.1", port=self.port,
                                                    log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def latency_ms(client: httpx.Client, url: str, bodies: list[dict], warmup: int = 5) -> np.ndarray:
    """Wall time (ms) of each POST, after ``warmup`` unmeasured ones."""
    for body in bodies[:warmup]:
        client.post(url, json=body).raise_for_status()
    times = []
    for body in bodies:
        t0 = time.perf_counter()
        res = client.post(url, json=body)
        times.append(1000 * (time.perf_counter() - t0))
        res.raise_for_status()
    return np.asarray(times)


def row(name: str, ms: np.ndarray, extra: str = "") -> None:
    print(f"{name:<58} {np.median(ms):8.1f} {np.percentile(ms, 95):8.1f}  {extra}")


def spectral_convergence(run: RunExplorable, n_iter: int, n_items: int = 20) -> tuple[float, float]:
    """Mean spectral convergence of resynthesised audio against the original items, measured as
    the run's ``reconstruction.spectral_convergence`` (STFT in the features' frames), for
    ``n_items`` spread over the dataset: (the stored features inverted, the reconstructions
    decoded from the items' ``mu`` and inverted)."""
    from timbrespace.features import invert, stft_magnitude
    from timbrespace.features.phase import StftGeometry
    from timbrespace.metrics import spectral_convergence as sc
    from timbrespace.training import decode_array

    n = len(run.items().ids)
    rows = np.unique(np.linspace(0, n - 1, min(n_items, n)).astype(int))
    cfg = run.sidecar.config
    geometry = cfg if cfg.kind in ("stft", "mel") else StftGeometry(cfg.n_fft, cfg.hop_length or cfg.n_fft // 4, cfg.n_fft)
    original = run.dataset.load_audio(rows)
    reference = stft_magnitude(original, geometry)
    out = []
    for x in (run.dataset.load_features(run.features_name, rows), decode_array(run.model, run.items().latents[rows])):
        audio = invert(x, run.sidecar, method=run.phase_method, n_iter=n_iter, indices=rows)[:, : original.shape[1]]
        out.append(float(np.mean(sc(reference, stft_magnitude(audio, geometry)))))
    return out[0], out[1]


def first_request_ms(client: httpx.Client, url: str, body: dict) -> float:
    """Wall time (ms) of the first POST the server answers (its startup warm-up done)."""
    t0 = time.perf_counter()
    client.post(url, json=body).raise_for_status()
    return 1000 * (time.perf_counter() - t0)


def note_rows(run: RunExplorable, client: httpx.Client, url: str, z: np.ndarray, label: str,
              iterations: tuple[int, ...]) -> None:
    """One row per ``n_iter``: latency of ``POST /api/decode`` and the spectral convergence."""
    default = run.options[0].default
    first = first_request_ms(client, f"{url}/api/decode", {"z": z[0].tolist()})
    for n_iter in iterations:
        ms = latency_ms(client, f"{url}/api/decode", [{"z": v.tolist(), "n_iter": n_iter} for v in z])
        mark = " (default)" if n_iter == default else ""
        stored, decoded = spectral_convergence(run, n_iter)
        row(f"{label} PGHI + {n_iter} GL iterations{mark}", ms,
            f"spectral convergence vs originals: stored features {stored:.3f}, decoded {decoded:.3f}")
    print(f"{label} first request after startup: {first:.1f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=100, help="Measured requests per row.")
    parser.add_argument("--default-run", type=Path, help="A finished `timbrespace run` of the default experiment.")
    parser.add_argument("--audio-run", type=Path, help="A finished `timbrespace run` with an audio decoder.")
    parser.add_argument("--only", choices=("all", "audio"), default="all", help="Measure every run, or the "
                        "audio-decoder run alone.")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        t0 = time.perf_counter()
        audio_dir = args.audio_run or make_audio_run(tmp)
        print(f"{'POST /api/decode':<58} {'median':>8} {'p95':>8}  (ms, {args.n} requests; torch threads "
              f"{torch.get_num_threads()}, OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, "
              f"{os.cpu_count()} CPUs)")
        audio_rows(audio_dir, args.n, rng)
        if args.only == "audio":
            return
        default_dir = args.default_run or run_experiment(load_experiment_config(), out=tmp / "default",
                                                         progress=False, workers=1).run_dir
        default = RunExplorable(default_dir, use_audio_decoder=False)  # its features through phase retrieval
        notes = open_explorable(make_note_run(tmp))
        shared = Path(os.environ.get("TIMBRESPACE_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))
        drums = open_explorable(make_drum_run(tmp), kit_dirs=[shared / "drumkits"] if (shared / "drumkits").is_dir() else [])
        print(f"made the runs in {time.perf_counter() - t0:.0f} s; torch threads {torch.get_num_threads()}, "
              f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, {os.cpu_count()} CPUs")
        print(f"{'POST /api/decode':<58} {'median':>8} {'p95':>8}  (ms, {args.n} requests)")
        # the default run's prior is the items' spread: latents drawn around their mean, at their std
        mu = default.items().latents
        z_default = (mu.mean(0) + mu.std(0) * rng.standard_normal((args.n, default.latent_dim))).astype(np.float32)
        with Served(default) as url, httpx.Client(timeout=60) as client:
            note_rows(default, client, url, z_default, "default run, 1 s CQT note at 16 kHz,", (0, 8, 16))
        z_notes = rng.standard_normal((args.n, notes.latent_dim)).astype(np.float32)
        with Served(notes) as url, httpx.Client(timeout=30) as client:
            note_rows(notes, client, url, z_notes, "1 s STFT note,", (0, 8, 16))
        z_drums = rng.standard_normal((args.n, drums.latent_dim)).astype(np.float32)
        kits = [opt for opt in drums.options if opt.name == "kit"][0].values or ()
        with Served(drums) as url, httpx.Client(timeout=30) as client:
            for kit in kits[:3]:
                ms = latency_ms(client, f"{url}/api/decode", [{"z": z.tolist(), "kit": kit, "bars": 2} for z in z_drums])
                row(f"2-bar groove, 120 BPM, kit {kit}", ms)


if __name__ == "__main__":
    main()
