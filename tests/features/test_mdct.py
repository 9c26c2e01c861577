"""MDCT: naive cosine-sum oracle and TDAC perfect reconstruction."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.features import FeatureConfig, extract, imdct, invert, mdct
from timbrespace.features.mdct import mdct_window


def naive_mdct(frame: np.ndarray, window: np.ndarray) -> np.ndarray:
    half = frame.shape[-1] // 2
    n = np.arange(2 * half)[:, None]
    k = np.arange(half)[None, :]
    return (frame * window) @ np.cos(np.pi / half * (n + 0.5 + half / 2) * (k + 0.5))


@pytest.mark.parametrize("window", ["sine", "kbd"])
def test_window_is_princen_bradley(window: str) -> None:
    w = mdct_window(512, window)
    np.testing.assert_allclose(w[:256] ** 2 + w[256:] ** 2, 1.0, atol=1e-12)


@pytest.mark.parametrize("window", ["sine", "kbd"])
def test_matches_naive_cosine_sum(window: str) -> None:
    x = np.random.default_rng(1).standard_normal((2, 1000))
    coefs = mdct(x, n_fft=256, window=window)
    padded = np.concatenate([np.zeros((2, 128)), x, np.zeros((2, 256))], axis=1)
    for j in (0, 3, coefs.shape[2] - 1):
        ref = naive_mdct(padded[:, 128 * j : 128 * j + 256], mdct_window(256, window))
        np.testing.assert_allclose(coefs[:, :, j], ref, atol=1e-4)
    single = mdct(x, n_fft=256, window=window, single_frame=True)
    np.testing.assert_allclose(single, naive_mdct(x[:, :256], mdct_window(256, window)), atol=1e-4)


@pytest.mark.parametrize("window", ["sine", "kbd"])
@pytest.mark.parametrize("n_samples", [22049, 4096, 1000])
def test_tdac_round_trip(notes: np.ndarray, window: str, n_samples: int) -> None:
    y = notes[:4, :n_samples]
    coefs = mdct(y, n_fft=2048, window=window)
    assert coefs.shape[:2] == (4, 1024)
    back = imdct(coefs, n_samples=n_samples, window=window)
    assert np.linalg.norm(back - y) / np.linalg.norm(y) <= 1e-6


def test_extract_invert_with_minmax(notes: np.ndarray) -> None:
    res = extract(
        notes,
        FeatureConfig(kind="mdct", n_fft=1024, window="kbd", normalization="minmax_item"),
        sample_rate=22050,
    )
    assert res.features.shape == (len(notes), 512, 45)
    back = invert(res.features, res.sidecar, return_info=True)
    assert back.method == "imdct"
    assert np.linalg.norm(back.audio - notes) / np.linalg.norm(notes) <= 1e-6
