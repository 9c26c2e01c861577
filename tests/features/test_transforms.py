"""mel, cqt and nsgt: equality with librosa, batch invariance, inverses."""

from __future__ import annotations

import warnings

import librosa
import numpy as np
import pytest

from timbrespace.features import FeatureConfig, extract, invert
from timbrespace.features._nsgt import nsgt_transform
from timbrespace.features.transforms import mel_to_stft

SR = 22050


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


def test_mel_equals_librosa(notes: np.ndarray) -> None:
    cfg = FeatureConfig(
        kind="mel",
        n_fft=2048,
        hop_length=512,
        n_mels=96,
        fmin_hz=30.0,
        fmax_hz=8000.0,
        output="magnitude",
    )
    feats = extract(notes, cfg, sample_rate=SR).features
    ref = librosa.feature.melspectrogram(
        y=notes, sr=SR, n_fft=2048, hop_length=512, n_mels=96, fmin=30.0, fmax=8000.0, power=1.0
    )
    assert feats.shape == ref.shape
    assert rel(feats, ref) < 1e-5


def test_mel_to_stft_equals_librosa_nnls(notes: np.ndarray) -> None:
    cfg = FeatureConfig(kind="mel", n_fft=1024, hop_length=256, n_mels=128, output="magnitude")
    mel = extract(notes[:3], cfg, sample_rate=SR).features.astype(np.float64)
    ref = librosa.feature.inverse.mel_to_stft(mel, sr=SR, n_fft=1024, power=1.0)
    ours = mel_to_stft(mel, librosa.filters.mel(sr=SR, n_fft=1024, n_mels=128))
    assert rel(ours, ref) < 1e-5
    assert ours.min() >= 0.0


def test_mel_inverse_nnls_then_phase(notes: np.ndarray) -> None:
    cfg = FeatureConfig(
        kind="mel", n_fft=1024, hop_length=256, n_mels=128, normalization="minmax_item"
    )
    res = extract(notes[:4], cfg, sample_rate=SR)
    back = invert(res.features, res.sidecar, return_info=True)
    assert back.method == "pghi+gl" and back.audio.shape == notes[:4].shape
    again = extract(
        back.audio,
        cfg.model_copy(update={"normalization": "none", "output": "magnitude"}),
        sample_rate=SR,
    ).features
    target = extract(
        notes[:4],
        cfg.model_copy(update={"normalization": "none", "output": "magnitude"}),
        sample_rate=SR,
    ).features
    assert rel(again, target) < 0.25  # mel magnitudes come back close


def test_cqt_batch_equals_librosa_loop(notes: np.ndarray) -> None:
    cfg = FeatureConfig(kind="cqt", output="complex", hop_length=256, n_bins=72, fmin_hz=65.41)
    feats = extract(notes[:4], cfg, sample_rate=SR).features
    for k in range(4):
        ref = librosa.cqt(notes[k], sr=SR, hop_length=256, n_bins=72, fmin=65.41)
        assert rel(feats[k, :72] + 1j * feats[k, 72:], ref) < 1e-5


def test_cqt_complex_inverse_is_librosa_icqt(notes: np.ndarray) -> None:
    cfg = FeatureConfig(kind="cqt", output="complex", hop_length=256, n_bins=84, fmin_hz=65.41)
    res = extract(notes[:2], cfg, sample_rate=SR)
    back = invert(res.features, res.sidecar)
    spec = librosa.cqt(notes[:2], sr=SR, hop_length=256, n_bins=84, fmin=65.41)
    ref = librosa.icqt(spec, sr=SR, hop_length=256, fmin=65.41, length=notes.shape[1])
    assert rel(back, ref) < 1e-4


def test_nsgt_compat_fix_and_round_trip(notes: np.ndarray) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import nsgt.nsgfwin_sl as nsgfwin_sl

    res = extract(
        notes[:3], FeatureConfig(kind="nsgt", fmin_hz=50.0, bins_per_octave=24), sample_rate=SR
    )
    # the numpy-2 fix: nsgfwin's integer clip now works, nothing else in the module changed
    m = np.array([1, 5, 9])
    assert (
        np.array_equal(nsgfwin_sl.np.clip(m, 4, np.inf, out=m), [4, 5, 9]) and m.dtype.kind == "i"
    )
    assert nsgfwin_sl.np.pi == np.pi
    rows = res.features.shape[1] // 2
    tr = nsgt_transform(50.0, 0.45 * SR, 24, SR, notes.shape[1])
    np.testing.assert_allclose(
        res.features[0, :rows] + 1j * res.features[0, rows:],
        np.asarray(tr.forward(notes[0].astype(np.float64))),
        atol=1e-5,
    )
    back = invert(res.features, res.sidecar, return_info=True)
    assert back.method == "insgt"
    assert rel(back.audio, notes[:3]) <= 1e-6


@pytest.mark.slow
def test_nsgt_magnitude_griffinlim(notes: np.ndarray) -> None:
    res = extract(
        notes[:1], FeatureConfig(kind="nsgt", output="magnitude", fmin_hz=50.0), sample_rate=SR
    )
    back = invert(res.features, res.sidecar, n_iter=30, return_info=True)
    assert back.spectral_convergence is not None and back.spectral_convergence[0] < 0.3
