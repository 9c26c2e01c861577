"""CLI commands: ``timbrespace drums ingest|train|sample|interpolate`` (drum grooves).

Examples
--------
::

    timbrespace drums ingest ../shared/data/grooves --out grooves_ds
    timbrespace drums train grooves_ds --out groove_run --epochs 200
    timbrespace drums sample groove_run --n 8 --bpm 120 --kit ../shared/data/drumkits/TR808EmulationKit --out out/
    timbrespace drums sample groove_run --at 1.5 -2 --kit soundfont --out out/
    timbrespace drums interpolate groove_run A.mid B.mid --steps 5 --out out/
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from timbrespace.cli._options import numbers
from timbrespace.errors import ParameterError

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
    steps_per_bar: int = typer.Option(16, "--steps-per-bar", help="Steps in a 4/4 bar (seed 004: 64)."),
    drum_map: str = typer.Option("magenta9", "--drum-map", help="magenta9 | seed8"),
    time_signature: str = typer.Option("4/4", "--time-signature", help="Meter of the bars kept."),
    dedup: str = typer.Option("hits", "--dedup", help="hits | pattern | none"),
    seed: int = typer.Option(0, "--seed", help="Seed of the train/valid/test split (by style)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the dataset already at --out."),
) -> None:
    """Turn a folder of MIDI grooves into a groove dataset (bars, de-duplicated, split by style)."""
    from timbrespace.patterns.dataset import GrooveDatasetConfig, build_groove_dataset

    cfg = GrooveDatasetConfig(steps_per_bar=steps_per_bar, drum_map=drum_map,
                              time_signature=_parse_time_signature(time_signature), dedup=dedup,  # type: ignore[arg-type]
                              seed=seed)
    report = build_groove_dataset(midi_dir, out, config=cfg, overwrite=overwrite)
    typer.echo(f"{out}: {report.n_items} bars from {report.n_files - len(report.skipped_files)} files "
               f"({report.n_duplicates} duplicates, {report.n_empty} empty, {report.n_other_meter} in other meters); "
               f"splits {report.split_counts}")
    for name, reason in report.skipped_files.items():
        typer.echo(f"skipped {name}: {reason}", err=True)


@drums_app.command("train")
def train(
    dataset: Annotated[Path, typer.Argument(help="Groove dataset (from `drums ingest`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder to write.")],
    architecture: str = typer.Option("mlp", "--architecture", help="mlp (seed 004) | gru"),
    latent_dim: int = typer.Option(8, "--latent-dim", help="Number of latents (seed 004: 8)."),
    hidden: str = typer.Option("800", "--hidden", help="Hidden layer sizes, comma-separated (seed 004: 800)."),
    velocities: bool = typer.Option(True, "--velocities/--hits-only", help="Model velocities (GrooVAE) or hits only."),
    epochs: int = typer.Option(200, "--epochs", help="Maximum epochs."),
    batch_size: int = typer.Option(64, "--batch-size", help="Grooves per step."),
    lr: float = typer.Option(1e-3, "--lr", help="Adam learning rate."),
    beta: float = typer.Option(1.0, "--beta", help="KL weight (seed 004: 4)."),
    warmup_epochs: int = typer.Option(50, "--warmup-epochs", help="Epochs over which β rises linearly from 0."),
    threshold: float | None = typer.Option(None, "--threshold", help="Hit threshold (default: calibrated on valid)."),
    seed: int = typer.Option(0, "--seed", help="Seed of init, shuffling and sampling."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Replace the run already in --out."),
) -> None:
    """Train a groove VAE; writes the run folder (checkpoints, logs, metrics.json with F1 vs baseline, report.html)."""
    from timbrespace.experiments.drums import GrooveTrainConfig, train_drums
    from timbrespace.models import groove_config

    mc = groove_config(architecture=architecture, latent_dim=latent_dim,
                       hidden_sizes=numbers(hidden, "--hidden", int, "800"),
                       velocities=velocities)
    tc = GrooveTrainConfig(epochs=epochs, batch_size=batch_size, lr=lr, beta=beta, warmup_epochs=warmup_epochs,
                           seed=seed, threshold=threshold)
    ev = train_drums(dataset, out, model_config=mc, train_config=tc, progress=True, overwrite=overwrite)
    typer.echo(f"{out}: test hit F1 {ev.model.f1:.3f} (baseline {ev.baseline_sampled.f1:.3f}), "
               f"accuracy {ev.model.accuracy:.3f} (baseline {ev.baseline_sampled.accuracy:.3f}), "
               f"threshold {ev.threshold:.2f}, valid samples {100 * ev.sample_valid_fraction:.0f}%; "
               f"report: {out / 'report.html'}")


def _write_outputs(patterns: np.ndarray, names: list[str], out: Path, *, run_drum_map: str,
                   time_signature: tuple[int, int], steps_per_quarter: float, bpm: float, kit: str,
                   swing: float, bars: int, sample_rate: int) -> None:
    from timbrespace.patterns.kits import find_kit
    from timbrespace.patterns.midi import write_midi
    from timbrespace.patterns.render import render_patterns, write_wav

    if bars < 1:
        raise ParameterError(f"--bars={bars} must be >= 1")
    drum_kit = find_kit(kit)
    out.mkdir(parents=True, exist_ok=True)
    for name, pattern in zip(names, patterns, strict=True):
        loop = np.repeat(pattern[None], bars, axis=0)
        write_midi(out / f"{name}.mid", loop, drum_map=run_drum_map, bpm=bpm, time_signature=time_signature)
        audio = render_patterns(loop, drum_kit, bpm=bpm, drum_map=run_drum_map, steps_per_quarter=steps_per_quarter,
                                sample_rate=sample_rate, swing=swing)
        write_wav(out / f"{name}.wav", audio, sample_rate)
        typer.echo(f"{out / name}.mid, .wav ({int((pattern > 0).sum())} hits)")


_KIT_HELP = "Hydrogen kit folder or name, 'soundfont' (FluidR3 GM) or an .sf2 file."


@drums_app.command("sample")
def sample(
    run: Annotated[Path, typer.Argument(help="Run folder (from `drums train`).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the .mid and .wav files.")],
    n: int = typer.Option(8, "--n", help="Number of grooves drawn from the prior."),
    at: tuple[float, float] | None = typer.Option(None, "--at", help="X Y: one groove at this point of the 2-D latent plane."),
    bpm: float = typer.Option(120.0, "--bpm", help="Tempo of the MIDI and audio (beats per minute)."),
    kit: str = typer.Option("soundfont", "--kit", help=_KIT_HELP),
    swing: float = typer.Option(0.0, "--swing", help="Delay of odd steps, fraction of a step [0, 0.5)."),
    bars: int = typer.Option(2, "--bars", help="Times each one-bar groove is repeated."),
    sample_rate: int = typer.Option(44100, "--sample-rate", help="Sample rate of the WAV files (Hz)."),
    seed: int = typer.Option(0, "--seed", help="Seed of init, shuffling and sampling."),
) -> None:
    """Write new grooves as MIDI and WAV (drawn from the prior, or the one at --at X Y)."""
    from timbrespace.experiments.drums_generate import groove_at, sample_grooves
    from timbrespace.experiments.drums_run import load_groove_run

    r = load_groove_run(run)
    if at is not None:
        patterns, names = groove_at(r, at[0], at[1])[None], [f"groove_at_{at[0]:+.2f}_{at[1]:+.2f}"]
    else:
        patterns, names = sample_grooves(r, n, seed=seed), [f"sample_{k:02d}" for k in range(n)]
    _write_outputs(patterns, names, out, run_drum_map=r.drum_map, time_signature=r.time_signature,
                   steps_per_quarter=r.steps_per_quarter, bpm=bpm, kit=kit, swing=swing, bars=bars,
                   sample_rate=sample_rate)


@drums_app.command("interpolate")
def interpolate(
    run: Annotated[Path, typer.Argument(help="Run folder (from `drums train`).")],
    a: Annotated[Path, typer.Argument(help="MIDI file of the start groove.")],
    b: Annotated[Path, typer.Argument(help="MIDI file of the end groove.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the .mid and .wav files.")],
    steps: int = typer.Option(5, "--steps", help="Grooves written, end points included."),
    bar_a: int = typer.Option(0, "--bar-a", help="Bar of A to start from."),
    bar_b: int = typer.Option(0, "--bar-b", help="Bar of B to end at."),
    bpm: float = typer.Option(120.0, "--bpm", help="Tempo of the MIDI and audio (beats per minute)."),
    kit: str = typer.Option("soundfont", "--kit", help=_KIT_HELP),
    swing: float = typer.Option(0.0, "--swing", help="Delay of odd steps, fraction of a step [0, 0.5)."),
    bars: int = typer.Option(2, "--bars", help="Times each one-bar groove is repeated."),
    sample_rate: int = typer.Option(44100, "--sample-rate", help="Sample rate of the WAV files (Hz)."),
) -> None:
    """Interpolate in latent space between one bar of A and one bar of B."""
    from timbrespace.experiments.drums_generate import interpolate_grooves
    from timbrespace.experiments.drums_run import load_groove_run

    for p in (a, b):
        if not p.is_file():
            raise ParameterError(f"MIDI file {p} does not exist")
    r = load_groove_run(run)
    patterns = interpolate_grooves(r, a, b, steps=steps, bar_a=bar_a, bar_b=bar_b)
    _write_outputs(patterns, [f"interp_{k:02d}" for k in range(steps)], out, run_drum_map=r.drum_map,
                   time_signature=r.time_signature, steps_per_quarter=r.steps_per_quarter, bpm=bpm, kit=kit,
                   swing=swing, bars=bars, sample_rate=sample_rate)


def register(app: typer.Typer) -> None:
    """Add the ``drums`` sub-app to the root app."""
    app.add_typer(drums_app, name="drums")
