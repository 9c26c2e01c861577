"""CLI command ``encode``: your own recordings through a trained run's encoder.

Examples
--------
::

    timbrespace encode runs/additive-4factor-20260101-120000 my_note.wav -o latents.json
    timbrespace encode RUN recordings/ -o latents.npz --overwrite
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from timbrespace.cli._options import ProgressOption


def encode(
    run: Annotated[Path, typer.Argument(help="Run folder (from `run` or an unconditional `train`).")],
    inputs: Annotated[list[Path], typer.Argument(help="Audio files, or folders of them (not searched recursively).")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where the latents go: FILE.npz or FILE.json.")],
    overwrite: Annotated[bool, typer.Option(help="Replace an existing OUT.")] = False,
    progress: ProgressOption = True,
) -> None:
    """Encode recordings with a run's model: one row of latent means (and log-variances) per file.

    With the run's DDSP audio decoder, also each file's tuning beyond its latents (cents of f0, stiffness B): decode_audio(run, mu, tuning) plays it with its partials where they were. Each file is mixed to mono, resampled to the run's rate and trimmed or zero-padded to its item duration when it differs (a note on stderr says so), then turned into the run's features exactly as its dataset was.
    """
    from timbrespace.cli._console import console
    from timbrespace.experiments.encode import (
        RunEncoder,
        audio_files,
        check_output,
        encode_audio_files,
        write_encoded,
    )

    check_output(out, overwrite=overwrite)
    files = audio_files(inputs)
    encoder = RunEncoder(run)
    encoded = encode_audio_files(encoder, files, progress=progress)
    for note in encoded.notes:
        typer.echo(f"note: {note}", err=True)
    path = write_encoded(encoded, out, run=run, overwrite=overwrite)
    tuning = "" if encoded.tuning is None else " and each file's tuning (cents, B) for the run's audio decoder"
    console().print(f"wrote {path}: {len(encoded.names)} file(s), latents {', '.join(encoded.latent_names)}{tuning}")


def register(app: typer.Typer) -> None:
    """Add ``encode`` to the root app."""
    app.command("encode")(encode)
