"""Soundfont (SF2/SF3) playback through ``tinysoundfont``, a pip wheel with no system library.

One :class:`SoundfontPlayer` holds a parsed soundfont at one sample rate and renders
one-shot notes from a reset synthesiser state, so a note never depends on the notes
rendered before it. Parsing a 148 MB soundfont takes about a second, so players are
cached per (file, sample rate).

``tinysoundfont`` declares a dependency on PyAudio for real-time playback, which we never
use and which has no Linux wheel: install it with ``pip install --no-deps tinysoundfont``
(``make install`` does).

References
----------
TinySoundFont (Bernhard Schelling), Python bindings ``tinysoundfont`` (Nathan Whitehead).
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

import numpy as np

from timbrespace.errors import AudioError

__all__ = ["SoundfontPlayer", "get_player"]

_CHANNEL = 0
_BLOCK = 64  # TinySoundFont renders envelopes per 64-sample block


def _module() -> Any:
    try:
        from tinysoundfont import _tinysoundfont
    except ImportError as exc:
        raise AudioError(
            "soundfont rendering needs the tinysoundfont wheel "
            f"(pip install --no-deps tinysoundfont): {exc}"
        ) from None
    return _tinysoundfont


class SoundfontPlayer:
    """A soundfont loaded at one sample rate, rendering one note at a time.

    Parameters
    ----------
    path : path-like
        SF2 or SF3 file.
    sample_rate : int
        Output sample rate in Hz.

    Raises
    ------
    AudioError
        If tinysoundfont is missing or the file is not a readable soundfont.
    """

    def __init__(self, path: str | os.PathLike[str], sample_rate: int) -> None:
        tsf = _module()
        self.path = Path(path)
        self.sample_rate = int(sample_rate)
        try:
            self._sf = tsf.SoundFont(str(self.path))
        except Exception as exc:  # the binding raises a bare Exception on a bad file
            raise AudioError(f"{self.path}: not a readable SF2/SF3 soundfont ({exc})") from None
        self._sf.set_output(tsf.OutputMode.StereoInterleaved, self.sample_rate, 0.0)
        self._sf.set_max_voices(64)

    def has_preset(self, bank: int, preset: int) -> bool:
        """True when the soundfont holds ``(bank, preset)``."""
        return self._sf.get_preset_index(int(bank), int(preset)) >= 0

    def note(
        self,
        pitch: int,
        velocity: int,
        *,
        n_hold: int,
        n_total: int,
        preset: int = 0,
        bank: int = 0,
        drums: bool = False,
        gain: float = 1.0,
    ) -> np.ndarray:
        """One note held for ``n_hold`` samples, then released, ``n_total`` samples in all.

        Parameters
        ----------
        pitch : int
            MIDI note number (0-127).
        velocity : int
            MIDI velocity (1-127).
        n_hold, n_total : int
            Samples before the note-off, and samples in all (``n_total >= n_hold``).
        preset, bank : int
            GM program (0-127) and bank (percussion kits: bank 128 with ``drums=True``).
        drums : bool
            Play the channel as a MIDI drum channel.
        gain : float
            Linear gain applied to the output.

        Returns
        -------
        np.ndarray [shape=(n_total,), dtype=float32]
            Mono (mean of the stereo output), unnormalised.

        Raises
        ------
        AudioError
            If the soundfont has no such preset.
        """
        bank = 128 if drums and bank == 0 else int(bank)
        if not self.has_preset(bank, preset) and not (drums and self.has_preset(128, 0)):
            raise AudioError(f"{self.path.name}: no preset {preset} in bank {bank}")
        sf = self._sf
        self._silence()
        sf.channel_set_bank(_CHANNEL, bank)
        sf.channel_set_preset_number(_CHANNEL, int(preset), bool(drums))
        n_hold = max(0, min(int(n_hold), int(n_total)))
        sf.channel_note_on(_CHANNEL, int(pitch), float(np.clip(velocity, 1, 127)) / 127.0)
        head = self._render(n_hold)
        sf.channel_note_off(_CHANNEL, int(pitch))
        tail = self._render(int(n_total) - n_hold)
        self._silence()
        y = np.concatenate([head, tail]).reshape(-1, 2).mean(axis=1)
        return (y * gain).astype(np.float32)

    def _silence(self) -> None:
        """Stop every voice and render until the output is exactly zero.

        ``reset`` only starts a quick release: without rendering it out, the tail of one
        note would leak into the next.
        """
        self._sf.reset()
        for _ in range(200):
            if not np.any(self._render(1024)):
                break
        self._sf.reset()

    def _render(self, n_samples: int) -> np.ndarray:
        if n_samples <= 0:
            return np.zeros(0, np.float32)
        buf = np.zeros(2 * n_samples, np.float32)
        self._sf.render(memoryview(buf).cast("B"), False)
        return buf


@functools.lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, sample_rate: int) -> SoundfontPlayer:
    return SoundfontPlayer(path, sample_rate)


def get_player(path: str | os.PathLike[str], sample_rate: int) -> SoundfontPlayer:
    """A cached :class:`SoundfontPlayer` for ``path`` at ``sample_rate`` (reloaded if the file changed).

    Raises
    ------
    AudioError
        If the file is missing or unreadable.
    """
    p = Path(path)
    if not p.is_file():
        raise AudioError(f"soundfont {str(p)!r} not found")
    return _cached(str(p.resolve()), p.stat().st_mtime_ns, int(sample_rate))
