"""The drums run's report, built with :class:`timbrespace.analysis.Report`.

Sections: summary (data, grid, model); hit scores of held-out bars against the baselines
(:mod:`.drums_eval`); training curves; reconstructions of held-out bars and grooves
sampled from the prior, as piano rolls with audio played on a kit (two bars of each,
at 120 BPM; a held-out bar with its own micro-timing, and what a model that predicts
micro-timing, ``outputs: hvo``, decodes with its own); grooves across the click plane; the
feel of the training bars against the baselines, and the model's own (:mod:`.drums_feel`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from timbrespace.errors import TimbrespaceError
from timbrespace.utils.paths import safe_name

if TYPE_CHECKING:
    from timbrespace.experiments.drums_eval import GrooveEvaluation
    from timbrespace.experiments.drums_feel import FeelEvaluation
    from timbrespace.experiments.drums_run import GrooveRun

__all__ = ["write_drums_report", "REPORT_BPM", "REPORT_SAMPLE_RATE"]

logger = logging.getLogger(__name__)

REPORT_BPM = 120.0
REPORT_SAMPLE_RATE = 22050
_N_SHOWN = 4

_Keep = Callable[[Any, str, str], None]
"""Writes a figure to ``RUN/figures/<stem>.png`` and puts it on the page: ``keep(fig, stem, caption)``."""
_Player = Callable[..., np.ndarray]
"""Plays one bar on the report's kit, writes ``RUN/audio/<name>.wav``: ``play(pattern, name, offsets=None)``."""


def write_drums_report(run: GrooveRun, *, evaluation: GrooveEvaluation, history: list[dict[str, Any]],
                       x_test: np.ndarray, kit: str = "soundfont", seed: int = 0,
                       offsets_test: np.ndarray | None = None, feel: FeelEvaluation | None = None) -> Path:
    """Write ``RUN/report.html`` (PNGs under ``RUN/figures``, WAVs under ``RUN/audio``).

    Parameters
    ----------
    run : GrooveRun
    evaluation : GrooveEvaluation
        Held-out scores.
    history : list of dict
        ``history.json`` records (one per epoch).
    x_test : np.ndarray [shape=(n, n_steps, n_voices)]
        Held-out bars; the first few are shown with their reconstructions.
    kit : str
        Kit the grooves are played on (:func:`timbrespace.patterns.find_kit`); without
        it (not installed) the report has piano rolls only.
    seed : int
        Prior samples.
    offsets_test : np.ndarray [shape=x_test.shape], optional
        The held-out bars' micro-timing (steps): they are played with it.
    feel : FeelEvaluation, optional
        The training bars' feel measured on the held-out bars.

    Returns
    -------
    pathlib.Path
    """
    from timbrespace.analysis import Report, figure_png, training_curves

    figures = run.root / "figures"
    figures.mkdir(exist_ok=True)
    report = Report(f"timbrespace drums run: {run.root.name}", subtitle=str(run.root))

    def keep(fig: Any, stem: str, caption: str) -> None:
        png = figure_png(fig)  # drawn once: the file and the page hold the same PNG
        (figures / f"{safe_name(stem, what='figure name')}.png").write_bytes(png)
        report.figure(png, caption)

    _summary_sections(report, run, evaluation)
    if history:
        report.section("Training")
        keep(training_curves(history), "training_curves",
             "Loss, reconstruction and KL per epoch (train and validation); β rises over the warm-up.")
    player = _player(run, kit)
    _reconstruction_section(report, keep, run, player, x_test, offsets_test)
    _samples_section(report, keep, run, player, seed=seed)
    if feel is not None:
        _feel_section(report, feel)
        _feel_distributions(run, x_test, offsets_test, keep, seed=seed)
    _click_plane_section(report, keep, run)
    return report.write(run.root / "report.html")


def _roll(run: GrooveRun) -> dict[str, Any]:
    """The piano rolls' keyword arguments for the run's grid."""
    return {"voice_names": list(run.voice_names), "steps_per_quarter": run.steps_per_quarter}


