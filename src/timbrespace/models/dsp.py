"""Differentiable oscillators and filters of the DDSP audio decoder (:mod:`timbrespace.models.ddsp`).

Batched torch functions with no Python control flow on tensor values: a harmonic
oscillator bank with optional stiff-string stretch (:func:`harmonic_synth`), linear
interpolation of frame controls to the sample rate (:func:`upsample_frames`), DDSP's
``exp_sigmoid``, and time-varying FIR filtering of noise (:func:`frequency_impulse_response`,
:func:`fft_convolve`, :func:`filtered_noise`: DDSP's ``frequency_filter``).

References
----------
Engel, Hantrakul, Gu & Roberts, "DDSP: Differentiable digital signal processing", ICLR
2020. Fletcher, "Normal vibration frequencies of a stiff piano string", JASA 36(1), 1964.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

__all__ = [
    "exp_sigmoid",
    "fft_convolve",
    "filtered_noise",
    "frequency_impulse_response",
    "harmonic_synth",
    "upsample_frames",
]


def exp_sigmoid(x: torch.Tensor, exponent: float = 10.0, max_value: float = 2.0, threshold: float = 1e-7) -> torch.Tensor:
    """DDSP's positive nonlinearity for amplitudes: ``max_value * sigmoid(x) ** ln(exponent) + threshold``."""
    return max_value * torch.sigmoid(x) ** math.log(exponent) + threshold


def upsample_frames(frames: torch.Tensor, hop_length: int, n_samples: int) -> torch.Tensor:
    """Linear interpolation of frame controls to the sample rate.

    Parameters
    ----------
    frames : torch.Tensor [shape=(n, channels, n_frames)]
        Frame ``i`` is the value at sample ``i * hop_length``.
    hop_length : int
        Samples between frames.
    n_samples : int
        Samples returned (at most ``(n_frames - 1) * hop_length + 1``).

    Returns
    -------
    torch.Tensor [shape=(n, channels, n_samples)]
    """
    n_frames = frames.shape[-1]
    full = F.interpolate(frames, size=(n_frames - 1) * hop_length + 1, mode="linear", align_corners=True)
    return full[..., :n_samples]


def harmonic_synth(
    f0_hz: torch.Tensor,
    amplitudes: torch.Tensor,
    *,
    sample_rate: int,
    hop_length: int,
    n_samples: int,
    inharmonicity: torch.Tensor | None = None,
) -> torch.Tensor:
    """A bank of sinusoids at (stretched) multiples of f0.

    Partial ``k = 1..K`` sits at ``f_k = k f0 sqrt(1 + B k^2)`` and sounds
    ``a_k(t) sin(phi_k(t))`` with ``phi_k = sum_{s < t} 2 pi f_k(s) / sample_rate``
    (the running sum is taken in float64); a partial at or above Nyquist is silent.
    Without ``inharmonicity`` every ``f_k`` is an integer multiple of f0, so the
    fundamental's phase is wrapped to ``[0, 2 pi)`` first and ``phi_k = k phi_1`` taken in
    float32 (exact up to float32 rounding: ``k phi_1 < 2 pi K``), about half the cost.
    With one f0 per item (``f0_hz`` of shape ``(n,)``) the phase is ``2 pi frac(f_k t / sr)``
    in closed form, the frame ``f`` part in float64 and the sample-in-frame part added in
    float32, and the sum over partials within each pair of frames is one batched matrix
    product of the two frames' amplitudes with the sinusoids (the linear interpolation
    applied after it): 3 to 4 times faster than the general path, the same signal within
    float32 rounding (``tests/models/test_ddsp.py``).

    Parameters
    ----------
    f0_hz : torch.Tensor [shape=(n,) or (n, n_frames)]
        Fundamental in Hz, per item or per frame.
    amplitudes : torch.Tensor [shape=(n, K, n_frames)]
        Linear amplitude of each partial in each frame.
    sample_rate : int
        Hz.
    hop_length : int
        Samples between frames.
    n_samples : int
        Length of the output.
    inharmonicity : torch.Tensor [shape=(n,)], optional
        Stiffness ``B >= 0``; ``None``: harmonic.

    Returns
    -------
    torch.Tensor [shape=(n, n_samples), dtype of ``amplitudes``]
    """
    n, n_harmonics, n_frames = amplitudes.shape
    k = torch.arange(1, n_harmonics + 1, dtype=torch.float64, device=amplitudes.device)
    multiple = k[None, :].expand(n, n_harmonics)
    if inharmonicity is not None:
        multiple = multiple * torch.sqrt(1.0 + inharmonicity.double()[:, None] * k[None, :].square())
    f0 = f0_hz.double()
    if f0.dim() == 1 and n_frames >= 2 and n_samples <= (n_frames - 1) * hop_length:
        return _constant_f0_synth(multiple * f0[:, None], amplitudes, sample_rate=sample_rate,
                                  hop_length=hop_length, n_samples=n_samples)
    f0_frames = f0[:, None].expand(n, n_frames) if f0.dim() == 1 else f0
    f0_samples = upsample_frames(f0_frames[:, None, :], hop_length, n_samples)[:, 0]  # (n, T)
    omega = 2.0 * math.pi * f0_samples / sample_rate
    phase0 = torch.cumsum(omega, dim=1) - omega  # starts at 0
    if inharmonicity is None:  # integer multiples: wrap the fundamental's phase, then multiply in float32
        wrapped = torch.remainder(phase0, 2.0 * math.pi).to(amplitudes.dtype)
        phase = k.to(amplitudes.dtype)[None, :, None] * wrapped[:, None, :]
    else:
        phase = torch.remainder(multiple[:, :, None] * phase0[:, None, :], 2.0 * math.pi)
    below = (multiple[:, :, None] * f0_samples[:, None, :] < 0.5 * sample_rate).to(amplitudes.dtype)
    a = upsample_frames(amplitudes, hop_length, n_samples) * below
    return (a * torch.sin(phase.to(amplitudes.dtype))).sum(dim=1)


