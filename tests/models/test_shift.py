"""The shift architecture: translation, equivariant head, zero start, config round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from timbrespace.errors import ConfigError
from timbrespace.models import VAEConfig, build_model
from timbrespace.models.shift import ShiftSpec, translate_rows
from timbrespace.models.warp import REFINE_ROWS, WarpHead, resample_rows, warp_rows

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


# --- loudness as a geometric latent (shift.level) ---------------------------------------------


def test_level_latent_is_the_peak_and_the_other_latents_ignore_a_gain():
    model = build_model(_config(level=True, level_offset_db=-10.0, level_scale_db=5.0, head_init_gain=1.0,
                                initial_logvar=-6.0), seed=0).eval()
    x = torch.from_numpy(np.stack([_harmonic(b) for b in (10.0, 30.0, 50.0)]))
    x = x - torch.tensor([0.0, 3.0, 12.0])[:, None, None]  # peaks 0, -3, -12 dB
    louder = x + 7.5
    torch.nn.init.normal_(model.encoder.content[-1].weight)  # a content encoder that sees the input
    with torch.no_grad():
        mu, _ = model.encode(x)
        mu_loud, _ = model.encode(louder)
    k = model.config.shift.level_index
    assert k == 1 and model.config.shift.n_geometric == 2
    np.testing.assert_allclose(mu[:, k].numpy(), (np.array([0.0, -3.0, -12.0]) + 10.0) / 5.0, atol=1e-5)
    np.testing.assert_allclose((mu_loud[:, k] - mu[:, k]).numpy(), 1.5, atol=1e-5)
    others = [j for j in range(4) if j != k]
    assert torch.count_nonzero(mu[:, others]) > 0
    np.testing.assert_allclose(mu_loud[:, others].numpy(), mu[:, others].numpy(), atol=1e-5)


@pytest.mark.parametrize("decoder, shift_to_decoder", [("full", False), ("full", True), ("direct", True)])
def test_decoder_adds_the_level_in_db(decoder, shift_to_decoder):
    # with the level kept out of the MLPs (level_to_decoder=False) a gain is exactly a gain
    model = build_model(_config(decoder=decoder, shift_to_decoder=shift_to_decoder, level=True, level_offset_db=-10.0,
                                level_scale_db=5.0, level_to_decoder=shift_to_decoder is False,
                                input_bin_hz=None if decoder == "full" else 20.0), seed=0).eval()
    z = torch.tensor([[0.3, 0.0, 0.5, -0.4]]).repeat(2, 1)
    z[1, model.config.shift.level_index] = 1.2  # 6 dB louder
    with torch.no_grad():
        out = model.decode(z).numpy()
    np.testing.assert_allclose(out[1] - out[0], 6.0, atol=1e-4)


def test_level_needs_its_offset_and_a_positive_scale():
    with pytest.raises(ConfigError, match="level_scale_db"):
        _config(level=True, level_offset_db=0.0, level_scale_db=0.0)
    with pytest.raises(ConfigError, match="level_offset_db and shift.level_scale_db are not set: fit fills them"):
        build_model(_config(level=True), seed=0)


# --- inharmonicity as a warp (timbrespace.models.warp) ---------------------------------------

WARP = {"warp": True, "warp_bins_per_octave": 24, "encoder": "factored", "envelope_latents": 1,
        "spectrum_window_bins": (-12, 36)}


def _stiff(f0_bin: float, stiffness: float, n_bins: int = SHAPE[0], per_octave: int = 24, width: float = 1.0):
    """A dB pattern with partials 1..8 at ``n sqrt(1 + B n^2)`` above row ``f0_bin`` (floor -50 dB)."""
    rows = np.arange(n_bins)[:, None]
    x = np.full((n_bins, 1), -50.0)
    for n in range(1, 9):
        centre = f0_bin + per_octave * np.log2(n * np.sqrt(1.0 + stiffness * n * n))
        x = np.maximum(x, -6.0 * np.log2(n) - width * (rows - centre) ** 2)
    return np.repeat(x, SHAPE[1], axis=1).astype(np.float32)


def _peak(row: np.ndarray, near: float, half: int = 1) -> float:
    """Row of the dB peak nearest ``near``: the vertex of a parabola through the top 3 rows."""
    lo = int(round(near)) - 3
    top = lo + int(np.argmax(row[lo : lo + 7]))
    rows = np.arange(top - half, top + half + 1)
    a, b, _ = np.polyfit(rows, row[rows], 2)
    return float(-b / (2.0 * a))


@pytest.mark.parametrize("stiffness", [0.001, 0.004, -0.002])
def test_warp_puts_partial_n_at_the_stiff_string_position(stiffness):
    origin = 10.0
    x = torch.from_numpy(_stiff(origin, 0.0)[None, :, :1] + 50.0)  # floor at 0: zeros read outside match
    out = warp_rows(x, torch.tensor([stiffness]), origin, 24.0)[0, :, 0].numpy() - 50.0
    for n in range(2, 9):
        expected = origin + 24.0 * np.log2(n * np.sqrt(1.0 + stiffness * n * n))
        assert _peak(out, expected) == pytest.approx(expected, abs=0.1)  # interpolation error


def test_unwarp_inverts_the_warp():
    x = torch.from_numpy(np.stack([_stiff(10.0, 0.0)[:, :1]]) + 50.0)
    b = torch.tensor([0.003])
    back = warp_rows(warp_rows(x, b, 10.0, 24.0), b, 10.0, 24.0, inverse=True)[0, :, 0].numpy() - 50.0
    for n in range(2, 9):
        assert _peak(back, 10.0 + 24.0 * np.log2(n)) == pytest.approx(10.0 + 24.0 * np.log2(n), abs=0.1)


def test_resample_rows_is_translate_rows_at_a_constant_offset():
    rng = np.random.default_rng(2)
    x = torch.from_numpy(rng.standard_normal((2, 30, 3)).astype(np.float32))
    shift = torch.tensor([1.5, -4.25])
    pos = torch.arange(30.0)[None, :] - shift[:, None]
    np.testing.assert_allclose(resample_rows(x, pos).numpy(), translate_rows(x, shift, 30, 0.0).numpy(), atol=1e-6)


def _exact_reader(head: WarpHead):
    """Reads B from partial 4's centroid of a spectrum whose fundamental is at ``head.origin``."""
    def read(spectrum: torch.Tensor) -> torch.Tensor:
        out = []
        for row in spectrum.detach().numpy():
            u = _peak(row, head.origin + 48.0) - head.origin
            out.append(((2.0 ** (u / 24.0) / 4.0) ** 2 - 1.0) / 16.0)
        return torch.tensor(out, dtype=spectrum.dtype)
    return read


