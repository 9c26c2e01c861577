"""Additive synthesis with spectral slope, harmonic presence, inharmonicity and decay.

Seed 001 ("Disentangling variation factors in audio samples", ATIAM 2017): partial
``h`` of a stiff string sits at ``f_h = h f0 sqrt(1 + B h^2)`` (Fletcher 1964), the
amplitudes follow a spectral slope, a presence switch keeps all, odd, or even (plus the
fundamental) harmonics, and the sum decays as ``exp(-decay t)``. Unlike the seed, every
partial is kept (the seed skipped the last one) and partials at or above Nyquist are
dropped rather than aliased; the slope is declared in dB per octave so it can be
measured back from the sound.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from timbrespace.synths._oscillators import sine_bank
from timbrespace.synths.base import Parameter, SoundModel
from timbrespace.synths.registry import register_sound_model
from timbrespace.utils.seeding import item_rng

__all__ = ["Additive", "harmonic_numbers", "partial_frequencies", "partial_amplitudes"]

PRESENCE = ("all", "odd", "even")
_DB_PER_OCTAVE_TO_EXPONENT = 1.0 / (20.0 * np.log10(2.0))  # a_h = h ** (slope_db / 6.0206)


def harmonic_numbers(presence: np.ndarray, n_partials_max: int) -> np.ndarray:
    """Harmonic number of each partial slot.

    Parameters
    ----------
    presence : np.ndarray [shape=(n_items,)]
        Codes 0 = all (1, 2, 3, ...), 1 = odd (1, 3, 5, ...), 2 = even plus the
        fundamental (1, 2, 4, 6, ...).
    n_partials_max : int
        Number of slots.

    Returns
    -------
    np.ndarray [shape=(n_items, n_partials_max), dtype=float64]
    """
    k = np.arange(n_partials_max, dtype=np.float64)[None, :]
    presence = np.asarray(presence)[:, None]
    all_h = k + 1.0
    odd_h = 2.0 * k + 1.0
    even_h = np.where(k == 0, 1.0, 2.0 * k)
    return np.where(presence == 0, all_h, np.where(presence == 1, odd_h, even_h))


def partial_frequencies(
    f0_hz: np.ndarray, harmonics: np.ndarray, inharmonicity: np.ndarray
) -> np.ndarray:
    """Stiff-string partial frequencies ``h f0 sqrt(1 + B h^2)`` in Hz, shape of ``harmonics``."""
    b = np.asarray(inharmonicity, dtype=np.float64)[:, None]
    return (
        np.asarray(f0_hz, dtype=np.float64)[:, None] * harmonics * np.sqrt(1.0 + b * harmonics**2)
    )


def partial_amplitudes(harmonics: np.ndarray, slope_db_per_octave: np.ndarray) -> np.ndarray:
    """Linear amplitude ``h ** (slope / 6.02)``: each octave changes the level by ``slope`` dB."""
    slope = np.asarray(slope_db_per_octave, dtype=np.float64)[:, None]
    return harmonics ** (slope * _DB_PER_OCTAVE_TO_EXPONENT)


@register_sound_model
class Additive(SoundModel):
    """Additive model of seed 001 (see module docstring)."""

    name: ClassVar[str] = "additive"
    description: ClassVar[str] = (
        "harmonic/inharmonic partials with spectral slope, presence, stiff-string "
        "inharmonicity and exponential decay"
    )
    reference: ClassVar[str] = "seed 001 (ATIAM 2017); stiff-string law, Fletcher 1964"
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("f0_hz", 20.0, 5000.0, 220.0, "Hz", "log", "fundamental frequency"),
        Parameter(
            "slope_db_per_octave",
            -24.0,
            0.0,
            -6.0,
            "dB/octave",
            "linear",
            "level change of the partials per octave above the fundamental",
        ),
        Parameter(
            "presence",
            0,
            2,
            0,
            "",
            "linear",
            "which harmonics sound: all, odd, or even (plus the fundamental)",
            choices=PRESENCE,
        ),
        Parameter(
            "inharmonicity",
            0.0,
            0.1,
            0.0,
            "",
            "linear",
            "stiff-string coefficient B: partial h at h f0 sqrt(1 + B h^2)",
        ),
        Parameter(
            "decay_per_s",
            0.0,
            50.0,
            0.0,
            "1/s",
            "linear",
            "exponential decay rate: x(t) exp(-decay t)",
        ),
        Parameter(
            "n_partials",
            1,
            200,
            30,
            "",
            "linear",
            "number of partials (those at or above Nyquist are dropped)",
            integer=True,
        ),
        Parameter(
            "snr_db",
            -20.0,
            120.0,
            120.0,
            "dB",
            "linear",
            "signal-to-noise ratio of added white noise; 120 dB and above adds none",
        ),
    )

    def _render(self, params, *, sample_rate, n_samples, seed, item_index):
        n_partials = params["n_partials"].astype(np.int64)
        slots = int(n_partials.max())
        harmonics = harmonic_numbers(params["presence"], slots)
        freqs = partial_frequencies(params["f0_hz"], harmonics, params["inharmonicity"])
        amps = partial_amplitudes(harmonics, params["slope_db_per_octave"])
        active = (np.arange(slots)[None, :] < n_partials[:, None]) & (freqs < 0.5 * sample_rate)
        amps = np.where(active, amps, 0.0)
        freqs = np.where(active, freqs, 0.0)
        audio = sine_bank(
            freqs,
            amps,
            sample_rate=sample_rate,
            n_samples=n_samples,
            decay_per_s=params["decay_per_s"],
        )
        noisy = params["snr_db"] < 120.0
        if noisy.any():
            power = np.mean(audio.astype(np.float64) ** 2, axis=1)
            for i in np.flatnonzero(noisy):
                rng = item_rng(seed, int(item_index[i]))
                sigma = np.sqrt(power[i] / 10.0 ** (params["snr_db"][i] / 10.0))
                audio[i] += (sigma * rng.standard_normal(n_samples)).astype(np.float32)
        peak = np.max(np.abs(audio), axis=1, keepdims=True)
        audio *= np.divide(np.float32(0.9), peak, out=np.zeros_like(peak), where=peak > 0)
        return audio
