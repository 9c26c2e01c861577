"""Training the DDSP audio decoder: determinism, the loss falls, checkpoint round trip, decode_audio."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.models.ddsp import AudioDecoder, AudioDecoderConfig
from timbrespace.models.dsp import harmonic_synth
from timbrespace.training.audio_decoder import (
    AUDIO_DECODER_DIR,
    audio_fft_sizes,
    decode_audio,
    fit_audio_decoder,
    load_audio_decoder,
    save_audio_decoder,
)

SR, N = 8000, 2000


def _config(**kw: object) -> AudioDecoderConfig:
    base: dict = dict(latent_dim=3, sample_rate=SR, n_samples=N, fmin_hz=50.0, bins_per_octave=24.0,
                      centre_bins=71.5, shift_scale_bins=36.0, f0_offset_bins=None, hidden_sizes=(16,),
                      n_harmonics=8, hop_length=125)
    return AudioDecoderConfig(**{**base, **kw})


def _items(n: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Harmonic notes whose shift latent is their f0 on the view (offset 0) and a decay latent."""
    gen = torch.Generator().manual_seed(0)
    f0 = 150 * 2 ** (2 * torch.rand(n, generator=gen, dtype=torch.float64))
    decay = 1 + 8 * torch.rand(n, generator=gen, dtype=torch.float64)
    frames = torch.arange(17, dtype=torch.float64) * 125 / SR
    amps = (0.7 ** torch.arange(8, dtype=torch.float64))[None, :, None] * torch.exp(-decay[:, None, None] * frames)
    audio = 0.5 * harmonic_synth(f0, amps, sample_rate=SR, hop_length=125, n_samples=N)
    mu = torch.stack([(24 * torch.log2(f0 / 50) - 71.5) / 36, (decay - 5) / 4, torch.zeros(n, dtype=torch.float64)], 1)
    return mu.float().numpy(), audio.float().numpy()


def _fit(seed: int = 0, epochs: int = 3) -> AudioDecoder:
    mu, audio = _items()
    return fit_audio_decoder(AudioDecoder(_config()), mu, audio, sample_rate=SR, epochs=epochs, batch_size=4,
                             lr=3e-3, seed=seed)


def test_fit_is_deterministic_the_loss_falls_and_f0_is_calibrated() -> None:
    a, b = _fit(), _fit()
    for (name, ta), tb in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.equal(ta, tb), name
    assert len(a.loss_history) == 3 and a.loss_history[-1] < a.loss_history[0]
    assert abs(float(a.f0_offset_bins)) < 0.2  # the notes sit at offset 0
    assert not a.training and torch.get_num_threads() >= 1
    c = _fit(seed=1)
    assert not torch.equal(c.body[0].weight, a.body[0].weight)  # the item order follows the seed


def test_save_load_round_trip_and_decode_audio(tmp_path) -> None:
    model = _fit(epochs=1)
    run = tmp_path / "run"
    folder = save_audio_decoder(model, run / "checkpoints" / AUDIO_DECODER_DIR)
    loaded = load_audio_decoder(folder)
    assert loaded.config.f0_offset_bins == pytest.approx(float(model.f0_offset_bins))
    assert loaded.loss_history == pytest.approx(model.loss_history)
    for (name, ta), tb in zip(model.state_dict().items(), loaded.state_dict().values(), strict=True):
        assert torch.equal(ta, tb), name
    z = _items()[0][:3]
    from_run, sr = decode_audio(run, z)
    assert sr == SR and from_run.shape == (3, N) and from_run.dtype == np.float32
    np.testing.assert_array_equal(from_run, decode_audio(model, z)[0])
    np.testing.assert_allclose(decode_audio(folder, z[0])[0], from_run[:1], atol=1e-6)  # one item: other float sums
    save_audio_decoder(model, folder)  # replaces the folder whole
    assert sorted(p.name for p in folder.iterdir()) == ["model.json", "model.safetensors"]


