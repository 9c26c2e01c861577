"""Harmonic richness: harmonics with amplitude 1/n added one by one (seed 000, 1 factor).

Seed 000 (``ToyRichnessGenerator.py``, ATIAM 2017) builds a one-factor dataset in
which item ``k`` holds partials ``1..n-1`` at amplitude ``1/m`` and the newest partial
``n`` at ``g/n``, the gain ``g`` ramping from 0 to 1 before the next partial comes in.
Partials stop at ``sample_rate / 4`` (50 partials at 220 Hz and 44.1 kHz). The sum is
scaled by a constant that depends only on ``f0_hz`` and the sample rate, so the absolute
levels of the partials are comparable across items (no per-item peak normalisation).
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from timbrespace.synths._oscillators import sine_bank
from timbrespace.synths.base import Parameter, SoundModel
from timbrespace.synths.registry import register_sound_model

__all__ = ["HarmonicRichness", "richness_amplitudes"]

_MAX_HARMONICS = 400


def richness_amplitudes(n_harmonics: np.ndarray, last_gain: np.ndarray, n_slots: int) -> np.ndarray:
    """Amplitude of harmonics ``1..n_slots``: ``1/m`` below ``n``, ``last_gain/n`` at ``n``.

    Parameters
    ----------
    n_harmonics : np.ndarray [shape=(n_items,)]
        Number of the newest harmonic ``n`` (>= 1).
    last_gain : np.ndarray [shape=(n_items,)]
        Gain of the newest harmonic relative to ``1/n``, in [0, 1].
    n_slots : int
        Number of harmonic slots.

    Returns
    -------
    np.ndarray [shape=(n_items, n_slots), dtype=float64]
    """
    m = np.arange(1, n_slots + 1, dtype=np.float64)[None, :]
    n = np.asarray(n_harmonics, np.float64)[:, None]
    gain = np.where(m < n, 1.0, np.where(m == n, np.asarray(last_gain, np.float64)[:, None], 0.0))
    return gain / m


@register_sound_model
class HarmonicRichness(SoundModel):
    """Seed 000's one-factor harmonic-richness model (see module docstring).

    References
    ----------
    Seed 000, ``ToyRichnessGenerator.py`` (ATIAM 2017, "atiamML").

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.synths import HarmonicRichness
    >>> y = HarmonicRichness().render({"f0_hz": 200.0, "n_harmonics": [1, 10]},
    ...                               sample_rate=8000, duration_s=0.1)
    >>> spectrum = np.abs(np.fft.rfft(y, axis=1))
    >>> (spectrum > 0.05 * spectrum.max(axis=1, keepdims=True)).sum(axis=1).tolist()  # partials
    [1, 10]
    """

    name: ClassVar[str] = "harmonic_richness"
    description: ClassVar[str] = (
        "harmonics at n f0 with amplitude 1/n added one by one, the newest fading in"
    )
    reference: ClassVar[str] = "seed 000 ToyRichnessGenerator (ATIAM 2017)"
    default_sample_rate: ClassVar[int] = 44100
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter(
            "f0_hz",
            20.0,
            5000.0,
            220.0,
            "Hz",
            "log",
            "fundamental frequency (seed code 220 Hz, seed README 110 Hz)",
        ),
        Parameter(
            "n_harmonics",
            1,
            _MAX_HARMONICS,
            10,
            "",
            "linear",
            "number of the newest harmonic; those below it sound fully at 1/n",
            integer=True,
        ),
        Parameter(
            "last_gain",
            0.0,
            1.0,
            1.0,
            "",
            "linear",
            "gain of the newest harmonic relative to its full amplitude 1/n",
        ),
    )

    def _render(self, params, *, sample_rate, n_samples, seed, item_index):
        f0 = params["f0_hz"]
        n_max = np.maximum(1, np.floor(0.25 * sample_rate / f0)).astype(np.int64)
        slots = int(min(params["n_harmonics"].max(), n_max.max()))
        amps = richness_amplitudes(params["n_harmonics"], params["last_gain"], slots)
        harmonics = np.arange(1, slots + 1, dtype=np.float64)[None, :]
        amps = np.where(harmonics <= n_max[:, None], amps, 0.0)
        audio = sine_bank(
            f0[:, None] * harmonics, amps, sample_rate=sample_rate, n_samples=n_samples
        )
        # Bound of the full sum at this f0: the harmonic number H(n_max) >= peak.
        full = np.array([np.sum(1.0 / np.arange(1, n + 1)) for n in n_max], dtype=np.float64)
        return audio * (0.9 / full[:, None]).astype(np.float32)
