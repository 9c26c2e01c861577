"""The harmonic decoder: window response, rendering against the features, calibration, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.signal
import torch

from timbrespace.errors import ConfigError
from timbrespace.features import transforms
from timbrespace.features.config import FeatureConfig
from timbrespace.metrics.mig import mig
from timbrespace.models import VAEConfig, build_model
from timbrespace.models.harmonic import (
    HarmonicDecoder,
    hann_magnitude,
    harmonic_power,
    harmonic_salience,
)

SR, N_FFT, HOP = 22050, 1024, 256
BIN_HZ = SR / N_FFT
N_BINS = N_FFT // 2 + 1
LOG = {"log_fmin_hz": 110.0, "log_bins_per_octave": 36, "log_n_bins": 234}


def _tone(f0_hz: float, amplitudes: np.ndarray, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(int(SR * seconds)) / SR
    return sum(a * np.cos(2 * np.pi * (h + 1) * f0_hz * t + 0.7 * h) for h, a in enumerate(amplitudes))


def _features(audio: np.ndarray, output: str = "magnitude") -> np.ndarray:
    cfg = FeatureConfig(kind="stft", n_fft=N_FFT, hop_length=HOP, output=output, top_db=80)
    return transforms.forward(np.atleast_2d(audio).astype(np.float64), cfg, sample_rate=SR)


def _config(**shift) -> VAEConfig:
    spec = {"input_offset": -80.0, "input_scale": 100.0, "decoder": "harmonic", "input_bin_hz": BIN_HZ,
            "top_db": 80.0, "n_harmonics": 8, **LOG, **shift}
    return VAEConfig(input_shape=(N_BINS, 12), latent_dim=4, architecture="shift", hidden_sizes=(32,), shift=spec)


def test_hann_magnitude_matches_the_windows_dft():
    window = scipy.signal.get_window("hann", N_FFT, fftbins=True)
    d = np.array([0.0, 0.25, 0.5, 0.999, 1.0, 1.3, 2.0, 2.7, 5.5, -1.6])
    n = np.arange(N_FFT)
    exact = np.abs(np.exp(-2j * np.pi * d[:, None] * n / N_FFT) @ window) / window.sum()
    np.testing.assert_allclose(hann_magnitude(torch.from_numpy(d)).numpy(), exact, atol=1e-5)


def test_rendered_harmonics_match_the_features_of_the_same_tone():
    f0, amps = 347.3, np.array([0.3, 0.5, 0.1, 0.05, 0.2, 0.01, 0.03])  # 2nd partial loudest
    mag = _features(_tone(f0, amps))[0]
    frames = mag.shape[1]
    a = torch.tensor(amps * N_FFT / 4)[None, :, None].repeat(1, 1, frames)  # peak bin magnitude of A cos
    rendered = np.sqrt(harmonic_power(torch.tensor([f0], dtype=torch.float64), a, bin_hz=BIN_HZ,
                                      n_bins=N_BINS).numpy()[0])
    inner = slice(4, frames - 4)  # the first and last frames reach past the tone (zero padding)
    sc = np.linalg.norm(mag[:, inner] - rendered[:, inner]) / np.linalg.norm(mag[:, inner])
    assert sc < 0.002


def test_stiff_string_partials_land_where_the_features_put_them():
    f0, b, amps = 370.0, 4e-4, 0.3 * 0.8 ** np.arange(12)
    t = np.arange(SR) / SR
    audio = sum(a * np.cos(2 * np.pi * (h + 1) * f0 * np.sqrt(1 + b * (h + 1) ** 2) * t) for h, a in enumerate(amps))
    mag = _features(audio)[0][:, 10:20]
    a = torch.tensor(amps * N_FFT / 4)[None, :, None].repeat(1, 1, 10)
    f0_t = torch.tensor([f0], dtype=torch.float64)
    stiff = np.sqrt(harmonic_power(f0_t, a, bin_hz=BIN_HZ, n_bins=N_BINS,
                                   inharmonicity=torch.tensor([b], dtype=torch.float64)).numpy()[0])
    harmonic = np.sqrt(harmonic_power(f0_t, a, bin_hz=BIN_HZ, n_bins=N_BINS).numpy()[0])
    sc = [np.linalg.norm(mag - r) / np.linalg.norm(mag) for r in (stiff, harmonic)]
    assert sc[0] < 0.005 < 0.2 < sc[1]


def test_decoder_renders_the_features_of_a_tone_in_db():
    f0, amps = 440.0, np.array([0.4, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002])
    target = _features(_tone(f0, amps, seconds=12 * HOP / SR), output="db")[0]  # (513, 13): first 12 frames
    model = build_model(_config(harmonic_f0_offset_bins=0.0, input_offset=-120.0), seed=0).eval()
    dec = model.decoder
    assert isinstance(dec, HarmonicDecoder)
    z0 = (36 * np.log2(f0 / 110.0) - dec.geo.centre) / dec.geo.shift_scale  # f0 on the log view
    level = (20 * np.log10(amps * N_FFT / 4) - dec.spec.input_offset) / dec.spec.input_scale
    last = dec.body[-1]
    with torch.no_grad():
        for layer in dec.body:
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        last.bias.copy_(torch.from_numpy(np.repeat(level, 12)).float())
        out = model.decode(torch.tensor([[z0, 0.0, 0.0, 0.0]], dtype=torch.float32)).numpy()[0]
    assert dec.f0_hz(torch.tensor([z0])).item() == pytest.approx(f0, rel=1e-5)
    inner = slice(3, 10)
    lin_t, lin_o = 10 ** (target[:, inner] / 20), 10 ** (out[:, inner] / 20)
    assert np.linalg.norm(lin_t - lin_o) / np.linalg.norm(lin_t) < 0.01
    assert out.max() == pytest.approx(target.max(), abs=0.05)
    assert dec.spec.input_offset <= out.min() < dec.spec.input_offset + 1.0  # floored at the training minimum


def test_level_latent_raises_every_partial_by_its_gain_in_db():
    f0, amps = 440.0, np.array([0.4, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002])
    target = _features(_tone(f0, 2.0 * amps, seconds=12 * HOP / SR), output="db")[0]  # twice as loud
    model = build_model(_config(harmonic_f0_offset_bins=0.0, input_offset=-120.0, level=True,
                                level_offset_db=-20.0, level_scale_db=4.0), seed=0).eval()
    dec = model.decoder
    z0 = (36 * np.log2(f0 / 110.0) - dec.geo.centre) / dec.geo.shift_scale
    level = (20 * np.log10(amps * N_FFT / 4) - dec.spec.input_offset) / dec.spec.input_scale  # the quieter tone
    with torch.no_grad():
        for layer in dec.body:  # the MLP ignores z: the gain alone must carry the level
            if isinstance(layer, torch.nn.Linear):
                layer.weight.zero_()
                layer.bias.zero_()
        dec.body[-1].bias.copy_(torch.from_numpy(np.repeat(level, 12)).float())
        z_level = 20 * np.log10(2.0) / 4.0  # +6.02 dB
        out = model.decode(torch.tensor([[z0, z_level, 0.0, 0.0]], dtype=torch.float32)).numpy()[0]
    inner = slice(3, 10)
    lin_t, lin_o = 10 ** (target[:, inner] / 20), 10 ** (out[:, inner] / 20)
    assert np.linalg.norm(lin_t - lin_o) / np.linalg.norm(lin_t) < 0.01
    assert out.max() == pytest.approx(target.max(), abs=0.05)


def test_salience_prefers_the_fundamental_over_a_loud_harmonic():
    f0 = 392.0
    mag = torch.from_numpy(_features(_tone(f0, np.array([0.2, 1.0, 0.5, 0.4, 0.3])))[0].mean(axis=1))[None]
    candidates = torch.tensor([[f0 / 2, f0, 2 * f0, 3 * f0]], dtype=torch.float64)
    s = harmonic_salience(mag, candidates, bin_hz=BIN_HZ)[0].numpy()
    assert np.argmax(s) == 1


def test_calibration_finds_the_heads_offset():
    model = build_model(_config(), seed=0)
    dec = model.decoder
    rng = np.random.default_rng(0)
    f0s = 110.0 * 2 ** rng.uniform(1.5, 3.5, 24)
    x = np.stack([_features(_tone(f, 0.5 * 0.7 ** np.arange(10), seconds=11 * HOP / SR), output="db")[0, :, :12]
                  for f in f0s])
    true_offset = 7.3  # the head reports every pitch 7.3 bins below its fundamental
    p = torch.from_numpy(36 * np.log2(f0s / 110.0) - true_offset)
    for _ in range(3):
        dec.calibrate(torch.from_numpy(x).float(), p)
    assert dec.f0_offset_bins.item() == pytest.approx(true_offset, abs=0.15)
    fixed = build_model(_config(harmonic_f0_offset_bins=-2.0), seed=0).decoder
    fixed.calibrate(torch.from_numpy(x).float(), p)
    assert fixed.f0_offset_bins.item() == -2.0


def test_a_loss_changes_nothing_and_training_calibrates_from_what_it_returns():
    """No side effect inside a loss (issue 30): loss and pair_loss leave the decoder's offset
    alone and return the batch and head positions; VAE.calibrate with them moves it, as the
    training step does."""
    import dataclasses

    model = build_model(dataclasses.replace(_config(), objective="ada_gvae"), seed=0).train()
    rng = np.random.default_rng(1)
    x = np.stack([_features(_tone(f, 0.5 * 0.7 ** np.arange(10), seconds=11 * HOP / SR), output="db")[0, :, :12]
                  for f in 110.0 * 2 ** rng.uniform(1.5, 3.5, 8)])
    x = torch.from_numpy(x).float()
    before = model.decoder.offset_score.clone()
    gen = torch.Generator().manual_seed(0)
    for terms in (model.loss(x, model(x, generator=gen), generator=gen),
                  model.pair_loss(x[:4], x[4:], generator=gen)):
        assert torch.equal(model.decoder.offset_score, before)
        assert terms.calibration is not None
        batch, positions = terms.calibration
        assert batch.shape == x.shape and positions.shape == (8,) and not positions.requires_grad
    torch.testing.assert_close(positions, model.encoder.position(model.encoder.view(x)).detach())
    model.calibrate(*terms.calibration)
    assert not torch.equal(model.decoder.offset_score, before)


def test_model_starts_knowing_nothing_and_gradients_reach_z0_and_content():
    model = build_model(_config(head_harmonic_sum=6, noise_bands=4, inharmonicity=True), seed=0)
    rng = np.random.default_rng(1)
    x = torch.from_numpy(rng.uniform(-80, 0, (10, N_BINS, 12)).astype(np.float32))
    mu, _ = model.encode(x)
    assert torch.all(mu.abs() < 1e-5) and torch.all(mu == mu[:1])  # every item at the same point
    factors = rng.integers(0, 3, (10, 2))
    assert mig(mu.detach().numpy(), factors).score == pytest.approx(0.0, abs=1e-9)
    z = torch.tensor([[0.3, 0.5, -0.2, 1.0]], requires_grad=True)
    model.decode(z).sum().backward()
    assert torch.all(z.grad.abs() > 0)  # f0 (z0) and every content latent move the output


def test_harmonic_sum_head_is_equivariant_and_prefers_the_fundamental():
    model = build_model(_config(head_harmonic_sum=6), seed=0)
    enc = model.encoder
    f0 = 330.0
    x = _features(_tone(f0, np.array([0.1, 1.0, 0.6, 0.3, 0.2, 0.1]), seconds=11 * HOP / SR), output="db")[:, :, :12]
    view = enc.view(torch.from_numpy(x).float())
    levels = torch.pow(10.0, (view * enc.spec.input_scale + enc.spec.input_offset) / 20.0).mean(dim=2)
    summed = (enc.harmonic_sum @ levels[0]).numpy()
    fundamental = 36 * np.log2(f0 / 110.0)
    assert abs(np.argmax(summed) - fundamental) <= 1.0  # the raw view peaks an octave higher
    assert abs(np.argmax(levels[0].numpy()) - fundamental - 36) <= 1.0


def test_harmonic_options_are_validated():
    assert VAEConfig.from_json(_config(noise_bands=3).to_json()) == _config(noise_bands=3)
    with pytest.raises(ConfigError, match="input_bin_hz"):
        _config(input_bin_hz=None)
    with pytest.raises(ConfigError, match="n_harmonics=0"):
        _config(n_harmonics=0)
    with pytest.raises(ConfigError, match="'direct' or 'harmonic'"):
        _config(decoder="full")


def test_noise_fills_the_gaps_between_partials_only():
    f0 = torch.tensor([20.0 * BIN_HZ], dtype=torch.float64)  # partials on bins 20, 40, 60
    a = torch.full((1, 3, 2), 100.0, dtype=torch.float64)
    noise = torch.full((1, N_BINS, 2), 5.0, dtype=torch.float64)
    with_noise = harmonic_power(f0, a, bin_hz=BIN_HZ, n_bins=N_BINS, noise=noise)[0, :, 0].numpy()
    without = harmonic_power(f0, a, bin_hz=BIN_HZ, n_bins=N_BINS)[0, :, 0].numpy()
    np.testing.assert_allclose(with_noise[[20, 40, 60]], without[[20, 40, 60]])  # a partial's bin is its own
    np.testing.assert_allclose(with_noise[[30, 100, 400]], without[[30, 100, 400]] + 25.0, rtol=1e-3)


def test_framewise_render_equals_the_per_item_render_for_a_constant_f0():
    rng = np.random.default_rng(0)
    f0 = torch.tensor([97.0, 347.3, 880.0], dtype=torch.float64)
    a = torch.from_numpy(rng.uniform(1.0, 100.0, (3, 24, 6)))
    noise = torch.from_numpy(rng.uniform(0.0, 2.0, (3, N_BINS, 6)))
    b = torch.tensor([0.0, 1e-4, 4e-4], dtype=torch.float64)
    per_item = harmonic_power(f0, a, bin_hz=BIN_HZ, n_bins=N_BINS, noise=noise, inharmonicity=b).numpy()
    per_frame = harmonic_power(f0[:, None].expand(-1, 6), a, bin_hz=BIN_HZ, n_bins=N_BINS, noise=noise,
                               inharmonicity=b).numpy()
    # only the window's side lobes beyond RENDER_RADIUS_BINS (below -48 dB) are left out
    sc = np.linalg.norm(np.sqrt(per_item) - np.sqrt(per_frame)) / np.linalg.norm(np.sqrt(per_item))
    assert sc < 2e-3


def test_a_vibrato_tone_rendered_frame_by_frame_matches_its_features():
    f0, depth_cents, rate_hz, amps = 440.0, 30.0, 5.5, 0.3 * 0.7 ** np.arange(8)
    t = np.arange(SR) / SR
    cents = depth_cents * np.sin(2 * np.pi * rate_hz * t)
    phase = 2 * np.pi * np.cumsum(f0 * 2 ** (cents / 1200)) / SR
    mag = _features(sum(a * np.cos((h + 1) * phase) for h, a in enumerate(amps)))[0]
    frames = np.arange(8, mag.shape[1] - 8)  # away from the zero-padded edges
    f0_frames = f0 * 2 ** (depth_cents * np.sin(2 * np.pi * rate_hz * frames * HOP / SR) / 1200)
    a = torch.tensor(amps * N_FFT / 4)[None, :, None].repeat(1, 1, len(frames))
    per_frame = harmonic_power(torch.from_numpy(f0_frames)[None], a, bin_hz=BIN_HZ, n_bins=N_BINS).numpy()[0]
    constant = harmonic_power(torch.tensor([f0], dtype=torch.float64), a, bin_hz=BIN_HZ, n_bins=N_BINS).numpy()[0]
    target = mag[:, frames]
    sc = [np.linalg.norm(target - np.sqrt(p)) / np.linalg.norm(target) for p in (per_frame, constant)]
    # ±30 cents is ±0.36 bins at the fundamental and ±2.9 at the 8th partial; what is left (0.04)
    # is the motion within each 46 ms frame, which a stationary render per frame does not show
    assert sc[0] < 0.06 and sc[1] > 0.4


def test_f0_curve_starts_flat_and_gets_a_gradient():
    model = build_model(_config(harmonic_f0_offset_bins=0.0, f0_curve_cents=100.0), seed=0)
    flat = build_model(_config(harmonic_f0_offset_bins=0.0), seed=0)
    z = torch.tensor([[0.3, 0.5, -0.2, 1.0]])
    curve = slice(-12, None)
    assert torch.all(model.decoder.body[-1].weight[curve] == 0) and torch.all(model.decoder.body[-1].bias[curve] == 0)
    with torch.no_grad():  # the same partial levels in both decoders: the flat curve renders the same spectrum
        n = flat.decoder.body[-1].out_features
        for mine, theirs in zip(model.decoder.body, flat.decoder.body, strict=True):
            if isinstance(mine, torch.nn.Linear):
                mine.weight[: theirs.out_features].copy_(theirs.weight)
                mine.bias[: theirs.out_features].copy_(theirs.bias)
        assert model.decoder.body[-1].out_features == n + 12
        mine, theirs = (10 ** (m.decode(z).numpy() / 20) for m in (model, flat))
        assert np.linalg.norm(mine - theirs) / np.linalg.norm(theirs) < 1e-2  # side lobes beyond 4 bins left out
    model.decode(z).sum().backward()
    assert model.decoder.body[-1].weight.grad[curve].abs().sum() > 0  # the curve gets a gradient


def test_f0_curve_held_flat_until_refinement_then_trained():
    from timbrespace.training import refine_decoder

    model = build_model(_config(harmonic_f0_offset_bins=0.0, f0_curve_cents=100.0, f0_curve_stage="refinement"),
                        seed=0)
    dec, curve = model.decoder, slice(-12, None)  # the last 12 rows: one per frame
    z = torch.tensor([[0.3, 0.5, -0.2, 1.0]])
    with torch.no_grad():
        dec.body[-1].weight[curve] = 1.0  # a curve that would bend f0 by up to 100 cents
        before = dec(z)
    model.decode(z).sum().backward()
    assert not dec.curve_active and dec.body[-1].weight.grad[curve].abs().sum() == 0  # held flat: no gradient
    with torch.no_grad():
        dec.body[-1].weight[curve] = 0.0
        assert torch.equal(dec(z), before)  # and no effect on the render
    x = model.decode(torch.randn(6, 4, generator=torch.Generator().manual_seed(1))).detach()
    refine_decoder(model, x.numpy(), epochs=2, batch_size=3, lr=1e-2, seed=0, scale="db")
    assert dec.curve_active and dec.body[-1].weight[curve].abs().sum() > 0  # trained in refinement
    state = model.state_dict()
    assert float(state["decoder._extra_state"]) == 1.0
    fresh = build_model(_config(harmonic_f0_offset_bins=0.0, f0_curve_cents=100.0, f0_curve_stage="refinement"),
                        seed=0)
    fresh.load_state_dict(state)
    assert fresh.decoder.curve_active and torch.equal(fresh.decode(z), model.decode(z))
    del state["decoder._extra_state"]  # a checkpoint from before the option: its curve was trained from the start
    fresh.decoder.curve_active = False
    fresh.load_state_dict(state)
    assert fresh.decoder.curve_active


def test_without_level_to_decoder_the_level_is_a_pure_gain():
    cfg = _config(harmonic_f0_offset_bins=0.0, input_offset=-120.0, level=True, level_offset_db=-20.0,
                  level_scale_db=4.0, level_to_decoder=False, decoder_hidden_sizes=[16, 16])
    dec = build_model(cfg, seed=0).decoder
    assert [m.in_features for m in dec.body if isinstance(m, torch.nn.Linear)] == [3, 16, 16]  # z0, 2 content
    z = torch.tensor([[0.3, 0.0, -0.2, 1.0], [0.3, 1.5, -0.2, 1.0]])
    with torch.no_grad():
        power = torch.pow(10.0, dec(z) / 10.0) - 10.0 ** (-120.0 / 10.0)  # without the soft floor
    louder, expected = power[1].numpy(), power[0].numpy() * 10 ** (1.5 * 4.0 / 10)  # +6 dB in every bin
    assert np.linalg.norm(louder - expected) / np.linalg.norm(expected) < 1e-4
    coupled = build_model(_config(harmonic_f0_offset_bins=0.0, input_offset=-120.0, level=True, level_offset_db=-20.0,
                                  level_scale_db=4.0), seed=0).decoder
    assert coupled.body[0].in_features == 4


def test_f0_curve_and_decoder_sizes_are_validated():
    assert VAEConfig.from_json(_config(f0_curve_cents=50.0, decoder_hidden_sizes=[8]).to_json()) == _config(
        f0_curve_cents=50.0, decoder_hidden_sizes=[8])
    with pytest.raises(ConfigError, match="f0_curve_cents=-1"):
        _config(f0_curve_cents=-1.0)
    with pytest.raises(ConfigError, match="decoder_hidden_sizes"):
        _config(decoder_hidden_sizes=[0])
    with pytest.raises(ConfigError, match="f0_curve_stage='later'"):
        _config(f0_curve_cents=50.0, f0_curve_stage="later")
    for option in ({"f0_curve_cents": 20.0}, {"decoder_hidden_sizes": [8]}):
        with pytest.raises(ConfigError, match="needs shift.decoder='harmonic'"):
            _config(decoder="direct", **option)


def test_a_partial_above_the_level_cap_still_gets_a_gradient():
    model = build_model(_config(harmonic_f0_offset_bins=0.0), seed=0)
    dec = model.decoder
    with torch.no_grad():
        dec.body[-1].bias[:12] = 200.0  # the first partial at about 20,000 dB: far above MAX_LEVEL_DB
        out = dec(torch.tensor([[0.3, 0.5, -0.2, 1.0]]))
    assert torch.isfinite(out).all()
    dec(torch.tensor([[0.3, 0.5, -0.2, 1.0]])).sum().backward()
    assert torch.all(dec.body[-1].bias.grad[:12] > 0)  # a louder output: the loss can push it back down
