"""CLI: ``timbrespace ingest`` — a labelled folder of recordings becomes a dataset."""

from __future__ import annotations

from pathlib import Path

import typer

from timbrespace.cli._console import console
from timbrespace.cli._options import ProgressOption, as_options
from timbrespace.errors import ParameterError


def _split_fractions(text: str | None) -> dict[str, float] | None:
    if text is None:
        return None
    out: dict[str, float] = {}
    for part in text.split(","):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ParameterError(f"--splits {text!r}: expected e.g. train=0.8,valid=0.1,test=0.1") from None
    return out


def ingest(
    folder: Path = typer.Argument(..., help="Labelled folder: audio/ + examples.json, a Hugging Face audiofolder (metadata.csv with file_name, split folders), audio/GROUP/DESCRIPTOR/MAGNITUDE/FILE, or any folder with --pattern."),
    out: Path = typer.Option(..., "--out", "-o", help="Dataset folder to create."),
    layout: str = typer.Option("auto", help="auto | nsynth | seed002 | hf-audiofolder | pattern."),
    factors: str | None = typer.Option(None, help="Comma-separated factors: keys of examples.json (nsynth) or metadata columns (hf-audiofolder; default: every column but file_name and ids)."),
    pattern: str | None = typer.Option(None, help="Regex with named groups (the factors), matched against file stems (or relative paths if it contains '/')."),
    sample_rate: int | None = typer.Option(None, help="Resample to this rate in Hz, 1000..384000 (default: the most common rate)."),
    duration_s: float | None = typer.Option(None, help="Item length in seconds (default: longest file)."),
    splits: str | None = typer.Option(None, help="Split fractions, e.g. train=0.8,valid=0.1,test=0.1 (an audiofolder's split folders are kept)."),
    seed: int = typer.Option(0, help="Seed of the split assignment."),
    overwrite: bool = typer.Option(False, help="Replace an existing dataset at --out (never the input or a folder that is not a dataset)."),
    max_duration_s: float = typer.Option(30.0, help="Files longer than this (seconds) are cut to it, with a warning naming them."),
    progress: ProgressOption = True,
) -> None:
    """Ingest a labelled folder of real recordings as a dataset with known factors."""
    from timbrespace.datasets.ingest import LAYOUTS, ingest_folder

    if layout not in LAYOUTS:
        raise ParameterError(f"--layout {layout!r} is not one of {', '.join(LAYOUTS)}")
    with as_options(("sample_rate", "duration_s", "max_duration_s", "splits", "pattern", "factors", "seed")):
        ds = ingest_folder(
            folder, out, layout=layout,  # type: ignore[arg-type]
            factors=[f.strip() for f in factors.split(",")] if factors else None,
            pattern=pattern, sample_rate=sample_rate, duration_s=duration_s,
            splits=_split_fractions(splits), seed=seed, overwrite=overwrite, max_duration_s=max_duration_s, progress=progress,
        )
    extra = ds.card.extra
    out_console = console()
    out_console.print(f"[bold]{len(ds)}[/] items → {ds.root}  ({ds.card.source['layout']} layout, {ds.sample_rate} Hz)")
    for f in ds.factors:
        levels = ", ".join(str(v) for v in f.values[:8]) + (" …" if f.n_levels > 8 else "")
        out_console.print(f"  factor [cyan]{f.name}[/]: {f.n_levels} levels ({levels})")
    for key in ("unreadable", "unmatched", "silent", "cut"):
        if extra.get(key):
            out_console.print(f"  [yellow]{len(extra[key])} {key}[/]: {', '.join(extra[key][:5])}{' …' if len(extra[key]) > 5 else ''}")


def register(app: typer.Typer) -> None:
    """Add ``ingest`` to the root ``app``."""
    app.command("ingest")(ingest)
