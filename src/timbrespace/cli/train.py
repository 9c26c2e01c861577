"""CLI commands ``train`` (one VAE on a dataset's features) and ``sweep`` (a grid of them).

Thin wrappers: :func:`timbrespace.experiments.train_runs.train_dataset` and
:func:`timbrespace.experiments.sweep.sweep_dataset` do the work.
"""

from __future__ import annotations

import json
from pathlib import Path

import typer

from timbrespace.cli._options import (
    ProgressOption,
    as_options,
    check_min,
    distinct,
    names,
    numbers,
    resume_hint,
)
from timbrespace.errors import ParameterError

_TRAIN_OPTIONS = ("latent_dim", "epochs", "batch_size", "lr", "beta", "architecture", "conv_channels", "likelihood",
                  "beta_schedule", "warmup_steps", "capacity_max", "capacity_steps", "seed", "init", "linear_lr",
                  "max_time_s", "accelerator", "devices", "strategy", "refine_epochs")


def train(
    dataset: Path = typer.Argument(..., help="Dataset folder with stored features."),  # noqa: B008
    out: Path = typer.Option(..., "--out", "-o", help="Run folder (checkpoints, logs)."),  # noqa: B008
    features: str | None = typer.Option(None, help="Feature set name (default: the only one)."),
    objective: str = typer.Option(
        "beta_vae", help="Training objective: beta_vae | annealed | tcvae | factorvae | cvae | ada_gvae | ada_mlvae."
    ),
    beta: float = typer.Option(4.0, help="Weight of the objective's named term (KL, |KL-C| or TC)."),
    latent_dim: int = typer.Option(10, help="Number of latents."),
    epochs: int = typer.Option(50, help="Maximum epochs (passes over the training split)."),
    batch_size: int = typer.Option(64, help="Items per optimiser step."),
    lr: float = typer.Option(1e-3, help="Adam learning rate (per step)."),
    architecture: str = typer.Option("auto", help="mlp | conv | auto (conv for 2-D features)."),
    hidden: str = typer.Option("400", help="Hidden layer widths (units), comma-separated, e.g. 400,200."),
    conv_channels: str = typer.Option("32,64,128", help="Conv channels per block (conv), comma-separated."),
    likelihood: str = typer.Option("gaussian", help="Decoder likelihood: gaussian | bernoulli."),
    learn_variance: bool = typer.Option(False, help="Learn the Gaussian output variance."),
    condition: str | None = typer.Option(None, help="cvae: factors to condition on (default: all)."),
    beta_schedule: str = typer.Option("constant", help="constant | linear | cyclical."),
    warmup_steps: int = typer.Option(1000, help="β warm-up (linear) or cycle (cyclical) length, in optimiser steps."),
    capacity_max: float = typer.Option(25.0, help="annealed: final KL capacity (nats)."),
    capacity_steps: int = typer.Option(10000, help="annealed: optimiser steps to reach it."),
    patience: int | None = typer.Option(None, help="Early-stopping patience (epochs)."),
    seed: int = typer.Option(0, help="Seed of init, shuffling and noise."),
    init: str = typer.Option(
        "random",
        help="random | ica | pca: ica/pca add linear paths to the MLP (linear_skip) and "
        "start them at the features' FastICA / PCA solution.",
    ),
    linear_lr: float | None = typer.Option(
        None, help="Learning rate of the linear paths (--init ica/pca); 0 keeps them fixed."
    ),
    threads: int = typer.Option(1, help="torch threads while training (default 1: on a small shared machine more threads mostly wait)."),
    max_time_s: float | None = typer.Option(None, help="Stop after the epoch that passes this time (seconds)."),
    refine_epochs: int = typer.Option(
        0, help="Then train the decoder alone this many epochs, encoder frozen, with a spectral loss on "
        "linear magnitudes (features in dB or magnitude, no normalisation): better sound, same latents."),
    accelerator: str = typer.Option("cpu", help="cpu | gpu | auto."),
    devices: int = typer.Option(1, help="Devices (processes on cpu) to train on; more than 1 trains with DDP."),
    strategy: str = typer.Option("auto", help="Lightning strategy: auto, or ddp for data-parallel training."),
    resume: bool = typer.Option(False, help="Continue from RUN/checkpoints/last."),
    overwrite: bool = typer.Option(False, help="Replace the run already in --out (its checkpoints and metrics)."),
    progress: ProgressOption = True,
) -> None:
    """Train a VAE on DATASET's features; print the run's summary (with MIG) as JSON."""
    from timbrespace.experiments import train_dataset
    from timbrespace.training import TrainConfig

    check_min("--devices", devices, 1)
    with as_options(_TRAIN_OPTIONS, {"num_threads": "--threads", "early_stopping_patience": "--patience",
                                     "cycle_steps": "--warmup-steps", "enable_progress_bar": "--progress"}):
        train_config = TrainConfig(
            epochs=epochs, batch_size=batch_size, lr=lr, beta_schedule=beta_schedule,
            warmup_steps=warmup_steps, cycle_steps=warmup_steps, early_stopping_patience=patience,
            seed=seed, init=init, linear_lr=linear_lr, num_threads=threads, max_time_s=max_time_s,
            accelerator=accelerator, devices=devices, strategy=strategy, enable_progress_bar=progress,
            refine_epochs=refine_epochs,
        )
    model_options = {
        "latent_dim": latent_dim, "architecture": architecture, "likelihood": likelihood,
        "hidden_sizes": numbers(hidden, "--hidden", int, "32,64,128"),
        "conv_channels": numbers(conv_channels, "--conv-channels", int, "32,64,128"),
        "learn_variance": learn_variance, "beta": beta, "capacity_max": capacity_max,
        "capacity_steps": capacity_steps,
    }
    hint = "run the same command to resume" if resume else "run the same command with --resume to continue"
    with as_options(_TRAIN_OPTIONS, {"model": "--objective", "hidden_sizes": "--hidden"}), resume_hint(hint):
        result = train_dataset(
            dataset, out_dir=out, features=features, model=objective, model_options=model_options,
            condition=distinct(names(condition), "--condition", condition) if condition else None,
            train_config=train_config, resume=resume,
            overwrite=overwrite,
        )
    if result.scores is not None:  # rank 0 of a data-parallel run, or the only process
        typer.echo(json.dumps(result.summary(), indent=2))