def _summary_sections(report: Any, run: GrooveRun, ev: GrooveEvaluation) -> None:
    """The summary (data, grid, model) and the held-out hit scores beside the baselines'."""
    cfg = run.model.config
    report.section("Summary")
    report.text(
        f"Groove VAE ({cfg.architecture}, {cfg.latent_dim} latents, "
        f"{_OUTPUTS_TEXT[cfg.likelihood]}) on bars of "
        f"{cfg.input_shape[0]} steps × {cfg.input_shape[1]} voices (drum map {run.drum_map}, "
        f"{run.time_signature[0]}/{run.time_signature[1]}). Held-out hit F1 **{ev.model.f1:.3f}** against "
        f"{ev.baseline_sampled.f1:.3f} for cells drawn from the training hit rates, at threshold {ev.threshold:.2f}."
    )
    report.section("Hit scores on held-out bars")
    scores = {
        f"model (threshold {ev.threshold:.2f})": asdict(ev.model),
        "model (seed 004's threshold 0.3)": asdict(ev.model_at_seed_threshold),
        "baseline: training hit rate per cell": asdict(ev.baseline_sampled),
        "baseline: cells hit in > 50 % of training bars": asdict(ev.baseline_mode),
    }
    report.table(scores, f"{ev.n_test} held-out bars, hit density {ev.test_hit_density:.3f}; scores pooled over cells.")
    extra = {"prior samples that are valid grooves": ev.sample_valid_fraction,
             "hit density of prior samples": ev.sample_hit_density,
             "velocity MAE on true hits": ev.velocity_mae,
             "click-plane latents": f"z{ev.latent_plane_dims[0]}, z{ev.latent_plane_dims[1]}"}
    report.table(extra)


def _reconstruction_section(report: Any, keep: _Keep, run: GrooveRun, player: _Player | None, x_test: np.ndarray,
                            offsets_test: np.ndarray | None) -> None:
    """The first held-out bars beside their reconstructions through the latent means, drawn and played."""
    from timbrespace.analysis import piano_roll
    from timbrespace.experiments.drums_eval import predict_hits
    from timbrespace.experiments.drums_generate import decode_grooves

    shown = np.asarray(x_test[:_N_SHOWN], np.float32)
    shown_offsets = None if offsets_test is None else np.asarray(offsets_test[:_N_SHOWN], np.float32)
    mu = predict_hits(run.model, shown, shown_offsets)[2]
    decoded = decode_grooves(run, mu)
    recon = decoded.patterns
    report.section("Reconstructions of held-out bars")
    pairs = np.stack([m for k in range(len(shown)) for m in (shown[k], recon[k])])
    titles = [t for k in range(len(shown)) for t in (f"held-out {k}", f"reconstruction {k}")]
    keep(piano_roll(pairs, titles=titles, **_roll(run)), "reconstructions",
         "Held-out bars beside their reconstructions through the latent means (colour: velocity).")
    if player is not None:
        for k in range(len(shown)):
            timing = None if shown_offsets is None else shown_offsets[k]
            recon_timing = None if decoded.offsets is None else decoded.offsets[k]
            report.audio_row([(player(shown[k], f"heldout_{k}", timing), f"held-out {k}"),
                              (player(recon[k], f"reconstruction_{k}", recon_timing), f"reconstruction {k}")],
                             REPORT_SAMPLE_RATE)


def _samples_section(report: Any, keep: _Keep, run: GrooveRun, player: _Player | None, *, seed: int) -> None:
    """Grooves decoded from the prior (seeded), drawn and played."""
    from timbrespace.analysis import piano_roll
    from timbrespace.experiments.drums_generate import decode_grooves, prior_latents

    report.section("Samples from the prior")
    sampled = decode_grooves(run, prior_latents(run, _N_SHOWN, seed=seed))
    samples = sampled.patterns
    keep(piano_roll(samples, titles=[f"sample {k}" for k in range(len(samples))], **_roll(run)), "samples",
         "Grooves decoded from z ~ N(0, I).")
    if player is not None:
        report.audio_row([(player(s, f"sample_{k}", None if sampled.offsets is None else sampled.offsets[k]),
                           f"sample {k}") for k, s in enumerate(samples)], REPORT_SAMPLE_RATE)


def _click_plane_section(report: Any, keep: _Keep, run: GrooveRun) -> None:
    """Grooves along the two most informative latents, the others at 0."""
    from timbrespace.analysis import piano_roll
    from timbrespace.experiments.drums_generate import groove_at

    report.section("Click plane")
    points = [(-2.0, 0.0), (0.0, 0.0), (2.0, 0.0), (0.0, -2.0), (0.0, 2.0)]
    plane = np.stack([groove_at(run, px, py) for px, py in points])
    dx, dy = run.latent_plane_dims
    keep(piano_roll(plane, titles=[f"z{dx}={px:+g}, z{dy}={py:+g}" for px, py in points], n_cols=5, **_roll(run)),
         "click_plane", f"Grooves along the two most informative latents (z{dx}, z{dy}), the others at 0 "
         "(seed 004's click window).")


