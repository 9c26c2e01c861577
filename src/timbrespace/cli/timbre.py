"""CLI: ``timbrespace timbre …`` — semantic timbre (seed 002): build, train, map, generate, interpolate.

Example (a few minutes on 2 CPU cores)::

    timbrespace timbre build ../shared/data/notes --out work/timbre
    timbrespace ingest work/timbre --out work/timbre-ds --layout seed002
    timbrespace timbre train work/timbre-ds --out work/timbre-run
    timbrespace timbre latent-map work/timbre-run --color all
    timbrespace timbre generate work/timbre-run Bright 75 E5 --out work/gen
    timbrespace timbre interpolate work/timbre-run Bright 0 E4 Dark 100 E4 --steps 5 --out work/interp
    timbrespace timbre generate work/timbre-run Bright 75 E5 --out work/seed --layout seed002
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from timbrespace.cli._console import console
from timbrespace.cli._options import ProgressOption, as_options, check_min, resume_hint
from timbrespace.conventions import MAX_INTERPOLATION_STEPS, MIN_INTERPOLATION_STEPS, check_steps
from timbrespace.errors import ParameterError
from timbrespace.utils.limits import check_seed

timbre_app = typer.Typer(
    help="Semantic timbre (seed 002): notes described by descriptor, magnitude and pitch.",
    no_args_is_help=True,
)


def _csv(text: str | None) -> list[str] | None:
    if text is None:
        return None
    items = [t.strip() for t in text.split(",") if t.strip()]
    return items or None


def _magnitudes(text: str) -> list[int]:
    out = []
    for t in _csv(text) or []:
        try:
            out.append(int(t))
        except ValueError:
            raise ParameterError(f"--magnitudes {text!r}: expected integers in 0..100, e.g. 0,25,50,75,100") from None
    return out


@timbre_app.command("descriptors")
def descriptors() -> None:
    """List the 19 descriptors, their groups and effect chains (m = magnitude / 100)."""
    from rich.table import Table

    from timbrespace.timbre.effects import DESCRIPTORS

    table = Table("descriptor", "group", "chain (m = magnitude / 100)")
    for d in DESCRIPTORS.values():
        table.add_row(d.name, d.group, d.chain)
    console().print(table)


@timbre_app.command("build")
def build(
    notes: Annotated[str, typer.Argument(help="NSynth-like notes folder (audio/*.wav + examples.json) or 'soundfont'.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder to write (seed-002 layout).")],
    instrument: Annotated[str, typer.Option(help="instrument_str of the clean notes.")] = "clean_electric_guitar",
    velocity: Annotated[int, typer.Option(help="Velocity of the clean notes.")] = 100,
    descriptors: Annotated[str | None, typer.Option(help="Comma-separated descriptors (default: all 19).")] = None,
    magnitudes: Annotated[str, typer.Option(help="Comma-separated magnitudes in 0..100.")] = "0,25,50,75,100",
    overwrite: Annotated[bool, typer.Option(help="Write into an existing non-empty folder.")] = False,
) -> None:
    """Build audio/GROUP/DESCRIPTOR/MAGNITUDE/1-N.wav from clean notes through effect chains."""
    from timbrespace.timbre.build import build_timbre_folder

    result = build_timbre_folder(notes, out, instrument=instrument, velocity=velocity,
                                 descriptors=_csv(descriptors), magnitudes=_magnitudes(magnitudes),
                                 overwrite=overwrite)
    typer.echo(f"{result.n_files} notes ({len(result.descriptors)} descriptors × {len(result.magnitudes)} "
               f"magnitudes × {len(result.pitches)} pitches) → {result.root}")


@timbre_app.command("train")
def train(
    dataset: Annotated[Path, typer.Argument(help="Dataset (timbrespace ingest of a seed-002 folder) or the folder itself.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Run folder.")],
    descriptors: Annotated[str | None, typer.Option(help="Comma-separated subset, or 'all' (default: Bright,Dark,Crunch,Shimmery,Punch,Stuttering).")] = None,
    preset: Annotated[str, typer.Option(help="Size preset of the model: cpu | seed (the seed's architecture, for a GPU) | tiny.")] = "cpu",
    epochs: Annotated[int | None, typer.Option(help="Epochs, passes over the training notes (default: the preset's).")] = None,
    seed: Annotated[int, typer.Option(help="Seed of weights, shuffling and noise.")] = 0,
    evaluate: Annotated[bool, typer.Option(help="Measure quality on held-back notes into metrics.json.")] = True,
    overwrite: Annotated[bool, typer.Option(help="Replace the run already in --out.")] = False,
    progress: ProgressOption = True,
) -> None:
    """Compute the seed-002 spectrograms (dB STFT 512×64, min–max) and train the conditional conv VAE."""
    from timbrespace.experiments.timbre import DEFAULT_DESCRIPTORS, train_timbre
    from timbrespace.models import TIMBRE_PRESETS

    if preset not in TIMBRE_PRESETS:
        raise ParameterError(f"--preset={preset!r} is unknown: allowed {', '.join(TIMBRE_PRESETS)}")
    check_min("--epochs", epochs, 1)
    chosen = None if descriptors == "all" else (_csv(descriptors) or list(DEFAULT_DESCRIPTORS))
    with resume_hint("this command does not resume: run it again with --overwrite to start over"):
        summary = train_timbre(dataset, out, descriptors=chosen, model=preset, epochs=epochs, seed=seed,
                               progress=progress, evaluate=evaluate, overwrite=overwrite)
    typer.echo(f"trained on {summary.n_train} notes ({summary.n_valid} valid, {summary.n_test} held back) "
               f"in {summary.seconds:.0f} s; final loss train {summary.final_train_loss:.4g} "
               f"valid {summary.final_valid_loss:.4g} → {summary.run_dir}")
    if evaluate:
        print_quality(json.loads((Path(out) / "metrics.json").read_text())["timbre_quality"])
    typer.echo(f"report: {Path(out) / 'report.html'}")


def print_quality(q: dict) -> None:
    """A timbre run's quality: one line of pitch and LSD, one table row per descriptor (3 decimals)."""
    from rich.table import Table

    out = console()
    out.print(f"pitch within 50 cents: {q['pitch_accuracy_50c']:.0%} of {q['n_pitch_requests']} held-back requests "
              f"(originals {q['pitch_accuracy_50c_originals']:.0%}); endpoint LSD {_fmt(q.get('interp_endpoint_lsd_db'))} "
              f"dB (Griffin-Lim floor {_fmt(q.get('gl_roundtrip_lsd_db'))} dB)")
    table = Table("descriptor", "centroid monotonic", "Spearman ρ", "originals monotonic",
                  title="spectral centroid against magnitude (fraction of pitches)", title_justify="left")
    spearman, originals = q.get("centroid_spearman") or {}, q.get("centroid_monotonic_originals") or {}
    for name, value in (q.get("centroid_monotonic") or {}).items():
        table.add_row(name, _fmt(value, 3), _fmt(spearman.get(name), 3), _fmt(originals.get(name), 3))
    out.print(table)


