"""The shift architecture: translation, equivariant head, zero start, config round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from timbrespace.errors import ConfigError
from timbrespace.models import VAEConfig, build_model
from timbrespace.models.shift import ShiftSpec, translate_rows

SHAPE = (96, 4)


def _config(**shift) -> VAEConfig:
    spec = {"input_offset": -50.0, "input_scale": 50.0, **shift}
    return VAEConfig(input_shape=SHAPE, latent_dim=4, architecture="shift", hidden_sizes=(32,), shift=spec)


def _harmonic(f0_bin: float, n_bins: int = SHAPE[0], per_octave: int = 24) -> np.ndarray:
    """A dB log-frequency pattern with partials 1..6 above row ``f0_bin`` (floor -50 dB)."""
    rows = np.arange(n_bins)[:, None]
    x = np.full((n_bins, 1), -50.0)
    for n in range(1, 7):
        centre = f0_bin + per_octave * np.log2(n)
        x = np.maximum(x, -6.0 * np.log2(n) - 0.5 * (rows - centre) ** 2)
    return np.repeat(x, SHAPE[1], axis=1).astype(np.float32)


def test_translate_rows_matches_linear_interpolation():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 20, 2)).astype(np.float32)
    shift = np.array([0.0, 2.5, -3.25], np.float32)
    out = translate_rows(torch.from_numpy(x), torch.from_numpy(shift), 20, 0.0).numpy()
    rows = np.arange(20)
    for b in range(3):
        for t in range(2):
            expected = np.interp(rows - shift[b], rows, x[b, :, t], left=0.0, right=0.0)
            inside = (rows - shift[b] >= 0) & (rows - shift[b] <= 19)
            np.testing.assert_allclose(out[b, inside, t], expected[inside], atol=1e-5)


def test_model_starts_knowing_nothing():
    model = build_model(_config(encoder="factored", envelope_latents=1, spectrum_window_bins=(-12, 36)), seed=0)
    x = torch.from_numpy(np.stack([_harmonic(b) for b in (10.0, 30.0, 50.0)]))
    mu, _ = model.encode(x)
    assert torch.count_nonzero(mu) == 0  # every mean starts at zero: MIG at init is 0


def test_equivariance_alone_teaches_the_head_log_f0():
    torch.manual_seed(0)
    model = build_model(_config(head_channels=(8,), equivariance_shift_bins=12.0), seed=0)
    rng = np.random.default_rng(1)
    x = torch.from_numpy(np.stack([_harmonic(b) for b in rng.uniform(5, 40, 64)]))
    opt = torch.optim.Adam(model.encoder.head.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(300):
        loss = model.encoder.equivariance_loss(x, generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    test = torch.from_numpy(np.stack([_harmonic(b) for b in (10.0, 16.0, 22.0, 28.0)]))
    with torch.no_grad():
        p = model.encoder.position(model.encoder.view(test)).numpy()
    np.testing.assert_allclose(np.diff(p), 6.0, atol=1.0)  # moves with the fundamental, bin for bin


def test_decoder_translates_its_template_by_z0():
    model = build_model(_config(decoder="full", shift_to_decoder=False), seed=0).eval()
    z = torch.zeros(2, 4)
    z[1, 0] = 8.0 / model.decoder.geo.shift_scale  # eight bins up
    with torch.no_grad():
        out = model.decode(z).numpy()
    np.testing.assert_allclose(out[1, 20:70], out[0, 12:62], atol=1e-4)


def test_config_round_trip_and_errors():
    cfg = _config(encoder="factored", envelope_latents=1, spectrum_window_bins=[-12, 36])
    assert VAEConfig.from_json(cfg.to_json()) == cfg
    assert isinstance(cfg.shift, ShiftSpec) and cfg.shift.spectrum_window_bins == (-12, 36)
    with pytest.raises(ConfigError, match="envelope_latents"):
        _config(encoder="factored", envelope_latents=3)
    with pytest.raises(ConfigError, match="unknown shift options"):
        _config(nope=1)
    with pytest.raises(ConfigError, match="shift options are for architecture='shift'"):
        VAEConfig(input_shape=(10,), shift={})
    with pytest.raises(ConfigError, match="reaches outside"):
        _config(encoder="factored", envelope_latents=1, spectrum_window_bins=(-60, 10))
    with pytest.raises(ConfigError, match="fit fills them"):
        build_model(VAEConfig(input_shape=SHAPE, latent_dim=3, architecture="shift"))