def test_refusals(tmp_path) -> None:
    mu, audio = _items()
    model = AudioDecoder(_config())
    with pytest.raises(ParameterError, match="sample_rate=16000"):
        fit_audio_decoder(model, mu, audio, sample_rate=16000, epochs=1, batch_size=4, lr=1e-3, seed=0)
    with pytest.raises(ParameterError, match="audio_train"):
        fit_audio_decoder(model, mu, audio[:, :100], sample_rate=SR, epochs=1, batch_size=4, lr=1e-3, seed=0)
    with pytest.raises(ParameterError, match="finite"):
        fit_audio_decoder(model, mu * np.nan, audio, sample_rate=SR, epochs=1, batch_size=4, lr=1e-3, seed=0)
    with pytest.raises(FileNotFoundError):
        decode_audio(tmp_path, mu)
    with pytest.raises(ParameterError, match="latent_dim|3\\)"):
        decode_audio(model, np.zeros((2, 5), dtype=np.float32))
    (tmp_path / "model.json").write_text('{"format": "timbrespace.vae", "version": 1, "config": {}}')
    with pytest.raises(ConfigError, match="format"):
        load_audio_decoder(tmp_path)


def test_fft_sizes_fit_the_item() -> None:
    assert audio_fft_sizes(4000) == (2048, 1024, 512)
    assert audio_fft_sizes(1000) == (1024, 512, 256)
    with pytest.raises(ParameterError):
        audio_fft_sizes(10)


def test_f0_correction_is_regressed_on_the_items_own_f0() -> None:
    """Latents that say f0 is 40 cents flat: the correction learns to add about 40 cents."""
    mu, audio = _items()
    mu = mu.copy()
    mu[:, 0] -= 24 * 40 / 1200 / 36  # 40 cents lower on the view
    model = AudioDecoder(_config(f0_correction_cents=60.0, f0_offset_bins=0.0))
    fit_audio_decoder(model, mu, audio, sample_rate=SR, epochs=30, batch_size=4, lr=1e-2, seed=0)
    with torch.no_grad():
        cents = model.f0_correction(torch.from_numpy(mu))
    assert float(cents.mean()) == pytest.approx(40.0, abs=8.0)


def test_tuning_head_learns_each_items_f0_and_stiffness_from_its_audio() -> None:
    """Stiff notes whose third latent is their B and whose shift latent is 40 cents flat: the
    tuning head, fitted on what it measures in the audio, gives back f0 and B; the spectral
    loss never sees them (detached), and the weights are the same for the same seed."""
    gen = torch.Generator().manual_seed(1)
    n = 16
    f0 = 150 * 2 ** (2 * torch.rand(n, generator=gen, dtype=torch.float64))
    b = 0.004 * torch.rand(n, generator=gen, dtype=torch.float64)
    amps = (0.8 ** torch.arange(8, dtype=torch.float64))[None, :, None].expand(n, 8, 17).contiguous()
    audio = (0.5 * harmonic_synth(f0, amps, sample_rate=SR, hop_length=125, n_samples=N, inharmonicity=b)).float()
    mu = torch.stack([(24 * torch.log2(f0 / 50) - 71.5 - 24 * 40 / 1200) / 36, torch.zeros(n, dtype=torch.float64),
                      b / 0.004 - 0.5], 1).float()
    config = _config(f0_correction_cents=100.0, f0_offset_bins=0.0, tuning_hidden_sizes=(32, 32),
                     inharmonicity="predicted")
    model = fit_audio_decoder(AudioDecoder(config), mu.numpy(), audio.numpy(), sample_rate=SR, epochs=1,
                              batch_size=8, lr=3e-3, seed=0)
    with torch.no_grad():
        controls = model.controls(mu)
    cents = 1200 * torch.log2(controls["f0_hz"].double() / f0)
    assert cents.abs().max() < 1.0
    torch.testing.assert_close(controls["inharmonicity"].double(), b, atol=1e-4, rtol=0)
    again = fit_audio_decoder(AudioDecoder(config), mu.numpy(), audio.numpy(), sample_rate=SR, epochs=1,
                              batch_size=8, lr=3e-3, seed=0)
    for (name, ta), tb in zip(model.state_dict().items(), again.state_dict().values(), strict=True):
        assert torch.equal(ta, tb), name
    assert model.tuning_summary["fit_cents_median_abs_error"] < 1.0
