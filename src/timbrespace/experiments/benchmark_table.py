"""The benchmark's table: one :class:`JobResult` per trained model, baseline or groove run,
``benchmark.csv`` (every row), ``benchmark.md`` (mean ± sd over seeds per dataset × model,
a dash and a footnote where a model does not apply) and ``benchmark.png`` (MIG per
dataset × model with each seed).
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from timbrespace.utils.atomic import atomic_path, atomic_write_text

if TYPE_CHECKING:
    from timbrespace.experiments.benchmark_datasets import BenchmarkDataset, BenchmarkSettings
    from timbrespace.experiments.sweep_table import SweepRow

__all__ = ["GROOVE_MODEL", "MODEL_LABELS", "MODEL_NAMES", "DatasetSummary", "JobResult", "write_tables"]

MODEL_NAMES = ("beta_vae", "tcvae", "factorvae", "shift", "ada_gvae")
"""The model family, in table order."""

GROOVE_MODEL = "groove_vae"

MODEL_LABELS = {
    "beta_vae": "β-VAE", "tcvae": "β-TCVAE", "factorvae": "FactorVAE", "shift": "shift-VAE",
    "ada_gvae": "Ada-GVAE (pairs)", "pca": "PCA", "ica": "FastICA", "inverse": "features' inverse",
    GROOVE_MODEL: "groove VAE",
}

_SCORES = ("mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "modularity",
           "mig_ica", "mig_at_init", "spectral_convergence", "mrstft", "hit_f1", "baseline_f1",
           "baseline_mode_f1", "train_time_s")


@dataclass(frozen=True)
class DatasetSummary:
    """What the table says of one dataset: items, factors (levels), what the models read."""

    name: str
    n_items: int
    factors: tuple[str, ...]
    features: str


@dataclass(frozen=True)
class JobResult:
    """One row of the study: a trained model, a linear baseline, the features' inverse or a groove run.

    Scores are ``nan`` where they do not apply (``hit_f1`` of a VAE on spectra, MIG of
    the inverse). ``status`` is ``done``; ``n/a`` (with ``reason``) for a model that
    cannot train on a dataset; ``missing`` for a dataset whose data was not found.
    """

    dataset: str
    model: str
    seed: int
    status: str = "done"
    reason: str = ""
    mig: float = math.nan
    dci_disentanglement: float = math.nan
    dci_completeness: float = math.nan
    dci_informativeness: float = math.nan
    sap: float = math.nan
    modularity: float = math.nan
    mig_ica: float = math.nan
    mig_at_init: float = math.nan
    n_active_latents: int = -1
    spectral_convergence: float = math.nan
    mrstft: float = math.nan
    hit_f1: float = math.nan
    baseline_f1: float = math.nan
    baseline_mode_f1: float = math.nan
    epochs: int = 0
    train_time_s: float = math.nan
    beta: float = math.nan

    @classmethod
    def from_sweep_row(cls, dataset: str, row: SweepRow, **extra: float) -> JobResult:
        """A sweep's row (:class:`~timbrespace.experiments.sweep_table.SweepRow`) of ``dataset``."""
        names = {f.name for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: v for k, v in dataclasses.asdict(row).items() if k in names and k != "dataset"}
        values.update(extra)
        return cls(dataset=dataset, **values)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (``nan`` and infinities as ``null``, read back as ``nan``)."""
        return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobResult:
        """The row :meth:`to_dict` wrote (``null`` scores back to ``nan``)."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        values: dict[str, Any] = {k: (math.nan if v is None and fields[k].type in (float, "float") else v)
                                  for k, v in data.items() if k in fields}
        return cls(**values)

    @classmethod
    def read(cls, path: Path) -> list[JobResult]:
        """The rows of a finished job file (``DIR/jobs/<job>.json``)."""
        return [cls.from_dict(r) for r in json.loads(Path(path).read_text())["rows"]]


def _mean_sd(values: Sequence[float], digits: int = 3) -> str:
    v = np.array([x for x in values if not math.isnan(x)], dtype=float)
    if v.size == 0:
        return "–"
    if v.size == 1:
        return f"{v[0]:.{digits}f}"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def _not_applicable(spec: BenchmarkDataset, model: str) -> str | None:
    """Why ``model`` has no cell on ``spec`` (a footnote), or ``None``."""
    if spec.source == "grooves":
        return "grooves are drum patterns, not spectra: the groove VAE's hit F1 is in its own table"
    if model == "shift" and not spec.pitched:
        return "the shift-VAE needs a pitch factor and log-frequency (CQT) features"
    return None


