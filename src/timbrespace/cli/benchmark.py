"""CLI command ``benchmark``: the model family on every seed dataset, one table.

A thin wrapper over :func:`timbrespace.experiments.benchmark.run_benchmark`.
"""

from __future__ import annotations

from pathlib import Path

import typer

from timbrespace.cli._options import ProgressOption, as_options, check_min, distinct, names


def benchmark(
    out: Path = typer.Option(..., "--out", "-o", help="Study folder (new, empty, or an earlier study to resume)."),  # noqa: B008
    quick: bool = typer.Option(
        False, "--quick", help="Small datasets and few epochs: the whole study on 2 CPU cores in under 20 minutes."
    ),
    devices: int | None = typer.Option(
        None, help="1: train each job on an accelerator (a GPU; Lightning accelerator auto); "
        "default: the CPU, one thread."),
    datasets: str | None = typer.Option(
        None, help="Comma-separated subset of: seed000-richness, seed000-additive-bandpass, seed000-fm-moog, "
        "seed001-additive, seed003-pop, seed002-semantic, seed004-grooves (default: all)."),
    models: str | None = typer.Option(
        None, help="Comma-separated subset of: beta_vae, tcvae, factorvae, shift, ada_gvae (default: all; "
        "grooves always train the groove VAE)."),
    seeds: int = typer.Option(3, help="Seeds 0..N-1 per (dataset, model)."),
    data: Path | None = typer.Option(  # noqa: B008
        None, help="Real data folder with notes/ and grooves/ (default: $TIMBRESPACE_SHARED_DATA or ../shared/data)."),
    progress: ProgressOption = True,
) -> None:
    """Train every model × seed on every seed dataset; write OUT/benchmark.csv, .md and .png.

    One job per (dataset, model, seed), each written to OUT/jobs/ when it ends: run the
    same command again to resume (finished jobs are not trained again).
    """
    from timbrespace.experiments.benchmark import check_benchmark_options, run_benchmark

    check_min("--seeds", seeds, 1)
    check_min("--devices", devices, 1)
    dataset_names = distinct(names(datasets), "--datasets", datasets) if datasets is not None else None
    model_names = distinct(names(models), "--models", models) if models is not None else None
    with as_options(("datasets", "models", "seeds", "devices", "out"), {"data_dir": "--data"}):
        check_benchmark_options(datasets=dataset_names, models=model_names, seeds=seeds, devices=devices)
        result = run_benchmark(out, quick=quick, devices=devices, datasets=dataset_names, models=model_names,
                               seeds=seeds, data_dir=data, progress=progress)
    typer.echo(f"{result.n_trained} jobs run, {result.n_skipped} finished before; "
               f"table {result.markdown}, {result.csv}; figure {result.figure}")


def register(app: typer.Typer) -> None:
    """Add ``benchmark`` to the root ``app``."""
    app.command("benchmark")(benchmark)
