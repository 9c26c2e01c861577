"""Speed of the representations and their inverses: x-realtime on 1 and 2 threads.

Run from the repository root::

    .venv/bin/python benchmarks/features.py                 # ~2-3 minutes
    .venv/bin/python benchmarks/features.py --cases "stft db" gl32 pghi+gl8 --threads 1
    .venv/bin/python benchmarks/features.py --clock cpu --threads 1   # on a loaded machine

x-realtime = seconds of audio processed per second of wall time (best of ``--repeats``),
on real notes from ``../shared/data/notes`` (1 s each at 22050 Hz; noise if absent),
n_fft 1024 and hop 256 unless stated. "ours" runs on the whole batch; the baseline is a
per-item loop of librosa calls (``librosa.griffinlim`` with its default 32 iterations for
phase retrieval), as the seeds did; MDCT has no librosa equivalent, so its baseline is a
per-item loop of the direct cosine-matrix formula (seed 000's ``MDCT.py``); NSGT's is a
per-item loop over the ``nsgt`` package. "batch" is librosa called once on the whole
batch. Phase-retrieval rows show the mean spectral convergence beside the time.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch
from threadpoolctl import threadpool_limits

from timbrespace.features import FeatureConfig, StftGeometry, extract, invert
from timbrespace.features._nsgt import nsgt_transform
from timbrespace.features._stft import spectral_convergence
from timbrespace.features.mdct import mdct_window

SR = 22050
N_FFT, HOP = 1024, 256
NOTES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "notes" / "audio"
GEOMETRY = StftGeometry(N_FFT, HOP, N_FFT)


@dataclass(frozen=True)
class Case:
    name: str
    ours: Callable[[np.ndarray], np.ndarray]
    baseline: Callable[[np.ndarray], np.ndarray] | None = None
    batch: Callable[[np.ndarray], np.ndarray] | None = None
    phase_retrieval: bool = False  # compute spectral convergence of the audio returned


def load_audio(n_items: int) -> np.ndarray:
    files = sorted(NOTES.glob("*.wav"))
    if not files:
        rng = np.random.default_rng(0)
        return (0.1 * rng.standard_normal((n_items, SR))).astype(np.float32)
    step = max(1, len(files) // n_items)
    return np.stack([sf.read(f, dtype="float32")[0] for f in files[::step][:n_items]])


def magnitude(y: np.ndarray) -> np.ndarray:
    return GEOMETRY.stft(torch.from_numpy(np.ascontiguousarray(y))).abs().numpy()


def _naive_mdct(y: np.ndarray, n_fft: int = 2048) -> np.ndarray:
    half = n_fft // 2
    n, k = np.arange(n_fft)[:, None], np.arange(half)[None, :]
    basis = np.cos(np.pi / half * (n + 0.5 + half / 2) * (k + 0.5)) * mdct_window(n_fft)[:, None]
    padded = np.concatenate([np.zeros(half), y, np.zeros(2 * half)])
    return np.stack([padded[j : j + n_fft] @ basis for j in range(0, len(y) + half, half)], axis=1)


def _naive_imdct(c: np.ndarray, n_samples: int, n_fft: int = 2048) -> np.ndarray:
    half = n_fft // 2
    n, k = np.arange(n_fft)[:, None], np.arange(half)[None, :]
    basis = np.cos(np.pi / half * (n + 0.5 + half / 2) * (k + 0.5)) * mdct_window(n_fft)[:, None] * (2.0 / half)
    out = np.zeros(half * (c.shape[1] + 1) + n_fft)
    for j in range(c.shape[1]):
        out[j * half : j * half + n_fft] += basis @ c[:, j]
    return out[half : half + n_samples]


def build_cases(audio: np.ndarray) -> dict[str, Case]:
    n_samples = audio.shape[1]
    stft_db = FeatureConfig(n_fft=N_FFT, hop_length=HOP, output="db")
    mel_db = FeatureConfig(kind="mel", n_fft=N_FFT, hop_length=HOP, n_mels=128, output="db")
    cqt_db = FeatureConfig(kind="cqt", hop_length=512, n_bins=84, output="db")
    mdct_cfg = FeatureConfig(kind="mdct", n_fft=2048)
    nsgt_cfg = FeatureConfig(kind="nsgt", fmin_hz=32.70, bins_per_octave=12)
    complex_cfg = FeatureConfig(n_fft=N_FFT, hop_length=HOP, output="complex")
    sidecars = {name: extract(audio[:1], cfg, sample_rate=SR).sidecar
                for name, cfg in [("complex", complex_cfg), ("mag", FeatureConfig(output="magnitude")),
                                  ("mdct", mdct_cfg), ("nsgt", nsgt_cfg), ("mel", mel_db)]}
    nsgt_tr = nsgt_transform(32.70, 0.45 * SR, 12, SR, n_samples)

    def lib_db(y: np.ndarray) -> np.ndarray:
        return librosa.amplitude_to_db(np.abs(librosa.stft(y, n_fft=N_FFT, hop_length=HOP)), ref=1.0, top_db=80)

    def lib_mel(y: np.ndarray) -> np.ndarray:
        s = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=128, power=1.0)
        return librosa.amplitude_to_db(s, ref=1.0, top_db=80)

    def lib_cqt(y: np.ndarray) -> np.ndarray:
        return librosa.amplitude_to_db(np.abs(librosa.cqt(y, sr=SR, hop_length=512, n_bins=84)), ref=1.0)

    def loop(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
        return lambda x: [fn(row) for row in x]  # type: ignore[return-value]

    def with_sidecar(key: str, make: Callable[[np.ndarray], np.ndarray], **kw: object) -> Callable:
        return lambda x: invert(make(x), sidecars[key], **kw)

    def complex_feats(x: np.ndarray) -> np.ndarray:
        return extract(x, complex_cfg, sample_rate=SR).features

    def gl_librosa(x: np.ndarray) -> np.ndarray:
        return np.stack([librosa.griffinlim(m, n_iter=32, hop_length=HOP, n_fft=N_FFT, random_state=0, length=n_samples)
                         for m in magnitude(x)])

    def mel_to_audio(x: np.ndarray) -> np.ndarray:
        mel = librosa.feature.melspectrogram(y=x, sr=SR, n_fft=N_FFT, hop_length=HOP, n_mels=128, power=1.0)
        return np.stack([librosa.feature.inverse.mel_to_audio(m, sr=SR, n_fft=N_FFT, hop_length=HOP, power=1.0,
                                                              length=n_samples) for m in mel])

    def ours_phase(method: str, n_iter: int | None) -> Callable:
        return with_sidecar("mag", magnitude, method=method, n_iter=n_iter)

    cases = [
        Case("stft db", lambda x: extract(x, stft_db, sample_rate=SR).features, loop(lib_db), lib_db),
        Case("mel db", lambda x: extract(x, mel_db, sample_rate=SR).features, loop(lib_mel), lib_mel),
        Case("cqt db", lambda x: extract(x, cqt_db, sample_rate=SR).features, loop(lib_cqt), lib_cqt),
        Case("mdct 2048", lambda x: extract(x, mdct_cfg, sample_rate=SR).features, loop(_naive_mdct)),
        Case("nsgt", lambda x: extract(x, nsgt_cfg, sample_rate=SR).features,
             loop(lambda y: np.asarray(nsgt_tr.forward(y.astype(np.float64))))),
        Case("istft (phase)", with_sidecar("complex", complex_feats),
             lambda x: [librosa.istft(librosa.stft(y, n_fft=N_FFT, hop_length=HOP), hop_length=HOP, length=n_samples)
                        for y in x]),
        Case("imdct", with_sidecar("mdct", lambda x: extract(x, mdct_cfg, sample_rate=SR).features),
             lambda x: [_naive_imdct(_naive_mdct(y), n_samples) for y in x]),
        Case("insgt", with_sidecar("nsgt", lambda x: extract(x, nsgt_cfg, sample_rate=SR).features),
             loop(lambda y: nsgt_tr.backward(np.asarray(nsgt_tr.forward(y.astype(np.float64)))))),
        Case("gl32", ours_phase("griffinlim", 32), gl_librosa, phase_retrieval=True),
        Case("gl100", ours_phase("griffinlim", 100), gl_librosa, phase_retrieval=True),
        Case("pghi", ours_phase("pghi", None), gl_librosa, phase_retrieval=True),
        Case("pghi+gl4", ours_phase("pghi+gl", 4), gl_librosa, phase_retrieval=True),
        Case("pghi+gl8", ours_phase("pghi+gl", 8), gl_librosa, phase_retrieval=True),
        Case("pghi+gl16", ours_phase("pghi+gl", 16), gl_librosa, phase_retrieval=True),
        Case("mel inverse", with_sidecar("mel", lambda x: extract(x, mel_db, sample_rate=SR).features),
             mel_to_audio),
    ]
    return {c.name: c for c in cases}


CLOCK = {"wall": time.perf_counter, "cpu": time.process_time}
clock = time.perf_counter


def round_robin(fns: dict[str, tuple[Callable | None, np.ndarray]], repeats: int) -> tuple[dict, dict]:
    """Best time of each function, timed in turn (so that load changes hit them all alike)."""
    best: dict[str, float] = {}
    outs: dict[str, object] = {}
    for fn, x in fns.values():  # warm-up: numba, FFT plans, caches
        if fn is not None:
            fn(x[:1])
    for _ in range(repeats):
        for key, (fn, x) in fns.items():
            if fn is None:
                continue
            t0 = clock()
            outs[key] = fn(x)
            best[key] = min(best.get(key, np.inf), clock() - t0)
    return best, outs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--items", type=int, default=32, help="notes in the batch (1 s each)")
    parser.add_argument("--baseline-items", type=int, default=8, help="notes for the (slow) per-item baselines")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--cases", nargs="+", default=None)
    parser.add_argument("--clock", choices=list(CLOCK), default="wall",
                        help="wall time, or this process's CPU time (robust on a shared, loaded machine; "
                        "with several threads it sums them)")
    args = parser.parse_args()
    global clock
    clock = CLOCK[args.clock]

    audio = load_audio(args.items)
    base_audio = audio[: args.baseline_items]
    cases = build_cases(audio)
    names = args.cases or list(cases)
    seconds, base_seconds = audio.size / SR, base_audio.size / SR
    extract(audio[:2], FeatureConfig(), sample_rate=SR)  # warm up numba / librosa caches
    invert(extract(audio[:2], FeatureConfig(), sample_rate=SR).features,
           extract(audio[:2], FeatureConfig(), sample_rate=SR).sidecar, method="pghi")
    header = (f"{'case':<17} {'thr':>3} {'ours xRT':>9} {'librosa loop xRT':>17} {'ratio':>7} "
              f"{'batch xRT':>10} {'SC ours':>8} {'SC base':>8}")
    print(f"{args.items} notes x {audio.shape[1] / SR:.2f} s at {SR} Hz (baselines on {args.baseline_items}), "
          f"{args.clock} clock")
    print(header)
    print("-" * len(header))
    baseline_cache: dict[tuple[int, int], tuple[float, object]] = {}
    for threads in args.threads:
        with threadpool_limits(threads):
            torch.set_num_threads(threads)
            for name in names:
                case = cases[name]
                key = (id(case.baseline), threads)
                shared = case.phase_retrieval and key in baseline_cache  # one Griffin-Lim baseline per thread count
                fns = {"ours": (case.ours, audio), "batch": (case.batch, audio)}
                if not shared:
                    fns["base"] = (case.baseline, base_audio)
                times, outs = round_robin(fns, args.repeats)
                t_ours, out = times["ours"], outs["ours"]
                if "base" in times:
                    baseline_cache[key] = (times["base"], outs["base"])
                sc_ours = sc_base = ""
                if case.phase_retrieval:
                    sc_ours = f"{spectral_convergence(magnitude(audio), magnitude(np.asarray(out))).mean():.4f}"
                xrt = seconds / t_ours
                row = f"{name:<17} {threads:>3} {xrt:>9.1f}"
                if case.baseline is not None:
                    t_base, base_out = baseline_cache[key]
                    base_xrt = base_seconds / t_base
                    if case.phase_retrieval:
                        sc = spectral_convergence(magnitude(base_audio), magnitude(np.asarray(base_out)))
                        sc_base = f"{sc.mean():.4f}"
                    row += f" {base_xrt:>17.1f} {xrt / base_xrt:>6.1f}x"
                else:
                    row += f" {'':>17} {'':>7}"
                if case.batch is not None:
                    row += f" {seconds / times['batch']:>10.1f}"
                else:
                    row += f" {'':>10}"
                print(row + f" {sc_ours:>8} {sc_base:>8}", flush=True)


if __name__ == "__main__":
    main()