def write_tables(rows: Sequence[JobResult], out: Path, *, specs: Sequence[BenchmarkDataset],
                 models: Sequence[str], settings: BenchmarkSettings,
                 summaries: Sequence[DatasetSummary] = ()) -> tuple[Path, Path, Path]:
    """Write ``benchmark.csv``, ``benchmark.md`` and ``benchmark.png`` in ``out`` (atomically).

    Returns
    -------
    (csv, md, png) : tuple of Path
    """
    import pandas as pd

    frame = pd.DataFrame([dataclasses.asdict(r) for r in rows], columns=[f.name for f in dataclasses.fields(JobResult)])
    csv = out / "benchmark.csv"
    with atomic_path(csv) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.6g")
    md = out / "benchmark.md"
    atomic_write_text(md, markdown(rows, specs=specs, models=models, settings=settings, summaries=summaries))
    png = out / "benchmark.png"
    plot_benchmark(rows, png, specs=specs, models=models)
    return csv, md, png


def markdown(rows: Sequence[JobResult], *, specs: Sequence[BenchmarkDataset], models: Sequence[str],
             settings: BenchmarkSettings, summaries: Sequence[DatasetSummary] = ()) -> str:
    """The study as Markdown: a MIG overview (dataset × model), the full table, the grooves' table."""
    notes: list[str] = []

    def footnote(text: str) -> str:
        if text not in notes:
            notes.append(text)
        return f"[^{notes.index(text) + 1}]"

    done = [r for r in rows if r.status == "done"]
    spectral = [s for s in specs if s.source != "grooves"]
    seeds = sorted({r.seed for r in done if r.model in models})
    lines = [f"Profile `{settings.profile}`: {settings.epochs} epochs, batch {settings.batch_size}, "
             f"MLP {list(settings.hidden_sizes)}, β {dict(settings.betas)}, seeds {seeds or '–'}; "
             f"mean ± sample sd over seeds. DCI and SAP fitted on `train`, scored on `test`; MIG on all items. "
             "SC (spectral convergence) and MR-STFT (multi-resolution STFT distance) of "
             f"{settings.n_resynthesised} test items decoded and inverted (PGHI + {settings.n_iter} Griffin-Lim "
             "iterations); lower is better. The 'features' inverse' row inverts the stored features themselves.",
             "", "## MIG (dataset × model)", "",
             "| dataset | " + " | ".join(MODEL_LABELS[m] for m in models) + " | PCA | FastICA |",
             "|---|" + "---|" * (len(models) + 2)]
    for spec in spectral:
        cells = []
        for model in [*models, "pca", "ica"]:
            cells.append(_cell(spec, model, done, rows, footnote, "mig"))
        lines.append(f"| {spec.title} | " + " | ".join(cells) + " |")
    lines += ["", "## Every score", "",
              "| dataset | model | MIG | DCI D | DCI C | DCI I | SAP | MIG at init | SC | MR-STFT | active | train s |",
              "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for spec in spectral:
        for model in [*models, "pca", "ica", "inverse"]:
            these = [r for r in done if r.dataset == spec.name and r.model == model]
            if not these:
                lines.append(f"| {spec.title} | {MODEL_LABELS[model]} | "
                             + _cell(spec, model, done, rows, footnote, "mig") + " |" + " |" * 9)
                continue
            cols = [_mean_sd([getattr(r, k) for r in these]) for k in (
                "mig", "dci_disentanglement", "dci_completeness", "dci_informativeness", "sap", "mig_at_init",
                "spectral_convergence", "mrstft")]
            active = _mean_sd([float(r.n_active_latents) for r in these if r.n_active_latents >= 0], 1)
            lines.append(f"| {spec.title} | {MODEL_LABELS[model]} | " + " | ".join(cols)
                         + f" | {active} | {_mean_sd([r.train_time_s for r in these], 1)} |")
    grooves = [s for s in specs if s.source == "grooves"]
    for spec in grooves:
        lines += ["", f"## {spec.title}: held-out hit F1", "",
                  "| model | hit F1 | baseline: training hit rates | baseline: mode | train s |", "|---|---|---|---|---|"]
        these = [r for r in done if r.dataset == spec.name and r.model == GROOVE_MODEL]
        missing = [r for r in rows if r.dataset == spec.name and r.status == "missing"]
        if missing:
            lines.append(f"| {MODEL_LABELS[GROOVE_MODEL]} | –{footnote(missing[0].reason)} | | | |")
        else:
            lines.append(f"| {MODEL_LABELS[GROOVE_MODEL]} | " + " | ".join(
                _mean_sd([getattr(r, k) for r in these]) for k in ("hit_f1", "baseline_f1", "baseline_mode_f1"))
                + f" | {_mean_sd([r.train_time_s for r in these], 1)} |")
    known = {d.name: d for d in summaries}
    if known:
        lines += ["", "## Datasets", "", "| dataset | items | factors (levels) | features | note |", "|---|---|---|---|---|"]
        for spec in specs:
            if spec.name in known:
                d = known[spec.name]
                lines.append(f"| {spec.title} | {d.n_items} | {', '.join(d.factors)} | {d.features} | {spec.note} |")
    if notes:
        lines += [""] + [f"[^{i + 1}]: {text}" for i, text in enumerate(notes)]
    return "\n".join(lines) + "\n"


def _cell(spec: BenchmarkDataset, model: str, done: Sequence[JobResult], rows: Sequence[JobResult],
          footnote: Any, score: str) -> str:
    these = [r for r in done if r.dataset == spec.name and r.model == model]
    failed = [r for r in rows if r.dataset == spec.name and r.model == model and r.status == "failed"]
    if these:
        shown = _mean_sd([getattr(r, score) for r in these])
        return shown + (footnote(f"{len(failed)} seed(s) left out, {failed[0].reason}") if failed else "")
    why = _not_applicable(spec, model)
    if why is None:
        failed = [r for r in rows if r.dataset == spec.name and r.model in (model, "*") and r.status != "done"]
        why = failed[0].reason if failed else "not run"
    return f"–{footnote(why)}"


def plot_benchmark(rows: Sequence[JobResult], path: Path, *, specs: Sequence[BenchmarkDataset],
                   models: Sequence[str]) -> Path:
    """MIG per dataset (x) and model (colour): each seed a dot, the mean a bar; PCA/FastICA as ticks."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    spectral = [s for s in specs if s.source != "grooves"]
    fig, ax = plt.subplots(figsize=(max(6.0, 1.6 * len(spectral) + 2), 4.2))
    width = 0.8 / max(len(models), 1)
    colours = plt.get_cmap("tab10")
    for j, model in enumerate(models):
        for i, spec in enumerate(spectral):
            mig = [r.mig for r in rows if r.dataset == spec.name and r.model == model and r.status == "done"]
            x = i - 0.4 + width * (j + 0.5)
            if mig:
                ax.bar(x, float(np.nanmean(mig)), width * 0.9, color=colours(j), alpha=0.45,
                       label=MODEL_LABELS[model] if i == 0 or not ax.get_legend_handles_labels()[1].count(
                           MODEL_LABELS[model]) else None)
                ax.plot([x] * len(mig), mig, "o", color=colours(j), ms=3)
    for i, spec in enumerate(spectral):
        for model, style in (("pca", "k--"), ("ica", "k:")):
            mig = [r.mig for r in rows if r.dataset == spec.name and r.model == model and r.status == "done"]
            if mig:
                ax.plot([i - 0.45, i + 0.45], [float(np.nanmean(mig))] * 2, style, lw=1.2,
                        label=MODEL_LABELS[model] if i == 0 else None)
    # "seed 000 FM + Moog" -> "seed 000" over "FM + Moog"
    ax.set_xticks(range(len(spectral)), ["\n".join([" ".join(s.title.split(" ")[:2]), " ".join(s.title.split(" ")[2:])])
                                         for s in spectral], fontsize=8)
    ax.set_ylabel("MIG (bits / bits)")
    ax.set_ylim(0, 1)
    ax.set_title("Benchmark: MIG per dataset and model (dots: seeds; bars: mean)", fontsize=10)
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles, strict=False))
    ax.legend(unique.values(), unique.keys(), fontsize=7, ncol=2, loc="upper right")
    fig.tight_layout()
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=150, format="png")
    plt.close(fig)
    return path
