"""The DDSP audio decoder (models.ddsp) and its oscillators and filters (models.dsp): physics of the oscillators and the noise filter, determinism, the MRSTFT loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.signal import welch

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.models.ddsp import (
    F0_CORRECTION_CENTS,
    MAX_F0_CORRECTION_CENTS,
    AudioDecoder,
    AudioDecoderConfig,
    calibrate_f0_offset,
    measure_tuning,
)
from timbrespace.models.dsp import (
    fft_convolve,
    filtered_noise,
    frequency_impulse_response,
    harmonic_synth,
)
from timbrespace.models.losses import multi_resolution_stft_loss, stft_loss

SR = 8000
N = 4000


def _config(**kw: object) -> AudioDecoderConfig:
    base: dict = dict(latent_dim=4, sample_rate=SR, n_samples=N, fmin_hz=50.0, bins_per_octave=24.0,
                      centre_bins=71.5, shift_scale_bins=36.0, f0_offset_bins=0.0, hidden_sizes=(32,), hop_length=64)
    return AudioDecoderConfig(**{**base, **kw})


def _peak_hz(y: np.ndarray, sr: int, lo_hz: float, hi_hz: float) -> float:
    """Frequency of the largest peak in [lo, hi] of a zero-padded Hann spectrum (parabolic interpolation)."""
    n_fft = 1 << 18
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)), n_fft))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sr)
    band = np.flatnonzero((freqs >= lo_hz) & (freqs <= hi_hz))
    k = band[np.argmax(spec[band])]
    a, b, c = np.log(spec[k - 1 : k + 2])
    return float(freqs[k] + 0.5 * (a - c) / (a - 2 * b + c) * (freqs[1] - freqs[0]))


def _amplitudes(values: list[float], n_frames: int = 64) -> torch.Tensor:
    return torch.tensor(values, dtype=torch.float32)[None, :, None].expand(1, len(values), n_frames).contiguous()


@pytest.mark.parametrize("f0", [110.0, 261.6, 987.8])
def test_harmonic_synth_f0_is_the_requested_one(f0: float) -> None:
    y = harmonic_synth(torch.tensor([f0]), _amplitudes([1.0, 0.5, 0.25]), sample_rate=SR, hop_length=64,
                       n_samples=N)[0].numpy()
    assert _peak_hz(y, SR, 0.5 * f0, 1.5 * f0) == pytest.approx(f0, rel=0.01)
    assert _peak_hz(y, SR, 1.5 * f0, 2.5 * f0) == pytest.approx(2 * f0, rel=0.01)


def test_inharmonic_partials_follow_the_stiff_string_law() -> None:
    f0, b = 200.0, 0.002
    y = harmonic_synth(torch.tensor([f0]), _amplitudes([1.0] * 12), sample_rate=SR, hop_length=64, n_samples=N,
                       inharmonicity=torch.tensor([b]))[0].numpy()
    for k in (1, 5, 10):
        expected = k * f0 * np.sqrt(1 + b * k * k)
        assert _peak_hz(y, SR, expected - 60, expected + 60) == pytest.approx(expected, rel=0.005)


def test_partials_above_nyquist_are_absent() -> None:
    """f0 900 Hz: partials 1-4 (900-3600 Hz) sound at amplitude 1; partial 5 (4500 Hz) would alias to 3500 Hz."""
    y = harmonic_synth(torch.tensor([900.0]), _amplitudes([1.0] * 8), sample_rate=SR, hop_length=64,
                       n_samples=N)[0].numpy()
    spec = np.abs(np.fft.rfft(y)) * 2 / N  # 0.5 s: 2 Hz bins, every partial on a bin
    freqs = np.fft.rfftfreq(N, 1.0 / SR)
    for k in range(1, 5):
        assert spec[np.argmin(np.abs(freqs - 900 * k))] == pytest.approx(1.0, abs=0.01)
    assert spec[np.argmin(np.abs(freqs - 3500))] < 1e-3
    assert np.mean(y.astype(np.float64) ** 2) == pytest.approx(4 * 0.5, rel=0.01)


def test_frequency_impulse_response_of_a_flat_response_is_a_delay_that_fft_convolve_undoes() -> None:
    ir = frequency_impulse_response(torch.ones(1, 4, 33))
    taps = ir.shape[-1]
    assert taps == 63
    expected = torch.zeros(taps)
    expected[taps // 2] = 1.0
    torch.testing.assert_close(ir[0, 0], expected, atol=1e-6, rtol=0)
    audio = torch.randn(1, 1000, generator=torch.Generator().manual_seed(0))
    torch.testing.assert_close(fft_convolve(audio, ir), audio, atol=1e-5, rtol=0)


def test_fft_convolve_matches_numpy_convolution_block_by_block() -> None:
    gen = torch.Generator().manual_seed(1)
    audio = torch.randn(2, 1000, generator=gen, dtype=torch.float64)
    ir = torch.randn(2, 4, 31, generator=gen, dtype=torch.float64)
    out = fft_convolve(audio, ir).numpy()
    for i in range(2):
        full = np.zeros(1000 + 30)
        for b in range(4):  # blocks of 250 samples, each through its own filter
            full[b * 250 : b * 250 + 250 + 30] += np.convolve(audio[i, b * 250 : (b + 1) * 250].numpy(), ir[i, b].numpy())
        np.testing.assert_allclose(out[i], full[15 : 15 + 1000], atol=1e-10)


def test_filtered_noise_follows_the_requested_magnitudes() -> None:
    n_mag = 33
    freqs = np.linspace(0, SR / 2, n_mag)
    wanted = 0.2 + 0.8 * np.cos(np.pi * freqs / SR) ** 2  # a smooth fall from 1 at 0 Hz to 0.2 at Nyquist
    n = 64000
    noise = 2 * torch.rand(n, generator=torch.Generator().manual_seed(3), dtype=torch.float64) - 1
    mags = torch.tensor(wanted)[None, None, :].expand(1, 100, n_mag)
    y = filtered_noise(noise, mags)[0].numpy()
    f, psd = welch(y, fs=SR, nperseg=256)
    expected = np.interp(f, freqs, wanted) ** 2 * (1.0 / 3.0) * 2 / SR  # uniform noise: variance 1/3
    inside = (f > 100) & (f < SR / 2 - 100)
    ratio_db = 10 * np.log10(psd[inside] / expected[inside])
    assert np.max(np.abs(ratio_db)) < 1.0


def test_batch_of_eight_equals_eight_singles() -> None:
    model = AudioDecoder(_config()).eval()
    z = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        batch = model(z)
        singles = torch.cat([model(z[i : i + 1]) for i in range(8)])
    assert batch.shape == (8, N)
    torch.testing.assert_close(batch, singles, atol=1e-6, rtol=1e-5)
    torch.testing.assert_close(model(z), batch)  # and the same twice: the noise is a buffer


def test_decoder_renders_the_f0_its_shift_latent_gives() -> None:
    config = _config(f0_offset_bins=-0.5, inharmonicity="none")
    model = AudioDecoder(config).eval()
    with torch.no_grad():  # only the fundamental, at full amplitude
        last = model.body[-1]
        last.weight.zero_()
        rows = torch.arange(config.n_frames) * (1 + config.n_harmonics + config.n_noise_magnitudes)
        last.bias[rows] = 5.0
        last.bias[rows + 1] = 10.0
    f0 = 330.0
    row = 24 * np.log2(f0 / 50.0)  # the view row of 330 Hz
    z = torch.zeros(1, 4)
    z[0, 0] = (row - 71.5 + 0.5) / 36.0
    with torch.no_grad():
        assert float(model.f0_hz(z)[0]) == pytest.approx(f0, rel=1e-5)
        y = model(z)[0].numpy()
    assert _peak_hz(y, SR, 100, 3900) == pytest.approx(f0, rel=0.01)


def test_calibration_finds_the_offset_of_the_fundamental() -> None:
    config = _config(f0_offset_bins=None)
    gen = torch.Generator().manual_seed(0)
    f0 = 100 * 2 ** (3.3 * torch.rand(16, generator=gen, dtype=torch.float64))
    true_offset = 2.35
    z = torch.zeros(16, 4, dtype=torch.float64)
    z[:, 0] = (24 * torch.log2(f0 / 50.0) - true_offset - 71.5) / 36.0
    amps = 0.8 ** torch.arange(20, dtype=torch.float64)
    audio = harmonic_synth(f0, amps[None, :, None].expand(16, 20, 64).contiguous(), sample_rate=SR, hop_length=64,
                           n_samples=N)
    assert calibrate_f0_offset(config, z.float(), audio.float()) == pytest.approx(true_offset, abs=0.1)


def test_config_round_trip_and_refusals() -> None:
    config = _config(hidden_sizes=(16, 8))
    assert AudioDecoderConfig.from_dict(config.to_dict()) == config
    assert config.n_frames == 64
    with pytest.raises(ConfigError, match="inharmonicity"):
        _config(inharmonicity="wild")
    with pytest.raises(ConfigError, match="unknown audio decoder keys"):
        AudioDecoderConfig.from_dict({**config.to_dict(), "bogus": 1})
    with pytest.raises(ConfigError, match="latents"):
        _config(inharmonicity="latent", inharmonicity_latent=7)
    assert _config(f0_correction_cents=MAX_F0_CORRECTION_CENTS).f0_correction_cents == 600.0
    with pytest.raises(ConfigError, match=r"f0_correction_cents=601.0 must be in \[0, 600\]"):
        _config(f0_correction_cents=601.0)


def _naive_stft_loss(x: np.ndarray, y: np.ndarray, n_fft: int) -> float:
    """auraloss's STFTLoss by hand: centred reflect-padded Hann frames, rfft, SC + log-magnitude L1."""
    hop, window = n_fft // 4, np.hanning(n_fft + 1)[:-1]  # periodic Hann, as torch.hann_window

    def mag(s: np.ndarray) -> np.ndarray:
        padded = np.pad(s, ((0, 0), (n_fft // 2, n_fft // 2)), mode="reflect")
        n_frames = 1 + (padded.shape[1] - n_fft) // hop
        frames = np.stack([padded[:, t * hop : t * hop + n_fft] for t in range(n_frames)], axis=1)
        spec = np.fft.rfft(frames * window, axis=2)
        return np.sqrt(np.maximum(spec.real**2 + spec.imag**2, 1e-8))

    xm, ym = mag(x), mag(y)
    return float(np.linalg.norm(ym - xm) / np.linalg.norm(ym) + np.mean(np.abs(np.log(ym) - np.log(xm))))


def test_stft_loss_matches_a_naive_numpy_version() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((3, 4000)), rng.standard_normal((3, 4000))
    for n_fft in (512, 1024, 2048):
        got = float(stft_loss(torch.from_numpy(x), torch.from_numpy(y), n_fft=n_fft))
        assert got == pytest.approx(_naive_stft_loss(x, y, n_fft), rel=1e-9)
    mr = float(multi_resolution_stft_loss(torch.from_numpy(x), torch.from_numpy(y)))
    assert mr == pytest.approx(np.mean([_naive_stft_loss(x, y, n) for n in (2048, 1024, 512)]), rel=1e-9)


def test_stft_loss_of_identical_signals_is_zero_and_refuses_bad_shapes() -> None:
    y = torch.randn(2, 4000, generator=torch.Generator().manual_seed(0))
    assert float(multi_resolution_stft_loss(y, y.clone())) == 0.0
    with pytest.raises(ParameterError, match="n_fft=2048"):
        stft_loss(y[:, :1000], y[:, :1000], n_fft=2048)
    with pytest.raises(ParameterError, match="same"):
        stft_loss(y, y[:1], n_fft=512)


def test_harmonic_fast_path_equals_the_stiff_path_at_zero_stiffness() -> None:
    f0 = torch.tensor([123.4, 987.6])
    amps = torch.rand(2, 32, 64, generator=torch.Generator().manual_seed(0))
    fast = harmonic_synth(f0, amps, sample_rate=SR, hop_length=64, n_samples=N)
    stiff = harmonic_synth(f0, amps, sample_rate=SR, hop_length=64, n_samples=N, inharmonicity=torch.zeros(2))
    torch.testing.assert_close(fast, stiff, atol=2e-4, rtol=0)


def test_decoder_exports_with_torch_export() -> None:
    """No Python control flow on tensor values: torch.export traces it and gives the same audio."""
    model = AudioDecoder(_config(hop_length=250)).eval()
    z = torch.randn(3, 4, generator=torch.Generator().manual_seed(0))
    exported = torch.export.export(model, (z,))
    torch.testing.assert_close(exported.module()(z), model(z), atol=1e-6, rtol=1e-5)


def test_measure_tuning_finds_each_items_own_f0_near_a_wrong_one() -> None:
    f0 = torch.tensor([110.0, 330.0, 700.0], dtype=torch.float64)
    amps = (0.8 ** torch.arange(12, dtype=torch.float64))[None, :, None].expand(3, 12, 64).contiguous()
    audio = harmonic_synth(f0, amps, sample_rate=SR, hop_length=64, n_samples=N).float()
    off = torch.tensor([-30.0, 45.0, 0.0], dtype=torch.float64)
    cents, stiffness = measure_tuning(f0 * torch.exp2(off / 1200), audio, sample_rate=SR, max_cents=60)
    torch.testing.assert_close(cents, -off.float(), atol=0.2, rtol=0)
    assert torch.equal(stiffness, torch.zeros(3))


def test_measure_tuning_finds_f0_and_stiffness_of_the_additive_model() -> None:
    """Oracle: the package's additive synth (seed 001's stiff string) at known f0 and B, 16 kHz, 1 s."""
    from timbrespace.synths.additive import Additive

    sr, n = 16000, 16000
    f0 = np.array([100.0, 268.3, 517.9, 1000.0])
    b = np.array([0.0, 0.001, 0.004, 0.0025])
    audio = Additive().render({"f0_hz": f0, "inharmonicity": b, "slope_db_per_octave": -4.5, "decay_per_s": 3.0,
                               "n_partials": 30}, sample_rate=sr, duration_s=n / sr)
    start = torch.tensor(f0) * torch.exp2(torch.tensor([40.0, -25.0, 10.0, -60.0], dtype=torch.float64) / 1200)
    cents, stiffness = measure_tuning(start, torch.from_numpy(audio).float(), sample_rate=sr, max_cents=100,
                                      max_stiffness=0.01)
    found = start * torch.exp2(cents.double() / 1200)
    assert (1200 * torch.log2(found / torch.tensor(f0))).abs().max() < 0.1
    torch.testing.assert_close(stiffness.double(), torch.tensor(b), atol=1e-5, rtol=0)
    with pytest.raises(ParameterError, match="equal counts"):
        measure_tuning(start[:2], torch.from_numpy(audio).float(), sample_rate=sr, max_cents=10)


def test_the_shipped_range_reaches_a_bright_stiff_note_170_cents_off() -> None:
    """The default run's worst shift latents are 130-180 cents off on bright, fast-decaying notes:
    the shipped ±300 cents finds them (within 0.1 cent, B within 1e-5), ±100 cents stops at its bound."""
    from timbrespace.synths.additive import Additive

    sr = 16000
    f0, b = np.array([193.1, 268.3]), np.array([0.003, 0.004])
    audio = torch.from_numpy(Additive().render({"f0_hz": f0, "inharmonicity": b, "slope_db_per_octave": -2.0,
                                                "decay_per_s": 12.0, "n_partials": 30}, sample_rate=sr,
                                               duration_s=1.0)).float()
    start = torch.tensor(f0) * torch.exp2(torch.tensor([133.0, 170.0], dtype=torch.float64) / 1200)
    cents, stiffness = measure_tuning(start, audio, sample_rate=sr, max_cents=F0_CORRECTION_CENTS, max_stiffness=0.01)
    found = start * torch.exp2(cents.double() / 1200)
    assert (1200 * torch.log2(found / torch.tensor(f0))).abs().max() < 0.1
    torch.testing.assert_close(stiffness.double(), torch.tensor(b), atol=1e-5, rtol=0)
    bounded, _ = measure_tuning(start, audio, sample_rate=sr, max_cents=100.0, max_stiffness=0.01)
    assert bool((bounded.double() - cents.double()).abs().min() > 30)  # the old bound cannot reach either note


@pytest.mark.parametrize("stiffness", [None, 0.003])
def test_constant_f0_path_equals_the_general_path(stiffness: float | None) -> None:
    """One f0 per item takes the closed-form path; the same f0 given per frame takes the running sum."""
    gen = torch.Generator().manual_seed(0)
    f0 = torch.tensor([97.3, 440.0, 1234.5])
    amps = torch.rand(3, 24, 64, generator=gen)
    b = None if stiffness is None else torch.full((3,), stiffness)
    fast = harmonic_synth(f0, amps, sample_rate=SR, hop_length=64, n_samples=N, inharmonicity=b)
    general = harmonic_synth(f0[:, None].expand(3, 64), amps, sample_rate=SR, hop_length=64, n_samples=N,
                             inharmonicity=b)
    torch.testing.assert_close(fast, general, atol=2e-3, rtol=0)
    assert fast.shape == (3, N)


def _sc(a: torch.Tensor, b: torch.Tensor) -> float:
    """Spectral convergence ||S_a - S_b|| / ||S_a|| of 1024-point Hann STFT magnitudes."""
    window = torch.hann_window(1024, dtype=a.dtype)
    sa, sb = (torch.stft(y, 1024, 256, window=window, return_complex=True).abs() for y in (a, b))
    return float(torch.linalg.norm(sa - sb) / torch.linalg.norm(sa))


def test_a_recordings_measured_tuning_puts_the_decoded_partials_where_its_were() -> None:
    """Audio decoded with a known tuning residual (cents, B beyond the head): the residual measured
    in it is that one, and decoding with it gives the audio back, where the head's tuning alone misses it."""
    model = AudioDecoder(_config(inharmonicity="predicted", tuning_hidden_sizes=(8,), n_harmonics=24)).eval()
    z = torch.zeros(3, 4)
    z[:, 0] = torch.tensor([-0.3, 0.0, 0.25])  # f0 about 290, 395 and 510 Hz (B 0.004: 6 partials below Nyquist)
    z[:, 1:] = torch.randn(3, 3, generator=torch.Generator().manual_seed(1))
    true = torch.tensor([[37.0, 0.002], [-55.0, 0.0005], [8.0, 0.004]], dtype=torch.float64)
    with torch.no_grad():
        recording = model(z, true)
        residual = model.measure_tuning_residual(z, recording)
        torch.testing.assert_close(residual[:, 0], true[:, 0], atol=0.5, rtol=0)
        torch.testing.assert_close(residual[:, 1], true[:, 1], atol=2e-5, rtol=0)
        tuned, untuned = model(z, residual), model(z)
    for i in range(3):
        assert _sc(recording[i], tuned[i]) < 0.08 < 0.5 < _sc(recording[i], untuned[i])  # 0.014, 0.021, 0.056 / 1.2


def test_a_tuning_residual_is_refused_without_a_head_or_in_the_wrong_shape() -> None:
    headless, model = AudioDecoder(_config()), AudioDecoder(_config(tuning_hidden_sizes=(8,)))
    z = torch.zeros(2, 4)
    with pytest.raises(ConfigError, match="tuning head"):
        headless.controls(z, torch.zeros(2, 2))
    with pytest.raises(ConfigError, match="tuning head"):
        headless.measure_tuning_residual(z, torch.zeros(2, N))
    with pytest.raises(ParameterError, match=r"\(2, 2\)"):
        model.controls(z, torch.zeros(3, 2))
    with pytest.raises(ParameterError, match="finite"):
        model.controls(z, torch.tensor([[float("nan"), 0.0], [0.0, 0.0]]))