def _constant_f0_synth(partial_hz: torch.Tensor, amplitudes: torch.Tensor, *, sample_rate: int, hop_length: int,
                       n_samples: int) -> torch.Tensor:
    """:func:`harmonic_synth` for partials at constant frequencies ``partial_hz`` ``(n, K)`` Hz."""
    n, n_harmonics, n_frames = amplitudes.shape
    dtype, device = amplitudes.dtype, amplitudes.device
    n_segments = n_frames - 1
    cycles = partial_hz / sample_rate  # (n, K) cycles per sample, float64
    start = cycles[:, None, :] * (torch.arange(n_segments, dtype=torch.float64, device=device) * hop_length)[:, None]
    start = 2.0 * math.pi * (start - torch.floor(start))  # (n, segments, K): the phase at each frame
    within = cycles[:, :, None] * torch.arange(hop_length, dtype=torch.float64, device=device)
    within = 2.0 * math.pi * (within - torch.floor(within))  # (n, K, hop): the phase advance within a frame
    sines = torch.sin(start.to(dtype)[..., None] + within.to(dtype)[:, None, :, :])  # (n, segments, K, hop)
    below = (partial_hz < 0.5 * sample_rate).to(dtype)[:, :, None]  # a partial at or above Nyquist is silent
    a = (amplitudes * below).transpose(1, 2)  # (n, frames, K)
    pair = torch.stack([a[:, :-1], a[:, 1:]], dim=2)  # (n, segments, 2, K): each segment's two frames
    ends = torch.matmul(pair, sines)  # (n, segments, 2, hop)
    ramp = torch.arange(hop_length, dtype=dtype, device=device) / hop_length
    out = ends[:, :, 0] * (1.0 - ramp) + ends[:, :, 1] * ramp
    return out.reshape(n, n_segments * hop_length)[:, :n_samples]


def frequency_impulse_response(magnitudes: torch.Tensor) -> torch.Tensor:
    """Linear-phase FIR filters from magnitude responses (DDSP's ``frequency_impulse_response``).

    ``h = hann * roll(irfft(|H|), L // 2)[:L]`` with ``L = 2 (n_magnitudes - 1) - 1``: the
    zero-phase impulse response of the magnitudes, centred (a delay of ``L // 2``
    samples) and windowed to ``L`` taps.

    Parameters
    ----------
    magnitudes : torch.Tensor [shape=(..., n_magnitudes)]
        Linear gain at ``n_magnitudes`` frequencies evenly from 0 to Nyquist.

    Returns
    -------
    torch.Tensor [shape=(..., L)]
    """
    n_fft = 2 * (magnitudes.shape[-1] - 1)
    taps = n_fft - 1
    ir = torch.fft.irfft(torch.complex(magnitudes, torch.zeros_like(magnitudes)), n=n_fft)
    ir = torch.roll(ir, taps // 2, dims=-1)[..., :taps]
    window = torch.hann_window(taps, periodic=False, dtype=magnitudes.dtype, device=magnitudes.device)
    return ir * window


def fft_convolve(audio: torch.Tensor, impulse_responses: torch.Tensor) -> torch.Tensor:
    """Time-varying convolution: block ``b`` of the audio through filter ``b``, overlap-added.

    The audio is cut into ``n_blocks`` blocks of ``ceil(n_samples / n_blocks)`` samples;
    each is convolved (by FFT) with its own impulse response, the results are added at
    their blocks' offsets, and the output is advanced by ``L // 2`` samples, the delay of
    :func:`frequency_impulse_response`'s centred filters.

    Parameters
    ----------
    audio : torch.Tensor [shape=(n, n_samples)]
    impulse_responses : torch.Tensor [shape=(n, n_blocks, L)]

    Returns
    -------
    torch.Tensor [shape=(n, n_samples)]
    """
    n, n_samples = audio.shape
    n_blocks, taps = (int(v) for v in impulse_responses.shape[1:])  # sizes, constant under tracing
    n_samples = int(n_samples)
    block = -(-n_samples // n_blocks)
    n_fft = 1 << (block + taps - 2).bit_length()  # a power of two >= block + taps - 1
    frames = F.pad(audio, (0, block * n_blocks - n_samples)).reshape(n, n_blocks, block)
    out = torch.fft.irfft(torch.fft.rfft(frames, n=n_fft) * torch.fft.rfft(impulse_responses, n=n_fft), n=n_fft)
    length = (n_blocks - 1) * block + n_fft
    added = F.fold(out.transpose(1, 2), output_size=(1, length), kernel_size=(1, n_fft), stride=(1, block))
    delay = taps // 2
    return added.reshape(n, length)[:, delay : delay + n_samples]


def filtered_noise(noise: torch.Tensor, magnitudes: torch.Tensor) -> torch.Tensor:
    """White noise through time-varying filters (DDSP's ``FilteredNoise``).

    Parameters
    ----------
    noise : torch.Tensor [shape=(n_samples,) or (n, n_samples)]
        The excitation (shared by the items when 1-D).
    magnitudes : torch.Tensor [shape=(n, n_blocks, n_magnitudes)]
        Each block's linear gain from 0 Hz to Nyquist (:func:`frequency_impulse_response`).

    Returns
    -------
    torch.Tensor [shape=(n, n_samples)]
    """
    n = magnitudes.shape[0]
    excitation = noise.expand(n, noise.shape[-1]) if noise.dim() == 1 else noise
    return fft_convolve(excitation, frequency_impulse_response(magnitudes))