def _fmt(value: float | None, digits: int = 2) -> str:
    return "—" if value is None or value != value else f"{value:.{digits}f}"


@timbre_app.command("evaluate")
def evaluate(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    max_requests: Annotated[int, typer.Option(help="Cap on held-back pitch requests (notes).")] = 120,
    n_pairs: Annotated[int, typer.Option(help="Interpolation pairs measured (pairs).")] = 8,
) -> None:
    """Measure pitch accuracy, centroid monotonicity and endpoint LSD into metrics.json."""
    from timbrespace.experiments.timbre import evaluate_timbre_run

    with as_options(("max_requests", "n_pairs")):
        result = evaluate_timbre_run(run, max_requests=max_requests, n_pairs=n_pairs)
    print_quality(result.metrics["timbre_quality"])
    typer.echo(f"metrics: {Path(run) / 'metrics.json'}")


_COLORS = ("timbre", "magnitude", "pitch", "all")


@timbre_app.command("latent-map")
def latent_map(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    color: Annotated[str, typer.Option(help="timbre | magnitude | pitch | all.")] = "all",
    method: Annotated[str, typer.Option(help="pca | tsne | both.")] = "both",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Folder of the PNGs (default RUN/figures).")] = None,
) -> None:
    """PCA / t-SNE of the latent means, colored by timbre, magnitude or pitch."""
    from timbrespace.experiments.timbre import TimbreRun
    from timbrespace.experiments.timbre_report import latent_map as _latent_map

    if color not in _COLORS:
        raise ParameterError(f"--color {color!r} is unknown: allowed {', '.join(_COLORS)}")
    if method not in ("pca", "tsne", "both"):
        raise ParameterError(f"--method {method!r} is unknown: allowed pca, tsne, both")
    methods = ("pca", "tsne") if method == "both" else (method,)
    paths = _latent_map(TimbreRun(run), out or Path(run) / "figures", color=color, methods=methods)
    for p in paths:
        typer.echo(str(p))


_LAYOUT_HELP = ("labelled (generated_<D>-<M>-<note>.wav beside original_<...>.wav) | seed002 (the seed's "
                "folders: singlesample/ or interpolated_samples/, generated/ and original/, 0.wav, 1.wav, ...).")


