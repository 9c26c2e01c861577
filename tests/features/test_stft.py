"""STFT features: equality with librosa, batch invariance, exact inverses with phase."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from timbrespace.features import FeatureConfig, extract, invert

SR = 22050


def rel(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b)) / np.linalg.norm(b))


@pytest.fixture(scope="module")
def noise() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((3, 9000)).astype(np.float32) * 0.1


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize(
    ("n_fft", "hop_length", "win_length", "window"),
    [(1024, 256, 1024, "hann"), (512, 128, 400, "hamming"), (2048, 300, 2048, "blackman")],
)
def test_complex_equals_librosa(
    noise: np.ndarray, center: bool, n_fft: int, hop_length: int, win_length: int, window: str
) -> None:
    cfg = FeatureConfig(
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
        output="complex",
    )
    feats = extract(noise, cfg, sample_rate=SR).features
    ref = librosa.stft(
        noise,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=center,
    )
    n_bins = n_fft // 2 + 1
    assert feats.shape == (3, 2 * n_bins, ref.shape[-1])
    assert rel(feats[:, :n_bins] + 1j * feats[:, n_bins:], ref) < 1e-5


def test_magnitude_and_db_equal_librosa(notes: np.ndarray) -> None:
    mag = extract(notes, FeatureConfig(output="magnitude"), sample_rate=SR).features
    ref = np.abs(librosa.stft(notes, n_fft=1024, hop_length=256))
    assert rel(mag, ref) < 1e-5
    db = extract(notes, FeatureConfig(output="db", top_db=80.0), sample_rate=SR).features
    ref_db = np.stack([librosa.amplitude_to_db(r, ref=1.0, amin=1e-5, top_db=80.0) for r in ref])
    assert rel(db, ref_db) < 1e-5
    assert np.max(np.abs(db - ref_db)) < 0.01  # dB; the largest differences sit at -80 dB
    assert np.allclose(db.max(axis=(1, 2)) - db.min(axis=(1, 2)), 80.0, atol=1e-3)


def test_single_frame_is_seed000_spectrum(notes: np.ndarray) -> None:
    # seed 000: first 4096 samples, Hann, 20 log10 |FFT|, first 1024 bins; phase stacked below
    cfg = FeatureConfig(
        n_fft=4096, single_frame=True, n_bins=1024, output="db_phase", top_db=None, amin=1e-12
    )
    feats = extract(notes, cfg, sample_rate=SR).features
    spec = np.fft.rfft(notes[:, :4096].astype(np.float64) * np.hanning(4097)[:-1], axis=1)[:, :1024]
    assert feats.shape == (len(notes), 2048)
    assert np.max(np.abs(feats[:, :1024] - 20 * np.log10(np.abs(spec)))) < 1e-3
    strong = np.abs(spec) > 1e-3 * np.abs(spec).max()
    assert np.max(np.abs(np.angle(np.exp(1j * (feats[:, 1024:] - np.angle(spec))))[strong])) < 1e-3


def test_batch_equals_loop(notes: np.ndarray) -> None:
    cfg = FeatureConfig(output="db_phase", normalization="minmax_item")
    batch = extract(notes, cfg, sample_rate=SR).features
    loop = np.concatenate([extract(y, cfg, sample_rate=SR).features for y in notes])
    np.testing.assert_allclose(batch, loop, rtol=0, atol=1e-5)


@pytest.mark.parametrize("output", ["complex", "db_phase"])
@pytest.mark.parametrize("normalization", ["none", "minmax_item", "standardize"])
def test_istft_with_phase_round_trip(notes: np.ndarray, output: str, normalization: str) -> None:
    cfg = FeatureConfig(output=output, top_db=None, amin=1e-30, normalization=normalization)
    res = extract(notes, cfg, sample_rate=SR)
    back = invert(res.features, res.sidecar, return_info=True)
    assert back.method == "phase" and back.audio.dtype == np.float32
    assert back.audio.shape == notes.shape
    tol = (
        1e-6 if (output, normalization) == ("complex", "none") else 1e-5
    )  # dB/phase float32 rounding
    assert rel(back.audio, notes) < tol


def test_dropped_nyquist_row_is_restored(notes: np.ndarray) -> None:
    # seed 002 kept 512 of 513 rows and then ran Griffin-Lim with the wrong n_fft
    seed002 = FeatureConfig(n_bins=512, output="db", top_db=80.0, normalization="minmax_item")
    assert extract(notes[:, :16317], seed002, sample_rate=SR).features.shape == (len(notes), 512, 64)
    cfg = FeatureConfig(n_bins=512, output="complex")
    res = extract(notes, cfg, sample_rate=SR)
    assert res.features.shape[1] == 1024
    back = invert(res.features, res.sidecar)
    assert rel(back, notes) < 1e-4  # only the (tiny) Nyquist row is lost


def test_invert_rejects_wrong_shape(notes: np.ndarray) -> None:
    res = extract(notes, FeatureConfig(), sample_rate=SR)
    with pytest.raises(ValueError, match="does not match the sidecar"):
        invert(res.features[:, :100], res.sidecar)
    with pytest.raises(ValueError, match="method='phase' cannot invert"):
        invert(res.features, res.sidecar, method="phase")
