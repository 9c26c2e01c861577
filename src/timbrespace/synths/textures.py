"""Event textures of DSGenerator (seed 003): ``pop`` and ``drip``.

A texture is a train of short events. Events start on an even grid of ``rate`` events
per second and each is moved by Gaussian jitter; the three factors follow DSGenerator's
exponential parametrisation:

- ``rate = 2 ** rate_exp`` events/s;
- jitter standard deviation ``0.4 (10 ** irreg_exp - 1) / 9`` inter-event intervals:
  ``irreg_exp = 0`` is exactly regular, ``1`` gives 0.4 intervals, DSGenerator's
  Poisson-like end (its README's ``0.04 * 10 ** irreg_exp`` never reaches 0, so we
  remove that offset);
- centre frequency ``cf = 440 * 2 ** cf_exp`` Hz.

``pop`` events are 2 ms-decay white-noise bursts through a resonant band-pass at ``cf``;
``drip`` events are 40 ms sine sweeps rising one octave from ``cf``. Every item draws
its own jitter and noise from ``item_rng(seed, item_index)`` (DSGenerator reset its seed
on every call, giving identical event times everywhere).

References
----------
Seed 003, DSGenerator (L. Wyse, P. T. Ravikumar et al.), ``pop``/``drip`` sound models.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from timbrespace.synths._filters import bandpass_coefficients, biquad
from timbrespace.synths.bandpass import peak_normalise
from timbrespace.synths.base import Parameter, SoundModel
from timbrespace.synths.registry import register_sound_model
from timbrespace.utils.seeding import item_rng

__all__ = ["Pop", "Drip", "event_times", "jitter_fraction"]

POP_DECAY_S = 0.002
POP_BURST_S = 0.010
POP_Q = 12.0
DRIP_LENGTH_S = 0.040
DRIP_RISE_OCTAVES = 1.0


def jitter_fraction(irreg_exp: np.ndarray | float) -> np.ndarray:
    """Jitter standard deviation in inter-event intervals for ``irreg_exp`` in [0, 1]."""
    return 0.4 * (10.0 ** np.asarray(irreg_exp, np.float64) - 1.0) / 9.0


def event_times(
    rate_hz: float, irreg_exp: float, duration_s: float, rng: np.random.Generator
) -> np.ndarray:
    """Jittered, evenly spaced event onsets in seconds, sorted, within ``[0, duration_s)``.

    Parameters
    ----------
    rate_hz : float
        Mean events per second.
    irreg_exp : float
        Irregularity in [0, 1] (see :func:`jitter_fraction`).
    duration_s : float
        Length of the texture in seconds.
    rng : np.random.Generator
        The item's generator.

    Returns
    -------
    np.ndarray [shape=(n_events,), dtype=float64]
    """
    period = 1.0 / rate_hz
    # The grid starts half a period in; a few extra slots let jitter move events inside.
    n = np.arange(-2, int(np.ceil(duration_s * rate_hz)) + 2, dtype=np.float64)
    times = (n + 0.5) * period + rng.standard_normal(n.shape) * float(
        jitter_fraction(irreg_exp)
    ) * period
    return np.sort(times[(times >= 0.0) & (times < duration_s)])


def _place(out: np.ndarray, onsets: np.ndarray, events: np.ndarray) -> None:
    """Add ``events[e]`` (shape (n_events, L)) into the 1-D ``out`` at sample ``onsets[e]``."""
    idx = onsets[:, None] + np.arange(events.shape[1])[None, :]
    keep = idx < out.shape[0]
    np.add.at(out, idx[keep], events[keep])


_PARAMETERS = (
    Parameter(
        "rate_exp",
        -2.0,
        6.0,
        2.0,
        "log2(events/s)",
        "exp2",
        "event rate = 2**rate_exp events per second (seed 0..4: 1 to 16 /s)",
    ),
    Parameter(
        "irreg_exp",
        0.0,
        1.0,
        0.0,
        "",
        "linear",
        "timing irregularity: 0 evenly spaced ... 1 Poisson-like Gaussian jitter",
    ),
    Parameter(
        "cf_exp",
        -2.0,
        4.0,
        0.0,
        "log2(cf/440 Hz)",
        "exp2",
        "centre frequency cf = 440 * 2**cf_exp Hz (seed 0..1: 440 to 880 Hz)",
    ),
)


class _Texture(SoundModel):
    parameters: ClassVar[tuple[Parameter, ...]] = _PARAMETERS
    default_sample_rate: ClassVar[int] = 16000
    default_duration_s: ClassVar[float] = 2.0

    def _events(
        self, rng: np.random.Generator, n_events: int, cf_hz: float, sample_rate: int
    ) -> np.ndarray:
        raise NotImplementedError

    def _render(self, params, *, sample_rate, n_samples, seed, item_index):
        duration_s = n_samples / sample_rate
        rate = 2.0 ** params["rate_exp"]
        cf = 440.0 * 2.0 ** params["cf_exp"]
        out = np.zeros((rate.shape[0], n_samples), dtype=np.float64)
        for i in range(rate.shape[0]):
            rng = item_rng(seed, int(item_index[i]))
            times = event_times(float(rate[i]), float(params["irreg_exp"][i]), duration_s, rng)
            onsets = np.round(times * sample_rate).astype(np.int64)
            _place(out[i], onsets, self._events(rng, onsets.shape[0], float(cf[i]), sample_rate))
        return self._finish(out, cf, sample_rate)

    def _finish(self, out: np.ndarray, cf_hz: np.ndarray, sample_rate: int) -> np.ndarray:
        return peak_normalise(out)


@register_sound_model
class Pop(_Texture):
    """Pop texture: noise bursts through a resonant band-pass at ``cf`` (seed 003).

    Examples
    --------
    >>> from timbrespace.synths import Pop
    >>> y = Pop().render({"rate_exp": [1.0, 3.0]}, sample_rate=8000, duration_s=0.5, seed=0)
    >>> y.shape
    (2, 4000)
    """

    name: ClassVar[str] = "pop"
    description: ClassVar[str] = "noise bursts through a resonant peak filter, jittered event times"
    reference: ClassVar[str] = "seed 003 DSGenerator pop texture"

    def _events(self, rng, n_events, cf_hz, sample_rate):
        t = np.arange(int(POP_BURST_S * sample_rate)) / sample_rate
        return rng.standard_normal((n_events, t.shape[0])) * np.exp(-t / POP_DECAY_S)[None, :]

    def _finish(self, out, cf_hz, sample_rate):
        b, a = bandpass_coefficients(cf_hz, np.full_like(cf_hz, POP_Q), sample_rate=sample_rate)
        return peak_normalise(biquad(out, b, a))


@register_sound_model
class Drip(_Texture):
    """Drip texture: short sine sweeps rising one octave from ``cf`` (seed 003).

    Examples
    --------
    >>> from timbrespace.synths import Drip
    >>> Drip().parameter("cf_exp").unit
    'log2(cf/440 Hz)'
    >>> Drip().render({"cf_exp": 1.0}, sample_rate=8000, duration_s=0.5, seed=0).shape
    (1, 4000)
    """

    name: ClassVar[str] = "drip"
    description: ClassVar[str] = "short rising sine sweeps, jittered event times"
    reference: ClassVar[str] = "seed 003 DSGenerator drip texture"

    def _events(self, rng, n_events, cf_hz, sample_rate):
        t = np.arange(int(DRIP_LENGTH_S * sample_rate)) / sample_rate
        rise = DRIP_RISE_OCTAVES / DRIP_LENGTH_S  # octaves per second
        # Exponential sweep cf 2**(rise t), capped below Nyquist; phase = integral of f.
        rise = (
            min(rise, np.log2(0.45 * sample_rate / cf_hz) / DRIP_LENGTH_S)
            if cf_hz < 0.45 * sample_rate
            else 0.0
        )
        if rise > 0:
            phase = 2 * np.pi * cf_hz * (2.0 ** (rise * t) - 1.0) / (rise * np.log(2.0))
        else:
            phase = 2 * np.pi * min(cf_hz, 0.45 * sample_rate) * t
        sweep = np.sin(phase) * np.sin(np.pi * t / DRIP_LENGTH_S) ** 2
        return np.broadcast_to(sweep, (n_events, t.shape[0]))
