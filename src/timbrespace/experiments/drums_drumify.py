"""Drumify in the drums pipeline: taps from MIDI or audio, a full kit out, held-out scores.

``timbrespace drums drumify`` reads a tapped rhythm (any MIDI notes, or the onsets of a
recording of claps or taps), puts it on the 16th-note grid with each tap's velocity and
micro-timing offset, and plays it as a full kit with a
:class:`~timbrespace.patterns.drumify.Drumify` model (:func:`drumify_file`).
:func:`evaluate_drumify` measures a model fitted on a groove dataset's training split on
the test split, and over 5 folds of held-out styles, against three baselines that place
drums at the taps from the training bars' rates per step (GrooVAE's Drumify task,
Gillick et al. 2019).
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from timbrespace.datasets import Dataset
from timbrespace.errors import AudioError, DatasetError, ParameterError
from timbrespace.metrics.hits import hit_scores
from timbrespace.patterns.drumify import (
    STEPS_PER_BAR,
    Drumify,
    default_drumify,
    read_drumify,
    tap_track,
)
from timbrespace.patterns.midi import MAX_BARS_PER_FILE

__all__ = ["TapTrack", "read_taps", "taps_from_midi", "taps_from_audio", "load_drumify", "drumify_file",
           "DrumifyResult", "DrumifyEvaluation", "evaluate_drumify"]

logger = logging.getLogger(__name__)

STEPS_PER_QUARTER = STEPS_PER_BAR // 4
ONSET_HOP_LENGTH = 256
"""Hop of the onset strength envelope, in samples (5.8 ms at 44.1 kHz)."""
PAD_S = 0.25
"""Silence added before and after a recording for onset detection, in seconds."""
LEVEL_WINDOW_S = 0.05
"""A tap's level is the peak amplitude in this many seconds from its onset."""
VELOCITY_RANGE_DB = 40.0
"""A tap this many dB below the loudest has velocity 0 (clipped to 1/127); the loudest has 127."""
SILENCE_PEAK = 1e-4
"""Peak amplitude (-80 dBFS) below which a recording is silent: no taps."""


@dataclass(frozen=True)
class TapTrack:
    """A tapped rhythm on the 16th-note grid.

    Attributes
    ----------
    velocities : np.ndarray [shape=(n_bars, 16), dtype=float32]
        Tap velocity in [1/127, 1] at a tap, 0 elsewhere.
    offsets : np.ndarray [shape=(n_bars, 16), dtype=float32]
        Each tap's distance from its step, in steps, in [-0.5, 0.5].
    bpm : float
        Tempo the grid was read at (a MIDI file's first tempo, or the one given).
    source : str
        ``"midi"`` or ``"audio"``.
    notes : tuple of str
        What of the input the grid does not keep (a MIDI file's tempo changes, a meter
        other than 4/4), one sentence each, for the user.
    """

    velocities: np.ndarray
    offsets: np.ndarray
    bpm: float
    source: str
    notes: tuple[str, ...] = ()

    @property
    def n_taps(self) -> int:
        return int((self.velocities > 0).sum())


