"""The batched CQT (``features._cqt``) against ``librosa.cqt``, on real and synthesised notes.

Tolerances (float32 audio, so both sides round at about 1e-7 of an item's largest
magnitude): complex values within 1e-5 of each item's largest magnitude; in dB
(``20 log10 |C|`` floored ``top_db`` below the item's maximum, as the features are) within
0.01 dB over an 80 dB range and 0.001 dB over the default experiment's 50 dB range: the
differences that are left sit in the lowest bins, where float32 rounding is a larger
share of the value.
"""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.features import FeatureConfig, extract
from timbrespace.features._cqt import cqt
from timbrespace.features.transforms import to_db
from timbrespace.synths import get_sound_model

SR = 22050


def item_relative_error(ours: np.ndarray, ref: np.ndarray) -> float:
    """Largest ``|ours - ref|`` over each item's largest ``|ref|``, worst item."""
    return float((np.abs(ours - ref).max(axis=(1, 2)) / np.abs(ref).max(axis=(1, 2))).max())


def db_difference(ours: np.ndarray, ref: np.ndarray, top_db: float) -> float:
    return float(np.abs(to_db(np.abs(ours), amin=1e-5, top_db=top_db)
                        - to_db(np.abs(ref), amin=1e-5, top_db=top_db)).max())


@pytest.fixture(scope="module")
def additive_notes() -> np.ndarray:
    """The default experiment's sound: 30-partial additive notes, 1 s at 16 kHz, float32 (6, 16000)."""
    f0 = np.array([100.0, 138.9, 192.9, 372.8, 720.0, 1000.0])
    return get_sound_model("additive").render(
        {"f0_hz": f0, "slope_db_per_octave": [-2.0, -12.0, -7.0, -2.0, -12.0, -7.0],
         "inharmonicity": [0.0, 0.004, 0.002, 0.001, 0.0, 0.004], "decay_per_s": [1.0, 12.0, 3.5, 1.9, 6.6, 1.0],
         "n_partials": 30, "presence": "all"},
        sample_rate=16000, duration_s=1.0)


@pytest.mark.parametrize(
    ("hop_length", "fmin_hz", "n_bins", "bins_per_octave"),
    [
        (512, 32.70, 84, 12),  # librosa's defaults (benchmarks/features.py "cqt db")
        (256, 65.41, 80, 12),  # a partial lowest octave
        (384, 32.70, 84, 12),  # the hop turns odd after 7 halvings: the last octave at the same rate
        (512, 32.70, 48, 12),  # low bins only: librosa's early downsampling (by 8) first
        (1024, 100.0, 1, 12),  # one bin
    ],
)
def test_cqt_equals_librosa_on_real_notes(notes: np.ndarray, hop_length: int, fmin_hz: float, n_bins: int,
                                          bins_per_octave: int) -> None:
    kw = {"hop_length": hop_length, "n_bins": n_bins, "bins_per_octave": bins_per_octave}
    ours = cqt(notes, sample_rate=SR, fmin_hz=fmin_hz, **kw)
    ref = librosa.cqt(notes, sr=SR, fmin=fmin_hz, **kw)
    assert ours.shape == ref.shape and ours.dtype == ref.dtype == np.complex64
    assert item_relative_error(ours, ref) < 1e-5
    assert db_difference(ours, ref, 80.0) < 0.01


@pytest.mark.filterwarnings("ignore:n_fft=.* is too large:UserWarning")  # librosa's lowest octave, 250 samples
def test_default_experiment_cqt_equals_librosa(additive_notes: np.ndarray) -> None:
    """additive-4factor.yaml's features: 168 bins at 24 per octave from 50 Hz, hop 2048, 50 dB floor."""
    cfg = FeatureConfig(kind="cqt", bins_per_octave=24, fmin_hz=50.0, n_bins=168, hop_length=2048, output="db",
                        top_db=50.0)
    feats = extract(additive_notes, cfg, sample_rate=16000).features
    ref = librosa.cqt(additive_notes, sr=16000, hop_length=2048, fmin=50.0, n_bins=168, bins_per_octave=24)
    ref_db = to_db(np.abs(ref), amin=cfg.amin, top_db=50.0)
    assert feats.shape == ref_db.shape == (6, 168, 8)
    assert np.abs(feats - ref_db).max() < 1e-3
    ours = cqt(additive_notes, sample_rate=16000, hop_length=2048, fmin_hz=50.0, n_bins=168, bins_per_octave=24)
    assert item_relative_error(ours, ref) < 1e-5


def test_cqt_float64_equals_librosa(notes: np.ndarray) -> None:
    y = notes[:3].astype(np.float64)
    ours = cqt(y, sample_rate=SR, hop_length=512, fmin_hz=32.70, n_bins=84, bins_per_octave=12)
    ref = librosa.cqt(y, sr=SR, hop_length=512, fmin=32.70, n_bins=84)
    assert ours.dtype == np.complex128
    # in float64 the rounding is gone: the same numbers, computed in another order
    assert item_relative_error(ours, ref) < 1e-12


def test_cqt_does_not_depend_on_the_batch(notes: np.ndarray) -> None:
    kw = {"sample_rate": SR, "hop_length": 512, "fmin_hz": 32.70, "n_bins": 84, "bins_per_octave": 12}
    whole = cqt(notes, **kw)
    parts = np.concatenate([cqt(notes[:1], **kw), cqt(notes[1:5], **kw), cqt(notes[5:], **kw)])
    assert np.allclose(whole, parts, rtol=0, atol=1e-6 * np.abs(whole).max())


def test_cqt_of_an_empty_batch() -> None:
    out = cqt(np.zeros((0, 22050), np.float32), sample_rate=SR, hop_length=512, fmin_hz=32.70, n_bins=84,
              bins_per_octave=12)
    assert out.shape == (0, 84, 44) and out.dtype == np.complex64


def test_cqt_refuses_a_top_filter_above_nyquist() -> None:
    with pytest.raises(ParameterError, match=r"n_bins=96 from fmin_hz=32.7 .* above Nyquist \(4000 Hz"):
        cqt(np.zeros((1, 8000), np.float32), sample_rate=8000, hop_length=512, fmin_hz=32.70, n_bins=96,
            bins_per_octave=12)
