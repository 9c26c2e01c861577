"""Additive synthesis with spectral slope, harmonic presence, inharmonicity and decay.

Seed 001 ("Disentangling variation factors in audio samples", ATIAM 2017): partial
``h`` of a stiff string sits at ``f_h = h f0 sqrt(1 + B h^2)`` (Fletcher 1964), the
amplitudes follow a spectral slope, a presence switch keeps all, odd, or even (plus the
fundamental) harmonics, and the sum decays as ``exp(-decay t)``. Unlike the seed, every
partial is kept (the seed skipped the last one) and partials at or above Nyquist are
dropped rather than aliased; the slope is declared in dB per octave so it can be
measured back from the sound.

:class:`AdditiveSeed001` (``additive_seed001``) is the seed's engine on the seed's own
scales (linear amplitude slope -0.1..-0.9, inharmonicity 0..1 used as ``B``, modes up
to ``n_modes``), for its grid as the seed wrote it (preset ``seed001-toydataset``).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from timbrespace.synths._oscillators import sine_bank
from timbrespace.synths.base import Parameter, SoundModel
from timbrespace.synths.registry import register_sound_model
from timbrespace.utils.seeding import item_rng

__all__ = [
    "Additive",
    "AdditiveSeed001",
    "harmonic_numbers",
    "partial_frequencies",
    "partial_amplitudes",
    "seed001_amplitudes",
    "seed001_mode_counts",
]

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
    """Additive model of seed 001 (see module docstring).

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.synths import Additive
    >>> y = Additive().render({"f0_hz": [220.0, 440.0], "decay_per_s": 5.0},
    ...                       sample_rate=8000, duration_s=0.1, seed=0)
    >>> y.shape, y.dtype
    ((2, 800), dtype('float32'))
    >>> (np.argmax(np.abs(np.fft.rfft(y, axis=1)), axis=1) * 10).tolist()  # peak, Hz (10 Hz bins)
    [220, 440]
    """

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


QUIRKS = ("fixed", "seed")


def seed001_amplitudes(
    harmonics: np.ndarray, slope: np.ndarray, n_modes_norm: np.ndarray
) -> np.ndarray:
    """Seed 001's linear spectral slope: ``max(0, 1 + slope (h - 1) / n)``.

    Parameters
    ----------
    harmonics : np.ndarray [shape=(n_items, n_slots)]
        Harmonic number ``h`` of each mode.
    slope : np.ndarray [shape=(n_items,)]
        The seed's ``PS`` (its grid: -0.1..-0.9); 0 gives equal amplitudes.
    n_modes_norm : np.ndarray [shape=(n_items,)]
        The seed's ``n_modes`` after its presence switch: the number of modes it counts.

    Returns
    -------
    np.ndarray [shape=(n_items, n_slots), dtype=float64]
        Linear amplitudes, 1 at the fundamental, falling linearly in ``h``, floored at 0.
    """
    slope = np.asarray(slope, dtype=np.float64)[:, None]
    n = np.asarray(n_modes_norm, dtype=np.float64)[:, None]
    return np.clip(((harmonics - 1.0) * slope + n) / n, 0.0, None)


def seed001_mode_counts(presence: np.ndarray, n_modes: np.ndarray) -> np.ndarray:
    """The seed's ``n_modes`` after its presence switch (Python 2 integer division).

    ``all``: ``n``; ``odd``: ``n // 2``; ``even`` (plus the fundamental): ``n // 2 + 1``.
    For an even ``n`` this is the number of modes present.
    """
    n = np.asarray(n_modes, dtype=np.int64)
    presence = np.asarray(presence)
    return np.where(presence == 0, n, np.where(presence == 1, n // 2, n // 2 + 1))


@register_sound_model
class AdditiveSeed001(SoundModel):
    """Seed 001's additive engine on the seed's own parameter scales.

    The seed's ``audioEngine.render_sound`` (ATIAM 2017, toyDataset): modes ``h`` up to
    ``n_modes`` (all; odd; even plus the fundamental), mode ``h`` at
    ``h f0 sqrt(1 + inh h^2)`` (the seed's inharmonicity *is* the stiffness ``B`` of the
    stiff-string law, 0..1 in its grid), amplitude ``max(0, 1 + slope (h - 1) / n)``
    with ``n`` the seed's mode count (:func:`seed001_mode_counts`) and ``slope`` its
    ``PS`` (-0.1..-0.9 in its grid), the sum times ``exp(-decay t)``. ``quirks="fixed"``
    (default) sounds every mode below Nyquist; ``quirks="seed"`` renders as the seed
    did: the last counted mode skipped (its ``range(n_modes - 1)``) and modes above
    Nyquist kept, aliased. Either way the output is peak-normalised to 0.9 (the seed
    divided by ``max(y)``).

    Examples
    --------
    >>> from timbrespace.synths import AdditiveSeed001
    >>> model = AdditiveSeed001()
    >>> model.default_sample_rate, model.parameter("slope").range_text()
    (8000, '-1..0')
    >>> model.render({"f0_hz": [110.0, 220.0, 440.0]}, duration_s=0.1).shape
    (3, 800)
    """

    name: ClassVar[str] = "additive_seed001"
    description: ClassVar[str] = (
        "seed 001's additive engine on its own scales: linear amplitude slope, "
        "inharmonicity 0..1 as the stiffness B, all/odd/even modes up to n_modes, decay"
    )
    reference: ClassVar[str] = "seed 001 (ATIAM 2017), toyDataset/audioEngine.py render_sound"
    default_sample_rate: ClassVar[int] = 8000
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("f0_hz", 20.0, 5000.0, 220.0, "Hz", "log", "fundamental frequency"),
        Parameter(
            "slope",
            -1.0,
            0.0,
            -0.5,
            "",
            "linear",
            "the seed's linear spectral slope: mode h has amplitude max(0, 1 + slope (h - 1) / n_modes)",
        ),
        Parameter(
            "presence",
            0,
            2,
            0,
            "",
            "linear",
            "which modes up to n_modes sound: all, odd, or even (plus the fundamental)",
            choices=PRESENCE,
        ),
        Parameter(
            "inharmonicity",
            0.0,
            1.0,
            0.0,
            "",
            "linear",
            "the seed's inharmonicity, the stiffness B: mode h at h f0 sqrt(1 + B h^2)",
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
            "n_modes",
            1,
            200,
            10,
            "",
            "linear",
            "highest harmonic number considered (the seed's n_modes, 10)",
            integer=True,
        ),
        Parameter(
            "quirks",
            0,
            1,
            0,
            "",
            "linear",
            "fixed: every mode below Nyquist sounds; seed: last mode skipped, modes above Nyquist aliased",
            choices=QUIRKS,
        ),
    )

    def _render(self, params, *, sample_rate, n_samples, seed, item_index):
        n_modes = params["n_modes"].astype(np.int64)
        presence = params["presence"]
        harmonics = harmonic_numbers(presence, int(n_modes.max()))
        present = harmonics <= n_modes[:, None]
        counts = seed001_mode_counts(presence, n_modes)
        as_seed = params["quirks"] == 1
        # fixed: the slope's n is the number of modes present (the seed's count for an even n_modes)
        norm = np.where(as_seed, counts, np.count_nonzero(present, axis=1))
        freqs = partial_frequencies(params["f0_hz"], harmonics, params["inharmonicity"])
        amps = seed001_amplitudes(harmonics, params["slope"], np.maximum(norm, 1))
        as_seed = as_seed[:, None]
        slot = np.arange(harmonics.shape[1])[None, :]
        active = present & np.where(as_seed, slot < counts[:, None] - 1, freqs < 0.5 * sample_rate)
        audio = sine_bank(
            np.where(active, freqs, 0.0),
            np.where(active, amps, 0.0),
            sample_rate=sample_rate,
            n_samples=n_samples,
            decay_per_s=params["decay_per_s"],
        )
        peak = np.max(np.abs(audio), axis=1, keepdims=True)
        audio *= np.divide(np.float32(0.9), peak, out=np.zeros_like(peak), where=peak > 0)
        return audio