def _on_grid(positions_steps: np.ndarray, velocities: np.ndarray, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Taps at fractional step positions → (velocities, offsets) per bar; the loudest tap wins a step."""
    steps = np.rint(positions_steps).astype(np.int64)  # ties to even, as the MIDI reader
    n_bars = int(steps.max()) // STEPS_PER_BAR + 1
    if n_bars > MAX_BARS_PER_FILE:
        raise DatasetError(f"{name}: spans {n_bars} bars; at most {MAX_BARS_PER_FILE} are read")
    v = np.zeros(n_bars * STEPS_PER_BAR, np.float32)
    o = np.zeros_like(v)
    for step, pos, vel in zip(steps, positions_steps, velocities, strict=True):
        if vel > v[step]:
            v[step], o[step] = vel, pos - step
    return v.reshape(n_bars, STEPS_PER_BAR), o.reshape(n_bars, STEPS_PER_BAR)


def taps_from_midi(path: str | Path) -> TapTrack:
    """Every note-on of a MIDI file (any channel, any note) as a tap.

    Bars are four quarter notes from tick 0 (the model's 4/4 grid), whatever meter the
    file names.

    Raises
    ------
    DatasetError
        Unparsable file, SMPTE timing, no note, too many bars.
    """
    import mido

    path = Path(path)
    try:
        mf = mido.MidiFile(str(path))
    except Exception as exc:  # mido raises OSError, EOFError, ValueError, KeyError, IndexError
        raise DatasetError(f"{path.name}: unreadable MIDI file ({type(exc).__name__}: {exc})") from None
    tpb = mf.ticks_per_beat
    if not tpb or tpb <= 0:
        raise DatasetError(f"{path.name}: ticks_per_beat={tpb} (SMPTE timing is not supported)")
    tempo_us: int | None = None
    tempos, meters = set(), set()
    ticks, velocities = [], []
    for track in mf.tracks:
        tick = 0
        for msg in track:
            tick += msg.time
            if msg.type == "set_tempo":
                tempos.add(msg.tempo)
                if tick == 0 and tempo_us is None:
                    tempo_us = msg.tempo
            elif msg.type == "time_signature":
                meters.add((msg.numerator, msg.denominator))
            elif msg.type == "note_on" and msg.velocity > 0:
                ticks.append(tick)
                velocities.append(msg.velocity / 127)
    if not ticks:
        raise DatasetError(f"{path.name}: no notes (every note-on is a tap); nothing to drumify")
    v, o = _on_grid(np.asarray(ticks, np.float64) * STEPS_PER_QUARTER / tpb, np.asarray(velocities), path.name)
    bpm = float(mido.tempo2bpm(tempo_us)) if tempo_us else 120.0
    notes = []
    if len(tempos) > 1 or (tempos and tempo_us is None):
        notes.append(f"{path.name} changes tempo ({len(tempos)} tempos): the output plays every bar at {bpm:g} BPM, "
                     "so taps after a change are not at their times in seconds (--bpm sets one tempo)")
    other = sorted(f"{n}/{d}" for n, d in meters if (n, d) != (4, 4))
    if other:
        notes.append(f"{path.name} is in {', '.join(other)}: the model knows 4/4 bars only, and reads the taps "
                     "in bars of four quarter notes from the start (the output is written in 4/4)")
    return TapTrack(v, o, bpm, "midi", tuple(notes))


def taps_from_audio(path: str | Path, *, bpm: float) -> TapTrack:
    """The onsets of a recording of claps or taps, on the 16th-note grid of ``bpm`` from time 0.

    Onsets are ``librosa.onset.onset_detect`` on the onset strength envelope (hop
    :data:`ONSET_HOP_LENGTH`, the recording padded with silence so that a clap at 0 s is
    found). A tap's velocity comes from its peak level in the :data:`LEVEL_WINDOW_S` after
    the onset, in dB below the loudest tap's: 0 dB plays at 127, :data:`VELOCITY_RANGE_DB`
    below at 1 (onset strength, a flux of log power, hardly tells a soft clap from a loud
    one).

    Parameters
    ----------
    path : path-like
        Any format libsndfile reads (mixed to mono).
    bpm : float
        Tempo of the taps, quarter notes per minute; step ``k`` is at ``k · 15 / bpm`` s.

    Raises
    ------
    AudioError
        Unreadable audio.
    DatasetError
        A silent recording (peak below -80 dBFS) or one without an onset.
    """
    import librosa

    from timbrespace.utils.audio import read_mono

    path = Path(path)
    y, sr = read_mono(path)
    if float(np.max(np.abs(y))) < SILENCE_PEAK:
        raise DatasetError(f"{path.name}: silent (peak below -80 dBFS); no taps to drumify")
    # silence either side, so that a clap at time 0 (the downbeat) or at the very end has an onset to peak at
    pad = int(PAD_S * sr)
    envelope = librosa.onset.onset_strength(y=np.pad(y, pad), sr=sr, hop_length=ONSET_HOP_LENGTH)
    frames = librosa.onset.onset_detect(onset_envelope=envelope, sr=sr, hop_length=ONSET_HOP_LENGTH)
    if len(frames) == 0 or float(envelope.max()) <= 0:
        raise DatasetError(f"{path.name}: no onsets found; nothing to drumify")
    times_s = np.maximum(librosa.frames_to_time(frames, sr=sr, hop_length=ONSET_HOP_LENGTH) - pad / sr, 0.0)
    # level, not onset strength: the strength is a flux of log power, nearly the same for a soft and a loud clap
    starts = np.rint(times_s * sr).astype(np.int64)
    window = max(1, int(LEVEL_WINDOW_S * sr))
    peaks = np.array([float(np.abs(y[a:a + window]).max(initial=0.0)) for a in starts])
    level_db = 20 * np.log10(np.maximum(peaks, SILENCE_PEAK) / max(float(peaks.max()), SILENCE_PEAK))
    velocities = np.clip(1 + level_db / VELOCITY_RANGE_DB, 1 / 127, 1.0)
    v, o = _on_grid(times_s * bpm / 60 * STEPS_PER_QUARTER, velocities, path.name)
    return TapTrack(v, o, float(bpm), "audio")


def read_taps(path: str | Path, *, bpm: float | None = None) -> TapTrack:
    """Taps from a MIDI file (its header says ``MThd``) or else an audio file.

    Parameters
    ----------
    path : path-like
    bpm : float or None
        Tempo of an audio file's taps (default 120); ignored for MIDI, whose ticks give the grid.

    Raises
    ------
    ParameterError
        ``path`` missing or a folder, or neither MIDI nor audio.
    DatasetError
        No tap in it.
    """
    path = Path(path)
    if not path.is_file():
        raise ParameterError(f"tap file {path} does not exist (a MIDI file or a WAV of claps or taps)")
    with path.open("rb") as f:
        head = f.read(4)
    if head == b"MThd":
        return taps_from_midi(path)
    try:
        return taps_from_audio(path, bpm=120.0 if bpm is None else bpm)
    except AudioError:
        raise ParameterError(f"{path.name}: neither a MIDI file nor audio (a MIDI of taps or a WAV of claps "
                             "is expected)") from None


def load_drumify(source: str | Path | None) -> Drumify:
    """The model of ``source``: a drumify ``.json``, a groove dataset, a drums run, or the shipped default.

    A groove dataset gives a model fitted on every bar; a drums run one fitted on its
    dataset's training split.

    Raises
    ------
    ParameterError
        ``source`` does not exist or is none of these.
    DatasetError
        A damaged model file, a dataset that is not a 16-step groove dataset, a run of another kind.
    """
    from timbrespace.patterns.dataset import PATTERNS_FEATURE
    from timbrespace.patterns.drumify import drumify_from_dataset

    if source is None:
        return default_drumify()
    path = Path(source)
    if not path.exists():
        raise ParameterError(f"--from {path}: no such file or folder (a drumify .json, a groove dataset or a drums run)")
    if path.is_file():
        return read_drumify(path)
    if (path / "run.json").is_file():
        from timbrespace.experiments.drums_run import read_drums_config

        return drumify_from_dataset(read_drums_config(path)["dataset"], split="train")
    if (path / "dataset.json").is_file():
        ds = Dataset(path)
        if PATTERNS_FEATURE not in ds.feature_names():
            raise DatasetError(f"--from {path}: not a groove dataset (no drum patterns); make one with "
                               "`timbrespace drums ingest`")
        return drumify_from_dataset(ds)
    raise ParameterError(f"--from {path}: not a drumify .json, a groove dataset or a drums run")


@dataclass(frozen=True)
class DrumifyResult:
    """What :func:`drumify_file` wrote."""

    midi_path: Path
    wav_path: Path | None
    n_bars: int
    n_taps: int
    n_hits: int
    bpm: float


def drumify_file(taps: TapTrack, out: str | Path, *, model: Drumify, bpm: float | None = None,
                 wav_out: str | Path | None = None, kit: Any = None, sample_rate: int = 44100) -> DrumifyResult:
    """Play a tap track as a full kit: MIDI (GM drum notes, channel 10) and optionally a WAV.

    Parameters
    ----------
    taps : TapTrack
        From :func:`read_taps`.
    out : path-like
        MIDI file to write (its folder is created).
    model : Drumify
    bpm : float or None
        Tempo written; default the taps'.
    wav_out : path-like or None
        Also render the pattern with ``kit`` to this WAV.
    kit : DrumKit or SoundfontKit
        Needed with ``wav_out`` (:func:`~timbrespace.patterns.kits.find_kit`).
    sample_rate : int
        Of the WAV, Hz.

    Returns
    -------
    DrumifyResult

    Raises
    ------
    ParameterError
        A tempo out of range (nothing is written). Everything is built before a file is
        created, so a failure leaves no file behind.
    """
    from timbrespace.patterns.midi import patterns_to_midi, write_midi_file
    from timbrespace.patterns.render import render_patterns, write_wav

    tempo = taps.bpm if bpm is None else float(bpm)
    patterns, offsets = model.predict(taps.velocities, taps.offsets)
    midi = patterns_to_midi(patterns, offsets=offsets, drum_map=model.drum_map, bpm=tempo)
    audio = None
    if wav_out is not None:
        audio = render_patterns(patterns, kit, bpm=tempo, drum_map=model.drum_map,
                                steps_per_quarter=STEPS_PER_QUARTER, sample_rate=sample_rate, offsets=offsets)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_midi_file(out, midi)
    if audio is not None:
        Path(wav_out).parent.mkdir(parents=True, exist_ok=True)  # type: ignore[arg-type]
        write_wav(wav_out, audio, sample_rate)  # type: ignore[arg-type]
    return DrumifyResult(out, None if wav_out is None else Path(wav_out), len(patterns), taps.n_taps,
                         int((patterns > 0).sum()), tempo)


# --- held-out evaluation -------------------------------------------------------------------------------------------

POSITION_RATE_THRESHOLD = 0.3
"""Rate above which the position-rates baseline plays a voice (chosen, like the model's threshold,
by 5-fold cross-validation over styles within the training split)."""


@dataclass(frozen=True)
class DrumifyEvaluation:
    """Hit F1 of drumified test bars (their own tap tracks) against the true bars, beside baselines.

    Every F1 pools all cells (bar, step, voice). Baselines play at the taps only, from the
    training bars' rate of each voice at each step given a tap: ``kick_snare`` the kick
    and/or snare (each where its rate >= 0.5, else the likelier of the two),
    ``most_common_voice`` the one voice most often there, ``position_rates`` every voice
    whose rate exceeds :data:`POSITION_RATE_THRESHOLD` (at least the likeliest).
    ``cv_*``: the same, pooled over 5 folds of held-out styles covering every bar.
    ``velocity_mae``: mean absolute velocity error of the model's correctly placed hits
    (in [0, 1]); ``velocity_mae_tap`` of giving them the tap's velocity.
    """

    n_train_bars: int
    n_test_bars: int
    f1: float
    f1_kick_snare: float
    f1_most_common_voice: float
    f1_position_rates: float
    cv_f1: float
    cv_f1_kick_snare: float
    cv_f1_most_common_voice: float
    cv_f1_position_rates: float
    velocity_mae: float
    velocity_mae_tap: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _baselines(x_train: np.ndarray, x_test: np.ndarray) -> dict[str, np.ndarray]:
    """Hit grids of the three baselines on the test bars' taps."""
    taps_train, taps_test = x_train.max(axis=2) > 0, x_test.max(axis=2) > 0
    n_voices = x_train.shape[2]
    rate = np.zeros((STEPS_PER_BAR, n_voices))
    for s in range(STEPS_PER_BAR):
        if taps_train[:, s].any():
            rate[s] = (x_train[taps_train[:, s], s] > 0).mean(axis=0)
    kick_snare = np.zeros((STEPS_PER_BAR, n_voices), bool)
    both = rate[:, :2] >= 0.5
    neither = ~both.any(axis=1)
    both[neither, rate[neither, :2].argmax(axis=1)] = True
    kick_snare[:, :2] = both
    common = np.zeros_like(kick_snare)
    common[np.arange(STEPS_PER_BAR), rate.argmax(axis=1)] = True
    rates = (rate > POSITION_RATE_THRESHOLD) | common
    return {name: taps_test[..., None] & grid[None] for name, grid in
            (("kick_snare", kick_snare), ("most_common_voice", common), ("position_rates", rates))}


def _scores(x_train: np.ndarray, o_train: np.ndarray, x_test: np.ndarray, o_test: np.ndarray,
            drum_map: str) -> tuple[dict[str, np.ndarray], np.ndarray]:
    from timbrespace.patterns.drumify import fit_drumify

    model = fit_drumify(x_train, o_train, drum_map=drum_map)
    v, o = tap_track(x_test, o_test)
    predicted, _ = model.predict(v, o)
    return {"model": predicted > 0, **_baselines(x_train, x_test)}, predicted


def evaluate_drumify(dataset: str | Path | Dataset, *, n_folds: int = 5) -> DrumifyEvaluation:
    """Held-out hit F1 of :func:`~timbrespace.patterns.drumify.fit_drumify` and its baselines.

    Parameters
    ----------
    dataset : path-like or Dataset
        A groove dataset at 16 steps per 4/4 bar with train and test splits (``drums ingest``).
    n_folds : int
        Folds of held-out styles for the ``cv_*`` scores (scikit-learn's ``GroupKFold``), >= 2.

    Returns
    -------
    DrumifyEvaluation

    Raises
    ------
    DatasetError
        Not such a dataset, an empty split, fewer styles than folds.
    """
    from sklearn.model_selection import GroupKFold

    from timbrespace.patterns.dataset import PATTERNS_FEATURE, load_offsets, load_patterns

    if int(n_folds) != n_folds or n_folds < 2:
        raise ParameterError(f"n_folds={n_folds} must be an integer >= 2")
    ds = dataset if isinstance(dataset, Dataset) else Dataset(dataset)
    drum_map = str(ds.feature_sidecar(PATTERNS_FEATURE)["drum_map"])
    x, meta = load_patterns(ds, None)
    o = load_offsets(ds, None)
    if o is None:
        o = np.zeros_like(x)
    if x.shape[1] != STEPS_PER_BAR:
        raise DatasetError(f"{ds.root}: bars of {x.shape[1]} steps; drumify needs 16")
    split = meta["split"].to_numpy()
    train, test = split == "train", split == "test"
    if not train.any() or not test.any():
        raise DatasetError(f"{ds.root}: needs bars in the train and test splits")
    grids, predicted = _scores(x[train], o[train], x[test], o[test], drum_map)
    truth = x[test] > 0
    f1 = {name: hit_scores(truth, grid).f1 for name, grid in grids.items()}
    both = truth & (predicted > 0)
    tap_v = x[test].max(axis=2, keepdims=True)
    velocity_mae = float(np.abs(predicted - x[test])[both].mean()) if both.any() else math.nan
    velocity_mae_tap = float(np.abs(np.broadcast_to(tap_v, x[test].shape) - x[test])[both].mean()) if both.any() \
        else math.nan

    groups = meta["style"].to_numpy()
    if len(set(groups)) < n_folds:
        raise DatasetError(f"{ds.root}: {len(set(groups))} styles, fewer than n_folds={n_folds}")
    pooled = {name: np.zeros(x.shape, bool) for name in grids}
    for fold_train, fold_test in GroupKFold(n_splits=int(n_folds)).split(x, groups=groups):
        fold, _ = _scores(x[fold_train], o[fold_train], x[fold_test], o[fold_test], drum_map)
        for name, grid in fold.items():
            pooled[name][fold_test] = grid
    cv = {name: hit_scores(x > 0, grid).f1 for name, grid in pooled.items()}
    return DrumifyEvaluation(
        n_train_bars=int(train.sum()), n_test_bars=int(test.sum()),
        f1=f1["model"], f1_kick_snare=f1["kick_snare"], f1_most_common_voice=f1["most_common_voice"],
        f1_position_rates=f1["position_rates"], cv_f1=cv["model"], cv_f1_kick_snare=cv["kick_snare"],
        cv_f1_most_common_voice=cv["most_common_voice"], cv_f1_position_rates=cv["position_rates"],
        velocity_mae=velocity_mae, velocity_mae_tap=velocity_mae_tap,
    )
