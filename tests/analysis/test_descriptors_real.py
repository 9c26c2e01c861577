"""Descriptors on real recorded notes (../shared/data/notes)."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile

from timbrespace.analysis.descriptors import spectral_descriptors

pytestmark = pytest.mark.needs_data


def _load(notes_dir, stems):
    audio = [soundfile.read(notes_dir / "audio" / f"{s}.wav", dtype="float32")[0] for s in stems]
    return np.stack(audio)


def test_real_notes_match_librosa_and_velocity(notes_dir) -> None:
    import librosa

    meta = json.loads((notes_dir / "examples.json").read_text())
    stems = [s for s in sorted(meta) if meta[s]["pitch"] in (64, 76)]  # 6 instr x 2 x 2
    y = _load(notes_dir, stems)
    sr = 22050
    d = spectral_descriptors(audio=y, sample_rate=sr, n_fft=2048, hop_length=512)
    # oracle: librosa's frame centroids, averaged with the same energy weights
    s = np.abs(librosa.stft(y, n_fft=2048, hop_length=512))
    frames = librosa.feature.spectral_centroid(S=s, sr=sr, n_fft=2048)[:, 0, :]
    energy = (s**2).sum(axis=1)
    expected = (frames * energy).sum(axis=1) / energy.sum(axis=1)
    np.testing.assert_allclose(d.centroid_hz, expected, rtol=1e-6)
    # physics: the fundamental bounds the centroid from below; velocity 100 is louder
    f0 = np.array([librosa.midi_to_hz(meta[s]["pitch"]) for s in stems])
    assert np.all(d.centroid_hz > 0.9 * f0)
    by_stem = dict(zip(stems, d.loudness_db, strict=True))
    pairs = [(s, s[:-3] + "100") for s in stems if s.endswith("-050")]
    louder = [by_stem[hi] - by_stem[lo] for lo, hi in pairs]
    assert len(pairs) == 12 and min(louder) > 1.0
