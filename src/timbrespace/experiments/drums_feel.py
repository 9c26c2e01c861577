"""Groove feel in the drums pipeline: where a feel comes from, humanising a MIDI file, held-out errors.

A :class:`~timbrespace.patterns.feel.GrooveFeel` (per voice and position in the beat, the
mean and spread of velocities and micro-timing offsets) is estimated on a drums run's
training bars and saved as ``RUN/feel.json``; :func:`evaluate_feel` measures it on the
test bars against the baselines that know nothing of feel (every hit at the training
bars' mean velocity; every hit on its step) and, for a model that predicts velocities and
offsets itself (``drums train --outputs hvo``), beside the model's own errors; ``timbrespace
drums humanize`` plays a quantised MIDI groove with it (:func:`humanize_midi`), or with the
model of a run trained for GrooVAE's Humanize (:mod:`.drums_humanize`).
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from timbrespace.datasets import Dataset
from timbrespace.errors import DatasetError, ParameterError
from timbrespace.patterns.dataset import PATTERNS_FEATURE
from timbrespace.patterns.feel import GrooveFeel, default_feel, feel_from_dataset, read_feel
from timbrespace.patterns.midi import patterns_to_midi, read_midi, write_midi_file
from timbrespace.utils.limits import check_seed

if TYPE_CHECKING:
    from timbrespace.experiments.drums_humanize import ModelHumanizer

__all__ = ["FEEL_FILE", "FeelEvaluation", "evaluate_feel", "load_feel", "humanize_midi", "HumanizeResult"]

logger = logging.getLogger(__name__)

FEEL_FILE = "feel.json"
"""The feel of a drums run's training bars, in the run folder."""


