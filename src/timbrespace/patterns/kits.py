"""Drum kits: Hydrogen ``drumkit.xml`` sample kits and a General MIDI soundfont bank.

A Hydrogen kit is a folder with ``drumkit.xml`` naming each instrument, its GM note
(``midiOutNote``), volume, and velocity layers (``<layer>``: sample file, ``min``/``max``
velocity in [0, 1], gain, pitch), beside the samples. Both the old layout (layers directly
under ``<instrument>``) and Hydrogen ≥ 0.9.7's ``<instrumentComponent>`` are read.

A kit's voice for each pattern voice is chosen by GM note when the kit's notes are
distinct (TR-808 kit), else by instrument name keywords (kits that leave every
``midiOutNote`` at Hydrogen's default 60, e.g. Audiophob).

References
----------
Hydrogen drumkit format: http://www.hydrogen-music.org/ (``drumkit.xml``, schema
``drumkit.xsd``).
"""

from __future__ import annotations

import logging
import os
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from math import gcd
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import resample_poly

from timbrespace.errors import AudioError, DatasetError, ParameterError
from timbrespace.patterns.drum_maps import DrumMap, get_drum_map
from timbrespace.synths.soundfont import default_soundfont
from timbrespace.utils.paths import safe_relpath

__all__ = ["KitLayer", "KitInstrument", "DrumKit", "load_hydrogen_kit", "find_kit", "kit_search_path",
           "KIT_SEARCH_PATH", "SoundfontKit"]

logger = logging.getLogger(__name__)

KIT_SEARCH_PATH = (
    "~/.hydrogen/data/drumkits",
    "/usr/share/hydrogen/data/drumkits",
    "/usr/local/share/hydrogen/data/drumkits",
)
"""Hydrogen's usual kit folders (user, system, local install), searched for a kit given by
name after the caller's folders and ``$TIMBRESPACE_DRUMKITS``."""


@dataclass(frozen=True)
class KitLayer:
    """A velocity layer: used for hits with ``min_velocity <= v <= max_velocity`` (v in [0, 1])."""

    path: Path
    min_velocity: float = 0.0
    max_velocity: float = 1.0
    gain: float = 1.0
    pitch: float = 0.0


@dataclass(frozen=True)
class KitInstrument:
    """One instrument of a kit."""

    id: int
    name: str
    midi_note: int
    volume: float = 1.0
    gain: float = 1.0
    layers: tuple[KitLayer, ...] = ()

    def layer_for(self, velocity: float) -> KitLayer:
        """The layer whose velocity range holds ``velocity`` (nearest range if none does)."""
        if not self.layers:
            raise DatasetError(f"kit instrument {self.name!r} has no sample layers")
        for layer in self.layers:
            if layer.min_velocity <= velocity <= layer.max_velocity:
                return layer
        return min(self.layers, key=lambda la: min(abs(velocity - la.min_velocity), abs(velocity - la.max_velocity)))


@dataclass(frozen=True)
class DrumKit:
    """A sample drum kit (Hydrogen format).

    Use :func:`load_hydrogen_kit` to make one; :meth:`voice_instruments` maps pattern
    voices to instruments and :meth:`sample` reads (and caches) a layer's audio.
    """

    name: str
    root: Path
    instruments: tuple[KitInstrument, ...] = field(default=())

    def voice_instruments(self, drum_map: str | DrumMap) -> list[KitInstrument | None]:
        """Instrument that plays each voice of ``drum_map`` (None: no match, voice silent).

        GM notes decide when the kit's ``midiOutNote`` values are distinct; otherwise (or
        when no note matches) the first instrument whose lower-cased name contains one of
        the voice's keywords, trying keywords in order and preferring instruments not yet
        used by another voice.
        """
        dmap = get_drum_map(drum_map)
        notes = [ins.midi_note for ins in self.instruments]
        notes_usable = len(set(notes)) == len(notes) and len(notes) > 1
        chosen: list[KitInstrument | None] = []
        used: set[int] = set()
        for voice in dmap.voices:
            pick: KitInstrument | None = None
            if notes_usable:
                for note in (voice.output_note, *voice.midi_notes):
                    pick = next((ins for ins in self.instruments if ins.midi_note == note), None)
                    if pick is not None:
                        break
            if pick is None:
                for prefer_unused in (True, False):
                    for word in voice.keywords:
                        pick = next((ins for ins in self.instruments
                                     if word in ins.name.lower() and (not prefer_unused or ins.id not in used)), None)
                        if pick is not None:
                            break
                    if pick is not None:
                        break
            if pick is None:
                logger.warning("kit %s: no instrument for voice %r (silent)", self.name, voice.name)
            else:
                used.add(pick.id)
            chosen.append(pick)
        return chosen

    def sample(self, layer: KitLayer, sample_rate: int) -> np.ndarray:
        """Mono float32 audio of a layer at ``sample_rate`` (read once, then cached)."""
        return _read_sample(str(layer.path), int(sample_rate))