def test_warp_equivariance_loss_is_zero_for_a_head_that_reads_the_stiffness():
    head = WarpHead(96, 10.0, 24.0, stiffness_max=0.01, n_candidates=21, detrend_rows=13)
    head.forward = _exact_reader(head)  # an exact B reader in place of the soft-argmax
    spectrum = torch.from_numpy(np.stack([_stiff(10.0, 0.0)[:, 0] + 50.0] * 16))
    loss = head.equivariance_loss(spectrum, 0.004, generator=torch.Generator().manual_seed(0))
    assert float(loss) < 1e-3  # in grid steps of 0.001: the reader is exact to ~3e-5 in B
    head.forward = lambda s: torch.zeros(s.shape[0])  # a head that ignores the warp is penalised
    assert float(head.equivariance_loss(spectrum, 0.004, generator=torch.Generator().manual_seed(0))) > 0.3


def test_warp_equivariance_alone_teaches_the_head_the_stiffness():
    torch.manual_seed(0)
    head = WarpHead(96, 30.0, 24.0, stiffness_max=0.008, n_candidates=33, detrend_rows=13)
    rng = np.random.default_rng(3)
    spectra = torch.from_numpy(np.stack([_stiff(30.0, b)[:, 0] + 50.0 for b in rng.uniform(0.0, 0.004, 64)]))
    opt = torch.optim.Adam(head.parameters(), lr=3e-3)
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        loss = head.equivariance_loss(spectra, 0.004, generator=gen)
        opt.zero_grad()
        loss.backward()
        opt.step()
    truth = np.array([0.0, 0.001, 0.002, 0.003, 0.004])
    test = torch.from_numpy(np.stack([_stiff(30.0, b)[:, 0] + 50.0 for b in truth]))
    with torch.no_grad():
        estimate = head(test).numpy()
    np.testing.assert_allclose(np.diff(estimate), 0.001, atol=0.0004)  # moves with B, step for step


def test_warp_model_starts_knowing_nothing_and_puts_the_stiffness_in_z1():
    model = build_model(_config(**WARP), seed=0)
    x = torch.from_numpy(np.stack([_stiff(b, s) for b, s in ((30.0, 0.0), (40.0, 0.004), (50.0, 0.002))]))
    mu, logvar = model.encode(x)
    assert mu.shape == (3, 4) and torch.count_nonzero(mu) == 0  # MIG at init is 0
    assert model.encoder.warp_head(torch.zeros(2, SHAPE[0])).abs().max() == 0


