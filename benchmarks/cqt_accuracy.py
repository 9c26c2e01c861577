"""How far ``kind: cqt`` features are from ``librosa.cqt``: relative error and dB difference.

Run from the repository root::

    OMP_NUM_THREADS=1 PYTHONPATH=src python benchmarks/cqt_accuracy.py

Two sets: the real notes of ``../shared/data/notes`` (1 s at 22050 Hz) with the
``cqt db`` case of ``features.py`` (84 bins from C1, 12 per octave, hop 512, 80 dB floor),
and the default experiment's 1,000 notes (``additive-4factor``: its additive model on its
8 x 5 x 5 x 5 grid, 1 s at 16 kHz) with its features (168 bins from 50 Hz, 24 per octave,
hop 2048, 50 dB floor). Printed per set: the largest ``|ours - librosa|`` over each item's
largest ``|librosa|`` (worst item), the largest dB difference (both floored as the
features are), its 99.9th percentile, and the share of values more than 1e-4 dB apart.
"""

from __future__ import annotations

import itertools
import warnings

import librosa
import numpy as np
import torch
from features import load_audio  # benchmarks/features.py

from timbrespace.features import FeatureConfig, extract
from timbrespace.features.transforms import to_db
from timbrespace.synths import get_sound_model


def default_grid_notes() -> np.ndarray:
    grid = list(itertools.product(np.geomspace(100, 1000, 8), np.linspace(-12, -2, 5), np.linspace(0, 0.004, 5),
                                  np.geomspace(1, 12, 5)))
    f0, slope, inharmonicity, decay = (np.array(col) for col in zip(*grid, strict=True))
    return get_sound_model("additive").render(
        {"f0_hz": f0, "slope_db_per_octave": slope, "inharmonicity": inharmonicity, "decay_per_s": decay,
         "n_partials": 30, "presence": "all"}, sample_rate=16000, duration_s=1.0, seed=0)


def compare(name: str, audio: np.ndarray, sample_rate: int, cfg: FeatureConfig) -> None:
    assert cfg.top_db is not None
    complex_cfg = cfg.model_copy(update={"output": "complex"})
    spec = extract(audio, complex_cfg, sample_rate=sample_rate).features
    ours = spec[:, : cfg.n_bins] + 1j * spec[:, cfg.n_bins :]
    ours_db = extract(audio, cfg, sample_rate=sample_rate).features
    ref = librosa.cqt(audio, sr=sample_rate, hop_length=cfg.hop_length, fmin=cfg.fmin_hz, n_bins=cfg.n_bins,
                      bins_per_octave=cfg.bins_per_octave)
    ref_db = to_db(np.abs(ref), amin=cfg.amin, top_db=cfg.top_db)
    rel = (np.abs(ours - ref).max(axis=(1, 2)) / np.abs(ref).max(axis=(1, 2))).max()
    diff = np.abs(ours_db - ref_db)
    print(f"{name}: {len(audio)} items, {cfg.top_db:g} dB range: relative error {rel:.2e}, max dB difference "
          f"{diff.max():.2e}, 99.9th percentile {np.quantile(diff, 0.999):.2e}, "
          f"values > 1e-4 dB apart {np.count_nonzero(diff > 1e-4)} of {diff.size}")


def main() -> None:
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", message="n_fft=.* is too large", category=UserWarning)  # librosa, short octaves
    notes = load_audio(10_000)
    compare("real notes", notes, 22050,
            FeatureConfig(kind="cqt", hop_length=512, n_bins=84, output="db", top_db=80.0))
    compare("additive-4factor", default_grid_notes(), 16000,
            FeatureConfig(kind="cqt", bins_per_octave=24, fmin_hz=50.0, n_bins=168, hop_length=2048, output="db",
                          top_db=50.0))


if __name__ == "__main__":
    main()