def sweep(
    dataset: Path = typer.Argument(  # noqa: B008
        ...,
        help="Dataset folder with stored features, or an experiment (YAML or built-in name, "
        "e.g. additive-4factor) whose dataset and features are made under OUT/dataset.",
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Sweep folder (one run per grid point)."),  # noqa: B008
    features: str | None = typer.Option(None, help="Feature set name (default: the only one)."),
    objectives: str = typer.Option(
        "beta_vae",
        help="Comma-separated training objectives: beta_vae, annealed, tcvae, factorvae, ada_gvae, ada_mlvae "
        "(ada_*: weakly supervised by pairs of items that differ in few factors).",
    ),
    beta: str | None = typer.Option(
        None, help="Comma-separated beta values (default: an experiment's own beta, else 1,2,4,8)."
    ),
    seeds: int = typer.Option(3, help="Seeds 0..N-1 per grid point."),
    labelled_fraction: str = typer.Option(
        "0",
        help="Comma-separated fractions of training items whose factors are given to a supervised "
        "term (few-label semi-supervision); 0 is unsupervised. ada_* objectives run at 0 only.",
    ),
    latent_dim: int | None = typer.Option(None, help="Number of latents (default: the experiment's, else 10)."),
    epochs: int | None = typer.Option(None, help="Maximum epochs per run (default: the experiment's, else 50)."),
    batch_size: int | None = typer.Option(None, help="Items per step (default: the experiment's, else 64)."),
    lr: float | None = typer.Option(None, help="Adam learning rate (default: the experiment's, else 1e-3)."),
    architecture: str | None = typer.Option(
        None, help="mlp | conv | auto (default: an experiment's own model, else auto)."
    ),
    hidden: str | None = typer.Option(
        None, help="Hidden layer widths (units), comma-separated, e.g. 400,200 (default: the experiment's, else 400)."
    ),
    conv_channels: str | None = typer.Option(None, help="Conv channels per block, comma-separated (default 32,64,128)."),
    likelihood: str | None = typer.Option(None, help="gaussian | bernoulli (default gaussian)."),
    patience: int | None = typer.Option(None, help="Early-stopping patience (epochs)."),
    threads: int = typer.Option(1, help="torch threads per run (default 1)."),
    jobs: int = typer.Option(1, help="Runs trained at once, each in its own process."),
    max_time_s: float | None = typer.Option(None, help="Per-run time limit (seconds)."),
    dci_estimator: str = typer.Option("gbt", help="DCI's regressor: gbt | hist (faster)."),
    init: str = typer.Option(
        "random",
        help="Comma-separated initialisations to sweep: random, ica, pca (ica/pca: MLP "
        "with linear paths started at the features' FastICA / PCA solution).",
    ),
    linear_lr: float | None = typer.Option(
        None, help="Learning rate of the linear paths (--init ica/pca); 0 keeps them fixed."
    ),
    baselines: str = typer.Option(
        "pca,ica",
        help="Linear baselines scored beside the models (comma-separated pca, ica; "
        "'none' for none): PCA / FastICA of the features with latent-dim components.",
    ),
    progress: ProgressOption = True,
) -> None:
    """Train every (model, labelled fraction, beta, seed) and write OUT/sweep.csv and OUT/sweep.png.

    On an experiment, the models are the experiment's own model with the objective
    replaced, trained with its training section; options given here replace those fields.
    The table starts with the linear baselines (model pca / ica), fitted on the same
    features, and shows each run's MIG before training (mig_at_init).
    """
    import numpy as np

    from timbrespace.experiments.sweep import METRIC_COLUMNS, sweep_dataset

    for option, value, minimum in (("--seeds", seeds, 1), ("--jobs", jobs, 1), ("--latent-dim", latent_dim, 1),
                                   ("--epochs", epochs, 1), ("--batch-size", batch_size, 1)):
        check_min(option, value, minimum)
    betas = distinct(numbers(beta, "--beta", float, "1,2,4,8"), "--beta", beta) if beta else None
    for value in betas or ():
        check_min("--beta", value, 0)
    fractions = distinct(numbers(labelled_fraction, "--labelled-fraction", float, "0,0.01"), "--labelled-fraction",
                         labelled_fraction)
    for option, text in (("--objectives", objectives), ("--init", init), ("--baselines", baselines)):
        distinct(names(text), option, text)
    if dci_estimator not in ("gbt", "hist"):
        raise ParameterError(f"--dci-estimator={dci_estimator!r} is not one of gbt, hist")
    if not all(0.0 <= f <= 1.0 for f in fractions):
        raise ParameterError(f"--labelled-fraction={labelled_fraction}: allowed fractions in [0, 1], e.g. 0,0.01")
    baseline_names = () if baselines.strip() == "none" else names(baselines)
    model_options = {
        "latent_dim": latent_dim, "architecture": architecture, "likelihood": likelihood,
        "hidden_sizes": numbers(hidden, "--hidden", int, "32,64,128") if hidden else None,
        "conv_channels": numbers(conv_channels, "--conv-channels", int, "32,64,128") if conv_channels else None,
    }
    train_options = {
        "epochs": epochs, "batch_size": batch_size, "lr": lr, "linear_lr": linear_lr,
        "early_stopping_patience": patience, "num_threads": threads, "max_time_s": max_time_s,
        "enable_progress_bar": progress,
    }
    rows = sweep_dataset(
        dataset, out_dir=out, features=features, models=names(objectives),
        betas=betas, seeds=range(seeds),
        inits=names(init), baselines=baseline_names, dci_estimator=dci_estimator,
        labelled_fractions=fractions,
        model_options={k: v for k, v in model_options.items() if v is not None},
        train_options={k: v for k, v in train_options.items() if v is not None}, jobs=jobs,
    )
    runs = [r for r in rows if r.model not in baseline_names]
    best = max(runs, key=lambda r: -1.0 if r.mig != r.mig else r.mig)
    typer.echo(f"{len(runs)} runs; table {out / 'sweep.csv'}; figure {out / 'sweep.png'}")
    scores = ", ".join(f"{k}={getattr(best, k):.3f}" for k in METRIC_COLUMNS)
    typer.echo(f"best MIG {best.mig:.3f} (at init {best.mig_at_init:.3f}): {best.run} ({scores})")
    for method in baseline_names:
        mig = [r.mig for r in rows if r.model == method]
        seeds_note = f"mean of {len(mig)} seeds" if len(mig) > 1 else "deterministic"
        typer.echo(f"linear baseline {method}: MIG {np.nanmean(mig):.3f} ({seeds_note})")


def register(app: typer.Typer) -> None:
    """Add ``train`` and ``sweep`` to the root ``app``."""
    app.command("train")(train)
    app.command("sweep")(sweep)
