"""CLI: ``timbrespace run`` — one whole experiment, from a YAML file or the default."""

from __future__ import annotations

from pathlib import Path

import typer
import yaml

from timbrespace.cli._console import console
from timbrespace.cli._options import ProgressOption, as_options, check_min
from timbrespace.errors import ConfigError
from timbrespace.utils.yaml_files import load_yaml


def _parse_overrides(items: list[str]) -> dict[str, object]:
    out: dict[str, object] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"--set {item!r}: expected KEY=VALUE, e.g. training.epochs=5")
        try:
            out[key.strip()] = load_yaml(value)
        except yaml.YAMLError:
            raise ConfigError(f"--set {item!r}: value is not valid YAML") from None
    return out


def run(
    config: str | None = typer.Argument(
        None, help="Experiment YAML, or a built-in name (default: additive-4factor)."
    ),
    out: Path | None = typer.Option(None, "--out", "-o", help="Run folder (default runs/<name>-<timestamp>)."),
    dataset: Path | None = typer.Option(None, "--dataset", "-d", help="Use this dataset (e.g. from `timbrespace ingest`) instead of generating one."),
    set_: list[str] = typer.Option([], "--set", help="Override a config value, e.g. --set training.epochs=5 (repeatable)."),
    workers: int | None = typer.Option(None, help="Worker processes for dataset generation (default: all cores)."),
    overwrite: bool = typer.Option(False, help="Allow writing into a run folder that already holds a finished run."),
    progress: ProgressOption = True,
) -> None:
    """Run an experiment: dataset → features → β-VAE → metrics → report."""
    from timbrespace.experiments import load_experiment_config, run_experiment

    check_min("--workers", workers, 1)
    cfg = load_experiment_config(config, overrides=_parse_overrides(set_))
    with as_options((), {f: f"features.{f}" for f in ("n_fft", "fmin_hz", "fmax_hz")}):
        result = run_experiment(
            cfg, out=out, dataset=dataset, workers=workers, progress=progress, overwrite=overwrite,
            source=str(config or "additive-4factor"),
        )
    _summary(cfg.name if dataset is None else f"{cfg.name} on {dataset.name}", result)


def evaluate(
    run_dir: Path = typer.Argument(..., help="A run folder of any kind (run, train, timbre, drums)."),
    progress: ProgressOption = True,
    allow_unfinished: bool = typer.Option(
        False, "--allow-unfinished",
        help="Evaluate a run whose training did not finish (its last checkpoint); the outputs say so."),
) -> None:
    """Recompute a run's metrics and report from its checkpoint (any kind of run)."""
    from timbrespace.experiments import evaluate_any, read_run_card
    from timbrespace.experiments.kinds import get_run_kind

    result = evaluate_any(run_dir, allow_unfinished=allow_unfinished, progress=progress)
    unfinished = result.metrics.get("training_unfinished")
    if unfinished:
        typer.echo(f"training unfinished (epoch {unfinished['epoch']} of {unfinished['epochs']}): "
                   "scores of the last checkpoint; run the training command again to resume", err=True)
    kind = get_run_kind(read_run_card(run_dir).kind)
    if kind.summary is None:
        typer.echo(f"report: {result.report_path}")
    else:
        kind.call("summary", result)


def print_run_summary(result: object) -> None:
    """The ``run`` and ``train`` kinds' summary: the scores table, then the report's path."""
    m = result.metrics  # type: ignore[attr-defined]
    _summary(m.get("experiment", Path(result.run_dir).name), result)  # type: ignore[attr-defined]


def print_timbre_summary(result: object) -> None:
    """The ``timbre`` kind's summary: its quality, then the report's path."""
    from timbrespace.cli.timbre import print_quality

    print_quality(result.metrics["timbre_quality"])  # type: ignore[attr-defined]
    typer.echo(f"report: {result.report_path}")  # type: ignore[attr-defined]


def print_drums_summary(result: object) -> None:
    """The ``drums`` kind's summary: hit F1 against the baseline, then the report's path."""
    m = result.metrics  # type: ignore[attr-defined]
    typer.echo(f"test hit F1 {m['model']['f1']:.3f} (baseline {m['baseline_sampled']['f1']:.3f}), "
               f"threshold {m['threshold']:.2f}, valid samples {100 * m['sample_valid_fraction']:.0f}%")
    typer.echo(f"report: {result.report_path}")  # type: ignore[attr-defined]


def _summary(name: str, result: object) -> None:
    from rich.table import Table

    m = result.metrics  # type: ignore[attr-defined]
    out = console()
    table = Table(title=f"{name}: {m['n_items']} items, {len(m['factors'])} factors, {m['runtime_s']:.0f} s")
    table.add_column("factor")
    table.add_column("MIG at init", justify="right")
    table.add_column("MIG", justify="right")
    table.add_column("DCI completeness", justify="right")
    table.add_column("DCI informativeness", justify="right")
    at_init = m.get("per_factor_at_init") or {}
    for name, row in m["per_factor"].items():
        table.add_row(name, _fmt(at_init.get(name)), _fmt(row.get("mig")), _fmt(row.get("dci_completeness")),
                      _fmt(row.get("dci_informativeness")))
    table.add_row("[bold]overall", _fmt(m.get("mig_at_init")), _fmt(m["mig"]), _fmt(m["dci"]["completeness"]),
                  _fmt(m["dci"]["informativeness"]))
    out.print(table)
    rec = m["reconstruction"]
    out.print(f"DCI disentanglement {_fmt(m['dci']['disentanglement'])}; "
              f"spectral convergence of resynthesis {_fmt(rec.get('spectral_convergence'))}")
    if "mrstft" in rec:
        out.print(f"resynthesis against the originals: MR-STFT distance {_fmt(rec['mrstft'])}, "
                  f"f0 error {_fmt(rec.get('f0_error_cents'))} cents (median, {rec['f0_items_voiced']} of "
                  f"{rec['n_resynthesised']} items voiced), loudness error {_fmt(rec['loudness_error_db'])} dB")
    refined = m["reconstruction"].get("decoder_refinement")
    if refined:
        out.print(f"decoder refined for {refined['epochs']} epochs with the encoder frozen (latents unchanged): "
                  f"spectral loss {_fmt(refined['spectral_loss_first'])} → {_fmt(refined['spectral_loss_last'])}")
    direct = m["reconstruction"].get("audio_decoder")
    if direct:
        out.print(f"DDSP audio decoder ({direct['epochs']} epochs on the frozen encoder's mu; no phase retrieval): "
                  f"spectral convergence {_fmt(direct['spectral_convergence'])} on the same test items; "
                  "the report and the explorer play its audio")
    aligned = m.get("aligned")
    if aligned:
        out.print(f"MIG after an unsupervised {aligned['method'].upper()} re-alignment of the latents "
                  f"(an analysis, not the score): {_fmt(aligned['mig'])}")
    baselines = m.get("linear_baselines")
    if baselines:
        out.print(f"for reference, linear baselines of the features ({baselines['n_components']} components, "
                  f"no model): PCA MIG {_fmt(baselines['pca']['mig'])}, "
                  f"FastICA MIG {_fmt(baselines['ica']['mig'])}")
    if m.get("note"):
        out.print(f"[bold]note:[/] {m['note']}")
    out.print(f"report: [bold]{result.report_path}[/]")  # type: ignore[attr-defined]


def _fmt(x: object) -> str:
    return "—" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def register(app: typer.Typer) -> None:
    """Add ``run`` and ``evaluate`` to the root ``app``."""
    app.command("run")(run)
    app.command("evaluate")(evaluate)
