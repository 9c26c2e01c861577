"""Descriptor effect chains: one pedalboard chain per semantic descriptor (seed 002).

Seed 002 (J. M. Cameron) labels guitar notes with 19 timbre *descriptors* and a
*magnitude* 0..100 (0 = the clean note). Its notes came from a guitarist's pedals; here
each descriptor is a deterministic chain of `pedalboard <https://spotify.github.io/pedalboard/>`_
effects (plus two small numpy envelopes where pedalboard has no such effect) whose
intensity follows ``m = magnitude / 100``. Magnitude 0 returns the input unchanged.

=========== ============ ================================================================
descriptor  group        chain (m = magnitude / 100)
=========== ============ ================================================================
Crunch      DistortionFX Distortion(drive_db = 30 m) → LowpassFilter(6 kHz)
Crush       DistortionFX Bitcrush(bit_depth = 16 − 12 m)
Dirt        DistortionFX Gain(+18 m dB) → Clipping(−6 − 12 m dB), mixed 50 % + 50 % m wet
Fuzz        DistortionFX Gain(+36 m dB) → Clipping(−20 m dB) (hard square-ish clip)
Fluttery    ModulationFX Chorus(rate 6 Hz, depth 0.5 m, centre 3 ms, mix 0.6 m) (vibrato)
Jittery     ModulationFX Phaser(rate 9 Hz, depth m, feedback 0.5 m, mix 0.7 m)
Shimmery    ModulationFX Chorus(rate 0.8 Hz, depth 0.3 + 0.5 m, mix 0.6 m) → Reverb(room 0.4, wet 0.3 m)
WahWah      ModulationFX LadderFilter(BPF12, resonance 0.7 m) swept 400 Hz..2.5 kHz at 2 Hz, mix m
Bright      FilterFX     HighShelfFilter(2 kHz, +18 m dB)
Dark        FilterFX     LowpassFilter(cutoff 10 kHz·(0.05)^m, i.e. 10 kHz → 500 Hz, log)
Fat         FilterFX     LowShelfFilter(400 Hz, +18 m dB)
Resonant    FilterFX     PeakFilter(1.5 kHz, +24 m dB, Q = 1 + 9 m)
Sharp       FilterFX     PeakFilter(3.5 kHz, +18 m dB, Q = 2)
Thin        FilterFX     HighpassFilter(cutoff 50 Hz·(30)^m, i.e. 50 Hz → 1.5 kHz, log)
Punch       DynamicsFX   Compressor(threshold −30 m dB, ratio 1 + 7 m, attack 30 ms, release 100 ms)
Smooth      DynamicsFX   Compressor(threshold −40 m dB, ratio 1 + 5 m, attack 5 ms) → LowpassFilter(12 kHz → 4 kHz)
Soft        DynamicsFX   attack fade-in over 150 m ms (raised cosine) → Gain(−12 m dB)
Tight       DynamicsFX   NoiseGate(threshold −60 + 40 m dB, ratio 10, release 20 ms)
Stuttering  TimeFX       square gate at 8 Hz, 5 ms edges, closed-phase gain 1 − m
=========== ============ ================================================================

Every chain is deterministic: no random parameters, plugins are reset before each note.
Outputs are scaled down (never up) so that their peak stays below 0.99.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pedalboard as pb

from timbrespace.errors import ParameterError

__all__ = [
    "DESCRIPTORS",
    "GROUPS",
    "Descriptor",
    "apply_descriptor",
    "descriptor_group",
    "describe_chain",
    "check_descriptor",
    "check_magnitude",
    "PEAK_LIMIT",
]

logger = logging.getLogger(__name__)

PEAK_LIMIT = 0.99

_Fx = Callable[[np.ndarray, float, int], np.ndarray]


@dataclass(frozen=True)
class Descriptor:
    """A semantic timbre descriptor and its effect chain.

    Parameters
    ----------
    name : str
        Seed-002 descriptor name (``"Bright"``).
    group : str
        Seed-002 group folder (``"FilterFX"``).
    chain : str
        Human-readable chain (the module docstring's table row).
    """

    name: str
    group: str
    chain: str
    process: _Fx


def _board(audio: np.ndarray, sample_rate: int, *plugins: pb.Plugin) -> np.ndarray:
    return pb.Pedalboard(list(plugins))(audio, sample_rate, reset=True)


def _mix(dry: np.ndarray, wet: np.ndarray, wet_fraction: float) -> np.ndarray:
    return (1.0 - wet_fraction) * dry + wet_fraction * wet


def _log_interp(a: float, b: float, m: float) -> float:
    return float(a * (b / a) ** m)


def _crunch(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.Distortion(drive_db=30.0 * m), pb.LowpassFilter(cutoff_frequency_hz=6000.0))


def _crush(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.Bitcrush(bit_depth=16.0 - 12.0 * m))


def _dirt(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    wet = _board(y, sr, pb.Gain(gain_db=18.0 * m), pb.Clipping(threshold_db=-6.0 - 12.0 * m))
    return _mix(y, wet, 0.5 + 0.5 * m)


def _fuzz(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.Gain(gain_db=36.0 * m), pb.Clipping(threshold_db=-20.0 * m))


def _fluttery(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.Chorus(rate_hz=6.0, depth=0.5 * m, centre_delay_ms=3.0, feedback=0.0, mix=0.6 * m))


def _jittery(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.Phaser(rate_hz=9.0, depth=m, feedback=0.5 * m, mix=0.7 * m))


def _shimmery(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(
        y, sr,
        pb.Chorus(rate_hz=0.8, depth=0.3 + 0.5 * m, centre_delay_ms=7.0, feedback=0.0, mix=0.6 * m),
        pb.Reverb(room_size=0.4, wet_level=0.3 * m, dry_level=1.0, width=1.0),
    )


def _wahwah(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    # pedalboard has no auto-wah: sweep a band-pass ladder filter block by block,
    # keeping its state between blocks (reset=False).
    ladder = pb.LadderFilter(mode=pb.LadderFilter.Mode.BPF12, cutoff_hz=400.0, resonance=0.7 * m, drive=1.0)
    block = 256
    wet = np.empty_like(y)
    ladder.reset()
    for start in range(0, y.shape[-1], block):
        t_s = start / sr
        sweep = 0.5 - 0.5 * np.cos(2.0 * np.pi * 2.0 * t_s)
        ladder.cutoff_hz = _log_interp(400.0, 2500.0, float(sweep))
        wet[..., start:start + block] = ladder(y[..., start:start + block], sr, reset=False)
    peak_dry = float(np.max(np.abs(y))) or 1.0
    peak_wet = float(np.max(np.abs(wet))) or 1.0
    return _mix(y, wet * (peak_dry / peak_wet), m)


def _bright(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.HighShelfFilter(cutoff_frequency_hz=2000.0, gain_db=18.0 * m, q=0.707))


def _dark(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.LowpassFilter(cutoff_frequency_hz=_log_interp(10000.0, 500.0, m)))


def _fat(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.LowShelfFilter(cutoff_frequency_hz=400.0, gain_db=18.0 * m, q=0.707))


def _resonant(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.PeakFilter(cutoff_frequency_hz=1500.0, gain_db=24.0 * m, q=1.0 + 9.0 * m))


def _sharp(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.PeakFilter(cutoff_frequency_hz=3500.0, gain_db=18.0 * m, q=2.0))


def _thin(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.HighpassFilter(cutoff_frequency_hz=_log_interp(50.0, 1500.0, m)))


def _punch(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.Compressor(threshold_db=-30.0 * m, ratio=1.0 + 7.0 * m, attack_ms=30.0, release_ms=100.0))


def _smooth(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(
        y, sr,
        pb.Compressor(threshold_db=-40.0 * m, ratio=1.0 + 5.0 * m, attack_ms=5.0, release_ms=100.0),
        pb.LowpassFilter(cutoff_frequency_hz=_log_interp(12000.0, 4000.0, m)),
    )


def _soft(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    n_fade = int(round(0.150 * m * sr))
    env = np.ones(y.shape[-1], dtype=np.float32)
    if n_fade > 1:
        n = min(n_fade, env.size)
        env[:n] = 0.5 - 0.5 * np.cos(np.pi * np.arange(n) / n_fade)
    return (y * env) * np.float32(10.0 ** (-12.0 * m / 20.0))


def _tight(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    return _board(y, sr, pb.NoiseGate(threshold_db=-60.0 + 40.0 * m, ratio=10.0, attack_ms=1.0, release_ms=20.0))


def _stuttering(y: np.ndarray, m: float, sr: int) -> np.ndarray:
    t_s = np.arange(y.shape[-1]) / sr
    square = (np.floor(t_s * 8.0 * 2.0) % 2 == 0).astype(np.float64)
    edge = max(1, int(round(0.005 * sr)))
    kernel = np.ones(edge) / edge
    smooth = np.convolve(square, kernel, mode="same")
    gain = 1.0 - m * (1.0 - smooth)
    return (y * gain).astype(np.float32)


def _row(name: str) -> str:
    # The module docstring's table is the single source of truth for the text.
    for line in (__doc__ or "").splitlines():
        parts = line.split(None, 2)
        if len(parts) == 3 and parts[0] == name:
            return parts[2].strip()
    return ""


_PROCESS: dict[str, tuple[str, _Fx]] = {
    "Bright": ("FilterFX", _bright),
    "Crunch": ("DistortionFX", _crunch),
    "Crush": ("DistortionFX", _crush),
    "Dark": ("FilterFX", _dark),
    "Dirt": ("DistortionFX", _dirt),
    "Fat": ("FilterFX", _fat),
    "Fluttery": ("ModulationFX", _fluttery),
    "Fuzz": ("DistortionFX", _fuzz),
    "Jittery": ("ModulationFX", _jittery),
    "Punch": ("DynamicsFX", _punch),
    "Resonant": ("FilterFX", _resonant),
    "Sharp": ("FilterFX", _sharp),
    "Shimmery": ("ModulationFX", _shimmery),
    "Smooth": ("DynamicsFX", _smooth),
    "Soft": ("DynamicsFX", _soft),
    "Stuttering": ("TimeFX", _stuttering),
    "Thin": ("FilterFX", _thin),
    "Tight": ("DynamicsFX", _tight),
    "WahWah": ("ModulationFX", _wahwah),
}

#: The 19 seed-002 descriptors, alphabetical, name → :class:`Descriptor`.
DESCRIPTORS: dict[str, Descriptor] = {
    name: Descriptor(name=name, group=group, chain=_row(name), process=fx)
    for name, (group, fx) in _PROCESS.items()
}

#: Group folders of the seed-002 layout.
GROUPS: tuple[str, ...] = ("DistortionFX", "ModulationFX", "FilterFX", "DynamicsFX", "TimeFX")


def check_descriptor(name: str) -> str:
    """Return ``name`` if it is a known descriptor (case-insensitive match allowed).

    Raises
    ------
    ParameterError
        Unknown name; the message lists the 19 allowed descriptors.
    """
    if name in DESCRIPTORS:
        return name
    lower = {k.lower(): k for k in DESCRIPTORS}
    if str(name).lower() in lower:
        return lower[str(name).lower()]
    raise ParameterError(f"descriptor={name!r} is unknown: allowed {', '.join(DESCRIPTORS)}")


def check_magnitude(magnitude: float) -> float:
    """Return ``magnitude`` as float if within 0..100, else raise :class:`ParameterError`."""
    try:
        value = float(magnitude)
    except (TypeError, ValueError):
        raise ParameterError(f"magnitude={magnitude!r} is not a number: allowed 0..100") from None
    if not 0.0 <= value <= 100.0 or not np.isfinite(value):
        raise ParameterError(f"magnitude={magnitude!r} is out of range: allowed 0..100")
    return value


def descriptor_group(name: str) -> str:
    """Seed-002 group folder of a descriptor (``"Crunch"`` → ``"DistortionFX"``)."""
    return DESCRIPTORS[check_descriptor(name)].group


def describe_chain(name: str) -> str:
    """One-line description of a descriptor's chain (from the module table)."""
    return DESCRIPTORS[check_descriptor(name)].chain


def apply_descriptor(audio: np.ndarray, descriptor: str, magnitude: float, *, sample_rate: int) -> np.ndarray:
    """Apply a descriptor's effect chain at a magnitude.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_samples,) or (n_items, n_samples), dtype=float32]
        Clean mono note(s).
    descriptor : str
        One of :data:`DESCRIPTORS`.
    magnitude : float
        0..100; 0 returns a copy of ``audio`` (the clean note).
    sample_rate : int
        Hz.

    Returns
    -------
    np.ndarray [same shape as ``audio``, dtype=float32]
        Processed audio, scaled down where needed so that each item's peak is at most
        :data:`PEAK_LIMIT` (never scaled up).

    Raises
    ------
    ParameterError
        Unknown descriptor, magnitude outside 0..100, or audio not 1-D/2-D.

    References
    ----------
    Seed 002 (Semantic Timbre Generation System), descriptor list and magnitudes.
    """
    name = check_descriptor(descriptor)
    m = check_magnitude(magnitude) / 100.0
    y = np.asarray(audio, dtype=np.float32)
    if y.ndim not in (1, 2) or y.shape[-1] == 0:
        raise ParameterError(f"audio has shape {y.shape}: expected (n_samples,) or (n_items, n_samples)")
    if m == 0.0:
        return y.copy()
    fx = DESCRIPTORS[name].process
    items = y[None] if y.ndim == 1 else y
    out = np.stack([np.asarray(fx(item.copy(), m, int(sample_rate)), dtype=np.float32).reshape(item.shape)
                    for item in items])
    peak = np.max(np.abs(out), axis=-1, keepdims=True)
    scale = np.where(peak > PEAK_LIMIT, PEAK_LIMIT / np.maximum(peak, 1e-12), 1.0).astype(np.float32)
    out = out * scale
    return out[0] if y.ndim == 1 else out
