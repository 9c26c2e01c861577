"""Three FM voices through a Moog ladder low-pass (seed 000, 5-factor set B).

Seed 000 (``CreateSnds.py``, pyo) plays three FM oscillators with carriers
``[f0, f0 + j f0/10, f0 - j f0/10]``, modulator ``ratio * carrier`` and modulation
``index``, and filters their sum with pyo's ``MoogLP`` (cutoff ``f * sr/200``, resonance
1..10, self-oscillating from 1). Seed grid: ``f0 = 1500`` Hz, ``j`` in
``arange(1, 5, 0.5)``, ratio in ``arange(0.1, 0.4, 0.05)``, index in ``arange(0, 30, 4)``,
resonance 1..10, cutoff ``f = 1..10``: 44,800 items.

Each FM voice is rendered from its Bessel expansion
``sin(wc t + I sin(wm t)) = sum_k J_k(I) sin((wc + k wm) t)``, keeping the sidebands
below Nyquist (the seed's direct oscillators aliased) and folding negative frequencies
with their sign. The ladder is :func:`~timbrespace.synths._filters.moog_ladder`; the
output is peak-normalised to 0.9, so self-oscillation stays bounded.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from timbrespace.synths._filters import moog_ladder
from timbrespace.synths._oscillators import sine_bank
from timbrespace.synths.bandpass import peak_normalise
from timbrespace.synths.base import Parameter, SoundModel
from timbrespace.synths.registry import register_sound_model

__all__ = ["FMMoog", "fm_sidebands"]

# Bessel J_k(I) is below ~1e-6 for |k| > I + 4 I^(1/3) + 8.
_SIDEBAND_MARGIN = 8


def fm_sidebands(
    carrier_hz: np.ndarray, modulator_hz: np.ndarray, index: np.ndarray, *, sample_rate: int
) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies and amplitudes of the sidebands of ``sin(wc t + I sin(wm t))``.

    Parameters
    ----------
    carrier_hz, modulator_hz, index : np.ndarray [shape=(n_items,)]
        Carrier and modulator in Hz, modulation index (radians of peak phase deviation).
    sample_rate : int
        Hz; sidebands at or above Nyquist get amplitude 0.

    Returns
    -------
    freqs_hz, amps : np.ndarray [shape=(n_items, 2 K + 1), dtype=float64]
        ``|fc + k fm|`` and ``J_k(I) sign(fc + k fm)`` for ``k = -K..K``.
    """
    index = np.asarray(index, np.float64)
    # Per-item extent, so an item's sidebands never depend on the rest of the batch.
    extent = np.ceil(index + 4.0 * np.cbrt(index)) + _SIDEBAND_MARGIN
    top = int(extent.max())
    k = np.arange(-top, top + 1, dtype=np.float64)[None, :]
    freqs = (
        np.asarray(carrier_hz, np.float64)[:, None]
        + k * np.asarray(modulator_hz, np.float64)[:, None]
    )
    from scipy.special import jv  # here: scipy.special costs ~0.1 s to import (issue 29)

    amps = jv(k, index[:, None]) * np.sign(freqs)
    freqs = np.abs(freqs)
    keep = (freqs < 0.5 * sample_rate) & (np.abs(k) <= extent[:, None]) & (amps != 0.0)
    return np.where(keep, freqs, 0.0), np.where(keep, amps, 0.0)


@register_sound_model
class FMMoog(SoundModel):
    """Seed 000's FM + Moog ladder model (see module docstring).

    References
    ----------
    Seed 000, ``CreateSnds.py``; J. Chowning, "The synthesis of complex audio spectra by
    means of frequency modulation", JAES 1973; V. Zavalishin, "The Art of VA Filter
    Design" (ladder).

    Examples
    --------
    >>> from timbrespace.synths import FMMoog
    >>> [p.name for p in FMMoog.parameters]
    ['f0_hz', 'spread', 'ratio', 'index', 'cutoff_hz', 'resonance']
    >>> FMMoog().render({"index": [0.0, 4.0]}, sample_rate=8000, duration_s=0.1).shape
    (2, 800)
    """

    name: ClassVar[str] = "fm_moog"
    description: ClassVar[str] = "three FM voices spread around f0 through a Moog ladder low-pass"
    reference: ClassVar[str] = "seed 000 CreateSnds.py set B (ATIAM 2017); Chowning 1973"
    default_sample_rate: ClassVar[int] = 44100
    default_duration_s: ClassVar[float] = 0.2
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter("f0_hz", 20.0, 5000.0, 1500.0, "Hz", "log", "centre carrier frequency"),
        Parameter(
            "spread",
            0.0,
            9.0,
            1.0,
            "",
            "linear",
            "j: carriers at f0 and f0 (1 ± j/10) (seed 1..4.5)",
        ),
        Parameter("ratio", 0.01, 4.0, 0.1, "", "linear", "modulator frequency / carrier frequency"),
        Parameter("index", 0.0, 40.0, 4.0, "rad", "linear", "FM modulation index (seed 0..28)"),
        Parameter(
            "cutoff_hz",
            20.0,
            20000.0,
            2205.0,
            "Hz",
            "log",
            "Moog ladder cutoff (clamped to 0.45 sample_rate; seed f sr/200)",
        ),
        Parameter(
            "resonance",
            0.0,
            10.0,
            0.5,
            "",
            "linear",
            "ladder feedback / 4: 1 and above self-oscillates (seed 1..10)",
        ),
    )

    def _render(self, params, *, sample_rate, n_samples, seed, item_index):
        f0, j = params["f0_hz"], params["spread"]
        freqs, amps = [], []
        for carrier in (f0, f0 * (1.0 + j / 10.0), f0 * (1.0 - j / 10.0)):
            f, a = fm_sidebands(
                carrier, params["ratio"] * carrier, params["index"], sample_rate=sample_rate
            )
            freqs.append(f)
            amps.append(a / 3.0)
        voices = sine_bank(
            np.concatenate(freqs, axis=1),
            np.concatenate(amps, axis=1),
            sample_rate=sample_rate,
            n_samples=n_samples,
        )
        filtered = moog_ladder(
            voices, params["cutoff_hz"], params["resonance"], sample_rate=sample_rate
        )
        return peak_normalise(filtered)
