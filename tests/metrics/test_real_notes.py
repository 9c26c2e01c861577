"""Metrics on a representation measured from real recorded notes (../shared/data/notes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from timbrespace.metrics import mig, modularity

pytestmark = [pytest.mark.needs_data, pytest.mark.slow]


def test_measured_pitch_and_level_are_disentangled(notes_dir) -> None:
    import librosa

    meta = json.loads((notes_dir / "examples.json").read_text())
    stems = sorted(meta)
    y = np.stack(
        [soundfile.read(notes_dir / "audio" / f"{s}.wav", dtype="float32")[0] for s in stems]
    )
    sr = 22050
    held = y[:, : int(0.5 * sr)]
    # a hand-made "representation": measured log-f0 (YIN), RMS level and pure noise
    f0 = np.median(librosa.yin(held, fmin=250.0, fmax=1500.0, sr=sr, frame_length=2048), axis=1)
    level_db = 20 * np.log10(np.sqrt(np.mean(held**2, axis=1)) + 1e-9)
    noise = np.random.default_rng(0).standard_normal(len(stems))
    latents = np.column_stack([np.log2(f0), level_db, noise])
    instruments = sorted({meta[s]["instrument_str"] for s in stems})
    factors = np.array(
        [
            [instruments.index(meta[s]["instrument_str"]), meta[s]["pitch"] - 64,
             meta[s]["velocity"] == 100]
            for s in stems
        ],
        dtype=np.int64,
    )  # fmt: skip
    result = mig(latents, factors)
    # The ceiling: the exact pitch in place of the measurement. 23 semitones cannot fill
    # 20 equal-width bins one to one and the level also varies with pitch (second-best
    # latent), so even that is < 1. Measured log-f0 (YIN, within 0.3 semitone here)
    # comes close to the ceiling and is the latent most informative about pitch.
    exact = latents.copy()
    exact[:, 0] = factors[:, 1]
    ceiling = mig(exact, factors).per_factor[1]
    assert 0.6 < ceiling < 1.0
    assert result.per_factor[1] > ceiling - 0.12
    assert int(np.argmax(result.mi[:, 1])) == 0
    # the noise latent carries little about anything, the pitch latent mostly about pitch
    assert result.mi[2].max() < 0.25 * result.mi[0, 1]
    assert modularity(latents, factors).per_latent[0] > 0.9
