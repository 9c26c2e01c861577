"""Real instrument notes from an SF2/SF3 soundfont, plus an effects stage.

Notes are rendered with FluidSynth (``pyfluidsynth``, optional extra ``soundfont``;
needs the system library ``libfluidsynth``) with reverb and chorus off: the note is held
for the first ``HOLD_FRACTION`` of the duration and released for the rest, the layout
of ``../shared/data/notes``. An optional pedalboard effect whose intensity follows a
``magnitude`` of 0 to 100 (0 is the clean note) turns the set into a seed-002-like
semantic timbre set (descriptor x magnitude x pitch).

The soundfont is ``$TIMBRESPACE_SOUNDFONT`` if set, else
``/usr/share/sounds/sf2/FluidR3_GM.sf2`` (Debian ``fluid-soundfont-gm``), else the
``TimGM6mb.sf2`` bundled with pretty_midi.

References
----------
Seed 002, Semantic Timbre Generation System (J. M. Cameron): groups/descriptors/
magnitudes 0, 25, 50, 75, 100 over guitar notes E4..D6.
"""

from __future__ import annotations

import ctypes
import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from timbrespace.errors import AudioError
from timbrespace.synths.bandpass import peak_normalise
from timbrespace.synths.base import Parameter, SoundModel
from timbrespace.synths.registry import register_sound_model

__all__ = ["Soundfont", "EFFECTS", "default_soundfont", "effect_chain"]

HOLD_FRACTION = 0.75
# Reverb and chorus off; load only the samples of the selected preset (a fresh synth per
# note then costs ~20 ms instead of loading the whole 148 MB FluidR3_GM).
_SETTINGS = {
    "synth.reverb.active": 0,
    "synth.chorus.active": 0,
    "synth.cpu-cores": 1,
    "synth.dynamic-sample-loading": 1,
}
_BLOCK = 64
SYSTEM_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
EFFECTS = (
    "none",
    "distortion",
    "chorus",
    "phaser",
    "reverb",
    "ladder_filter",
    "bitcrush",
    "clipping",
)


def default_soundfont() -> Path:
    """Path of the soundfont to use (see module docstring).

    Raises
    ------
    AudioError
        If ``$TIMBRESPACE_SOUNDFONT`` names a missing file, or no soundfont is found.
    """
    env = os.environ.get("TIMBRESPACE_SOUNDFONT")
    if env:
        if not Path(env).is_file():
            raise AudioError(f"TIMBRESPACE_SOUNDFONT={env!r} is not a file")
        return Path(env)
    if SYSTEM_SOUNDFONT.is_file():
        return SYSTEM_SOUNDFONT
    try:
        import pretty_midi

        bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
        if bundled.is_file():
            return bundled
    except ImportError:
        pass
    raise AudioError("no soundfont found: set TIMBRESPACE_SOUNDFONT or install fluid-soundfont-gm")


def effect_chain(effect: str, magnitude: float, sample_rate: int) -> Any:
    """A pedalboard ``Pedalboard`` for ``effect`` at ``magnitude`` in [0, 100].

    ``magnitude = 0`` leaves the note unchanged for every effect; 100 is a strong effect.

    Raises
    ------
    ParameterError
        Unknown effect name.
    """
    import pedalboard as pb

    u = float(magnitude) / 100.0
    plugins = {
        "none": lambda: [],
        "distortion": lambda: [pb.Distortion(drive_db=40.0 * u)],
        "chorus": lambda: [pb.Chorus(rate_hz=1.5, depth=0.5 * u, mix=0.5 * u)],
        "phaser": lambda: [pb.Phaser(rate_hz=1.0, depth=u, mix=0.7 * u)],
        "reverb": lambda: [
            pb.Reverb(room_size=0.9 * u, wet_level=0.5 * u, dry_level=1.0 - 0.3 * u)
        ],
        "ladder_filter": lambda: [
            pb.LadderFilter(
                mode=pb.LadderFilter.Mode.LPF24,
                cutoff_hz=min(0.45 * sample_rate, 18000.0 * 2.0 ** (-6.0 * u)),
                resonance=0.6 * u,
            )
        ],
        "bitcrush": lambda: [pb.Bitcrush(bit_depth=24.0 - 21.0 * u)],
        "clipping": lambda: [pb.Clipping(threshold_db=-30.0 * u)],
    }
    if effect not in plugins:
        from timbrespace.errors import ParameterError
        from timbrespace.synths.base import closest_name

        raise ParameterError(
            f"effect={effect!r} is not allowed: one of {', '.join(EFFECTS)}{closest_name(effect, EFFECTS)}"
        )
    return pb.Pedalboard(plugins[effect]())


def _load_fluidsynth() -> Any:
    try:
        import fluidsynth
    except (ImportError, OSError) as exc:
        raise AudioError(
            "the soundfont model needs pyfluidsynth and the libfluidsynth system library "
            f"(pip install 'timbrespace[soundfont]'; apt install libfluidsynth3): {exc}"
        ) from None
    if not hasattr(fluidsynth, "Synth"):
        raise AudioError("the installed 'fluidsynth' module is not pyfluidsynth (no Synth)")
    return fluidsynth


