"""CLI commands ``explore`` (a web explorer with live sound, or a static page) and ``export-model``.

Examples
--------
::

    timbrespace explore runs/additive-4factor-20260101-120000
    timbrespace explore RUN --no-browser --port 9000
    timbrespace explore RUN --static explorer.html --no-progress
    timbrespace export-model RUN --format onnx -o decoder.onnx
    timbrespace export-model RUN --format torchscript --part encoder -o encoder.pt
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from timbrespace.cli._options import ProgressOption
from timbrespace.errors import ParameterError
from timbrespace.utils.progress import stage


def explore(
    run: Annotated[Path, typer.Argument(help="Run folder (from `run`, `train`, `timbre train` or `drums train`).")],
    host: Annotated[str, typer.Option(help="Interface to listen on (the loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8765,
    no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open the page in a browser.")] = False,
    static: Annotated[Path | None, typer.Option("--static", help="Write one self-contained page here instead of serving.")] = None,
    grid: Annotated[int | None, typer.Option(help="--static: grid points per side (default 9; 5 for drum runs).")] = None,
    kits: Annotated[list[Path], typer.Option("--kits", help="Drum runs: a folder of Hydrogen kits to offer (repeatable).")] = [],  # noqa: B006
    overwrite: Annotated[bool, typer.Option(help="--static: replace an existing file.")] = False,
    progress: ProgressOption = True,
) -> None:
    """Play a run's latent space in the browser: a pad, sliders, A→B paths, downloads; or write a static page."""
    from timbrespace.experiments.runs import read_run_card
    from timbrespace.explore import open_explorable, serve, write_static_page
    from timbrespace.explore.server import bind_socket, server_url
    from timbrespace.explore.static import is_static_page

    if not 1 <= port <= 65535:
        raise ParameterError(f"--port={port} is out of range: allowed 1..65535")
    if grid is not None and not 2 <= grid <= 15:
        raise ParameterError(f"--grid={grid} is out of range: allowed 2..15")
    if static is not None and static.exists() and not overwrite:
        raise ParameterError(f"{static} exists; pass --overwrite to replace it")
    read_run_card(run)  # a folder that is no run fails before the port is looked at
    if static is not None and static.exists() and not is_static_page(static):
        raise ParameterError(f"--static {static} exists and is not an explorer page written before; "
                             "nothing is replaced: choose another file")
    if static is not None and static.suffix and static.suffix.lower() not in (".html", ".htm"):
        raise ParameterError(f"--static {static}: the page is HTML; give a file name ending in .html")
    # the port is taken before the run is loaded: a busy one fails at once, in one line
    sock = None if static is not None else bind_socket(host, port)
    try:
        explorable = open_explorable(run, kit_dirs=kits)
        if static is not None:
            path = write_static_page(explorable, static, grid=grid, overwrite=overwrite, progress=progress)
            typer.echo(f"wrote {path}")
            return
        typer.echo(f"timbrespace explore: {server_url(host, port)} (Ctrl+C to stop)")
        serve(explorable, host=host, port=port, open_browser=not no_browser, sock=sock)
    finally:
        if sock is not None:
            sock.close()


def export_model(
    run: Annotated[Path, typer.Argument(help="Run folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Model file to write; its description goes to FILE.json.")],
    fmt: Annotated[str, typer.Option("--format", help="onnx | torchscript.")] = "onnx",
    part: Annotated[str, typer.Option(help="decoder | encoder.")] = "decoder",
    overwrite: Annotated[bool, typer.Option(help="Replace an earlier export at --out (never another file).")] = False,
    progress: ProgressOption = True,
) -> None:
    """Export a run's decoder (z to audio for a run with an audio decoder; else z to features, with the feature config to invert them) or encoder to ONNX or TorchScript."""
    from timbrespace.explore import open_explorable
    from timbrespace.explore.export import FORMATS, PARTS, check_export_targets, export_model

    if fmt not in FORMATS:
        raise ParameterError(f"--format={fmt!r} is not allowed: one of {', '.join(FORMATS)}")
    if part not in PARTS:
        raise ParameterError(f"--part={part!r} is not allowed: one of {', '.join(PARTS)}")
    check_export_targets(run, out, overwrite=overwrite)
    suffixes = {"onnx": (".onnx",), "torchscript": (".pt", ".pth", ".ts", ".torchscript")}.get(fmt, ())
    if out.suffix and suffixes and out.suffix.lower() not in suffixes:
        raise ParameterError(f"--out {out}: the suffix {out.suffix!r} does not name a {fmt} file; "
                             f"use {' or '.join(suffixes)} (or no suffix)")
    with stage(f"export the {part} to {fmt}", enabled=progress):
        model_path, json_path = export_model(open_explorable(run), fmt, out, part=part)
    typer.echo(f"wrote {model_path} and {json_path}")


def register(app: typer.Typer) -> None:
    """Add ``explore`` and ``export-model`` to the root app."""
    app.command("explore")(explore)
    app.command("export-model")(export_model)
