"""Physics of the ``additive`` model (seed 001): pitch, slope, decay, inharmonicity, aliasing."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.synths import get_sound_model

from ._synths_measure import cents, magnitude_spectrum, peak_frequency, pyin_median_hz

SR = 22050


@pytest.fixture(scope="module")
def model():
    return get_sound_model("additive")


@pytest.mark.parametrize("presence", ["all", "odd", "even"])
def test_pitch_measured_by_pyin_within_10_cents(model, presence):
    f0 = np.array([110.0, 233.08, 440.0])
    audio = model.render(
        {"f0_hz": f0, "presence": [presence] * 3, "slope_db_per_octave": -6.0, "n_partials": 12},
        sample_rate=SR,
        duration_s=0.5,
    )
    for y, expected in zip(audio, f0, strict=True):
        measured = pyin_median_hz(y, SR, fmin=60.0, fmax=1000.0)
        assert abs(cents(measured, expected)) < 10.0


@pytest.mark.parametrize("slope", [-3.0, -6.0, -12.0, -20.0])
@pytest.mark.parametrize("presence", ["all", "odd"])
def test_slope_fitted_from_partial_amplitudes_within_5_percent(model, slope, presence):
    f0, n_partials = 100.0, 16
    y = model.render(
        {"f0_hz": f0, "slope_db_per_octave": slope, "presence": presence, "n_partials": n_partials},
        sample_rate=SR,
        duration_s=1.0,
    )[0]
    # 1 s at an integer f0: every partial sits on an exact bin, no window needed.
    freqs, mag = magnitude_spectrum(y, SR, window=None)
    harmonics = (
        np.arange(1, n_partials + 1) if presence == "all" else np.arange(1, 2 * n_partials, 2)
    )
    level_db = 20 * np.log10(mag[np.round(harmonics * f0).astype(int)])
    fitted = np.polyfit(np.log2(harmonics), level_db, 1)[0]
    assert fitted == pytest.approx(slope, rel=0.05)


@pytest.mark.parametrize("decay", [1.0, 4.0, 12.5, 40.0])
def test_decay_time_constant_fitted_from_envelope_within_5_percent(model, decay):
    y = model.render(
        {"f0_hz": 441.0, "n_partials": 1, "decay_per_s": decay}, sample_rate=SR, duration_s=1.0
    )[0].astype(np.float64)
    # Envelope = peak of each period (441 Hz at 22050 Hz: exactly 50 samples per period).
    frames = y.reshape(-1, 50)
    envelope = np.abs(frames).max(axis=1)
    t = (np.arange(frames.shape[0]) * 50 + 25) / SR
    keep = envelope > 1e-3  # well above float32 rounding
    rate = -np.polyfit(t[keep], np.log(envelope[keep]), 1)[0]
    assert 1.0 / rate == pytest.approx(1.0 / decay, rel=0.05)


@pytest.mark.parametrize("b", [1e-4, 1e-3, 5e-3])
def test_inharmonic_partials_follow_stiff_string_law_within_half_percent(model, b):
    f0, n_partials = 100.0, 20
    y = model.render(
        {"f0_hz": f0, "inharmonicity": b, "n_partials": n_partials, "slope_db_per_octave": -3.0},
        sample_rate=SR,
        duration_s=2.0,
    )[0]
    freqs, mag = magnitude_spectrum(y, SR)
    h = np.arange(1, n_partials + 1)
    expected = h * f0 * np.sqrt(1 + b * h**2)
    expected = expected[expected < 0.45 * SR]
    for hz in expected:
        measured = peak_frequency(freqs, mag, hz, width_hz=0.2 * f0)
        assert measured == pytest.approx(hz, rel=0.005)
    # The law must be distinguishable from harmonic partials at the top of the range.
    assert abs(expected[-1] / (len(expected) * f0) - 1) > 0.005


def test_no_aliasing_over_f0_and_inharmonicity_sweep(model):
    f0 = np.repeat([300.0, 1500.0, 4000.0], 3)
    b = np.tile([0.0, 0.01, 0.1], 3)
    n = 4096
    audio = model.render(
        {"f0_hz": f0, "inharmonicity": b, "n_partials": 200, "slope_db_per_octave": 0.0},
        sample_rate=SR,
        duration_s=n / SR,
    )
    for y, f, bb in zip(audio, f0, b, strict=True):
        # Blackman-Harris: side lobes below -92 dB, main lobe 4 bins each side.
        freqs, mag = magnitude_spectrum(y, SR, window="blackmanharris")
        h = np.arange(1, 201)
        partials = h * f * np.sqrt(1 + bb * h**2)
        partials = partials[partials < SR / 2]
        bin_hz = SR / n
        near = np.min(np.abs(freqs[:, None] - partials[None, :]), axis=1) <= 5 * bin_hz
        leaked_db = 10 * np.log10(np.sum(mag[~near] ** 2) / np.sum(mag[near] ** 2))
        assert leaked_db < -60.0, (f, bb, leaked_db)


def test_batch_invariance_bit_exact_including_noise(model):
    rng = np.random.default_rng(3)
    n = 256
    params = {
        "f0_hz": rng.uniform(50, 2000, n),
        "slope_db_per_octave": rng.uniform(-24, 0, n),
        "presence": rng.integers(0, 3, n),
        "inharmonicity": rng.uniform(0, 0.01, n),
        "decay_per_s": rng.uniform(0, 10, n),
        "n_partials": rng.integers(1, 40, n),
        "snr_db": rng.uniform(0, 120, n),
    }
    kw = {"sample_rate": 8000, "duration_s": 0.1, "seed": 7}
    whole = model.render(params, **kw)
    for n_chunks in (8, 2):
        parts = [
            model.render({k: v[idx] for k, v in params.items()}, item_index=idx, **kw)
            for idx in np.array_split(np.arange(n), n_chunks)
        ]
        np.testing.assert_array_equal(np.concatenate(parts), whole)
    # The noise is really there and really per item.
    other_seed = model.render(params, **{**kw, "seed": 8})
    noisy = params["snr_db"] < 40
    assert np.all(np.abs(other_seed[noisy] - whole[noisy]).max(axis=1) > 1e-3)


def test_snr_measured_from_noise_power(model):
    params = {"f0_hz": 441.0, "n_partials": 5, "snr_db": 10.0}
    noisy = model.render(params, sample_rate=SR, duration_s=1.0, seed=1)[0].astype(np.float64)
    clean = model.render({**params, "snr_db": 120.0}, sample_rate=SR, duration_s=1.0)[0]
    # Undo the peak normalisation by projecting onto the clean signal.
    gain = np.dot(noisy, clean) / np.dot(clean, clean)
    noise = noisy - gain * clean
    snr = 10 * np.log10(np.sum((gain * clean) ** 2) / np.sum(noise**2))
    assert snr == pytest.approx(10.0, abs=0.5)


def test_output_shape_dtype_and_peak(model):
    audio = model.render({"f0_hz": [100.0, 200.0]}, sample_rate=16000, duration_s=0.25)
    assert audio.shape == (2, 4000) and audio.dtype == np.float32
    np.testing.assert_allclose(np.abs(audio).max(axis=1), 0.9, rtol=1e-6)


@pytest.mark.parametrize(
    ("params", "kwargs", "fragments"),
    [
        ({"f0": 220.0}, {}, ["'f0'", "did you mean 'f0_hz'"]),
        ({"f0_hz": 1e6}, {}, ["f0_hz=1e+06", "20..5000 Hz"]),
        ({"decay_per_s": -1.0}, {}, ["decay_per_s=-1", "0..50 1/s"]),
        ({"presence": "evn"}, {}, ["presence='evn'", "did you mean 'even'"]),
        ({"n_partials": 2.5}, {}, ["n_partials", "whole number"]),
        ({"f0_hz": [100.0, 200.0], "decay_per_s": [1.0, 2.0, 3.0]}, {}, ["unequal lengths"]),
        ({}, {"sample_rate": 0}, ["sample_rate=0", "positive"]),
        ({}, {"sample_rate": -8000}, ["sample_rate=-8000"]),
        ({}, {"duration_s": 0.0}, ["duration_s=0.0", "positive"]),
        ({}, {"duration_s": -1.0}, ["duration_s=-1.0"]),
        ({"f0_hz": float("nan")}, {}, ["f0_hz=nan", "finite"]),
    ],
)
def test_bad_input_raises_one_clear_error(model, params, kwargs, fragments):
    with pytest.raises(ParameterError) as info:
        model.render(params, **{"sample_rate": SR, "duration_s": 0.1, **kwargs})
    for fragment in fragments:
        assert fragment in str(info.value)


def test_render_does_not_depend_on_blas_threads():
    """A multi-threaded sgemm may sum in another order; the render pins BLAS to one thread."""
    from threadpoolctl import threadpool_limits

    model = get_sound_model("additive")
    params = {"f0_hz": np.geomspace(50.0, 2000.0, 64), "n_partials": 60, "inharmonicity": 0.001}
    with threadpool_limits(limits=2, user_api="blas"):
        two = model.render(params, sample_rate=22050, duration_s=0.5)
    with threadpool_limits(limits=1, user_api="blas"):
        one = model.render(params, sample_rate=22050, duration_s=0.5)
    assert np.array_equal(one, two)