def _feel_section(report: Any, feel: FeelEvaluation) -> None:
    """The feel's held-out velocity and timing errors beside the baselines' (and an ``hvo`` model's own)."""
    report.section("Feel: velocities and micro-timing")
    report.text(
        "The training bars' feel (`feel.json`: mean and spread of velocity and offset per drum and position in "
        "the beat, what `drums humanize` draws from), predicting each held-out hit by its cell's mean, against "
        "the baselines without feel. Velocity in 0..1 (MIDI / 127); timing error in ms at each bar's tempo."
    )
    rows = {}
    if feel.offset_mae_ms_model is not None:
        label = ("model (Humanize: predicted from the quantised bars)" if feel.model_task == "humanize"
                 else "model (reconstruction through the latent means)")
        rows[label] = {
            "velocity MAE": feel.velocity_mae_model, "offset MAE (ms)": feel.offset_mae_ms_model}
    report.table({
        **rows,
        "feel (cell means)": {"velocity MAE": feel.velocity_mae, "offset MAE (ms)": feel.offset_mae_ms},
        "feel (one seeded draw)": {"velocity MAE": feel.velocity_mae_drawn,
                                   "offset MAE (ms)": feel.offset_mae_ms_drawn},
        "baseline: mean training velocity, on the grid": {"velocity MAE": feel.velocity_mae_baseline_mean,
                                                           "offset MAE (ms)": feel.offset_mae_ms_baseline_zero},
    }, f"{feel.n_test_hits} held-out hits.")


def _player(run: GrooveRun, kit: str) -> _Player | None:
    """A function that plays one bar twice on ``kit`` and writes it to ``RUN/audio/<name>.wav``
    (None when the kit is not available)."""
    from timbrespace.patterns import find_kit, render_patterns, write_wav

    try:
        drum_kit = find_kit(kit)
    except (TimbrespaceError, OSError) as exc:
        logger.warning("report without audio: kit %r is not available (%s)", kit, exc)
        return None

    def play(pattern: np.ndarray, name: str, offsets: np.ndarray | None = None) -> np.ndarray:
        audio = render_patterns(np.repeat(pattern[None], 2, axis=0), drum_kit, bpm=REPORT_BPM, drum_map=run.drum_map,
                                steps_per_quarter=run.steps_per_quarter, sample_rate=REPORT_SAMPLE_RATE,
                                offsets=None if offsets is None else np.repeat(offsets[None], 2, axis=0))
        write_wav(run.root / "audio" / f"{name}.wav", audio, REPORT_SAMPLE_RATE)
        return audio

    return play


_N_GENERATED = 256  # prior samples whose feel the report draws

_OUTPUTS_TEXT = {"bernoulli": "hits only", "hit_velocity": "hits and velocities",
                 "hvo": "hits, velocities and micro-timing offsets"}


def _feel_distributions(run: GrooveRun, x_test: np.ndarray, offsets_test: np.ndarray | None, keep: Any, *,
                        seed: int) -> None:
    """Histograms of the held-out hits' velocities and offsets beside generated grooves'.

    Generated: prior samples played as ``drums sample`` plays them: a model that predicts
    micro-timing (``hvo``) with its own velocities and offsets, any other as ``--humanize``
    plays it (the run's feel draws the offsets, and the velocities of a hits-only model).
    """
    from timbrespace.analysis import feel_histograms
    from timbrespace.experiments.drums_feel import FEEL_FILE, load_feel
    from timbrespace.experiments.drums_generate import decode_grooves, prior_latents

    if offsets_test is None or not (run.root / FEEL_FILE).is_file():
        return
    hits = np.asarray(x_test) > 0
    grooves = decode_grooves(run, prior_latents(run, _N_GENERATED, seed=seed))
    samples = grooves.patterns
    generated = samples > 0
    if not hits.any() or not generated.any():
        return
    if grooves.offsets is not None:
        v_gen, o_gen, label = samples[generated], grooves.offsets[generated], "the model's own feel"
        how = "played with the model's own velocities and micro-timing (`drums sample` of an hvo run)"
    else:
        v_feel, o_feel = load_feel(run.root / FEEL_FILE).humanize(samples, seed=seed)
        v_gen = samples[generated] if run.model.config.likelihood == "hit_velocity" else v_feel[generated]
        o_gen, label = o_feel[generated], "humanized"
        how = "played with the run's feel (`drums sample --humanize`)"
    keep(feel_histograms([np.asarray(x_test)[hits], v_gen], [np.asarray(offsets_test)[hits], o_gen],
                         labels=["held-out bars", f"{_N_GENERATED} prior samples, {label}"]),
         "feel_distributions",
         f"Velocity and micro-timing of the held-out bars' hits against grooves sampled from the prior and {how}: "
         "how close the generated feel is to the played one.")
