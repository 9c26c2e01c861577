"""Real instrument notes from an SF2/SF3 soundfont, plus an effects stage.

Notes are rendered with TinySoundFont (the ``tinysoundfont`` wheel: no system library,
no reverb or chorus), one note at a time from a silent synthesiser: the note is held
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

import os
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from timbrespace.errors import AudioError
from timbrespace.synths._sf2 import get_player
from timbrespace.synths.bandpass import peak_normalise
from timbrespace.synths.base import Parameter, SoundModel
from timbrespace.synths.registry import register_sound_model

__all__ = ["Soundfont", "EFFECTS", "default_soundfont", "effect_chain"]

HOLD_FRACTION = 0.75
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


@register_sound_model
class Soundfont(SoundModel):
    """Soundfont notes (program, MIDI pitch, velocity) with an optional effect.

    Rendering is sequential per item; each distinct note is rendered once per call from
    a silent synthesiser, so items do not depend on the batch or on earlier notes.

    Raises
    ------
    AudioError
        From :meth:`render` if tinysoundfont or the soundfont is missing, or the
        soundfont lacks the program.
    """

    name: ClassVar[str] = "soundfont"
    description: ClassVar[str] = (
        "soundfont notes via TinySoundFont (no reverb/chorus) + pedalboard effect"
    )
    reference: ClassVar[str] = "seed 002 (semantic timbre set); TinySoundFont; Spotify pedalboard"
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

        The note is held for ``HOLD_FRACTION`` of ``n_samples``, then released.

        Raises
        ------
        AudioError
            If tinysoundfont or the soundfont is missing, or the program is not in it.
        """
        player = get_player(self.soundfont_path, sample_rate)
        n_hold = int(round(HOLD_FRACTION * n_samples))
        return player.note(pitch, velocity, n_hold=n_hold, n_total=n_samples, preset=program)

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