def test_decoder_warps_its_template_by_z1():
    model = build_model(_config(decoder="full", shift_to_decoder=False, **WARP), seed=0).eval()
    g = model.decoder.geo
    z = torch.zeros(2, 4)
    z[1, 1] = 0.003 / g.warp_scale
    with torch.no_grad():
        out = model.decode(z)
    expected = warp_rows(out[:1], torch.tensor([0.003]), g.warp_origin, 24.0)
    lo = int(g.warp_origin)  # below the fundamental the warp reads the template's margin
    np.testing.assert_allclose(out[1, lo:].numpy(), expected[0, lo:].numpy(), atol=1e-3)


def test_warp_config_errors():
    with pytest.raises(ConfigError, match="warp_bins_per_octave"):
        _config(warp=True)
    with pytest.raises(ConfigError, match="decoder 'full' or 'separable'"):
        _config(warp=True, warp_bins_per_octave=24, decoder="direct")
    with pytest.raises(ConfigError, match="odd integer"):
        _config(warp=True, warp_bins_per_octave=24, warp_candidates=40)
    with pytest.raises(ConfigError, match="envelope_latents"):
        _config(**{**WARP, "envelope_latents": 2})
    cfg = _config(**WARP)
    assert VAEConfig.from_json(cfg.to_json()) == cfg


def test_warp_head_reads_the_comb_from_each_items_fundamental():
    head = WarpHead(96, 10.0, 24.0, stiffness_max=0.01, n_candidates=21, detrend_rows=13)
    spectra = torch.from_numpy(np.stack([_stiff(b, 0.0)[:, 0] + 50.0 for b in (8.4, 10.0, 11.3)]))
    np.testing.assert_allclose(head.fundamental(spectra).numpy(), [8.4, 10.0, 11.3], atol=0.1)  # a tenth of a bin


@pytest.mark.parametrize("below", [4.0, 7.5, 11.0])
def test_warp_head_finds_a_fundamental_far_below_the_shift_heads_row(below):
    # The shift head can sit rows above the fundamental (shallow slopes): the comb must still be
    # read from the lowest partial, not from its skirt at the edge of a narrow window.
    head = WarpHead(96, 14.0, 24.0, stiffness_max=0.01, n_candidates=21, detrend_rows=13)
    stiffness = np.array([0.0, 0.002])
    spectra = torch.from_numpy(np.stack([_stiff(14.0 - below, b)[:, 0] + 50.0 for b in stiffness]))
    expected = 14.0 - below + 12.0 * np.log2(1.0 + stiffness)  # f_1 = f0 sqrt(1 + B)
    np.testing.assert_allclose(head.fundamental(spectra).numpy(), expected, atol=0.15)  # sub-row refinement error


def test_warp_head_never_takes_the_second_partial_for_the_fundamental():
    # A fundamental above the head's row, 12 dB below its second partial (an octave up).
    head = WarpHead(96, 14.0, 24.0, stiffness_max=0.01, n_candidates=21, detrend_rows=13)
    spectrum = _stiff(14.0 + REFINE_ROWS - 1, 0.0)[:, 0] + 50.0
    spectrum[:30] -= 12.0
    found = float(head.fundamental(torch.from_numpy(spectrum[None]))[0])
    assert found == pytest.approx(14.0 + REFINE_ROWS - 1, abs=0.1)


def test_warp_head_places_a_narrow_fundamental_to_a_tenth_of_a_row_however_the_view_is_translated():
    # The 518 Hz fundamental of the CQT (seed 4, time mean, dB): three rows wide, steep skirts.
    # The view reaches the head translated by fractions of a row (linear interpolation); the
    # cubic upsampling's argmax missed this peak by up to 0.43 rows, a level of stiffness or two.
    head = WarpHead(96, 14.0, 24.0, stiffness_max=0.01, n_candidates=21, detrend_rows=13)
    x = np.full(96, -40.0)
    x[12:17] = [-36.0, 2.0, 7.0, 1.0, -37.0]
    true = 14.0 + 0.5 * (2.0 - 1.0) / (2.0 - 2.0 * 7.0 + 1.0)  # the parabola's vertex on the rows
    shifts = torch.linspace(-0.5, 0.5, 11)
    moved = translate_rows(torch.from_numpy(x + 40.0).float()[None].repeat(11, 1), shifts, 96, 0.0)
    np.testing.assert_allclose(head.fundamental(moved).numpy(), (true + shifts).numpy(), atol=0.11)


def _three_partials(f0_row: float, stiffness: float, n_rows: int = 96) -> np.ndarray:
    """Partials 1..3 of a stiff string above ``f0_row`` over a floor of 0 (rows ``(n_rows,)``)."""
    rows = np.arange(n_rows)
    x = np.zeros(n_rows)
    for n in range(1, 4):
        centre = f0_row + 24.0 * np.log2(n * np.sqrt(1.0 + stiffness * n * n))
        x = np.maximum(x, 50.0 - 6.0 * np.log2(n) - (rows - centre) ** 2)
    return x.astype(np.float32)