@timbre_app.command("generate")
def generate(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    descriptor: Annotated[str, typer.Argument(help="Descriptor (see `timbrespace timbre descriptors`).")],
    magnitude: Annotated[str, typer.Argument(help="Magnitude (one the run was trained on, e.g. 0,25,50,75,100).")],
    pitch: Annotated[str, typer.Argument(help="MIDI number (64..86) or note name (E4..D6).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the generated and original notes.")],
    latent: Annotated[str, typer.Option(help="prior (z = 0, a generation) | encode (z of the original).")] = "prior",
    seed: Annotated[int, typer.Option(help="Griffin-Lim initial phase.")] = 0,
    layout: Annotated[str, typer.Option(help=_LAYOUT_HELP)] = "labelled",
    overwrite: Annotated[bool, typer.Option(help="Replace notes already written at these paths.")] = False,
) -> None:
    """Generate a note; writes it and the corresponding original."""
    from timbrespace.experiments.timbre import TimbreRun
    from timbrespace.experiments.timbre_notes import (
        check_layout,
        check_targets,
        generate_note,
        generated_paths,
        write_generated,
    )
    from timbrespace.timbre.build import parse_pitch
    from timbrespace.timbre.effects import check_descriptor, check_magnitude

    if latent not in ("prior", "encode"):
        raise ParameterError(f"--latent {latent!r} is unknown: allowed prior, encode")
    name = check_descriptor(descriptor)  # argument errors before the model is loaded
    mag = check_magnitude(magnitude)
    midi = parse_pitch(pitch)
    check_seed(seed, "--seed")
    check_layout(layout)
    check_targets(out, list(generated_paths(out, name, mag, midi, layout=layout)), overwrite=overwrite)  # type: ignore[arg-type]
    note = generate_note(TimbreRun(run), descriptor, magnitude, pitch, latent=latent, seed=seed)  # type: ignore[arg-type]
    for p in write_generated(note, out, layout=layout, overwrite=overwrite):  # type: ignore[arg-type]
        typer.echo(str(p))


@timbre_app.command("interpolate")
def interpolate(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    d1: Annotated[str, typer.Argument(help="Start descriptor.")],
    m1: Annotated[str, typer.Argument(help="Start magnitude.")],
    p1: Annotated[str, typer.Argument(help="Start pitch (MIDI or name).")],
    d2: Annotated[str, typer.Argument(help="End descriptor.")],
    m2: Annotated[str, typer.Argument(help="End magnitude.")],
    p2: Annotated[str, typer.Argument(help="End pitch (MIDI or name).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the steps and both originals.")],
    steps: Annotated[int, typer.Option(help=f"Notes written, {MIN_INTERPOLATION_STEPS}..{MAX_INTERPOLATION_STEPS} "
                                            "(endpoints included).")] = 5,
    seed: Annotated[int, typer.Option(help="Griffin-Lim initial phase.")] = 0,
    layout: Annotated[str, typer.Option(help=_LAYOUT_HELP + " seed002 writes the linear path only, as the seed.")] = "labelled",
    overwrite: Annotated[bool, typer.Option(help="Replace notes already written at these paths "
                                                 "(and the extra steps of a longer earlier interpolation).")] = False,
) -> None:
    """Interpolate linearly and spherically; writes every step and both original endpoints."""
    from timbrespace.experiments.timbre import TimbreRun
    from timbrespace.experiments.timbre_notes import (
        check_layout,
        check_targets,
        interpolate_notes,
        interpolation_paths,
        write_interpolation,
    )
    from timbrespace.timbre.build import parse_pitch
    from timbrespace.timbre.effects import check_descriptor, check_magnitude

    check_steps(steps, "--steps")  # checked before loading the model
    ends = [(check_descriptor(d), check_magnitude(m), parse_pitch(p)) for d, m, p in ((d1, m1, p1), (d2, m2, p2))]
    check_seed(seed, "--seed")
    check_layout(layout)
    check_targets(out, interpolation_paths(out, steps, ends[0], ends[1], layout=layout),  # type: ignore[arg-type]
                  overwrite=overwrite)
    interp = interpolate_notes(TimbreRun(run), (d1, m1, p1), (d2, m2, p2), steps, seed=seed)
    paths = write_interpolation(interp, out, layout=layout, overwrite=overwrite)  # type: ignore[arg-type]
    typer.echo(f"{len(paths)} files → {out}")


def register(app: typer.Typer) -> None:
    """Add the ``timbre`` sub-app to the root ``app``."""
    app.add_typer(timbre_app, name="timbre")
