"""A time-domain audio decoder: latents to a harmonic-plus-noise signal (DDSP), no phase retrieval.

:class:`AudioDecoder` maps a shift-VAE's latents ``z`` straight to audio, trained after the
VAE on its frozen encoder's means (:func:`~timbrespace.training.audio_decoder.fit_audio_decoder`):

* **f0** comes from the shift latent ``z[0]`` by the mapping the harmonic decoder uses
  (:func:`~timbrespace.models.harmonic.shift_f0_hz`): the head's row on the log-frequency
  view, plus an offset ``b`` calibrated once on the training audio
  (:func:`calibrate_f0_offset`). The network never guesses f0; with
  ``f0_correction_cents`` it may move it by a bounded amount, regressed on each training
  item's f0 measured in its audio near the latent's (:func:`measure_tuning`).
* a **tuning head** (``tuning_hidden_sizes``), a second MLP, gives that correction and,
  with ``inharmonicity="predicted"``, the stiffness ``B``: both regressed on each
  training item's own f0 and ``B`` measured in its audio to a fraction of a cent
  (:func:`measure_tuning`), never through the synthesis. A partial's frequency is what a
  spectral loss teaches worst and what a listener (and spectral convergence) punishes
  most: on the default run, the decoder given each item's true f0 and ``B`` reached
  spectral convergence 0.10 where the latent's f0 alone gave 0.45.
* an **MLP** maps ``z`` to ``n_frames`` frames of controls (frame ``i`` at sample
  ``i * hop_length``; with ``f0_correction_cents`` also a bounded correction of f0 per
  item): a total amplitude and a distribution over ``n_harmonics`` partials
  (DDSP's ``exp_sigmoid`` and a softmax), the magnitudes of a noise filter; each
  control's logit is an item-wide value plus a per-frame one (the item-wide part learns
  from every frame's gradient at once: a static spectrum and a level are learnt in a
  few epochs, the frames' motion after), and, with
  ``inharmonicity="predicted"``, one stiffness ``B = 1e-3 softplus(out)`` per item;
* the **harmonic oscillator bank** (:func:`~timbrespace.models.dsp.harmonic_synth`) renders partial ``k`` at
  ``f_k = k f0 sqrt(1 + B k^2)`` (Fletcher 1964) with phase ``cumsum(2 pi f_k / sr)``,
  amplitudes linearly interpolated from the frames to the samples; partials at or above
  Nyquist are silent;
* the **filtered noise** (:func:`~timbrespace.models.dsp.filtered_noise`) convolves a fixed white noise (a
  buffer drawn under ``noise_seed``: decoding is deterministic) block by block with FIR
  filters designed from the frames' magnitudes (:func:`~timbrespace.models.dsp.frequency_impulse_response`:
  inverse real FFT of zero-phase magnitudes, Hann-windowed), by FFT convolution and
  overlap-add (:func:`~timbrespace.models.dsp.fft_convolve`), as DDSP's ``frequency_filter``.

Every function is batched and has no Python control flow on tensor values.

References
----------
Engel, Hantrakul, Gu & Roberts, "DDSP: Differentiable digital signal processing", ICLR
2020 (harmonic-plus-noise synthesis, ``exp_sigmoid``, ``frequency_filter``). Fletcher,
"Normal vibration frequencies of a stiff piano string", JASA 36(1), 1964.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

import torch
import torch.nn.functional as F
from torch import nn

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.models.dsp import (
    exp_sigmoid,
    fft_convolve,
    filtered_noise,
    frequency_impulse_response,
    harmonic_synth,
    upsample_frames,
)
from timbrespace.models.harmonic import harmonic_salience, shift_f0_hz
from timbrespace.utils.fields import config_from_dict

__all__ = [
    "AudioDecoder",
    "AudioDecoderConfig",
    "audio_decoder_config",
    "calibrate_f0_offset",
    "exp_sigmoid",
    "fft_convolve",
    "filtered_noise",
    "frequency_impulse_response",
    "harmonic_synth",
    "measure_tuning",
    "upsample_frames",
]

INHARMONICITY_MODES = ("none", "predicted", "latent")
PREDICTED_B_SCALE = 1e-3  # B = 1e-3 softplus(out): 0.004 (the default grid's top) at out ~ 4
PREDICTED_B_INIT = -4.0  # softplus(-4) * 1e-3 ~ 2e-5: near harmonic at initialisation
NOISE_INIT = -5.0  # noise magnitudes start at exp_sigmoid(-5) ~ 1e-5 (DDSP's noise bias)
F0_CORRECTION_CENTS = 300.0  # audio_decoder_config's bound of the f0 correction
MAX_F0_CORRECTION_CENTS = 600.0  # any larger and the search could reach a fifth (702 cents) above or below
FRAME_S = 0.03125  # control frames of audio_decoder_config: 32 per second (250 samples at 8 kHz)
CALIBRATION_N_FFT = 2048
TUNING_MAX_WINDOW = 8192  # measure_tuning's Hann window at most (0.5 s at 16 kHz)
TUNING_ZERO_PAD = 4  # its FFT is this many times the window: a smooth spectrum between bins
TUNING_HARMONICS = 24
TUNING_COARSE_CENTS = 4.0  # measure_tuning's first grid: 4 cents by max_stiffness / 40
TUNING_COARSE_STIFFNESS_STEPS = 40
TUNING_HIDDEN_SIZES = (128, 128)  # audio_decoder_config's tuning head
TUNING_STIFFNESS_INIT = -8.0  # B = stiffness_max * sigmoid(out): 3e-6 at initialisation
CALIBRATION_STEP_BINS = 0.05
RESIDUAL_MAX_CENTS = F0_CORRECTION_CENTS  # measure_tuning_residual's search around the head's f0: the range the head was fitted in


@dataclass(frozen=True)
class AudioDecoderConfig:
    """Options of :class:`AudioDecoder` (JSON round trip with :meth:`to_dict` / :meth:`from_dict`).

    Parameters
    ----------
    latent_dim : int
        Latents read (all of them feed the MLP; ``z[f0_latent]`` also gives f0).
    sample_rate : int
        Hz.
    n_samples : int
        Samples per decoded item.
    fmin_hz, bins_per_octave : float
        The shift head's log-frequency view: row ``j`` at ``fmin_hz * 2 ** (j / bins_per_octave)``.
    centre_bins, shift_scale_bins : float
        The shift latent's geometry: ``p = centre_bins + shift_scale_bins * z[f0_latent]``.
    f0_offset_bins : float, optional
        ``b``, the fundamental's row from ``p``; ``None`` until
        :func:`calibrate_f0_offset` has set it.
    f0_latent : int
        Index of the shift latent.
    hop_length : int
        Samples between control frames (``n_frames = ceil(n_samples / hop_length) + 1``).
        On the default run, 250 (31 ms) with the item-wide logits reached a lower loss in
        20 epochs than 64 (8 ms) without them (1.67 against 1.88; resynthesis spectral
        convergence 0.45 against 0.56): fewer outputs to learn, and its notes' envelopes
        are smooth.
    n_harmonics : int
        Partials of the oscillator bank.
    n_noise_magnitudes : int
        Points of each noise filter's magnitude response, 0 Hz to Nyquist (FIR of
        ``2 (n - 1) - 1`` taps).
    hidden_sizes : tuple of int
        Hidden layers of the MLP (ReLU).
    inharmonicity : {"none", "predicted", "latent"}
        ``"predicted"``: one ``B = 1e-3 softplus(out)`` per item from the MLP; ``"latent"``:
        ``B = max(0, inharmonicity_scale * z[inharmonicity_latent])`` (a warp latent);
        ``"none"``: harmonic.
    inharmonicity_latent : int
    inharmonicity_scale : float
    f0_correction_cents : float
        The MLP (the tuning head, if any) may move the latent's f0 by at most this many
        cents per item (``f0_correction_cents * tanh(out)``, 0 at initialisation): a
        correction of the shift head's error, not a guess of f0. It is trained by
        regression on each training item's own f0 measured in its audio within that range
        of the latent's (:func:`measure_tuning`), not through the synthesis (detached
        there): the STFT loss has little gradient for a partial's frequency (trained
        through it, 50 cents changed nothing on the default run, 0.447 against 0.448). 0: none.
        At most 600. ``audio_decoder_config`` gives 300: on the default run the shift latent
        of bright, fast-decaying notes is up to 180 cents off, and a measurement bounded at
        100 cents left them (and the partials the amplitudes learnt from) wrong: seed 0's
        test spectral convergence 0.315 at 100, 0.295 at 300 (0.165 and 0.095 given each
        test item's measured tuning).
    tuning_hidden_sizes : tuple of int
        Hidden layers of the tuning head, a second MLP ``z -> (cents, B)`` for the f0
        correction and, with ``inharmonicity="predicted"``, the stiffness
        ``B = stiffness_max * sigmoid(out)``; both fitted by regression alone on the
        measured values (:func:`~timbrespace.training.audio_decoder.fit_audio_decoder`).
        Empty (decoders written before it): the main MLP gives them, ``B`` then
        ``1e-3 softplus(out)`` trained through the synthesis.
    stiffness_max : float
        Upper bound of the tuning head's ``B`` (and of its measurement).
    seed : int
        Seeds the weights and the noise buffer.
    """

    latent_dim: int
    sample_rate: int
    n_samples: int
    fmin_hz: float
    bins_per_octave: float
    centre_bins: float
    shift_scale_bins: float
    f0_offset_bins: float | None = None
    f0_latent: int = 0
    hop_length: int = 256
    n_harmonics: int = 32
    n_noise_magnitudes: int = 33
    hidden_sizes: tuple[int, ...] = (256, 256)
    inharmonicity: Literal["none", "predicted", "latent"] = "none"
    inharmonicity_latent: int = 1
    inharmonicity_scale: float = 0.0025
    f0_correction_cents: float = 0.0
    tuning_hidden_sizes: tuple[int, ...] = ()
    stiffness_max: float = 0.01
    seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_sizes", tuple(int(v) for v in self.hidden_sizes))
        object.__setattr__(self, "tuning_hidden_sizes", tuple(int(v) for v in self.tuning_hidden_sizes))
        for name in ("latent_dim", "sample_rate", "n_samples", "hop_length", "n_harmonics"):
            if int(getattr(self, name)) < 1:
                raise ConfigError(f"audio decoder {name}={getattr(self, name)} must be a positive integer")
        if self.n_noise_magnitudes < 3:
            raise ConfigError(f"audio decoder n_noise_magnitudes={self.n_noise_magnitudes} must be >= 3")
        if not self.hidden_sizes or min(self.hidden_sizes) < 1:
            raise ConfigError(f"audio decoder hidden_sizes={list(self.hidden_sizes)} must be positive sizes")
        if not (self.fmin_hz > 0 and self.bins_per_octave > 0 and self.shift_scale_bins > 0):
            raise ConfigError(f"audio decoder fmin_hz={self.fmin_hz}, bins_per_octave={self.bins_per_octave} and "
                              f"shift_scale_bins={self.shift_scale_bins} must be > 0")
        if self.tuning_hidden_sizes and min(self.tuning_hidden_sizes) < 1:
            raise ConfigError(f"audio decoder tuning_hidden_sizes={list(self.tuning_hidden_sizes)} must be positive sizes")
        if not 0.0 < self.stiffness_max <= 0.1:
            raise ConfigError(f"audio decoder stiffness_max={self.stiffness_max} must be in (0, 0.1]")
        if not 0.0 <= self.f0_correction_cents <= MAX_F0_CORRECTION_CENTS:
            raise ConfigError(f"audio decoder f0_correction_cents={self.f0_correction_cents} must be in "
                              f"[0, {MAX_F0_CORRECTION_CENTS:g}]")
        if self.inharmonicity not in INHARMONICITY_MODES:
            raise ConfigError(f"audio decoder inharmonicity={self.inharmonicity!r} is not allowed: one of "
                              f"{', '.join(INHARMONICITY_MODES)}")
        used = [self.f0_latent] + ([self.inharmonicity_latent] if self.inharmonicity == "latent" else [])
        if any(not 0 <= i < self.latent_dim for i in used):
            raise ConfigError(f"audio decoder latents {used} must be in 0..latent_dim-1={self.latent_dim - 1}")

    @property
    def n_frames(self) -> int:
        """Control frames: ``ceil(n_samples / hop_length) + 1`` (the last at or after the end)."""
        return -(-self.n_samples // self.hop_length) + 1

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict."""
        out = dataclasses.asdict(self)
        out["hidden_sizes"] = list(self.hidden_sizes)
        out["tuning_hidden_sizes"] = list(self.tuning_hidden_sizes)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AudioDecoderConfig:
        """Inverse of :meth:`to_dict`; unknown keys raise :class:`ConfigError`."""
        return config_from_dict(cls, data, "audio decoder")


class AudioDecoder(nn.Module):
    """``z -> audio``: harmonic oscillators plus filtered noise, controlled by an MLP (module docstring).

    ``forward(z)`` maps ``z`` float32 ``(n, latent_dim)`` to audio float32
    ``(n, n_samples)`` at ``config.sample_rate``. Weights are initialised under
    ``config.seed`` (the global RNG is forked, not reseeded).

    Raises
    ------
    ConfigError
        From :class:`AudioDecoderConfig`.

    References
    ----------
    Engel et al., "DDSP: differentiable digital signal processing", ICLR 2020.
    """

    def __init__(self, config: AudioDecoderConfig) -> None:
        super().__init__()
        self.config = c = config
        n_frames = c.n_frames
        tuned = bool(c.tuning_hidden_sizes)  # the tuning head gives the correction and B, not the body
        self.n_predicted_b = int(c.inharmonicity == "predicted" and not tuned)
        self.n_correction = int(c.f0_correction_cents > 0 and not tuned)
        self.n_controls = n_controls = 1 + c.n_harmonics + c.n_noise_magnitudes
        n_out = (n_frames + 1) * n_controls + self.n_correction + self.n_predicted_b
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(c.seed)
            self.body = _mlp([c.latent_dim, *c.hidden_sizes, n_out])
            self.tuning = _mlp([c.latent_dim, *c.tuning_hidden_sizes, 2]) if tuned else None
        with torch.no_grad():
            last = self.body[-1]
            item_wide = last.bias[n_frames * n_controls : (n_frames + 1) * n_controls]
            item_wide[1 + c.n_harmonics :] = NOISE_INIT
            if self.n_predicted_b:
                last.bias[-1] = PREDICTED_B_INIT
            if self.n_correction:  # no correction at initialisation
                row = n_out - self.n_predicted_b - 1
                last.weight[row] = 0.0
                last.bias[row] = 0.0
            if self.tuning is not None:  # no correction, B ~ 0 at initialisation
                self.tuning[-1].weight.zero_()
                self.tuning[-1].bias.copy_(torch.tensor([0.0, TUNING_STIFFNESS_INIT]))
        generator = torch.Generator().manual_seed(c.seed)
        n_padded = (n_frames - 1) * c.hop_length
        self.register_buffer("noise", 2.0 * torch.rand(n_padded, generator=generator) - 1.0)
        offset = 0.0 if c.f0_offset_bins is None else float(c.f0_offset_bins)
        self.register_buffer("f0_offset_bins", torch.tensor(offset))
        self.loss_history: list[float] = []  # epoch losses of the training (training.audio_decoder)
        self.tuning_summary: dict[str, float] | None = None  # how the tuning head fits what was measured

    def f0_hz(self, z: torch.Tensor) -> torch.Tensor:
        """f0 in Hz ``(n,)`` of latents ``z`` ``(n, latent_dim)`` (:func:`~timbrespace.models.harmonic.shift_f0_hz`)."""
        c = self.config
        return shift_f0_hz(z[:, c.f0_latent], fmin_hz=c.fmin_hz, bins_per_octave=c.bins_per_octave,
                           centre_bins=c.centre_bins, shift_scale_bins=c.shift_scale_bins,
                           offset_bins=self.f0_offset_bins)

    def controls(self, z: torch.Tensor, tuning: torch.Tensor | None = None) -> dict[str, torch.Tensor]:
        """The synthesiser's controls of latents ``z``.

        Parameters
        ----------
        z : torch.Tensor [shape=(n, latent_dim)]
        tuning : torch.Tensor [shape=(n, 2)], optional
            Each item's tuning residual (:meth:`measure_tuning_residual`): cents added to the
            tuning head's f0 correction and ``B`` added to its stiffness (the sum clamped to
            ``[0, stiffness_max]``). Needs the tuning head.

        Returns
        -------
        dict of str to torch.Tensor
            ``f0_hz`` ``(n,)``; ``amplitudes`` ``(n, n_harmonics, n_frames)`` (linear, zero
            at or above Nyquist); ``noise_magnitudes`` ``(n, n_frames, n_noise_magnitudes)``;
            ``inharmonicity`` ``(n,)`` (absent with ``"none"``).
        """
        c = self.config
        n, n_frames, n_controls = z.shape[0], c.n_frames, self.n_controls
        out = self.body(z)
        frames = out[:, : n_frames * n_controls].reshape(n, n_frames, n_controls)
        frames = frames + out[:, None, n_frames * n_controls : (n_frames + 1) * n_controls]
        f0 = self.f0_hz(z)
        stiffness: torch.Tensor | None = None
        if tuning is not None:
            tuning = self._check_tuning(z, tuning)
        if self.tuning is not None:  # trained by regression only (fit_audio_decoder): detached here
            cents, predicted = self.tuning_of(z)
            if tuning is not None:
                cents = cents + tuning[:, 0]
                if predicted is not None:
                    predicted = (predicted + tuning[:, 1]).clamp(0.0, c.stiffness_max)
            f0 = f0 * torch.exp2(cents.detach() / 1200.0)
            if predicted is not None:
                stiffness = predicted.detach()
        elif self.n_correction:
            cents = c.f0_correction_cents * torch.tanh(out[:, -1 - self.n_predicted_b])
            f0 = f0 * torch.exp2(cents.detach() / 1200.0)
        if c.inharmonicity == "predicted" and self.tuning is None:
            stiffness = PREDICTED_B_SCALE * F.softplus(out[:, -1])
        elif c.inharmonicity == "latent":
            stiffness = torch.clamp(c.inharmonicity_scale * z[:, c.inharmonicity_latent], min=0.0)
        k = torch.arange(1, c.n_harmonics + 1, dtype=z.dtype, device=z.device)
        partial_hz = f0[:, None] * k
        if stiffness is not None:
            partial_hz = partial_hz * torch.sqrt(1.0 + stiffness[:, None] * k.square())
        below = (partial_hz < 0.5 * c.sample_rate).to(z.dtype)  # (n, K)
        distribution = torch.softmax(frames[:, :, 1 : 1 + c.n_harmonics], dim=2) * below[:, None, :]
        distribution = distribution / distribution.sum(dim=2, keepdim=True).clamp_min(1e-7)
        amplitudes = exp_sigmoid(frames[:, :, :1]) * distribution  # (n, n_frames, K)
        out = {
            "f0_hz": f0,
            "amplitudes": amplitudes.transpose(1, 2),
            "noise_magnitudes": exp_sigmoid(frames[:, :, 1 + c.n_harmonics :]),
        }
        if stiffness is not None:
            out["inharmonicity"] = stiffness
        return out

    def tuning_of(self, z: torch.Tensor, dtype: torch.dtype = torch.float64) -> tuple[torch.Tensor, torch.Tensor | None]:
        """The tuning head's f0 correction in cents ``(n,)`` and stiffness ``B`` ``(n,)`` (``None``
        unless ``inharmonicity="predicted"``), computed in ``dtype`` (float64 to decode; the
        regression that fits the head runs in float32, 3x faster), with their gradients.

        Raises
        ------
        ConfigError
            If the decoder has no tuning head (``tuning_hidden_sizes`` empty).
        """
        c = self.config
        if self.tuning is None:
            raise ConfigError("this audio decoder has no tuning head (tuning_hidden_sizes is empty)")
        out = z.to(dtype)  # in float64: a partial's phase after 1 s multiplies f0's rounding by f0 * 1 s,
        for layer in self.tuning:  # and float32 rounding differs between a batch of one and of many
            out = (F.linear(out, layer.weight.to(dtype), layer.bias.to(dtype)) if isinstance(layer, nn.Linear)
                   else layer(out))
        cents = c.f0_correction_cents * torch.tanh(out[:, 0])
        stiffness = c.stiffness_max * torch.sigmoid(out[:, 1]) if c.inharmonicity == "predicted" else None
        return cents, stiffness

    def _check_tuning(self, z: torch.Tensor, tuning: torch.Tensor) -> torch.Tensor:
        """``tuning`` as float64 ``(n, 2)``, or a :class:`ParameterError` naming what is wrong."""
        if self.tuning is None:
            raise ConfigError("a tuning residual needs a decoder with a tuning head (tuning_hidden_sizes)")
        tuning = torch.as_tensor(tuning, dtype=torch.float64, device=z.device)
        if tuning.shape != (z.shape[0], 2) or not bool(torch.isfinite(tuning).all()):
            raise ParameterError(f"tuning of shape {tuple(tuning.shape)} must be finite and ({z.shape[0]}, 2): "
                                 "cents and B per item")
        return tuning

    @torch.no_grad()
    def measure_tuning_residual(self, z: torch.Tensor, audio: torch.Tensor, *,
                                max_cents: float = RESIDUAL_MAX_CENTS) -> torch.Tensor:
        """What each item's audio says of its tuning beyond the tuning head: ``(n, 2)`` float64,
        cents to add to the head's f0 and ``B`` to add to its stiffness.

        The partials' frequencies are what the latents place least precisely on notes the
        decoder has not heard (on the default run, 1 cent of f0 or 3e-6 of ``B`` moves the
        20th partial by a main lobe's fraction that spectral convergence sees). DDSP
        conditions its decoder on f0 measured in the audio (CREPE) for the same reason;
        here two numbers per item, measured by :func:`measure_tuning` within ``max_cents``
        of the head's f0 and over ``[0, stiffness_max]`` of ``B``, ride with the latents
        when a recording is encoded (``timbrespace encode``) and keep its tuning while its
        latents move.

        Parameters
        ----------
        z : torch.Tensor [shape=(n, latent_dim)]
            The items' latent means.
        audio : torch.Tensor [shape=(n, n_samples)]
            Their audio at ``config.sample_rate``.
        max_cents : float
            Half-width of the f0 search around the head's f0.

        Returns
        -------
        torch.Tensor [shape=(n, 2), dtype=float64]
            Zeros where the audio agrees with the head.

        Raises
        ------
        ConfigError
            The decoder has no tuning head.
        ParameterError
            ``z`` and ``audio`` of different item counts.
        """
        c = self.config
        if self.tuning is None:
            raise ConfigError("a tuning residual needs a decoder with a tuning head (tuning_hidden_sizes)")
        z = z.to(torch.float32)
        cents, predicted = self.tuning_of(z)
        f0 = self.f0_hz(z).double() * torch.exp2(cents / 1200.0)
        predicted_b = predicted is not None
        found_c, found_b = measure_tuning(f0, audio, sample_rate=c.sample_rate, max_cents=max_cents,
                                          max_stiffness=c.stiffness_max if predicted_b else 0.0)
        residual_b = found_b.double() - predicted if predicted is not None else torch.zeros_like(cents)
        return torch.stack([found_c.double(), residual_b], dim=1)

    def f0_correction(self, z: torch.Tensor) -> torch.Tensor:
        """The f0 correction in cents ``(n,)`` (zeros without ``f0_correction_cents``), with its gradient."""
        c = self.config
        if self.tuning is not None:
            return self.tuning_of(z)[0]
        if not self.n_correction:
            return torch.zeros(z.shape[0], dtype=z.dtype, device=z.device)
        return c.f0_correction_cents * torch.tanh(self.body(z)[:, -1 - self.n_predicted_b])

    def synthesize(self, controls: dict[str, torch.Tensor]) -> torch.Tensor:
        """Audio ``(n, n_samples)`` of :meth:`controls`' output."""
        c = self.config
        harmonic = harmonic_synth(controls["f0_hz"], controls["amplitudes"], sample_rate=c.sample_rate,
                                  hop_length=c.hop_length, n_samples=c.n_samples,
                                  inharmonicity=controls.get("inharmonicity"))
        magnitudes = controls["noise_magnitudes"]
        blocks = 0.5 * (magnitudes[:, 1:] + magnitudes[:, :-1])  # block i lies between frames i and i + 1
        noise = filtered_noise(self.noise, blocks)[:, : c.n_samples]
        return harmonic + noise

    def forward(self, z: torch.Tensor, tuning: torch.Tensor | None = None) -> torch.Tensor:
        return self.synthesize(self.controls(z, tuning))


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers of ``sizes`` with ReLU between them."""
    layers: list[nn.Module] = []
    for i, (a, b) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(nn.Linear(a, b))
        if i < len(sizes) - 2:
            layers.append(nn.ReLU())
    return nn.Sequential(*layers)


def audio_decoder_config(
    vae_config: Any,
    *,
    sample_rate: int,
    n_samples: int,
    fmin_hz: float | None = None,
    bins_per_octave: float | None = None,
    inharmonicity: Literal["none", "predicted", "latent"] | None = None,
    seed: int = 0,
) -> AudioDecoderConfig:
    """The :class:`AudioDecoderConfig` that reads a trained shift-VAE's latents.

    The f0 mapping is the model's: its view's geometry (``centre``, ``shift_scale_bins``)
    and, for a log-frequency input (CQT), the features' ``fmin_hz`` and
    ``bins_per_octave``; for a linear input (``shift.input_bin_hz``) the spec's log view.
    The tuning head (``TUNING_HIDDEN_SIZES``) corrects f0 by up to ±300 cents and predicts
    the stiffness ``B`` (``inharmonicity="predicted"``), both regressed on each training
    item's values measured in its audio (:func:`measure_tuning`): on the default run the
    shift latent is off by 41 ± 64 cents on the brightest notes, and a partial misplaced by
    more than a main lobe is lost to the spectral loss. With ``shift.warp`` the head reads
    the warp latent among the others (more precisely than ``B = scale * z[1]``,
    ``"latent"``). Control frames are ``FRAME_S`` = 31.25 ms apart. The f0 offset is left
    to calibration unless the spec fixes it (``harmonic_f0_offset_bins``).

    Parameters
    ----------
    vae_config : VAEConfig
        With ``architecture="shift"``, its ``input_shape`` and the fitted ``shift`` spec.
    sample_rate, n_samples : int
        Of the items' audio.
    fmin_hz, bins_per_octave : float, optional
        The log-frequency input's first bin (Hz) and resolution; needed without
        ``shift.input_bin_hz``.
    inharmonicity : {"none", "predicted", "latent"}, optional
        Overrides the choice above.
    seed : int

    Raises
    ------
    ConfigError
        If the model is not a shift model or the view's frequencies are unknown.
    """
    from timbrespace.models.shift import _Geometry

    spec = getattr(vae_config, "shift", None)
    if getattr(vae_config, "architecture", None) != "shift" or spec is None or vae_config.input_shape is None:
        raise ConfigError("the audio decoder reads f0 from a shift latent: it needs model.architecture 'shift' "
                          f"(got {getattr(vae_config, 'architecture', None)!r}) with a known input shape")
    g = _Geometry(spec, vae_config.input_shape, vae_config.latent_dim)
    if spec.input_bin_hz is not None:
        fmin_hz, bins_per_octave = spec.log_fmin_hz, spec.log_bins_per_octave
    if fmin_hz is None or bins_per_octave is None:
        raise ConfigError("the audio decoder needs the log-frequency input's fmin_hz and bins_per_octave "
                          "(a CQT) or shift.input_bin_hz (a linear input)")
    return AudioDecoderConfig(
        latent_dim=vae_config.latent_dim, sample_rate=int(sample_rate), n_samples=int(n_samples),
        fmin_hz=float(fmin_hz), bins_per_octave=float(bins_per_octave), centre_bins=float(g.centre),
        hop_length=max(1, round(FRAME_S * sample_rate)), f0_correction_cents=F0_CORRECTION_CENTS,
        shift_scale_bins=float(g.shift_scale), f0_offset_bins=spec.harmonic_f0_offset_bins,
        inharmonicity=inharmonicity or "predicted", inharmonicity_latent=1, tuning_hidden_sizes=TUNING_HIDDEN_SIZES,
        inharmonicity_scale=float(g.warp_scale), seed=seed,
    )


@torch.no_grad()
def measure_tuning(
    f0_hz: torch.Tensor,
    audio: torch.Tensor,
    *,
    sample_rate: int,
    max_cents: float,
    max_stiffness: float = 0.0,
    n_harmonics: int = TUNING_HARMONICS,
    chunk: int = 16,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Each item's f0 (in cents from a given f0) and stiffness ``B`` measured in its audio.

    The item's time-averaged power spectrum (Hann window of up to ``TUNING_MAX_WINDOW``
    samples, hop a quarter of it, zero-padded ``TUNING_ZERO_PAD`` times so that linear
    interpolation between bins follows the main lobe), square-root compressed (weak upper
    partials count) and scaled to its maximum, is summed with equal weights at the
    stiff-string partials ``n f sqrt(1 + B n^2)``, ``n = 1..n_harmonics`` below 0.95 of
    Nyquist (subharmonic summation, Hermes 1988, with Fletcher's partials); the sum is
    maximised over ``f = f0_hz 2^(c/1200)``, ``|c| <= max_cents``, and
    ``0 <= B <= max_stiffness``, on a grid of 4 cents by ``max_stiffness / 40`` refined twice
    by ten. On the default dataset (16 kHz, 1 s) it finds the generating f0 within 0.02
    cents and ``B`` within 4e-6 at the median (``tests/models/test_ddsp.py``).

    Parameters
    ----------
    f0_hz : torch.Tensor [shape=(n,)]
        Starting fundamentals, Hz (e.g. the shift latent's).
    audio : torch.Tensor [shape=(n, n_samples)]
    sample_rate : int
        Hz.
    max_cents : float
        Half-width of the f0 search.
    max_stiffness : float
        Upper end of the ``B`` search; 0: harmonic partials, ``B`` not searched.
    n_harmonics : int
        Partials summed.
    chunk : int
        Items scored at once (memory: ``chunk * 6,191 * n_harmonics`` values at ``max_cents`` 300).

    Returns
    -------
    cents : torch.Tensor [shape=(n,), dtype=float32]
        To add to ``f0_hz``.
    stiffness : torch.Tensor [shape=(n,), dtype=float32]
        ``B`` (zeros with ``max_stiffness`` 0).

    Raises
    ------
    ParameterError
        If ``f0_hz`` and ``audio`` have different item counts or the ranges are negative.
    """
    if f0_hz.shape[0] != audio.shape[0] or max_cents < 0 or max_stiffness < 0:
        raise ParameterError(f"measure_tuning: {f0_hz.shape[0]} f0 values for {audio.shape[0]} items, "
                             f"max_cents={max_cents}, max_stiffness={max_stiffness} (need equal counts, ranges >= 0)")
    spec, n_fft = _padded_mean_spectrum(audio)
    spec = spec.sqrt()
    bin_hz = sample_rate / n_fft
    top_bin = 0.95 * (n_fft // 2)
    h = torch.arange(1, n_harmonics + 1, dtype=torch.float64)
    stages = [(TUNING_COARSE_CENTS, max_cents, max_stiffness / TUNING_COARSE_STIFFNESS_STEPS, max_stiffness)]
    for _ in range(2):  # each stage: ten times finer, within one step of the last stage's best
        stages.append((stages[-1][0] / 10, stages[-1][0], stages[-1][2] / 10, stages[-1][2]))
    found_c, found_b = [], []
    for start in range(0, spec.shape[0], chunk):
        sp, f = spec[start : start + chunk], f0_hz[start : start + chunk].double()
        n = sp.shape[0]
        c0 = torch.zeros(n, dtype=torch.float64)
        b0 = torch.zeros(n, dtype=torch.float64)
        for c_step, c_span, b_step, b_span in stages:
            c_grid = torch.arange(-c_span, c_span + 1e-9, c_step, dtype=torch.float64)
            b_grid = (torch.arange(-b_span, b_span + 1e-15, b_step, dtype=torch.float64) if max_stiffness > 0
                      else torch.zeros(1, dtype=torch.float64))
            cc = (c0[:, None, None] + c_grid[None, :, None]).clamp(-max_cents, max_cents)
            bb = (b0[:, None, None] + b_grid[None, None, :]).clamp(0.0, max_stiffness)
            cc, bb = (t.reshape(n, -1) for t in torch.broadcast_tensors(cc, bb))
            pos = (f[:, None] * torch.exp2(cc / 1200.0))[:, :, None] * h * torch.sqrt(1.0 + bb[:, :, None] * h * h)
            pos = (pos / bin_hz).reshape(n, -1)
            lo = pos.floor().clamp(0, sp.shape[1] - 2)
            w = (pos - lo).clamp(0.0, 1.0)
            vals = (1 - w) * sp.gather(1, lo.long()) + w * sp.gather(1, lo.long() + 1)
            vals = torch.where(pos < top_bin, vals, torch.zeros_like(vals))
            best = vals.reshape(n, cc.shape[1], n_harmonics).sum(dim=2).argmax(dim=1, keepdim=True)
            c0, b0 = cc.gather(1, best)[:, 0], bb.gather(1, best)[:, 0]
        found_c.append(c0)
        found_b.append(b0)
    return torch.cat(found_c).float(), torch.cat(found_b).float()


def _padded_mean_spectrum(audio: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Time-averaged zero-padded Hann power spectra, as magnitudes ``(n, n_fft // 2 + 1)`` scaled to their maximum."""
    win = min(TUNING_MAX_WINDOW, 1 << (audio.shape[1].bit_length() - 1))
    n_fft = TUNING_ZERO_PAD * win
    x = F.pad(audio.double(), (win // 2, win // 2))
    frames = x.unfold(1, win, max(1, win // 4)) * torch.hann_window(win, periodic=False, dtype=torch.float64)
    spec = torch.fft.rfft(frames, n=n_fft).abs().square().mean(dim=1).sqrt()
    return spec / spec.amax(dim=1, keepdim=True).clamp_min(torch.finfo(spec.dtype).tiny), n_fft


def _mean_spectrum(audio: torch.Tensor) -> tuple[torch.Tensor, int]:
    """Time-averaged Hann magnitude spectra ``(n, n_fft // 2 + 1)``, each scaled to its maximum, and ``n_fft``."""
    n_fft = min(CALIBRATION_N_FFT, 1 << (audio.shape[1].bit_length() - 1))
    window = torch.hann_window(n_fft, dtype=torch.float64)
    spec = torch.stft(audio.double(), n_fft, hop_length=n_fft // 4, window=window, center=True,
                      return_complex=True).abs().mean(dim=2)
    return spec / spec.amax(dim=1, keepdim=True).clamp_min(torch.finfo(spec.dtype).tiny), n_fft


@torch.no_grad()
def calibrate_f0_offset(
    config: AudioDecoderConfig, z: torch.Tensor, audio: torch.Tensor, *, n_harmonics: int = 10
) -> float:
    """The offset ``b`` (rows of the view) under which the items' f0 best explains their audio.

    For each ``b`` on a grid of 0.05 rows over ±``centre_bins`` (half the view), the harmonic salience (subharmonic summation, Hermes
    1988; :func:`~timbrespace.models.harmonic.harmonic_salience`) of each item's
    time-averaged magnitude spectrum (Hann, ``n_fft`` 2048 or the item's length), scaled
    to its maximum, is taken at ``f0(z, b)`` and averaged over the items; ``b`` is its
    argmax. Because the shift latent is a translation shared by every item, the average
    peaks at the fundamental's offset even where a few items sit an octave off.

    Parameters
    ----------
    config : AudioDecoderConfig
    z : torch.Tensor [shape=(n, latent_dim)]
        Latent means of the items.
    audio : torch.Tensor [shape=(n, n_samples)]
        Their audio at ``config.sample_rate``.
    n_harmonics : int
        Partials summed by the salience.

    Returns
    -------
    float
        ``b``.

    Raises
    ------
    ParameterError
        If ``z`` and ``audio`` have different item counts, or no item.
    """
    if z.shape[0] != audio.shape[0] or z.shape[0] == 0:
        raise ParameterError(f"calibrate_f0_offset: z has {z.shape[0]} items and audio {audio.shape[0]}; "
                             "need the same positive count")
    spec, n_fft = _mean_spectrum(audio)
    half = float(config.centre_bins)
    grid = torch.linspace(-half, half, int(round(2 * half / CALIBRATION_STEP_BINS)) + 1, dtype=torch.float64)
    p = config.centre_bins + config.shift_scale_bins * z[:, config.f0_latent].double()
    f0 = config.fmin_hz * torch.exp2((p[:, None] + grid[None, :]) / config.bins_per_octave)
    score = harmonic_salience(spec, f0, bin_hz=config.sample_rate / n_fft, n_harmonics=n_harmonics).mean(dim=0)
    return float(grid[torch.argmax(score)])
