"""CLI commands: ``timbrespace drums ingest|train|sample|interpolate|humanize|drumify`` (drum grooves).

Examples
--------
::

    timbrespace drums ingest ../shared/data/grooves --out grooves_ds
    timbrespace drums train grooves_ds --out groove_run --epochs 200
    timbrespace drums train grooves_ds --out hvo_run --outputs hvo
    timbrespace drums train grooves_ds --out humanize_run --outputs hvo --task humanize
    timbrespace drums sample groove_run --n 8 --bpm 120 --kit TR808EmulationKit --kits ../shared/data/drumkits -o out/
    timbrespace drums sample groove_run --at 1.5 -2 --kit soundfont --out out/
    timbrespace drums interpolate groove_run A.mid B.mid --steps 5 --out out/
    timbrespace drums humanize straight.mid -o played.mid --from groove_run
    timbrespace drums humanize straight.mid -o played.mid --run humanize_run
    timbrespace drums drumify taps.mid -o kit.mid --wav kit.wav --kit TR808EmulationKit --kits ../shared/data/drumkits
    timbrespace drums drumify --fit grooves_ds -o drumify.json
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import numpy as np
import typer

from timbrespace.cli._options import ProgressOption, as_options, check_min, numbers, resume_hint
from timbrespace.conventions import (
    MAX_INTERPOLATION_STEPS,
    MAX_SWING,
    MIN_INTERPOLATION_STEPS,
    check_steps,
    check_swing,
)
from timbrespace.errors import ParameterError
from timbrespace.utils.limits import check_seed

if TYPE_CHECKING:
    from timbrespace.experiments.drums_generate import Grooves
    from timbrespace.experiments.drums_humanize import ModelHumanizer
    from timbrespace.patterns.feel import GrooveFeel

__all__ = ["drums_app", "register"]

logger = logging.getLogger(__name__)

drums_app = typer.Typer(help="Drum grooves: MIDI to patterns, a groove VAE, new grooves as MIDI and audio.",
                        no_args_is_help=True)


def _parse_time_signature(text: str) -> tuple[int, int]:
    try:
        num, den = (int(v) for v in text.split("/"))
    except ValueError:
        raise ParameterError(f"--time-signature={text!r} must look like 4/4") from None
    if num < 1 or den not in (1, 2, 4, 8, 16, 32):
        raise ParameterError(f"--time-signature={text!r}: numerator >= 1, denominator a power of 2 up to 32")
    return num, den


@drums_app.command("ingest")
def ingest(
    midi_dir: Annotated[Path, typer.Argument(help="Folder of .mid files (searched recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Dataset folder to write.")],
    steps_per_bar: int = typer.Option(16, "--steps-per-bar", help="Grid steps in a 4/4 bar (seed 004: 64)."),
    drum_map: str = typer.Option("magenta9", "--drum-map", help="Voices: magenta9 (9 voices) | seed8 (8 voices)."),
    time_signature: str = typer.Option("4/4", "--time-signature", help="Meter of the bars kept, NUM/DEN."),
    dedup: str = typer.Option("hits", "--dedup", help="Duplicate bars dropped by: hits | pattern | none."),
    seed: int = typer.Option(0, "--seed", help="Seed of the train/valid/test split (by style)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the dataset already at --out."),
) -> None:
    """Turn a folder of MIDI grooves into a groove dataset (bars, de-duplicated, split by style)."""
    from timbrespace.patterns.dataset import GrooveDatasetConfig, build_groove_dataset

    with as_options(("steps_per_bar", "drum_map", "dedup", "seed")):
        cfg = GrooveDatasetConfig(steps_per_bar=steps_per_bar, drum_map=drum_map,
                                  time_signature=_parse_time_signature(time_signature),
                                  dedup=dedup, seed=seed)  # type: ignore[arg-type]
    report = build_groove_dataset(midi_dir, out, config=cfg, overwrite=overwrite)
    typer.echo(f"{out}: {report.n_items} bars from {report.n_files - len(report.skipped_files)} files "
               f"({report.n_duplicates} duplicates, {report.n_empty} empty, {report.n_other_meter} in other meters); "
               "splits " + ", ".join(f"{k} {v}" for k, v in report.split_counts.items()))
    for name, reason in report.skipped_files.items():
        typer.echo(f"skipped {name}: {reason}", err=True)


@drums_app.command("train")
def train(
    dataset: Annotated[Path, typer.Argument(help="Groove dataset (from `drums ingest`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder to write.")],
    architecture: str = typer.Option("mlp", "--architecture", help="mlp (seed 004) | gru."),
    latent_dim: int = typer.Option(8, "--latent-dim", help="Number of latents."),
    hidden: str = typer.Option(
        "800", "--hidden", help="MLP hidden layer widths (units), comma-separated (seed 004: 800)."
    ),
    velocities: bool = typer.Option(True, "--velocities/--hits-only", help="Model velocities (GrooVAE) or hits only "
                                    "(--hits-only is --outputs hits)."),
    outputs: str | None = typer.Option(
        None, "--outputs", help="What the model predicts: hits | hv (hits and velocities, the default) | hvo (hits, "
        "velocities and micro-timing offsets, GrooVAE)."),
    task: str = typer.Option(
        "reconstruct", "--task", help="What the encoder reads: reconstruct (the whole bar, a VAE) | humanize (the "
        "bar's hits only, one velocity and on the grid; the loss targets its real velocities and offsets: GrooVAE's "
        "Humanize, with --outputs hvo; play it with `drums humanize --run`)."),
    error_weight: float = typer.Option(
        1.0, "--error-weight", help="Weight of the squared velocity (and offset) errors on the hits against the hit "
        "cross-entropy (1: plain squared errors; --outputs hv and hvo)."),
    epochs: int = typer.Option(200, "--epochs", help="Epochs (passes over the training bars)."),
    batch_size: int = typer.Option(64, "--batch-size", help="Bars per optimiser step."),
    lr: float = typer.Option(1e-3, "--lr", help="Adam learning rate (per step)."),
    beta: float = typer.Option(1.0, "--beta", help="KL weight after the warm-up (seed 004: 4)."),
    warmup_steps: int | None = typer.Option(
        None, "--warmup-steps", help="β warm-up from 0, in optimiser steps (default: 50 epochs' worth, as seed 004)."
    ),
    threshold: float | None = typer.Option(
        None, "--threshold", help="Hit probability threshold in (0, 1) (default: calibrated on valid)."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed of weights, shuffling and noise."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the run already in --out."),
    progress: ProgressOption = True,
) -> None:
    """Train a groove VAE; writes the run folder (checkpoints, logs, metrics.json with F1 vs baseline, report.html)."""
    from timbrespace.experiments.drums import GrooveTrainConfig, train_drums
    from timbrespace.models import groove_config

    hidden_sizes = numbers(hidden, "--hidden", int, "800 or 512,256")
    if outputs is not None and not velocities and outputs != "hits":
        raise ParameterError(f"--hits-only is --outputs hits; it cannot go with --outputs {outputs}")
    _check_error_weight(error_weight, "hits" if not velocities else outputs)
    with as_options(("architecture", "latent_dim", "epochs", "batch_size", "lr", "beta", "warmup_steps", "threshold",
                     "seed", "outputs", "task"), {"hidden_sizes": "--hidden"}):
        mc = groove_config(architecture=architecture, latent_dim=latent_dim, hidden_sizes=hidden_sizes,
                           velocities=velocities, outputs=outputs, task=task, output_variance=0.5 / error_weight)
        tc = GrooveTrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, beta=beta, warmup_steps=warmup_steps,
                               seed=seed, threshold=threshold)
    with resume_hint("this command does not resume: run it again with --overwrite to start over"):
        ev = train_drums(dataset, out, model_config=mc, train_config=tc, progress=progress, overwrite=overwrite)
    typer.echo(f"{out}: test hit F1 {ev.model.f1:.3f} (baseline {ev.baseline_sampled.f1:.3f}), "
               f"accuracy {ev.model.accuracy:.3f} (baseline {ev.baseline_sampled.accuracy:.3f}), "
               f"threshold {ev.threshold:.2f}, valid samples {100 * ev.sample_valid_fraction:.0f}%; "
               f"report: {out / 'report.html'}")
    feel = json.loads((out / "metrics.json").read_text()).get("feel")
    if feel:
        typer.echo(f"feel of the training bars ({out / 'feel.json'}): test velocity MAE {feel['velocity_mae']:.3f} "
                   f"(mean-velocity baseline {feel['velocity_mae_baseline_mean']:.3f}), offset MAE "
                   f"{feel['offset_mae_ms']:.1f} ms (on-the-grid baseline {feel['offset_mae_ms_baseline_zero']:.1f} ms)")
    if feel and feel.get("offset_mae_ms_model") is not None:
        how = ("predicted from the quantised test bars" if feel.get("model_task") == "humanize"
               else "reconstructions through the latent means")
        typer.echo(f"the model's own feel: test velocity MAE {feel['velocity_mae_model']:.3f}, offset MAE "
                   f"{feel['offset_mae_ms_model']:.1f} ms ({how})")


MAX_ERROR_WEIGHT = 1e4
"""Largest ``drums train --error-weight``."""


def _check_error_weight(error_weight: float, outputs: str | None) -> None:
    """``--error-weight`` in (0, MAX_ERROR_WEIGHT], and only for a model with velocities."""
    if not 0 < error_weight <= MAX_ERROR_WEIGHT:  # NaN fails too
        raise ParameterError(f"--error-weight={error_weight:g} is out of range: allowed (0, {MAX_ERROR_WEIGHT:g}]")
    if outputs == "hits" and error_weight != 1.0:
        raise ParameterError("--error-weight weighs the velocity and offset errors; a hits-only model has none "
                             "(use --outputs hv or hvo)")


_KIT_HELP = ("Kit: a Hydrogen kit folder, a kit name (looked up in --kits, $TIMBRESPACE_DRUMKITS and "
             "Hydrogen's drumkits folders), 'soundfont' (GM) or an .sf2 file.")


@dataclass(frozen=True)
class _Render:
    """How grooves are written: tempo, kit, swing, loop length, sample rate (checked first)."""

    bpm: float
    kit: str
    kits: tuple[Path, ...]
    swing: float
    bars: int
    sample_rate: int

    def __post_init__(self) -> None:
        if not 20 <= self.bpm <= 400:
            raise ParameterError(f"--bpm={self.bpm:g} is out of range: allowed 20..400 beats per minute")
        check_swing(self.swing, "--swing")
        check_min("--bars", self.bars, 1)
        if not 8000 <= self.sample_rate <= 192000:
            raise ParameterError(f"--sample-rate={self.sample_rate} is out of range: allowed 8000..192000 Hz")

    def drum_kit(self) -> object:
        """The kit, resolved (a name looked up) before any model is loaded or file written."""
        from timbrespace.patterns.kits import find_kit

        with as_options(("kit",)):
            return find_kit(self.kit, kit_dirs=self.kits)

    def write(self, grooves: Grooves, names: list[str], out: Path, run: object, drum_kit: object,
              feel: GrooveFeel | None = None, seed: int = 0) -> None:
        """Each one-bar groove looped ``bars`` times, as ``OUT/NAME.mid`` and ``OUT/NAME.wav``.

        The MIDI and the audio carry the same timing: ``swing`` delays odd steps in both,
        and the grooves' own offsets (a model that predicts them, ``outputs: hvo``) move
        each hit in both, in every bar of the loop. With a ``feel``
        (:class:`~timbrespace.patterns.feel.GrooveFeel`; not with offsets of the model)
        every hit of the loop gets a micro-timing offset drawn from it (groove ``k`` under
        ``seed + k``), and a model without velocities its velocities too. Every groove is
        rendered before ``out`` is created, so a kit whose samples cannot be read (or any
        other failure of the render) leaves no folder behind.
        """
        from timbrespace.patterns.midi import patterns_to_midi, write_midi_file
        from timbrespace.patterns.render import render_patterns, write_wav

        drum_map, steps_per_quarter = run.drum_map, run.steps_per_quarter  # type: ignore[attr-defined]
        patterns = grooves.patterns
        loops = [np.repeat(pattern[None], self.bars, axis=0) for pattern in patterns]
        loop_offsets: list[np.ndarray | None] = [None] * len(loops)
        if grooves.offsets is not None:
            loop_offsets = [np.repeat(o[None], self.bars, axis=0) for o in grooves.offsets]
        if feel is not None:
            with_velocities = run.model.config.likelihood != "bernoulli"  # type: ignore[attr-defined]
            for k, loop in enumerate(loops):
                velocities, loop_offsets[k] = feel.humanize(loop, seed=(seed + k) % 2**32)
                loops[k] = loop if with_velocities else velocities
        audios = [render_patterns(loop, drum_kit, bpm=self.bpm, drum_map=drum_map,
                                  steps_per_quarter=steps_per_quarter, sample_rate=self.sample_rate,
                                  swing=self.swing, offsets=o) for loop, o in zip(loops, loop_offsets, strict=True)]
        midis = [patterns_to_midi(loop, drum_map=drum_map, bpm=self.bpm, swing=self.swing, offsets=o,
                                  time_signature=run.time_signature)  # type: ignore[attr-defined]
                 for loop, o in zip(loops, loop_offsets, strict=True)]
        out.mkdir(parents=True, exist_ok=True)
        for name, pattern, midi, audio in zip(names, patterns, midis, audios, strict=True):
            write_midi_file(out / f"{name}.mid", midi)
            write_wav(out / f"{name}.wav", audio, self.sample_rate)
            typer.echo(f"{out / name}.mid, .wav ({int((pattern > 0).sum())} hits)")


BpmOption = Annotated[float, typer.Option("--bpm", help="Tempo, beats (quarter notes) per minute.")]
KitOption = Annotated[str, typer.Option("--kit", help=_KIT_HELP)]
KitsOption = Annotated[list[Path] | None, typer.Option(
    "--kits", help="Folder of Hydrogen kits searched first for a --kit name (repeatable)."
)]
SwingOption = Annotated[float, typer.Option("--swing", help=f"Delay of odd steps, fraction of a step in 0..{MAX_SWING:g}.")]
BarsOption = Annotated[int, typer.Option("--bars", help="Times each one-bar groove is repeated (bars).")]
RateOption = Annotated[int, typer.Option("--sample-rate", help="Sample rate of the WAV files (Hz).")]
HumanizeOption = Annotated[bool, typer.Option(
    "--humanize", help="Play each hit with micro-timing (and, for a hits-only model, velocity) drawn from the run's "
    "feel (feel.json: its training grooves per drum and position in the beat); a run trained with --outputs hvo "
    "plays its own."
)]


def _run_feel(run: Path, humanize: bool, model_offsets: bool) -> GrooveFeel | None:
    """The run's feel with ``--humanize`` (checked before anything is written), else None.

    Refused for a run whose model plays its own micro-timing (``outputs: hvo``).
    """
    if not humanize:
        return None
    if model_offsets:
        raise ParameterError(f"--humanize: {run} was trained with --outputs hvo and plays its own velocities and "
                             "micro-timing; leave --humanize out (or humanize a hits-only or hv run)")
    from timbrespace.experiments.drums_feel import load_feel

    return load_feel(run)


MAX_AT = 100.0
"""Largest ``--at`` coordinate (latent units): 100 standard deviations of the prior."""


@drums_app.command("sample")
def sample(
    run: Annotated[Path, typer.Argument(help="Run folder (from `drums train`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the .mid and .wav files.")],
    n: int = typer.Option(8, "--n", help="Number of grooves drawn from the prior."),
    at: tuple[float, float] | None = typer.Option(
        None, "--at", help="X Y: one groove at this point of the 2-D latent plane (latent units)."
    ),
    bpm: BpmOption = 120.0,
    kit: KitOption = "soundfont",
    kits: KitsOption = None,
    swing: SwingOption = 0.0,
    bars: BarsOption = 2,
    sample_rate: RateOption = 44100,
    seed: int = typer.Option(0, "--seed", help="Seed of the prior draws (and of --humanize's)."),
    humanize: HumanizeOption = False,
) -> None:
    """Write new grooves as MIDI and WAV (drawn from the prior, or the one at --at X Y)."""
    from timbrespace.experiments.drums_generate import decode_grooves, plane_latents, prior_latents
    from timbrespace.experiments.drums_run import load_groove_run

    render = _Render(bpm=bpm, kit=kit, kits=tuple(kits or ()), swing=swing, bars=bars, sample_rate=sample_rate)
    check_min("--n", n, 1)
    if at is not None and not all(abs(v) <= MAX_AT for v in at):  # NaN fails too
        raise ParameterError(f"--at {at[0]:g} {at[1]:g} is out of range: allowed -{MAX_AT:g}..{MAX_AT:g} latent "
                             "units on each axis (the prior is a standard normal)")
    check_seed(seed, "--seed")
    drum_kit = render.drum_kit()
    r = load_groove_run(run)
    feel = _run_feel(run, humanize, r.model.config.likelihood == "hvo")
    if at is not None:
        z, names = plane_latents(r, at[0], at[1]), [f"groove_at_{at[0]:+.2f}_{at[1]:+.2f}"]
    else:
        z, names = prior_latents(r, n, seed=seed), [f"sample_{k:02d}" for k in range(n)]
    render.write(decode_grooves(r, z), names, out, r, drum_kit, feel=feel, seed=seed)


@drums_app.command("interpolate")
def interpolate(
    run: Annotated[Path, typer.Argument(help="Run folder (from `drums train`).")],
    a: Annotated[Path, typer.Argument(help="MIDI file of the start groove.")],
    b: Annotated[Path, typer.Argument(help="MIDI file of the end groove.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the .mid and .wav files.")],
    steps: int = typer.Option(5, "--steps", help="Grooves written, end points included "
                              f"({MIN_INTERPOLATION_STEPS}..{MAX_INTERPOLATION_STEPS})."),
    bar_a: int = typer.Option(0, "--bar-a", help="Bar of A to start from (0 = first)."),
    bar_b: int = typer.Option(0, "--bar-b", help="Bar of B to end at (0 = first)."),
    bpm: BpmOption = 120.0,
    kit: KitOption = "soundfont",
    kits: KitsOption = None,
    swing: SwingOption = 0.0,
    bars: BarsOption = 2,
    sample_rate: RateOption = 44100,
    humanize: HumanizeOption = False,
    seed: int = typer.Option(0, "--seed", help="Seed of --humanize's draws."),
) -> None:
    """Interpolate in latent space between one bar of A and one bar of B."""
    from timbrespace.experiments.drums_generate import decode_grooves, interpolation_latents
    from timbrespace.experiments.drums_run import load_groove_run

    render = _Render(bpm=bpm, kit=kit, kits=tuple(kits or ()), swing=swing, bars=bars, sample_rate=sample_rate)
    check_steps(steps, "--steps")
    check_min("--bar-a", bar_a, 0)
    check_min("--bar-b", bar_b, 0)
    for p in (a, b):
        if not p.is_file():
            raise ParameterError(f"MIDI file {p} does not exist")
    check_seed(seed, "--seed")
    drum_kit = render.drum_kit()
    r = load_groove_run(run)
    feel = _run_feel(run, humanize, r.model.config.likelihood == "hvo")
    grooves = decode_grooves(r, interpolation_latents(r, a, b, steps=steps, bar_a=bar_a, bar_b=bar_b))
    render.write(grooves, [f"interp_{k:02d}" for k in range(steps)], out, r, drum_kit, feel=feel, seed=seed)


@drums_app.command("humanize")
def humanize(
    midi: Annotated[Path, typer.Argument(help="Quantised MIDI groove (drums on channel 10).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="MIDI file to write.")],
    source: Path | None = typer.Option(
        None, "--from", help="Feel of: a drums run, a groove dataset or a feel .json (default: the shipped feel of "
        "300 human-written grooves)."
    ),
    run: Path | None = typer.Option(
        None, "--run", help="A drums run: one trained with --task humanize predicts each bar's velocities and "
        "micro-timing from its hits (GrooVAE's Humanize); any other plays its feel, as --from."),
    seed: int = typer.Option(0, "--seed", help="Seed of the velocities and timing drawn from a feel (a Humanize "
                             "model draws nothing)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the file already at --out."),
) -> None:
    """Give a quantised groove velocities and micro-timing: from a feel, or a Humanize run's model."""
    from timbrespace.experiments.drums_feel import humanize_midi, load_feel

    check_seed(seed, "--seed")
    if not midi.is_file():
        raise ParameterError(f"MIDI file {midi} does not exist")
    if run is not None and source is not None:
        raise ParameterError(f"give --run {run} or --from {source}, not both")
    if run is None:
        feel: GrooveFeel | ModelHumanizer = load_feel(source)
        how = f"with the feel of {feel.source}"
    else:
        feel, how = _run_humanizer(run)
    result = humanize_midi(midi, out, feel=feel, seed=seed, overwrite=overwrite)
    typer.echo(f"{result.path}: {result.n_hits} hits in {result.n_bars} bars of "
               f"{result.time_signature[0]}/{result.time_signature[1]} at {result.bpm:g} BPM, humanised {how}")


