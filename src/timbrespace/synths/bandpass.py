"""Cumulative partials through a band-pass biquad (seed 000, 4-factor set A).

Seed 000 (``CreateSnds.py``, pyo offline server) sums partials at ``(2k + j) f0`` for
``k = 0..K-1`` (harmonicity ``j``; ``j = 0`` gives even harmonics, ``j = 1`` odd ones,
values between are inharmonic) and filters the sum with a band-pass biquad of centre
``cutoff_hz`` and quality ``q``. The seed's grid: ``f0 = 110`` Hz, ``j`` in
``{0, 0.1, ..., 0.9}``, ``K = 1..20``, cutoff ``f * 220.5`` Hz (``f = 1..10``),
``Q = 1..10``. With ``j = 0`` the ``k = 0`` partial is at 0 Hz and silent, as in the seed.
Partials at or above Nyquist are dropped; the output is peak-normalised to 0.9.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from timbrespace.synths._filters import bandpass_coefficients, biquad
from timbrespace.synths._oscillators import sine_bank
from timbrespace.synths.base import Parameter, SoundModel
from timbrespace.synths.registry import register_sound_model

__all__ = ["AdditiveBandpass", "peak_normalise"]


def peak_normalise(audio: np.ndarray, peak: float = 0.9) -> np.ndarray:
    """Scale every row of ``audio`` to the given peak; silent rows stay zero (float32)."""
    audio = np.asarray(audio, dtype=np.float32)
    top = np.max(np.abs(audio), axis=1, keepdims=True)
    return np.divide(peak * audio, top, out=np.zeros_like(audio), where=top > 0)


@register_sound_model
class AdditiveBandpass(SoundModel):
    """Seed 000's additive + band-pass model (see module docstring).

    References
    ----------
    Seed 000, ``CreateSnds.py``; R. Bristow-Johnson, "Audio EQ cookbook" (band-pass).

    Examples
    --------
    >>> from timbrespace.synths import AdditiveBandpass
    >>> y = AdditiveBandpass().render({"cutoff_hz": [500.0, 2000.0]}, sample_rate=8000,
    ...                               duration_s=0.1)
    >>> y.shape
    (2, 800)
    """

    name: ClassVar[str] = "additive_bandpass"
    description: ClassVar[str] = (
        "partials at (2k + j) f0 added cumulatively, through a band-pass biquad"
    )
    reference: ClassVar[str] = "seed 000 CreateSnds.py set A (ATIAM 2017); RBJ cookbook"
    default_sample_rate: ClassVar[int] = 44100
    default_duration_s: ClassVar[float] = 0.2
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("f0_hz", 20.0, 5000.0, 110.0, "Hz", "log", "base frequency f0"),
        Parameter(
            "harmonicity",
            0.0,
            1.0,
            0.0,
            "",
            "linear",
            "j: partial k sits at (2k + j) f0 (0 even, 1 odd harmonics, between inharmonic)",
        ),
        Parameter(
            "n_partials",
            1,
            100,
            10,
            "",
            "linear",
            "K: partials k = 0..K-1 sound (seed 1..20)",
            integer=True,
        ),
        Parameter(
            "cutoff_hz",
            20.0,
            20000.0,
            1102.5,
            "Hz",
            "log",
            "centre of the band-pass (clamped to 0.45 sample_rate)",
        ),
        Parameter(
            "q", 0.1, 50.0, 1.0, "", "log", "quality factor of the band-pass: centre / bandwidth"
        ),
    )

    def _render(self, params, *, sample_rate, n_samples, seed, item_index):
        n_partials = params["n_partials"].astype(np.int64)
        slots = int(n_partials.max())
        k = np.arange(slots, dtype=np.float64)[None, :]
        freqs = (2.0 * k + params["harmonicity"][:, None]) * params["f0_hz"][:, None]
        active = (k < n_partials[:, None]) & (freqs < 0.5 * sample_rate) & (freqs > 0.0)
        amps = active.astype(np.float64)
        audio = sine_bank(
            np.where(active, freqs, 0.0), amps, sample_rate=sample_rate, n_samples=n_samples
        )
        b, a = bandpass_coefficients(params["cutoff_hz"], params["q"], sample_rate=sample_rate)
        return peak_normalise(biquad(audio, b, a))
