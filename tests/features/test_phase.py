"""Phase retrieval on real notes (n_fft 1024, hop 256): fast Griffin-Lim and PGHI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from timbrespace.features import FeatureConfig, StftGeometry, extract, griffinlim, invert, pghi
from timbrespace.features._stft import spectral_convergence

SR = 22050
GEOMETRY = StftGeometry(n_fft=1024, hop_length=256, win_length=1024)


@pytest.fixture(scope="module")
def magnitude(notes: np.ndarray) -> np.ndarray:
    return GEOMETRY.stft(torch.from_numpy(notes)).abs().numpy()


def sc_of(audio: np.ndarray, magnitude: np.ndarray) -> np.ndarray:
    return spectral_convergence(magnitude, GEOMETRY.stft(torch.from_numpy(audio)).abs().numpy())


def test_pghi_alone(notes: np.ndarray, magnitude: np.ndarray) -> None:
    phase = pghi(magnitude, GEOMETRY)
    audio = GEOMETRY.istft(torch.from_numpy(magnitude * np.exp(1j * phase)), notes.shape[1]).numpy()
    sc = sc_of(audio, magnitude)
    assert sc.mean() <= 0.05 and sc.max() <= 0.1
    # a random phase is far worse: the integration does the work
    rand = np.random.default_rng(0).uniform(-np.pi, np.pi, magnitude.shape)
    audio_rand = GEOMETRY.istft(
        torch.from_numpy(magnitude * np.exp(1j * rand)), notes.shape[1]
    ).numpy()
    assert sc_of(audio_rand, magnitude).mean() > 0.3


def test_pghi_then_gl_reaches_005_per_note(notes: np.ndarray) -> None:
    res = extract(notes, FeatureConfig(output="db", normalization="minmax_item"), sample_rate=SR)
    back = invert(res.features, res.sidecar, method="pghi+gl", n_iter=8, return_info=True)
    assert back.n_iter == 8 and back.spectral_convergence is not None
    assert back.spectral_convergence.max() <= 0.05
    assert back.audio.shape == notes.shape


def test_fast_griffinlim(notes: np.ndarray, magnitude: np.ndarray) -> None:
    mag = magnitude[::2]
    audio = griffinlim(mag, GEOMETRY, n_samples=notes.shape[1], n_iter=100, seed=0)
    sc = sc_of(audio, mag)
    assert sc.max() <= 0.05
    # momentum matters: plain Griffin-Lim (momentum 0) is worse at equal iterations
    plain = sc_of(griffinlim(mag, GEOMETRY, n_samples=notes.shape[1], n_iter=30, momentum=0.0), mag)
    fast = sc_of(griffinlim(mag, GEOMETRY, n_samples=notes.shape[1], n_iter=30), mag)
    assert plain.mean() > 1.5 * fast.mean()


def test_griffinlim_is_batch_invariant_and_seeded(notes: np.ndarray, magnitude: np.ndarray) -> None:
    n = notes.shape[1]
    one = griffinlim(
        magnitude[:1], GEOMETRY, n_samples=n, n_iter=5, init_phase=np.zeros_like(magnitude[:1])
    )
    both = griffinlim(
        magnitude[:2], GEOMETRY, n_samples=n, n_iter=5, init_phase=np.zeros_like(magnitude[:2])
    )
    np.testing.assert_allclose(one[0], both[0], atol=1e-5)
    a = griffinlim(magnitude[:2], GEOMETRY, n_samples=n, n_iter=3, seed=7)
    b = griffinlim(magnitude[:2], GEOMETRY, n_samples=n, n_iter=3, seed=7)
    np.testing.assert_array_equal(a, b)


def test_reported_sc_matches_measurement(notes: np.ndarray, magnitude: np.ndarray) -> None:
    res = extract(notes[:3], FeatureConfig(output="magnitude"), sample_rate=SR)
    back = invert(res.features, res.sidecar, method="griffinlim", n_iter=10, return_info=True)
    np.testing.assert_allclose(
        back.spectral_convergence, sc_of(back.audio, magnitude[:3]), rtol=1e-4
    )


@pytest.mark.parametrize("kind", ["stft", "cqt"])
def test_audio_alone_skips_the_measurement_and_is_the_same_audio(notes: np.ndarray, kind: str) -> None:
    """invert without return_info measures nothing (no extra transform) and returns the audio
    that the measured call returns; retrieve_phase(measure=False) gives None for it."""
    from timbrespace.features import retrieve_phase

    config = FeatureConfig(output="magnitude") if kind == "stft" else FeatureConfig(
        kind="cqt", output="db", n_bins=84, hop_length=256)
    res = extract(notes[:2], config, sample_rate=SR)
    info = invert(res.features, res.sidecar, method="pghi+gl", n_iter=4, return_info=True)
    audio = invert(res.features, res.sidecar, method="pghi+gl", n_iter=4)
    assert info.spectral_convergence is not None
    np.testing.assert_array_equal(audio, info.audio)
    mag = GEOMETRY.stft(torch.from_numpy(notes[:2])).abs().numpy()
    audio, sc, n_iter = retrieve_phase(mag, GEOMETRY, n_samples=notes.shape[1], n_iter=4, measure=False)
    assert sc is None and n_iter == 4 and audio.shape == notes[:2].shape


def test_private_sc_equals_metrics_sc(magnitude: np.ndarray) -> None:
    # features keeps a 5-line copy: importing timbrespace.metrics pulls in scikit-learn
    from timbrespace.metrics import spectral_convergence as metrics_sc

    noisy = magnitude * np.random.default_rng(0).uniform(0.5, 1.5, magnitude.shape)
    np.testing.assert_allclose(spectral_convergence(magnitude, noisy), metrics_sc(magnitude, noisy), rtol=1e-12)