def _run_humanizer(run: Path) -> tuple[GrooveFeel | ModelHumanizer, str]:
    """``--run``'s humanizer and how it plays, in words: the model of a ``--task humanize`` run, else the
    run's feel (checked to be a drums run)."""
    from timbrespace.experiments.drums_feel import load_feel
    from timbrespace.experiments.drums_humanize import is_humanize_run, load_humanizer

    if not run.is_dir():
        raise ParameterError(f"--run {run}: no such run folder (train one with `timbrespace drums train`)")
    if is_humanize_run(run):
        humanizer = load_humanizer(run)
        return humanizer, f"by {humanizer.source}"
    feel = load_feel(run)
    return feel, f"with the feel of {feel.source} ({run} was not trained with --task humanize)"


def _check_out(path: Path, option: str, overwrite: bool, taps: Path | None = None) -> None:
    """An output file that may be written: not a folder, not the input, not existing without --overwrite."""
    if path.is_dir():
        raise ParameterError(f"{option} {path} is a folder; give the file to write")
    if taps is not None and path.exists() and taps.exists() and path.resolve() == taps.resolve():
        raise ParameterError(f"{option} {path} is the input file; write to another file")
    if path.exists() and not overwrite:
        raise ParameterError(f"{option} {path} exists; pass --overwrite to replace it")


