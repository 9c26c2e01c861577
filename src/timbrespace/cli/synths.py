"""CLI: ``timbrespace synths`` (list sound models) and ``timbrespace synths render``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from timbrespace.cli._console import console
from timbrespace.cli._options import as_options
from timbrespace.errors import ParameterError

synths_app = typer.Typer(
    help="Sound models: list them with their parameters, or render one sound.",
    invoke_without_command=True,
    no_args_is_help=False,
)


def parse_settings(settings: list[str]) -> dict[str, str | float]:
    """Turn ``["f0_hz=220", "presence=odd"]`` into ``{"f0_hz": 220.0, "presence": "odd"}``.

    Raises
    ------
    ParameterError
        A setting without ``=`` or with an empty name.
    """
    values: dict[str, str | float] = {}
    for item in settings:
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name or not raw:
            raise ParameterError(f"--set {item!r} must look like NAME=VALUE, e.g. --set f0_hz=220")
        try:
            values[name] = float(raw)
        except ValueError:
            values[name] = raw  # a categorical label such as presence=odd
    return values


@synths_app.callback()
def list_models(
    ctx: typer.Context,
    model: Annotated[
        str | None, typer.Option("--model", "-m", help="Show only this model.")
    ] = None,
) -> None:
    """List the sound models and their parameters (name, range, unit, default, doc)."""
    if ctx.invoked_subcommand is not None:
        return
    from rich.table import Table

    from timbrespace.synths import get_sound_model, list_sound_models

    models = list_sound_models()
    if model is not None:
        models = {model: type(get_sound_model(model))}
    out = console()
    for name, cls in models.items():
        table = Table(
            title=f"[bold]{name}[/bold]: {cls.description}",
            caption=f"{cls.reference}; default {cls.default_sample_rate} Hz, {cls.default_duration_s:g} s",
            title_justify="left",
            caption_justify="left",
        )
        for column in ("parameter", "range", "unit", "scale", "default"):
            table.add_column(column, no_wrap=column != "range")
        table.add_column("doc", overflow="fold")
        for p in cls.parameters:
            default = p.choices[int(p.default)] if p.choices else f"{p.default:g}"
            table.add_row(
                p.name,
                p.range_text() if p.choices else f"{p.minimum:g}..{p.maximum:g}",
                p.unit,
                "categorical" if p.choices else ("integer" if p.integer else p.scale),
                default,
                p.doc,
            )
        out.print(table)


@synths_app.command("render")
def render(
    name: Annotated[str, typer.Argument(help="Sound model name (see `timbrespace synths`).")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="File to write; its suffix picks the format (.wav, .flac, .ogg, .mp3).")
    ],
    settings: Annotated[
        list[str] | None,
        typer.Option(
            "--set", "-s", help="Parameter value NAME=VALUE (repeatable), e.g. --set f0_hz=220."
        ),
    ] = None,
    sample_rate: Annotated[int | None, typer.Option(help="Hz (default: the model's).")] = None,
    duration_s: Annotated[
        float | None, typer.Option(help="Seconds (default: the model's).")
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the item's random stream.")] = 0,
    overwrite: Annotated[bool, typer.Option("--overwrite", help="Replace an existing --out file.")] = False,
) -> None:
    """Render one sound from a sound model and write it to a file."""
    from timbrespace.synths import get_sound_model
    from timbrespace.utils.audio import AUDIO_FORMATS, audio_format_for, write_audio
    from timbrespace.utils.limits import check_seed

    if out.is_dir():
        raise ParameterError(f"--out {out} is a folder: --out must be a file with an audio suffix "
                             f"({', '.join(AUDIO_FORMATS)}), e.g. {out / (name + '.wav')}")
    audio_format_for(out)  # refuse a suffix that names no audio format before rendering
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise ParameterError(f"--out {out} exists; choose another --out or pass --overwrite to replace it")
    model = get_sound_model(name)
    params = parse_settings(settings or [])
    with as_options(("sample_rate", "duration_s", "seed")):
        check_seed(seed)
        audio = model.render(params, sample_rate=sample_rate, duration_s=duration_s, seed=seed)
    sr = sample_rate or model.default_sample_rate
    path = write_audio(out, audio[0], sr)
    typer.echo(f"wrote {path} ({audio.shape[1]} samples at {sr} Hz)")


def register(app: typer.Typer) -> None:
    """Add ``synths`` (list) and ``synths render`` to the root app."""
    app.add_typer(synths_app, name="synths")