def test_warp_head_estimate_does_not_depend_on_where_the_shift_head_sits():
    # The same stiff spectra with the head's row on the fundamental and 6 rows above it: one
    # estimate, whatever the comb's weights (the old window of REFINE_ROWS missed the fundamental).
    torch.manual_seed(0)
    head = WarpHead(96, 20.0, 24.0, stiffness_max=0.01, n_candidates=21, detrend_rows=13)
    with torch.no_grad():
        head.weight.normal_(0.0, 0.1)
    stiffness = (0.0, 0.002, 0.004)
    at = torch.from_numpy(np.stack([_three_partials(20.0, b) for b in stiffness]))
    below = torch.from_numpy(np.stack([_three_partials(14.0, b) for b in stiffness]))
    with torch.no_grad():
        np.testing.assert_allclose(head(below).numpy(), head(at).numpy(), atol=1e-4)


def test_warp_gradients_stay_finite_where_the_warp_is_clamped():
    stiffness = torch.tensor([-0.01, -0.004, 0.0, 0.003], requires_grad=True)  # -0.01: 1 + 4 B r < 0 high up
    x = torch.randn(4, 100, 2, requires_grad=True, generator=torch.Generator().manual_seed(0))
    warp_rows(x, stiffness, 40.0, 24.0).sum().backward()
    assert torch.isfinite(stiffness.grad).all() and torch.isfinite(x.grad).all()


def test_warp_head_fundamental_stays_in_its_window_on_a_flat_spectrum():
    head = WarpHead(96, 10.0, 24.0, stiffness_max=0.01, n_candidates=21, detrend_rows=13)
    flat = torch.zeros(2, 96)
    flat[1, 9:12] = 1e-6  # a near-flat top: the parabola's vertex would fly off
    found = head.fundamental(flat)  # the window: half an octave below origin (row 0 here) to REFINE_ROWS above
    assert found.min() >= 0.0 and found.max() <= 10.0 + REFINE_ROWS + 0.5
    assert torch.isfinite(head(flat)).all()


def _linear_input_config(**shift) -> VAEConfig:
    """A shift model on linear-frequency rows (an STFT): it reads them through its log view."""
    spec = {"input_offset": -50.0, "input_scale": 50.0, "input_bin_hz": 21.533203125, "log_fmin_hz": 110.0,
            "log_bins_per_octave": 36, "log_n_bins": 120, "decoder": "direct", **shift}
    return VAEConfig(input_shape=(513, 5), latent_dim=4, architecture="shift", hidden_sizes=(32,), shift=spec)


def test_log_view_is_linear_interpolation_of_the_linear_bins():
    """The view's two-tap gather against np.interp at each log row's frequency (the dense
    resampling matrix it replaced)."""
    model = build_model(_linear_input_config(), seed=0)
    x = np.random.default_rng(1).uniform(-80.0, 0.0, (2, 513, 5)).astype(np.float32)
    view = model.encoder.view(torch.from_numpy(x)).numpy()
    f_log = 110.0 * 2.0 ** (np.arange(120) / 36.0)
    for b in range(2):
        for t in range(5):
            expected = (np.interp(f_log / 21.533203125, np.arange(513), x[b, :, t]) + 50.0) / 50.0
            np.testing.assert_allclose(view[b, :, t], expected, atol=2e-6)


@pytest.mark.parametrize("linear_input", [True, False])
def test_equivariance_losses_take_the_encoders_own_view_and_position(linear_input):
    """What ShiftEncoder.parts returns, passed to the equivariance losses, gives the loss and
    gradients that computing them again gives (a pair step reads each item's view once)."""
    config = _linear_input_config() if linear_input else _config(warp=True, warp_bins_per_octave=24.0)
    model = build_model(config, seed=0)
    enc = model.encoder
    shape = (4, *config.input_shape)
    x = torch.from_numpy(np.random.default_rng(2).uniform(-80.0, 0.0, shape).astype(np.float32))
    mu, logvar, view, position = enc.parts(x)
    torch.testing.assert_close((mu, logvar), enc(x))
    losses = [enc.equivariance_loss] if linear_input else [enc.equivariance_loss, enc.warp_equivariance_loss]
    for loss in losses:
        given = loss(x, generator=torch.Generator().manual_seed(0), view=view, position=position)
        again = loss(x, generator=torch.Generator().manual_seed(0))
        torch.testing.assert_close(given, again)
        params = [p for p in enc.parameters() if p.requires_grad]
        g_given = torch.autograd.grad(given, params, retain_graph=True, allow_unused=True)
        g_again = torch.autograd.grad(again, params, allow_unused=True)
        for a, b in zip(g_given, g_again, strict=True):
            assert (a is None) == (b is None)
            if a is not None:
                torch.testing.assert_close(a, b)