@drums_app.command("drumify")
def drumify(
    taps: Annotated[Path | None, typer.Argument(
        help="Tapped rhythm: a MIDI file (every note is a tap) or a WAV of claps or taps (onsets).")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="MIDI file to write (with --fit: the model .json).")] = None,
    wav: Path | None = typer.Option(None, "--wav", help="Also render the kit pattern to this WAV file."),
    kit: KitOption = "soundfont",
    kits: KitsOption = None,
    bpm: float | None = typer.Option(
        None, "--bpm", help="Tempo (quarter notes per minute): of a WAV's taps (default 120) and of the output "
        "(default: the taps')."),
    source: Path | None = typer.Option(
        None, "--from", help="Model: a drumify .json, a groove dataset or a drums run (fitted on its bars; default: "
        "the shipped model fitted on 300 human-written grooves)."),
    fit: Path | None = typer.Option(
        None, "--fit", help="Fit a model on this groove dataset (every bar), write it to -o, and print its held-out "
        "hit F1 (train → test split, and 5 folds of held-out styles) beside the baselines."),
    sample_rate: RateOption = 44100,
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace files already at -o / --wav."),
) -> None:
    """Turn a tapped rhythm into a full drum kit (GrooVAE's Drumify): MIDI, and audio with --wav."""
    from timbrespace.experiments.drums_drumify import drumify_file, load_drumify, read_taps

    if out is None:
        raise ParameterError("-o/--out is required: the MIDI file to write (with --fit: the model .json)")
    if fit is not None:
        if taps is not None:
            raise ParameterError(f"give a tap file ({taps}) or --fit {fit}, not both")
        unused = [name for name, given in (("--wav", wav is not None), ("--bpm", bpm is not None),
                                           ("--from", source is not None), ("--kit", kit != "soundfont"),
                                           ("--kits", bool(kits)), ("--sample-rate", sample_rate != 44100)) if given]
        if unused:
            raise ParameterError(f"{', '.join(unused)} drumify taps; --fit only fits a model (-o MODEL.json)")
        _fit_drumify(fit, out, overwrite)
        return
    if taps is None:
        raise ParameterError("missing the tap file: a MIDI of taps or a WAV of claps (or --fit DATASET -o MODEL.json)")
    if bpm is not None and not 20 <= bpm <= 400:
        raise ParameterError(f"--bpm={bpm:g} is out of range: allowed 20..400 beats per minute")
    if not 8000 <= sample_rate <= 192000:
        raise ParameterError(f"--sample-rate={sample_rate} is out of range: allowed 8000..192000 Hz")
    if not taps.is_file():
        raise ParameterError(f"tap file {taps} does not exist (a MIDI file or a WAV of claps or taps)")
    _check_out(out, "-o", overwrite, taps)
    drum_kit = None
    if wav is not None:
        if wav.suffix.lower() != ".wav":
            raise ParameterError(f"--wav {wav}: the audio is written as WAV; give a name ending in .wav")
        _check_out(wav, "--wav", overwrite, taps)
        if wav.resolve() == out.resolve():
            raise ParameterError(f"--wav {wav} is the MIDI file -o; give two files")
        drum_kit = _Render(bpm=bpm or 120.0, kit=kit, kits=tuple(kits or ()), swing=0.0, bars=1,
                           sample_rate=sample_rate).drum_kit()
    model = load_drumify(source)
    track = read_taps(taps, bpm=bpm)
    for note in track.notes:
        typer.echo(f"note: {note}", err=True)
    result = drumify_file(track, out, model=model, bpm=bpm, wav_out=wav, kit=drum_kit, sample_rate=sample_rate)
    written = f"{result.midi_path}" + (f", {result.wav_path}" if result.wav_path else "")
    typer.echo(f"{written}: {result.n_taps} taps ({track.source}) in {result.n_bars} bars at {result.bpm:g} BPM "
               f"→ {result.n_hits} hits, drumified by the model of {model.source}")


