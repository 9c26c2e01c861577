"""additive_seed001 against seed 001's own formula (its toyDataset audioEngine.render_sound).

The oracle below re-implements the seed's per-item render, read from its code, in plain
numpy: modes up to n_modes (all; odd with n_modes // 2; even plus the fundamental with
n_modes // 2 + 1, Python 2 integer division), f_h = h f0 sqrt(1 + inh h^2),
a_h = max(0, ((h - 1) slope + n) / n), the sum over range(n - 1) (the last mode
skipped), times exp(-decay t). ``quirks="seed"`` must match it sample for sample (up to
the peak normalisation); ``quirks="fixed"`` matches it with every mode summed and modes
at or above Nyquist left out.
"""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.synths import get_sound_model


def seed_render(f0, slope, presence, inh, decay, *, sample_rate, n_samples, n_modes=10, as_seed=True):
    """The seed's render_sound for one item (numpy, float64), before its normalisation."""
    t = np.arange(n_samples) / sample_rate
    if presence == 0:
        modes = np.arange(1, n_modes + 1)
    elif presence == 1:
        modes = np.arange(1, n_modes + 1, 2)
        n_modes = n_modes // 2
    else:
        modes = np.concatenate(([1], np.arange(2, n_modes + 1, 2)))
        n_modes = n_modes // 2 + 1
    if not as_seed:
        n_modes = modes.size
    freq = modes * f0 * np.sqrt(1 + inh * modes.astype(np.float64) ** 2)
    amp = np.clip(((modes - 1) * slope + n_modes) / float(n_modes), 0, None)
    x = np.zeros(n_samples)
    for k in range(n_modes - 1 if as_seed else modes.size):
        if as_seed or freq[k] < sample_rate / 2:
            x = x + amp[k] * np.sin(2 * np.pi * freq[k] * t)
    return x * np.exp(-decay * t)


def _peak(y):
    return y / np.max(np.abs(y))


# (f0, slope, presence, inh, decay): the seed's grid corners and inside points, aliasing included
ITEMS = [
    (100.0, -0.1, 0, 0.0, 0.0),
    (1000.0, -0.9, 1, 1.0, 10.0),
    (300.0, -0.5, 0, 0.3, 4.0),
    (700.0, -0.3, 2, 0.1, 2.0),
    (200.0, -0.9, 2, 0.0, 7.0),
    (500.0, -0.7, 1, 0.6, 1.0),
]


@pytest.mark.parametrize("quirks", ["seed", "fixed"])
def test_renders_the_seed_formula(quirks):
    sample_rate, n_samples = 8000, 4000
    f0, slope, presence, inh, decay = (np.array(c) for c in zip(*ITEMS, strict=True))
    audio = get_sound_model("additive_seed001").render(
        {"f0_hz": f0, "slope": slope, "presence": presence, "inharmonicity": inh, "decay_per_s": decay,
         "quirks": [quirks] * len(ITEMS)},
        sample_rate=sample_rate, duration_s=n_samples / sample_rate, seed=0,
    )
    assert audio.shape == (len(ITEMS), n_samples) and audio.dtype == np.float32
    for i, item in enumerate(ITEMS):
        expected = seed_render(*item, sample_rate=sample_rate, n_samples=n_samples, as_seed=quirks == "seed")
        np.testing.assert_allclose(audio[i], 0.9 * _peak(expected), atol=2e-5, err_msg=str(item))


def test_fixed_keeps_the_last_mode_and_drops_aliases():
    sample_rate, n_samples = 8000, 2000
    model = get_sound_model("additive_seed001")
    common = {"f0_hz": 1000.0, "slope": -0.1, "presence": "all", "inharmonicity": 0.0}
    fixed, seed = model.render({**common, "quirks": ["fixed", "seed"]}, sample_rate=sample_rate,
                               duration_s=n_samples / sample_rate, seed=0)
    spectrum = lambda y: np.abs(np.fft.rfft(y))  # noqa: E731
    bins = np.fft.rfftfreq(n_samples, 1 / sample_rate)
    # fixed: modes 1..3 (1, 2, 3 kHz); 4 kHz and above are at or beyond Nyquist
    peaks = bins[spectrum(fixed) > 0.05 * spectrum(fixed).max()]
    np.testing.assert_allclose(sorted(set(peaks)), [1000.0, 2000.0, 3000.0])
    # seed: modes 1..9 sum, 5..9 kHz fold back onto 3, 2, 1 kHz and 0 Hz
    assert not np.allclose(fixed, seed, atol=1e-3)


def test_seed_scales_accepted_and_bounded():
    model = get_sound_model("additive_seed001")
    assert model.parameter("inharmonicity").maximum == 1.0
    assert model.parameter("slope").minimum == -1.0
    with pytest.raises(ParameterError, match=r"inharmonicity=1.5 is out of range: allowed 0..1"):
        model.render({"inharmonicity": 1.5}, sample_rate=8000, duration_s=0.1)
    with pytest.raises(ParameterError, match=r"slope=0.2 is out of range: allowed -1..0"):
        model.render({"slope": 0.2}, sample_rate=8000, duration_s=0.1)


def test_batch_invariant():
    rng = np.random.default_rng(0)
    n = 16
    params = {"f0_hz": rng.uniform(100, 1000, n), "slope": rng.uniform(-0.9, -0.1, n),
              "presence": rng.integers(0, 3, n), "inharmonicity": rng.uniform(0, 1, n),
              "decay_per_s": rng.uniform(0, 10, n), "quirks": rng.integers(0, 2, n)}
    model = get_sound_model("additive_seed001")
    whole = model.render(params, sample_rate=8000, duration_s=0.2, seed=1)
    parts = [model.render({k: v[i:i + 4] for k, v in params.items()}, sample_rate=8000, duration_s=0.2, seed=1,
                          item_index=np.arange(i, i + 4)) for i in range(0, n, 4)]
    np.testing.assert_array_equal(whole, np.concatenate(parts))