def _write_float(synth: Any, n_samples: int) -> np.ndarray:
    """Render ``n_samples`` stereo float32 frames, shape (2, n_samples).

    pyfluidsynth's ``get_samples`` returns 16-bit audio with FluidSynth's running dither,
    which makes two renders of the same note differ; the float output has no dither.
    """
    import fluidsynth

    buf = np.zeros((2, max(0, n_samples)), dtype=np.float32)
    if n_samples > 0:
        left = buf[0].ctypes.data_as(ctypes.c_void_p)
        right = buf[1].ctypes.data_as(ctypes.c_void_p)
        fluidsynth._fl.fluid_synth_write_float(
            ctypes.c_void_p(synth.synth), ctypes.c_int(n_samples), left, 0, 1, right, 0, 1
        )
    return buf


@register_sound_model
class Soundfont(SoundModel):
    """Soundfont notes (program, MIDI pitch, velocity) with an optional effect.

    Rendering is sequential per item (FluidSynth is a real-time synthesiser); each
    distinct note is rendered once per call on a fresh synthesiser, so items do not
    depend on the batch.

    Raises
    ------
    AudioError
        From :meth:`render` if pyfluidsynth/libfluidsynth or the soundfont is missing.
    """

    name: ClassVar[str] = "soundfont"
    description: ClassVar[str] = (
        "soundfont notes via FluidSynth (reverb/chorus off) + pedalboard effect"
    )
    reference: ClassVar[str] = "seed 002 (semantic timbre set); FluidSynth; Spotify pedalboard"
    default_sample_rate: ClassVar[int] = 22050
    default_duration_s: ClassVar[float] = 1.0
    parameters: ClassVar[tuple[Parameter, ...]] = (
        Parameter(
            "program",
            0,
            127,
            27,
            "",
            "linear",
            "General MIDI program (27: clean electric guitar)",
            integer=True,
        ),
        Parameter(
            "pitch",
            0,
            127,
            64,
            "MIDI",
            "linear",
            "MIDI note number (seed 002: 64..86, E4..D6)",
            integer=True,
        ),
        Parameter("velocity", 1, 127, 100, "MIDI", "linear", "MIDI note-on velocity", integer=True),
        Parameter(
            "effect",
            0,
            len(EFFECTS) - 1,
            0,
            "",
            "linear",
            "pedalboard effect applied to the note",
            choices=EFFECTS,
        ),
        Parameter(
            "magnitude", 0.0, 100.0, 0.0, "%", "linear", "effect intensity: 0 clean ... 100 strong"
        ),
    )

    def __init__(self, soundfont: str | os.PathLike[str] | None = None) -> None:
        self._soundfont_path = None if soundfont is None else Path(soundfont)

    @property
    def soundfont_path(self) -> Path:
        path = self._soundfont_path or default_soundfont()
        if not path.is_file():
            raise AudioError(f"soundfont {str(path)!r} not found")
        return path

    def note(
        self, program: int, pitch: int, velocity: int, *, sample_rate: int, n_samples: int
    ) -> np.ndarray:
        """Render one clean note, mono float32 of shape (n_samples,), unnormalised.

        FluidSynth keeps state from earlier notes (voice filters, 64-frame blocks) that
        changes later notes by up to about -50 dB, so every note gets a fresh synthesiser
        (about 20 ms with dynamic sample loading).
        """
        fluidsynth = _load_fluidsynth()
        synth = fluidsynth.Synth(
            gain=0.5,
            samplerate=float(sample_rate),
            **_SETTINGS,
        )
        try:
            sfid = synth.sfload(str(self.soundfont_path))
            if sfid < 0:
                raise AudioError(
                    f"FluidSynth could not load soundfont {str(self.soundfont_path)!r}"
                )
            synth.program_select(0, sfid, 0, program)
            # Whole 64-frame blocks: FluidSynth computes audio (and applies events) per block.
            n_hold = _BLOCK * int(round(HOLD_FRACTION * n_samples / _BLOCK))
            n_total = _BLOCK * -(-n_samples // _BLOCK)
            synth.noteon(0, pitch, velocity)
            held = _write_float(synth, n_hold)
            synth.noteoff(0, pitch)
            rest = _write_float(synth, max(0, n_total - n_hold))
        finally:
            synth.delete()
        return np.concatenate([held, rest], axis=1).mean(axis=0)[:n_samples]

    def _render(self, params, *, sample_rate, n_samples, seed, item_index):
        out = np.zeros((params["program"].shape[0], n_samples), dtype=np.float32)
        notes: dict[tuple[int, int, int], np.ndarray] = {}
        for i in range(out.shape[0]):
            key = (int(params["program"][i]), int(params["pitch"][i]), int(params["velocity"][i]))
            if key not in notes:
                notes[key] = self.note(*key, sample_rate=sample_rate, n_samples=n_samples)
            y = notes[key]
            effect = EFFECTS[int(params["effect"][i])]
            if effect != "none" and params["magnitude"][i] > 0:
                chain = effect_chain(effect, float(params["magnitude"][i]), sample_rate)
                y = chain(y[None, :], sample_rate)[0, :n_samples]
            out[i] = y
        return peak_normalise(out)