def _fit_drumify(dataset: Path, out: Path, overwrite: bool) -> None:
    """``drums drumify --fit``: held-out scores, then the model fitted on every bar, saved as JSON."""
    from timbrespace.experiments.drums_drumify import evaluate_drumify
    from timbrespace.patterns.drumify import drumify_from_dataset

    _check_out(out, "-o", overwrite)
    if not dataset.is_dir():
        raise ParameterError(f"--fit {dataset}: no such groove dataset (make one with `timbrespace drums ingest`)")
    ev = evaluate_drumify(dataset)
    model = drumify_from_dataset(dataset)
    model.save(out)
    typer.echo(f"{out}: drumify model fitted on {model.n_bars} bars of {dataset}")
    typer.echo(f"held-out hit F1, train ({ev.n_train_bars} bars) → test ({ev.n_test_bars} bars): model {ev.f1:.3f}, "
               f"baselines: kick+snare {ev.f1_kick_snare:.3f}, most common voice {ev.f1_most_common_voice:.3f}, "
               f"position rates {ev.f1_position_rates:.3f}")
    typer.echo(f"held-out hit F1, 5 folds of held-out styles: model {ev.cv_f1:.3f}, baselines: kick+snare "
               f"{ev.cv_f1_kick_snare:.3f}, most common voice {ev.cv_f1_most_common_voice:.3f}, position rates "
               f"{ev.cv_f1_position_rates:.3f}; velocity MAE {ev.velocity_mae:.3f} (the tap's velocity: "
               f"{ev.velocity_mae_tap:.3f})")


def register(app: typer.Typer) -> None:
    """Add the ``drums`` sub-app to the root app."""
    app.add_typer(drums_app, name="drums")
