"""CLI commands ``train`` (one VAE on a dataset's features) and ``sweep`` (a grid of them)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from timbrespace.datasets.dataset import Dataset
    from timbrespace.models import VAEConfig

logger = logging.getLogger(__name__)

MODELS = {
    "beta_vae": "beta_vae",
    "annealed_vae": "annealed",
    "tcvae": "tcvae",
    "factorvae": "factorvae",
    "cvae": "beta_vae",
}


def _numbers(text: str, option: str, kind: type, example: str) -> tuple:
    """Parse a comma-separated list such as ``32,64,128`` (``kind`` is int or float)."""
    from timbrespace.errors import ParameterError

    try:
        return tuple(kind(v) for v in text.split(",") if v.strip())
    except ValueError:
        what = "integers" if kind is int else "numbers"
        raise ParameterError(
            f"{option}={text!r} must be comma-separated {what}, e.g. {example}"
        ) from None


def _ints(text: str, option: str) -> tuple[int, ...]:
    return _numbers(text, option, int, "32,64,128")


def _floats(text: str, option: str) -> tuple[float, ...]:
    return _numbers(text, option, float, "1,2,4,8")


def _open(dataset: Path, features: str | None) -> tuple[Dataset, str]:
    from timbrespace.datasets.dataset import Dataset
    from timbrespace.errors import DatasetError

    ds = Dataset(dataset)
    if features is None:
        names = ds.feature_names()
        if len(names) != 1:
            raise DatasetError(
                f"{ds.root}: choose --features among: {', '.join(names) or 'none (run features)'}"
            )
        features = names[0]
    return ds, features


def _model_config(
    ds: Dataset,
    features: str,
    model: str,
    *,
    condition_factors: tuple[str, ...] = (),
    **options: object,
) -> VAEConfig:
    from timbrespace.errors import ParameterError
    from timbrespace.models import VAEConfig
    from timbrespace.training.dataset_training import condition_classes_for, feature_shape

    if model not in MODELS:
        raise ParameterError(f"--model={model!r} is not allowed: one of {', '.join(MODELS)}")
    shape = feature_shape(ds, features)
    if options.get("architecture") == "auto":
        options["architecture"] = "conv" if len(shape) >= 2 else "mlp"
    if options.get("linear_skip") and options["architecture"] != "mlp":
        raise ParameterError(
            f"--init ica/pca starts the linear paths of an MLP: use --architecture mlp "
            f"(got {options['architecture']} for features of shape {shape})"
        )
    options["hidden_sizes"] = _ints(str(options.pop("hidden")), "--hidden")
    options["conv_channels"] = _ints(str(options["conv_channels"]), "--conv-channels")
    classes = condition_classes_for(ds, condition_factors) if condition_factors else ()
    return VAEConfig(
        input_shape=shape, objective=MODELS[model], condition_classes=classes, **options
    )  # type: ignore[arg-type]


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""

    @app.command("train")
    def train_cmd(
        dataset: Path = typer.Argument(..., help="Dataset folder with stored features."),  # noqa: B008
        out: Path = typer.Option(..., "--out", help="Run folder (checkpoints, logs)."),  # noqa: B008
        features: str | None = typer.Option(None, help="Feature set name (default: the only one)."),
        model: str = typer.Option(
            "beta_vae", help="beta_vae | annealed_vae | tcvae | factorvae | cvae."
        ),
        beta: float = typer.Option(
            4.0, help="Weight of the objective's named term (KL, |KL-C| or TC)."
        ),
        latent_dim: int = typer.Option(10, help="Number of latents."),
        epochs: int = typer.Option(50, help="Maximum epochs."),
        batch_size: int = typer.Option(64, help="Items per step."),
        lr: float = typer.Option(1e-3, help="Adam learning rate."),
        architecture: str = typer.Option("auto", help="mlp | conv | auto (conv for 2-D features)."),
        hidden: str = typer.Option("400", help="Hidden layer sizes, comma-separated."),
        conv_channels: str = typer.Option("32,64,128", help="Conv channels per block (conv)."),
        likelihood: str = typer.Option("gaussian", help="gaussian | bernoulli."),
        learn_variance: bool = typer.Option(False, help="Learn the Gaussian output variance."),
        condition: str | None = typer.Option(
            None, help="cvae: factors to condition on (default: all)."
        ),
        beta_schedule: str = typer.Option("constant", help="constant | linear | cyclical."),
        warmup_steps: int = typer.Option(1000, help="Steps of the warm-up / cyclical period."),
        capacity_max: float = typer.Option(25.0, help="annealed_vae: final KL capacity (nats)."),
        capacity_steps: int = typer.Option(10000, help="annealed_vae: steps to reach it."),
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
        threads: int | None = typer.Option(None, help="torch threads."),
        max_time_s: float | None = typer.Option(
            None, help="Stop after the epoch that passes this time."
        ),
        accelerator: str = typer.Option("cpu", help="cpu | gpu | auto."),
        devices: int = typer.Option(
            1, help="Devices (processes on cpu) to train on; more than 1 trains with DDP."
        ),
        strategy: str = typer.Option(
            "auto", help="Lightning strategy: auto, or ddp for data-parallel training."
        ),
        resume: bool = typer.Option(False, help="Continue from RUN/checkpoints/last."),
        progress: bool = typer.Option(True, help="Show a progress bar."),
    ) -> None:
        """Train a VAE on DATASET's features; print the run's summary (with MIG) as JSON."""
        from timbrespace.errors import ParameterError
        from timbrespace.training import TrainConfig
        from timbrespace.training.config import INIT_METHODS
        from timbrespace.training.dataset_training import train_on_dataset
        from timbrespace.training.sweep import active_latents

        if init not in INIT_METHODS:
            raise ParameterError(
                f"--init={init!r} is not allowed: one of {', '.join(INIT_METHODS)}"
            )
        ds, features = _open(dataset, features)
        condition_factors: tuple[str, ...] = ()
        if model == "cvae":
            condition_factors = (
                tuple(s.strip() for s in condition.split(","))
                if condition
                else tuple(ds.factor_names)
            )
        elif condition:
            raise ParameterError("--condition only applies to --model cvae")
        model_config = _model_config(
            ds,
            features,
            model,
            condition_factors=condition_factors,
            latent_dim=latent_dim,
            architecture=architecture,
            hidden=hidden,
            conv_channels=conv_channels,
            likelihood=likelihood,
            learn_variance=learn_variance,
            beta=beta,
            capacity_max=capacity_max,
            capacity_steps=capacity_steps,
            linear_skip=init != "random",
        )
        train_config = TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            beta_schedule=beta_schedule,
            warmup_steps=warmup_steps,
            cycle_steps=warmup_steps,
            early_stopping_patience=patience,
            seed=seed,
            init=init,
            linear_lr=linear_lr,
            num_threads=threads,
            max_time_s=max_time_s,
            accelerator=accelerator,
            devices=devices,
            strategy=strategy,
            enable_progress_bar=progress,
        )
        done = train_on_dataset(
            ds,
            features=features,
            model_config=model_config,
            train_config=train_config,
            out_dir=out,
            condition_factors=condition_factors,
            resume=resume,
        )
        if not done.train.is_global_zero:  # a data-parallel worker; rank 0 reports
            return
        last = done.train.history[-1] if done.train.history else None
        summary: dict[str, object] = {
            "run": str(out),
            "model": model,
            "features": features,
            "epochs": len(done.train.history),
            "stop_reason": done.train.stop_reason,
            "train_loss": None if last is None else last.train_loss,
            "val_loss": None if last is None else last.val_loss,
            "checkpoint": str(done.train.checkpoint_path),
            "latents": str(done.latents_path),
        }
        import numpy as np

        from timbrespace.metrics import mig

        with np.load(done.latents_path) as data:
            summary["mig"] = mig(data["latents"], data["factors"]).score
            summary["n_active_latents"] = active_latents(data["latents"])
        typer.echo(json.dumps(summary, indent=2))

    @app.command("sweep")
    def sweep_cmd(
        dataset: Path = typer.Argument(  # noqa: B008
            ...,
            help="Dataset folder with stored features, or an experiment (YAML or built-in name, "
            "e.g. additive-4factor) whose dataset and features are made under OUT/dataset.",
        ),
        out: Path = typer.Option(..., "--out", help="Sweep folder (one run per grid point)."),  # noqa: B008
        features: str | None = typer.Option(None, help="Feature set name (default: the only one)."),
        models: str = typer.Option(
            "beta_vae", help="Comma-separated: beta_vae, annealed_vae, tcvae, factorvae."
        ),
        beta: str = typer.Option("1,2,4,8", help="Comma-separated beta values."),
        seeds: int = typer.Option(3, help="Seeds 0..N-1 per grid point."),
        latent_dim: int = typer.Option(10, help="Number of latents."),
        epochs: int = typer.Option(30, help="Maximum epochs per run."),
        batch_size: int = typer.Option(64, help="Items per step."),
        lr: float = typer.Option(1e-3, help="Adam learning rate."),
        architecture: str = typer.Option("auto", help="mlp | conv | auto."),
        hidden: str = typer.Option("400", help="Hidden layer sizes."),
        conv_channels: str = typer.Option("32,64,128", help="Conv channels per block (conv)."),
        likelihood: str = typer.Option("gaussian", help="gaussian | bernoulli."),
        patience: int | None = typer.Option(None, help="Early-stopping patience (epochs)."),
        threads: int | None = typer.Option(None, help="torch threads."),
        max_time_s: float | None = typer.Option(None, help="Per-run time limit (s)."),
        dci_estimator: str = typer.Option("gbt", help="gbt | hist (faster)."),
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
    ) -> None:
        """Train every (model, beta, seed) and write OUT/sweep.csv and OUT/sweep.png.

        The table starts with the linear baselines (model pca / ica), fitted on the same
        features: a model below ica has missed directions a linear method finds.
        """
        import numpy as np

        from timbrespace.errors import ParameterError
        from timbrespace.training import TrainConfig
        from timbrespace.training.config import INIT_METHODS
        from timbrespace.training.sweep import BASELINE_METHODS, METRIC_COLUMNS, sweep

        # Refuse bad options before an experiment's dataset is generated under OUT.
        names = [m.strip() for m in models.split(",") if m.strip()]
        baseline_names = [b.strip() for b in baselines.split(",") if b.strip()]
        if baseline_names == ["none"]:
            baseline_names = []
        unknown = sorted(set(baseline_names) - set(BASELINE_METHODS))
        if unknown:
            raise ParameterError(
                f"--baselines: {unknown} unknown; choose from {', '.join(BASELINE_METHODS)} or none"
            )
        inits = [i.strip() for i in init.split(",") if i.strip()]
        bad_inits = sorted(set(inits) - set(INIT_METHODS))
        if bad_inits or not inits:
            raise ParameterError(
                f"--init: {bad_inits or init!r} not allowed; choose from {', '.join(INIT_METHODS)}"
            )
        if "cvae" in names:
            raise ParameterError(
                "--models: cvae is conditioned on the factors; a sweep cannot score it"
            )
        if not (dataset / "dataset.json").is_file():
            dataset, features = _experiment_dataset(str(dataset), out)
        ds, features = _open(dataset, features)
        configs = [
            _model_config(
                ds,
                features,
                name,
                latent_dim=latent_dim,
                architecture=architecture,
                hidden=hidden,
                conv_channels=conv_channels,
                likelihood=likelihood,
            )
            for name in names
        ]
        train_config = TrainConfig(
            epochs=epochs,
            batch_size=batch_size,
            lr=lr,
            linear_lr=linear_lr,
            early_stopping_patience=patience,
            num_threads=threads,
            max_time_s=max_time_s,
        )
        rows = sweep(
            ds,
            features=features,
            model_configs=configs,
            betas=_floats(beta, "--beta"),
            seeds=range(seeds),
            train_config=train_config,
            out_dir=out,
            dci_estimator=dci_estimator,
            baselines=baseline_names,
            inits=inits,
        )
        runs = [r for r in rows if r.model not in BASELINE_METHODS]
        best = max(runs, key=lambda r: -1.0 if r.mig != r.mig else r.mig)
        typer.echo(f"{len(runs)} runs; table {out / 'sweep.csv'}; figure {out / 'sweep.png'}")
        typer.echo(
            f"best MIG {best.mig:.3f}: {best.run} ({', '.join(f'{k}={getattr(best, k):.3f}' for k in METRIC_COLUMNS)})"
        )
        for method in baseline_names:
            scores = [r.mig for r in rows if r.model == method]
            typer.echo(
                f"linear baseline {method}: MIG {np.nanmean(scores):.3f} "
                f"({'mean of ' + str(len(scores)) + ' seeds' if len(scores) > 1 else 'deterministic'})"
            )


def _experiment_dataset(experiment: str, out: Path) -> tuple[Path, str]:
    """Generate an experiment's dataset and features under ``out/dataset`` (resumable)."""
    from timbrespace.datasets import generate_dataset
    from timbrespace.experiments import load_experiment_config
    from timbrespace.features import compute_dataset_features

    cfg = load_experiment_config(experiment)
    ds = generate_dataset(cfg.dataset_config(experiment), out / "dataset", progress=True)
    name = compute_dataset_features(ds, cfg.feature_config(experiment), name="run_features")
    return ds.root, name