@lru_cache(maxsize=256)
def _read_sample(path: str, sample_rate: int) -> np.ndarray:
    try:
        y, sr = sf.read(path, dtype="float32", always_2d=True)
    except Exception as exc:
        raise AudioError(f"{path}: cannot read drum sample ({exc})") from None
    y = y.mean(axis=1)
    if sr != sample_rate:
        g = gcd(int(sr), sample_rate)
        y = resample_poly(y, sample_rate // g, int(sr) // g).astype(np.float32)
    y.setflags(write=False)
    return y


def _text(node: ET.Element, tag: str, default: str = "") -> str:
    child = node.find(tag)
    return child.text.strip() if child is not None and child.text else default


def _strip_namespaces(root: ET.Element) -> None:
    for el in root.iter():
        if isinstance(el.tag, str) and "}" in el.tag:
            el.tag = el.tag.split("}", 1)[1]


def load_hydrogen_kit(path: str | Path) -> DrumKit:
    """Read a Hydrogen kit from its folder (or its ``drumkit.xml``).

    Parameters
    ----------
    path : path-like

    Returns
    -------
    DrumKit
        Instruments with at least one readable layer file; muted ones are kept.

    Raises
    ------
    DatasetError
        No ``drumkit.xml``, malformed XML, or no instrument with a sample.
    """
    path = Path(path)
    xml_path = path / "drumkit.xml" if path.is_dir() else path
    if not xml_path.is_file():
        raise DatasetError(f"{path}: not a Hydrogen drum kit (no drumkit.xml)")
    try:
        root = ET.parse(xml_path).getroot()
    except ET.ParseError as exc:
        raise DatasetError(f"{xml_path}: malformed drumkit.xml ({exc})") from None
    _strip_namespaces(root)
    folder = xml_path.parent
    instruments: list[KitInstrument] = []
    for k, node in enumerate(root.iter("instrument")):
        layers: list[KitLayer] = []
        for layer in node.iter("layer"):
            fname = _text(layer, "filename")
            if not fname:
                continue
            # a kit names its samples inside its own folder: nothing outside it is read
            sample = folder / safe_relpath(fname, what=f"{xml_path}: layer filename", error=DatasetError)
            if not sample.is_file():
                logger.warning("kit %s: missing sample %s", folder.name, fname)
                continue
            layers.append(KitLayer(sample, float(_text(layer, "min", "0")), float(_text(layer, "max", "1")),
                                   float(_text(layer, "gain", "1")), float(_text(layer, "pitch", "0"))))
        if not layers:
            continue
        instruments.append(KitInstrument(
            id=int(_text(node, "id", str(k))), name=_text(node, "name", f"instrument {k}"),
            midi_note=int(_text(node, "midiOutNote", "60")), volume=float(_text(node, "volume", "1")),
            gain=float(_text(node, "gain", "1")), layers=tuple(sorted(layers, key=lambda la: la.min_velocity)),
        ))
    if not instruments:
        raise DatasetError(f"{xml_path}: no instrument with a readable sample")
    return DrumKit(name=_text(root, "name", folder.name), root=folder, instruments=tuple(instruments))


@dataclass(frozen=True)
class SoundfontKit:
    """The percussion bank (bank 128, preset ``preset``) of a GM soundfont, played by TinySoundFont.

    ``path`` defaults to :func:`timbrespace.synths.soundfont.default_soundfont` (the system's
    FluidR3_GM, else the TimGM6mb that pretty_midi installs).
    """

    path: Path = field(default_factory=lambda: default_soundfont())
    preset: int = 0
    gain: float = 1.0

    @property
    def name(self) -> str:
        return self.path.stem


def kit_search_path(kit_dirs: Sequence[str | Path] = ()) -> list[Path]:
    """Folders searched for a kit name, in order: ``kit_dirs``, ``$TIMBRESPACE_DRUMKITS``
    (``os.pathsep``-separated), then :data:`KIT_SEARCH_PATH`."""
    env = [d for d in os.environ.get("TIMBRESPACE_DRUMKITS", "").split(os.pathsep) if d]
    return [Path(d).expanduser() for d in (*kit_dirs, *env, *KIT_SEARCH_PATH)]


def find_kit(kit: str | Path, kit_dirs: Sequence[str | Path] = ()) -> DrumKit | SoundfontKit:
    """Resolve a ``--kit`` argument: a kit folder, a kit name, ``soundfont`` or an ``.sf2`` path.

    Names (a kit folder's name, e.g. ``TR808EmulationKit``) are looked up
    case-insensitively in :func:`kit_search_path` (``kit_dirs`` first: ``--kits DIR``).

    Raises
    ------
    ParameterError
        Nothing matches (the message lists the folders searched and the kits found there).
    """
    text = str(kit)
    if text == "soundfont":
        try:
            return SoundfontKit()
        except AudioError as exc:
            raise ParameterError(f"kit='soundfont': {exc}") from None
    p = Path(text).expanduser()
    if p.suffix.lower() in (".sf2", ".sf3"):
        if not p.is_file():
            raise ParameterError(f"kit={text!r}: soundfont file not found")
        return SoundfontKit(path=p)
    if p.exists():
        return load_hydrogen_kit(p)
    roots = kit_search_path(kit_dirs)
    available: list[str] = []
    for root in roots:
        if not root.is_dir():
            continue
        for d in sorted(root.iterdir()):
            if (d / "drumkit.xml").is_file():
                available.append(d.name)
                if d.name.lower() == text.lower():
                    return load_hydrogen_kit(d)
    raise ParameterError(f"kit={text!r} is not a kit folder, a known kit name, 'soundfont' or an .sf2 file; "
                         f"searched {', '.join(str(r) for r in roots)}; kits found: {', '.join(available) or 'none'} "
                         "(add a folder with --kits DIR or $TIMBRESPACE_DRUMKITS)")
