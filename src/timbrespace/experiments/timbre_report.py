"""The timbre run's report and latent maps, built with :class:`timbrespace.analysis.Report`.

Sections: summary (data, model, training, quality on held-back notes when measured);
training curves; latent maps (PCA of the latent means coloured by descriptor, magnitude
and pitch, as seed 002's ``-timbre/-magnitude/-pitch`` plots); generated notes (one per
descriptor at its largest magnitude and at the lowest, middle and highest pitch, from
the prior ``z = 0``) with audio players, their decoded spectrograms and their pitch
measured by pYIN (:func:`timbrespace.timbre.quality.measure_pitch_midi`).

In a *conditional* VAE the condition carries the labels, so the latent means ideally
hold what the labels do not (little colour structure); the maps show how much label
information leaks into ``z``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import librosa
import numpy as np
import pandas as pd

from timbrespace.errors import DatasetError, ParameterError
from timbrespace.timbre.quality import measure_pitch_midi
from timbrespace.utils.paths import safe_name

if TYPE_CHECKING:
    from timbrespace.experiments.timbre_quality import TimbreQuality
    from timbrespace.experiments.timbre_run import TimbreRun

__all__ = ["COLOR_FACTORS", "NoteSamples", "latent_map", "sample_notes", "write_timbre_report"]

logger = logging.getLogger(__name__)

#: ``--color`` value → metadata column.
COLOR_FACTORS: dict[str, str] = {"timbre": "descriptor", "magnitude": "magnitude", "pitch": "pitch"}


def latent_map(run: TimbreRun, out_dir: str | Path, *, color: str = "all", methods: Sequence[str] = ("pca", "tsne"),
               split: str | None = None, random_state: int = 0) -> list[Path]:
    """Write ``latent_<method>_<color>.png`` scatter plots of the run's latent means.

    Parameters
    ----------
    run : TimbreRun
    out_dir : path-like
        Folder of the PNGs (default in the CLI: ``RUN/figures``).
    color : {"timbre", "magnitude", "pitch", "all"}
    methods : sequence of {"pca", "tsne"}
    split : str, optional
        Only items of this split (default: all items of the run).
    random_state : int

    Returns
    -------
    list of pathlib.Path

    Raises
    ------
    ParameterError
        Unknown colour or method (allowed values listed).
    """
    from timbrespace.analysis import latent_projection, project_latents
    from timbrespace.analysis._plotting import FIGURE_DPI

    if color != "all" and color not in COLOR_FACTORS:
        raise ParameterError(f"color={color!r} is unknown: allowed {', '.join([*COLOR_FACTORS, 'all'])}")
    bad = [m for m in methods if m not in ("pca", "tsne")]
    if bad:
        raise ParameterError(f"method={bad[0]!r} is unknown: allowed pca, tsne")
    colors = list(COLOR_FACTORS) if color == "all" else [color]
    rows = np.arange(len(run.items))
    if split is not None:
        rows = np.flatnonzero(run.items["split"].astype(str).to_numpy() == split)
    latents = run.encode(rows)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = []
    for method in methods:
        xy = project_latents(latents, method=method, random_state=random_state)  # type: ignore[arg-type]
        for c in colors:
            values = run.items[COLOR_FACTORS[c]].to_numpy()[rows]
            fig = latent_projection(latents, values, method=method, embedding=xy,  # type: ignore[arg-type]
                                    factor_name=COLOR_FACTORS[c], categorical=c == "timbre")
            target = out_dir / f"latent_{method}_{c}.png"
            fig.savefig(target, dpi=FIGURE_DPI, bbox_inches="tight")
            paths.append(target)
    return paths


@dataclass(frozen=True)
class NoteSamples:
    """Notes generated from the prior for the report, with their measured pitch.

    Attributes
    ----------
    table : pandas.DataFrame
        One row per note: descriptor, magnitude, pitch (MIDI requested), note (name),
        measured_midi (pYIN; NaN if unvoiced), error_cents.
    audio : np.ndarray [shape=(n_notes, n_samples), dtype=float32]
    x : np.ndarray [shape=(n_notes, n_bins, n_frames), dtype=float32]
        Decoded spectrograms in [0, 1].
    """

    table: pd.DataFrame
    audio: np.ndarray
    x: np.ndarray

    def records(self) -> list[dict[str, Any]]:
        """The table as JSON-able rows (NaN as None)."""
        rows = self.table.to_dict("records")
        return [{k: (None if isinstance(v, float) and not np.isfinite(v) else v) for k, v in r.items()} for r in rows]


def sample_notes(run: TimbreRun, *, max_descriptors: int = 6, n_iter: int = 32, seed: int = 0) -> NoteSamples:
    """Generate one note per descriptor (its largest magnitude) at the lowest, middle and
    highest pitch of the run from ``z = 0``, and measure their pitch.

    Returns
    -------
    NoteSamples
    """
    pitches = sorted({run.pitches[0], run.pitches[len(run.pitches) // 2], run.pitches[-1]})
    magnitude = max(run.magnitudes)
    wanted = [(d, magnitude, p) for d in run.descriptors[:max_descriptors] for p in pitches]
    rows, requests, missing = run.find_present(wanted)
    if len(rows) == 0:
        raise DatasetError(f"{run.root}: none of the report's notes has an original ({', '.join(missing[:3])} ...)")
    latent_dim = run.require_model().config.latent_dim
    x = run.decode(np.zeros((len(rows), latent_dim), np.float32), run.conditions_of(rows))
    audio = run.to_audio(x, *run.stats_of(rows), n_iter=n_iter, seed=seed)
    measured = measure_pitch_midi(audio, sample_rate=run.sample_rate)
    table = pd.DataFrame({
        "descriptor": [r[0] for r in requests],
        "magnitude": [float(r[1]) for r in requests],
        "pitch": [int(r[2]) for r in requests],
        "note": [librosa.midi_to_note(r[2], unicode=False) for r in requests],
        "measured_midi": measured,
        "error_cents": 100.0 * (measured - np.array([r[2] for r in requests], dtype=float)),
    })
    return NoteSamples(table=table, audio=audio, x=x)


def write_timbre_report(run: TimbreRun, *, metrics: dict[str, Any], notes: NoteSamples,
                        quality: TimbreQuality | None = None) -> Path:
    """Write ``RUN/report.html`` (figures under ``RUN/figures``, notes under ``RUN/audio``).

    Parameters
    ----------
    run : TimbreRun
    metrics : dict
        The run's ``metrics.json`` (its ``train`` summary is shown).
    notes : NoteSamples
        From :func:`sample_notes`.
    quality : TimbreQuality, optional
        Quality on held-back notes (a section of its own when given).

    Returns
    -------
    pathlib.Path
    """
    from timbrespace.analysis import (
        Report,
        figure_png,
        latent_projection,
        project_latents,
        training_curves,
    )
    from timbrespace.experiments.timbre_notes import note_label, write_clip

    figures, audio_dir = run.root / "figures", run.root / "audio"
    figures.mkdir(exist_ok=True)
    report = Report(f"timbrespace timbre run: {run.root.name}", subtitle=str(run.root))

    def keep(fig: Any, stem: str, caption: str) -> None:
        png = figure_png(fig)  # drawn once: the file and the page hold the same PNG
        (figures / f"{safe_name(stem, what='figure name')}.png").write_bytes(png)
        report.figure(png, caption)

    model = run.require_model().config
    split = run.items["split"].astype(str).value_counts().to_dict()
    report.section("Summary")
    report.text(
        f"Dataset `{run.dataset.root}`: {len(run.items)} notes of {len(run.descriptors)} descriptors "
        f"({', '.join(run.descriptors)}), magnitudes {', '.join(f'{m:g}' for m in run.magnitudes)}, MIDI pitches "
        f"{run.pitches[0]}..{run.pitches[-1]}; splits {split}. Conditional conv VAE: channels "
        f"{list(model.conv_channels)}, {model.latent_dim} latents, conditioned on descriptor, pitch and magnitude / 100."
    )
    train = metrics.get("train")
    if train:
        report.table({k: v for k, v in train.items() if k != "run_dir"}, "Training summary.")
    if quality is not None:
        report.section("Quality on held-back notes")
        report.table(_quality_rows(quality), "Pitch within 50 cents of the request (pYIN), brightness trend of "
                     "Bright/Dark with magnitude, log-spectral distance of interpolation endpoints against the "
                     "Griffin-Lim floor, and the endpoints measured as sound (multi-resolution STFT distance, "
                     "pYIN f0 error in cents, A-weighted loudness error in dB).")

    history_path = run.root / "history.json"
    if history_path.is_file():
        report.section("Training")
        keep(training_curves(json.loads(history_path.read_text())), "training_curves",
             "Loss, reconstruction and KL per epoch (train and validation).")

    report.section("Latent maps")
    latents = run.encode(np.arange(len(run.items)))
    xy = project_latents(latents, method="pca")
    for c, column in COLOR_FACTORS.items():
        fig = latent_projection(latents, run.items[column].to_numpy(), method="pca", embedding=xy,
                                factor_name=column, categorical=c == "timbre")
        keep(fig, f"latent_pca_{c}", f"PCA of the latent means of every note, coloured by {column}. The condition "
             "carries the labels: colour structure here is label information leaking into z.")

    report.section("Generated notes")
    report.text("Each note is decoded from the prior's mode (z = 0) under its condition and inverted with "
                "Griffin-Lim; its pitch is measured with pYIN (median over voiced frames).")
    report.table(notes.table, "Requested and measured pitch (cents: 100 × MIDI difference; – unvoiced).")
    clips = []
    for k, row in notes.table.iterrows():
        label = note_label(row["descriptor"], row["magnitude"], int(row["pitch"]))
        write_clip(audio_dir / f"generated_{label}.wav", notes.audio[k], run.sample_rate)
        measured = row["measured_midi"]
        heard = librosa.midi_to_note(measured, cents=True, unicode=False) if np.isfinite(measured) else "unvoiced"
        clips.append((notes.audio[k], f"{label} → {heard}"))
    per_row = max(1, len(set(notes.table["pitch"])))
    for start in range(0, len(clips), per_row):
        report.audio_row(clips[start:start + per_row], run.sample_rate)
    keep(_spectrogram_strip(notes.x, [c[1] for c in clips], run), "generated_notes",
         "Decoded spectrograms of the generated notes (min–max scaled dB).")
    return report.write(run.root / "report.html")


def _quality_rows(quality: TimbreQuality) -> dict[str, Any]:
    rows: dict[str, Any] = {}
    for key, value in asdict(quality).items():
        if isinstance(value, dict):
            rows.update({f"{key} ({name})": v for name, v in value.items() if not isinstance(v, (list, tuple))})
        else:
            rows[key] = value
    return rows


def _spectrogram_strip(x: np.ndarray, titles: list[str], run: TimbreRun) -> Any:
    from matplotlib.figure import Figure

    n = len(x)
    cols = min(n, 6)
    n_rows = -(-n // cols)
    fig = Figure(figsize=(2.4 * cols, 2.2 * n_rows))
    axes = fig.subplots(n_rows, cols, squeeze=False)
    cfg = run.sidecar.config
    assert cfg.hop_length is not None  # the sidecar's config is the resolved one
    seconds = x.shape[2] * cfg.hop_length / run.sample_rate
    top_hz = x.shape[1] * run.sample_rate / cfg.n_fft
    for k, ax in enumerate(axes.ravel()):
        if k >= n:
            ax.set_axis_off()
            continue
        ax.imshow(x[k], origin="lower", aspect="auto", cmap="magma", vmin=0, vmax=1,
                  extent=(0.0, seconds, 0.0, top_hz))
        ax.set_title(titles[k], fontsize=7)
        ax.tick_params(labelsize=6)
        if k % cols == 0:
            ax.set_ylabel("Hz", fontsize=7)
        if k // cols == n_rows - 1:
            ax.set_xlabel("s", fontsize=7)
    fig.tight_layout()
    return fig
