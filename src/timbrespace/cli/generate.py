"""CLI: ``timbrespace generate`` / ``info`` / ``export`` — datasets from sound models."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Annotated

import typer

from timbrespace.cli._console import console
from timbrespace.cli._options import ProgressOption, as_options, check_min
from timbrespace.errors import ParameterError


def generate(
    config: Annotated[
        str | None,
        typer.Argument(
            help="Dataset config (YAML, JSON, or DSGenerator's config_file.json) or a preset name (see --list-presets)."
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", "-o", help="Dataset folder to create (an interrupted run there is resumed)."
        ),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes (default: all cores).")
    ] = None,
    batch_size: Annotated[
        int | None, typer.Option(help="Items per batch (default: ~4 M samples per batch).")
    ] = None,
    dask: Annotated[
        str | None, typer.Option("--dask", help="'local': run the batches on a local Dask cluster.")
    ] = None,
    scheduler: Annotated[
        str | None,
        typer.Option(help="Dask scheduler address, e.g. tcp://host:8786 (--out must be shared)."),
    ] = None,
    naming: Annotated[
        str | None,
        typer.Option(
            help="File names: index (000123.wav) or dsgenerator ({sound}--{param}-{value:05.2f}--...--v-{NNN}.wav)."
        ),
    ] = None,
    list_presets: Annotated[
        bool, typer.Option("--list-presets", help="List the preset configs (items, duration, sound model) and exit.")
    ] = False,
    progress: ProgressOption = True,
) -> None:
    """Render a dataset from a sound model over a parameter space (resumable, deterministic)."""
    from timbrespace.datasets.config import DatasetConfig
    from timbrespace.datasets.generate import generate_dataset, resolve_config
    from timbrespace.datasets.presets import list_presets as presets

    out_console = console()
    if list_presets:
        for name in presets():
            preset = resolve_config(name)
            out_console.print(f"{name:<28}{preset.n_items:>7,} items of {preset.item_duration_s:g} s from {preset.sound_model}")
        return
    if config is None:
        raise ParameterError(
            "give a dataset config file or a preset name (--list-presets lists them)"
        )
    if out is None:
        raise ParameterError("--out is required: the dataset folder to create")
    check_min("--workers", workers, 1)
    check_min("--batch-size", batch_size, 1)
    if dask is not None and dask != "local":
        raise ParameterError(
            f"--dask {dask!r}: only 'local' (use --scheduler tcp://HOST:PORT for a cluster)"
        )
    if dask is not None and scheduler is not None:
        raise ParameterError("give --dask local or --scheduler, not both")
    cfg = resolve_config(config)
    if naming is not None:
        if naming not in ("index", "dsgenerator"):
            raise ParameterError(f"--naming {naming!r} is not one of index, dsgenerator")
        cfg = DatasetConfig.model_validate({**cfg.to_json_dict(), "naming": naming})
    out_console.print(
        f"[bold]{cfg.name}[/]: {cfg.n_items} items of {cfg.item_duration_s:g} s at {cfg.sample_rate} Hz "
        f"from [cyan]{cfg.sound_model}[/] → {out}"
    )
    with as_options(("scheduler",)):
        ds = generate_dataset(
            cfg,
            out,
            workers=workers,
            batch_size=batch_size,
            scheduler=scheduler or dask,
            progress=progress,
        )
    out_console.print(f"[bold]{len(ds)}[/] items in {ds.root}")


def info(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as one JSON object.")] = False,
) -> None:
    """Summarise a dataset: factors, levels, split counts, duration, size on disk."""
    from rich.table import Table

    from timbrespace.datasets.dataset import Dataset
    from timbrespace.datasets.summary import summarize_dataset

    ds = Dataset(dataset)
    s = summarize_dataset(ds)
    if as_json:
        typer.echo(json.dumps({"root": str(ds.root), **dataclasses.asdict(s)}, default=str))
        return
    out = console()
    dur = (
        f"{s.duration_s:g} s per item, {s.total_duration_s / 3600:.2f} h in all"
        if s.duration_s and s.total_duration_s
        else "ragged"
    )
    out.print(
        f"[bold]{s.name}[/]  {s.n_items} items, {s.sample_rate} Hz, {dur}, "
        f"audio {s.audio_format or 'none'}, {s.size_bytes / 1e6:.1f} MB on disk"
    )
    out.print("splits: " + ", ".join(f"{k} {v}" for k, v in s.splits.items()) + f", {s.split_by}")
    table = Table("factor", "unit", "kind", "levels", "first", "last")
    for f in s.factors:
        table.add_row(f.name, f.unit, f.kind, str(f.n_levels), f.first, f.last)
    out.print(table)
    if s.features:
        out.print("features: " + ", ".join(s.features))


def export(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder.")],
    format: Annotated[
        str,
        typer.Option("--format", "-f", help="seed000-npz | nsynth (NSynth's layout: 16 kHz 4 s notes named "
                     "instrument-pitch-velocity, its examples.json fields) | nsynth-json (our factors, our audio) | "
                     "hf-audiofolder (alias audiofolder)."),
    ],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Output .npz file or folder (seed000-npz), or folder.")
    ],
    representation: Annotated[
        str,
        typer.Option(
            help="seed000-npz: richness | richness_phase (Spectrums) | spectrum | spectrum_phase | mdct (images)."
        ),
    ] = "spectrum",
    variant: Annotated[
        str,
        typer.Option(
            help="seed000-npz, richness representations: db | db_shifted | db_normalised | linear | "
            "linear_normalised | all (seed 000's files, named as it named them)."
        ),
    ] = "db",
    overwrite: Annotated[
        bool, typer.Option("--overwrite", help="Replace an existing output file or folder.")
    ] = False,
    suffix_duplicates: Annotated[
        bool, typer.Option("--suffix-duplicates", help="nsynth: items that map to one note name get -0, -1... "
                           "appended instead of a refusal.")
    ] = False,
) -> None:
    """Export a dataset to seed 000's .npz, NSynth's layout, NSynth-like examples.json or a Hugging Face audiofolder."""
    from timbrespace.datasets.export import (
        EXPORT_FORMATS,
        SEED000_REPRESENTATIONS,
        SEED000_VARIANTS,
        export_dataset,
    )

    if format not in (*EXPORT_FORMATS, "audiofolder"):
        raise ParameterError(f"--format {format!r} is not one of {', '.join(EXPORT_FORMATS)}")
    if representation not in SEED000_REPRESENTATIONS:
        raise ParameterError(
            f"--representation {representation!r} is not one of {', '.join(SEED000_REPRESENTATIONS)}"
        )
    if variant not in (*SEED000_VARIANTS, "all"):
        raise ParameterError(f"--variant {variant!r} is not one of {', '.join(SEED000_VARIANTS)}, all")
    path = export_dataset(
        dataset, out, format=format, representation=representation,  # type: ignore[arg-type]
        variant=variant, overwrite=overwrite, suffix_duplicates=suffix_duplicates,  # type: ignore[arg-type]
    )
    console().print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Add ``generate``, ``info`` and ``export`` to the root ``app``."""
    app.command("generate")(generate)
    app.command("info")(info)
    app.command("export")(export)