@dataclass(frozen=True)
class FeelEvaluation:
    """Held-out velocity and timing errors of a feel, beside the baselines without one.

    Errors are means over the test bars' hits of the absolute difference between the
    played value and the prediction: the feel's expected value (``velocity_mae``,
    ``offset_mae_ms``), one seeded draw of it as ``drums humanize`` plays
    (``*_drawn``), the training hits' mean velocity (``velocity_mae_baseline_mean``) and
    no offset (``offset_mae_ms_baseline_zero``), and the groove model's own reconstruction
    of each test bar through its latent means (``*_model``, a model that predicts
    velocities and offsets: ``outputs: hvo``; None otherwise). Velocities are in [0, 1]
    (MIDI / 127); offsets in milliseconds at each bar's own tempo.

    Attributes
    ----------
    n_test_hits : int
    velocity_mae, velocity_mae_drawn, velocity_mae_baseline_mean : float
    offset_mae_ms, offset_mae_ms_drawn, offset_mae_ms_baseline_zero : float
    test_offset_mean_abs_ms : float
        How far from the grid the test hits are (equals the zero baseline's error).
    velocity_mae_model, offset_mae_ms_model : float or None
        The model's errors on the same hits (its velocity and offset at every true hit,
        whatever its hit probability there).
    model_task : {"reconstruct", "humanize"} or None
        How the model's values were got: ``reconstruct``, each bar encoded whole (the
        encoder has seen the velocities and offsets); ``humanize``, predicted from the
        bar's hits alone (``drums train --task humanize``), comparable with the feel's
        and the baselines'. None without a model's values.
    """

    n_test_hits: int
    velocity_mae: float
    velocity_mae_drawn: float
    velocity_mae_baseline_mean: float
    offset_mae_ms: float
    offset_mae_ms_drawn: float
    offset_mae_ms_baseline_zero: float
    test_offset_mean_abs_ms: float
    velocity_mae_model: float | None = None
    offset_mae_ms_model: float | None = None
    model_task: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (``metrics.json["feel"]``)."""
        return asdict(self)


def evaluate_feel(feel: GrooveFeel, x_train: np.ndarray, x_test: np.ndarray, offsets_test: np.ndarray,
                  bpm_test: np.ndarray, *, seed: int = 0, model_velocities: np.ndarray | None = None,
                  model_offsets: np.ndarray | None = None, model_task: str | None = None) -> FeelEvaluation:
    """Velocity and offset errors of ``feel`` on the hits of the test bars, and of the baselines.

    Parameters
    ----------
    feel : GrooveFeel
        Estimated on the training bars.
    x_train : np.ndarray [shape=(n_train, n_steps, n_voices)]
        Training velocities (for the mean-velocity baseline).
    x_test, offsets_test : np.ndarray [shape=(n_test, n_steps, n_voices)]
        Test velocities and offsets (steps).
    bpm_test : np.ndarray [shape=(n_test,)]
        Each test bar's tempo, quarter notes per minute (for milliseconds).
    seed : int
        Seed of the drawn predictions.
    model_velocities, model_offsets : np.ndarray [shape=(n_test, n_steps, n_voices)], optional
        A groove model's velocities (in [0, 1]) and offsets (steps) for the test bars
        (:func:`~timbrespace.experiments.drums_eval.predict_hits`,
        :func:`~timbrespace.experiments.drums_eval.predict_offsets`, or a Humanize model's,
        :func:`~timbrespace.experiments.drums_humanize.predict_humanized`); given together.
    model_task : {"reconstruct", "humanize"}, optional
        How the model's values were got (:attr:`FeelEvaluation.model_task`).

    Returns
    -------
    FeelEvaluation

    Raises
    ------
    DatasetError
        No hit in the test or training bars.
    """
    hits = x_test > 0
    if not hits.any() or not (x_train > 0).any():
        raise DatasetError("no hits in the train or test bars to measure a feel on")
    step_ms = 60_000.0 / (np.asarray(bpm_test, np.float64) * feel.steps_per_quarter)
    ms = np.broadcast_to(step_ms[:, None, None], x_test.shape)[hits]
    v_true, o_true = x_test[hits].astype(np.float64), offsets_test[hits].astype(np.float64)
    v_mean, o_mean = feel.expected(x_test)
    v_draw, o_draw = feel.humanize(x_test, seed=seed)
    v_model = o_model = None
    if model_velocities is not None and model_offsets is not None:
        v_model = float(np.mean(np.abs(np.asarray(model_velocities, np.float64)[hits] - v_true)))
        o_model = float(np.mean(np.abs(np.asarray(model_offsets, np.float64)[hits] - o_true) * ms))
    return FeelEvaluation(
        n_test_hits=int(hits.sum()),
        velocity_mae=float(np.mean(np.abs(v_mean[hits] - v_true))),
        velocity_mae_drawn=float(np.mean(np.abs(v_draw[hits] - v_true))),
        velocity_mae_baseline_mean=float(np.mean(np.abs(float(np.mean(x_train[x_train > 0])) - v_true))),
        offset_mae_ms=float(np.mean(np.abs(o_mean[hits] - o_true) * ms)),
        offset_mae_ms_drawn=float(np.mean(np.abs(o_draw[hits] - o_true) * ms)),
        offset_mae_ms_baseline_zero=float(np.mean(np.abs(o_true) * ms)),
        test_offset_mean_abs_ms=float(np.mean(np.abs(o_true) * ms)),
        velocity_mae_model=v_model, offset_mae_ms_model=o_model, model_task=None if v_model is None else model_task,
    )


def load_feel(source: str | Path | None) -> GrooveFeel:
    """The feel of ``source``: a drums run, a groove dataset, a feel JSON file, or the shipped default.

    Parameters
    ----------
    source : path-like or None
        A drums run folder (its ``feel.json``, or else its dataset's training bars), a
        groove dataset (every bar), a file written by :meth:`GrooveFeel.save`, or None
        for :func:`~timbrespace.patterns.feel.default_feel`.

    Raises
    ------
    ParameterError
        ``source`` does not exist or is none of these.
    DatasetError
        A run or dataset without offsets (older), a damaged feel file, a run of another kind.
    """
    if source is None:
        return default_feel()
    path = Path(source)
    if not path.exists():
        raise ParameterError(f"--from {path}: no such file or folder (a drums run, a groove dataset or a feel .json)")
    if path.is_file():
        return read_feel(path)
    if (path / "run.json").is_file():
        from timbrespace.experiments.drums_run import read_drums_config

        config = read_drums_config(path)
        if (path / FEEL_FILE).is_file():
            return read_feel(path / FEEL_FILE)
        return feel_from_dataset(config["dataset"], split="train")
    if (path / "dataset.json").is_file():
        ds = Dataset(path)
        if PATTERNS_FEATURE not in ds.feature_names():
            raise DatasetError(f"--from {path}: not a groove dataset (no drum patterns); make one with "
                               "`timbrespace drums ingest`")
        return feel_from_dataset(ds, split=None)
    raise ParameterError(f"--from {path}: not a drums run, a groove dataset or a feel .json file")


@dataclass(frozen=True)
class HumanizeResult:
    """What :func:`humanize_midi` wrote."""

    path: Path
    n_bars: int
    n_hits: int
    bpm: float
    time_signature: tuple[int, int]


def humanize_midi(midi: str | Path, out: str | Path, *, feel: GrooveFeel | ModelHumanizer, seed: int = 0,
                  overwrite: bool = False) -> HumanizeResult:
    """Play a quantised MIDI groove with a feel: new velocities and micro-timing, same hits.

    The drum part of ``midi`` (channel 10) is read onto the feel's grid and drum map;
    each hit gets a velocity and an offset drawn from ``feel`` (:meth:`GrooveFeel.humanize`),
    or predicted from the bar's hits by a Humanize model
    (:class:`~timbrespace.experiments.drums_humanize.ModelHumanizer`: the input's own
    velocities and timing are not read), and the result is written as a one-track drum MIDI file at the input's first tempo and meter
    (other channels are not copied; notes are the drum map's, so drums the map merges
    come out as one note).

    Parameters
    ----------
    midi : path-like
        Input MIDI file.
    out : path-like
        MIDI file to write (its folder is created).
    feel : GrooveFeel or ModelHumanizer
    seed : int
        Seed of the draws (a model's prediction draws nothing).
    overwrite : bool
        Replace ``out`` if it exists.

    Returns
    -------
    HumanizeResult

    Raises
    ------
    ParameterError
        ``midi`` missing, ``out`` existing without ``overwrite``, a folder, or ``midi``
        itself; bars of several lengths, or of another length than a model's; a bad seed.
    DatasetError
        ``midi`` unreadable or without a drum hit the map plays.
    """
    midi, out = Path(midi), Path(out)
    check_seed(seed, "--seed")
    if not midi.is_file():
        raise ParameterError(f"MIDI file {midi} does not exist")
    if out.is_dir():
        raise ParameterError(f"-o {out} is a folder; give the MIDI file to write")
    if out.exists() and out.resolve() == midi.resolve():
        raise ParameterError(f"-o {out} is the input file; write the humanised groove to another file")
    if out.exists() and not overwrite:
        raise ParameterError(f"-o {out} exists; pass --overwrite to replace it")
    groove = read_midi(midi, drum_map=feel.drum_map, steps_per_bar=feel.steps_per_quarter * 4)
    try:
        patterns, _, _ = groove.patterns_and_offsets(None)
    except ParameterError:
        meters = sorted({f"{b.time_signature[0]}/{b.time_signature[1]}" for b in groove.bars})
        raise ParameterError(f"{midi.name}: bars in meters of different lengths ({', '.join(meters)}); "
                             "humanize reads one meter") from None
    if not np.any(patterns > 0):
        raise DatasetError(f"{midi.name}: no drum hits (no note on MIDI channel 10 that the {feel.drum_map} drum "
                           "map plays); nothing to humanise")
    meter = groove.bars[0].time_signature
    if not isinstance(feel, GrooveFeel):  # a model reads bars of its own length
        feel.check_bars(midi.name, patterns.shape[1], meter)
    velocities, offsets = feel.humanize(patterns, seed=seed)
    built = patterns_to_midi(velocities, offsets=offsets, drum_map=feel.drum_map, bpm=groove.bpm,
                             time_signature=meter)  # before anything is created: a tempo out of range fails here
    out.parent.mkdir(parents=True, exist_ok=True)
    write_midi_file(out, built)
    return HumanizeResult(out, len(patterns), int((patterns > 0).sum()), groove.bpm, meter)
