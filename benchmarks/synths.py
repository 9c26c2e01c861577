"""Speed of the sound models: x-realtime on 1 and 2 threads, and against seed-style loops.

Run from the repository root::

    OMP_NUM_THREADS=2 .venv/bin/python benchmarks/synths.py            # ~1 minute
    .venv/bin/python benchmarks/synths.py --models additive --repeats 5

x-realtime = seconds of audio rendered per second of wall time (best of ``--repeats``).
The "seed loop" baseline renders item by item and partial by partial with ``np.sin`` in
float64, as the seeds did (000's toy generators, 001's additive engine); for the filter
models the baseline filters each item with ``scipy.signal.lfilter`` (biquad) or our
own compiled ladder (a Python-level ladder loop would be thousands of times slower, so
the fm_moog ratio only measures the oscillators). torchsynth's ``Voice`` is timed when
torchsynth is importable.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
from scipy import signal
from threadpoolctl import threadpool_limits

from timbrespace.synths import get_sound_model
from timbrespace.synths._filters import bandpass_coefficients, moog_ladder

SR = 22050
DURATION_S = 1.0


@dataclass(frozen=True)
class Case:
    model: str
    n_items: int
    params: Callable[[int, np.random.Generator], dict[str, np.ndarray]]
    baseline: Callable[[dict[str, np.ndarray]], np.ndarray] | None = None
    baseline_items: int = 8


def _t() -> np.ndarray:
    return np.arange(int(SR * DURATION_S)) / SR


def _seed_additive(p: dict[str, np.ndarray]) -> np.ndarray:
    t = _t()
    out = []
    for i in range(len(p["f0_hz"])):
        y = np.zeros_like(t)
        for h in range(1, int(p["n_partials"][i]) + 1):
            f = h * p["f0_hz"][i] * np.sqrt(1 + p["inharmonicity"][i] * h**2)
            if f < SR / 2:
                y += h ** (p["slope_db_per_octave"][i] / 6.0206) * np.sin(2 * np.pi * f * t)
        y *= np.exp(-p["decay_per_s"][i] * t)
        out.append(y / np.abs(y).max())
    return np.array(out)


def _seed_richness(p: dict[str, np.ndarray]) -> np.ndarray:
    t = _t()
    out = []
    for i in range(len(p["f0_hz"])):
        y = np.zeros_like(t)
        n = int(p["n_harmonics"][i])
        for h in range(1, n + 1):
            if h * p["f0_hz"][i] <= SR / 4:
                gain = p["last_gain"][i] if h == n else 1.0
                y += gain / h * np.sin(2 * np.pi * h * p["f0_hz"][i] * t)
        out.append(y)
    return np.array(out)


def _seed_bandpass(p: dict[str, np.ndarray]) -> np.ndarray:
    t = _t()
    b, a = bandpass_coefficients(p["cutoff_hz"], p["q"], sample_rate=SR)
    out = []
    for i in range(len(p["f0_hz"])):
        y = np.zeros_like(t)
        for k in range(int(p["n_partials"][i])):
            y += np.sin(2 * np.pi * (2 * k + p["harmonicity"][i]) * p["f0_hz"][i] * t)
        y = signal.lfilter(b[i], a[i], y)
        out.append(y / np.abs(y).max())
    return np.array(out)


def _seed_fm(p: dict[str, np.ndarray]) -> np.ndarray:
    t = _t()
    out = []
    for i in range(len(p["f0_hz"])):
        f0, j = p["f0_hz"][i], p["spread"][i]
        y = np.zeros_like(t)
        for fc in (f0, f0 + j * f0 / 10, f0 - j * f0 / 10):
            y += np.sin(
                2 * np.pi * fc * t + p["index"][i] * np.sin(2 * np.pi * p["ratio"][i] * fc * t)
            )
        y = moog_ladder(
            y[None, :] / 3, p["cutoff_hz"][i : i + 1], p["resonance"][i : i + 1], sample_rate=SR
        )[0]
        out.append(y / np.abs(y).max())
    return np.array(out)


def _additive_params(n: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    return {
        "f0_hz": rng.uniform(100, 350, n),  # 30 partials all below Nyquist at 22.05 kHz
        "slope_db_per_octave": rng.uniform(-12, -3, n),
        "presence": np.zeros(n),
        "inharmonicity": np.zeros(n),
        "decay_per_s": rng.uniform(0, 10, n),
        "n_partials": np.full(n, 30),
        "snr_db": np.full(n, 120.0),
    }


CASES = [
    Case("additive", 128, _additive_params, _seed_additive),
    Case(
        "harmonic_richness",
        64,
        lambda n, rng: {
            "f0_hz": np.full(n, 220.0),
            "n_harmonics": rng.integers(1, 26, n),
            "last_gain": rng.uniform(0, 1, n),
        },
        _seed_richness,
    ),
    Case(
        "additive_bandpass",
        64,
        lambda n, rng: {
            "f0_hz": np.full(n, 110.0),
            "harmonicity": rng.integers(0, 10, n) / 10,
            "n_partials": rng.integers(1, 21, n),
            "cutoff_hz": 220.5 * rng.integers(1, 11, n),
            "q": rng.integers(1, 11, n).astype(float),
        },
        _seed_bandpass,
    ),
    Case(
        "fm_moog",
        32,
        lambda n, rng: {
            "f0_hz": np.full(n, 1500.0),
            "spread": rng.choice(np.arange(1, 5, 0.5), n),
            "ratio": rng.choice(np.arange(0.1, 0.4, 0.05), n),
            "index": rng.choice(np.arange(0, 30, 4), n).astype(float),
            "cutoff_hz": SR / 200 * rng.integers(1, 11, n),
            "resonance": rng.integers(1, 11, n).astype(float),
        },
        _seed_fm,
    ),
    Case(
        "pop",
        32,
        lambda n, rng: {
            "rate_exp": rng.uniform(0, 4, n),
            "irreg_exp": rng.uniform(0, 1, n),
            "cf_exp": rng.uniform(0, 1, n),
        },
    ),
    Case(
        "drip",
        32,
        lambda n, rng: {
            "rate_exp": rng.uniform(0, 4, n),
            "irreg_exp": rng.uniform(0, 1, n),
            "cf_exp": rng.uniform(0, 1, n),
        },
    ),
    Case(
        "soundfont",
        4,
        lambda n, rng: {
            "pitch": rng.integers(64, 87, n),
            "effect": rng.integers(0, 3, n),
            "magnitude": np.full(n, 50.0),
        },
    ),
]


def _best_seconds(fn: Callable[[], object], repeats: int, clock: Callable[[], float]) -> float:
    fn()  # warm-up: numba caches, page faults, soundfont file in the page cache
    best = float("inf")
    for _ in range(repeats):
        start = clock()
        fn()
        best = min(best, clock() - start)
    return best


def _render_in_threads(model, params: dict[str, np.ndarray], n_threads: int) -> None:
    """Render the batch as ``n_threads`` chunks on a thread pool (numpy and numba release
    the GIL), each with one BLAS thread, item indices kept: the output is the same."""
    chunks = np.array_split(np.arange(len(next(iter(params.values())))), n_threads)
    with ThreadPoolExecutor(n_threads) as pool:
        list(
            pool.map(
                lambda idx: model.render(
                    {k: np.asarray(v)[idx] for k, v in params.items()},
                    sample_rate=SR,
                    duration_s=DURATION_S,
                    item_index=idx,
                ),
                chunks,
            )
        )


def _torchsynth_line() -> str:
    try:
        import torchsynth  # noqa: F401
    except Exception:  # not installed, or broken against lightning 2
        return "torchsynth: not installed (pip install torchsynth 'setuptools<81'; see the issue)"
    import torch
    from torchsynth.config import SynthConfig
    from torchsynth.synth import Voice

    torch.set_num_threads(1)
    config = SynthConfig(
        batch_size=32, sample_rate=SR, buffer_size_seconds=DURATION_S, reproducible=False
    )
    voice = Voice(synthconfig=config)
    seconds = _best_seconds(lambda: voice(), 3, time.process_time)
    return f"torchsynth Voice (batch 32, 1 thread): {32 * DURATION_S / seconds:,.0f}x realtime"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="*", default=[c.model for c in CASES])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(
        f"sample rate {SR} Hz, {DURATION_S:g} s per item, best of {args.repeats}; "
        "CPU = process CPU time (one core's work, robust on a shared machine), wall = elapsed\n"
    )
    print(
        "| model | items | 1 thread, CPU | 1 thread, wall | 2 threads, wall "
        "| seed loop, CPU | speed-up vs seed loop (CPU) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for case in CASES:
        if case.model not in args.models:
            continue
        model = get_sound_model(case.model)
        params = case.params(case.n_items, rng)
        audio_s = case.n_items * DURATION_S

        def one(m=model, p=params):
            return m.render(p, sample_rate=SR, duration_s=DURATION_S)

        with threadpool_limits(limits=1):
            cpu = audio_s / _best_seconds(one, args.repeats, time.process_time)
            wall1 = audio_s / _best_seconds(one, args.repeats, time.perf_counter)
            wall2 = audio_s / _best_seconds(
                lambda m=model, p=params: _render_in_threads(m, p, 2),
                args.repeats,
                time.perf_counter,
            )
            if case.baseline is not None:
                sub = {k: v[: case.baseline_items] for k, v in model.validate(params).items()}
                base = (
                    case.baseline_items
                    * DURATION_S
                    / _best_seconds(lambda b=case.baseline, s=sub: b(s), 1, time.process_time)
                )
                base_text, ratio_text = f"{base:,.0f}x", f"{cpu / base:,.1f}x"
            else:
                base_text, ratio_text = "n/a", "n/a"
        print(
            f"| {case.model} | {case.n_items} | {cpu:,.0f}x | {wall1:,.0f}x | {wall2:,.0f}x "
            f"| {base_text} | {ratio_text} |"
        )
    print()
    print(_torchsynth_line())


if __name__ == "__main__":
    main()
