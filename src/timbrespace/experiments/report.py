"""The run report: one self-contained HTML page of a finished experiment.

Sections: summary and per-factor scores; the scores beside their linear references
(the latents re-aligned, PCA and FastICA of the features); training curves (the β
warm-up shaded); the latent × factor mutual information heat map; 2-D projections of the
latent means coloured by each factor (log colour scale for log-spaced factors); latent
traversals as spectrograms in dB on axes in Hz and seconds, with their latent values,
audio and an animated GIF; descriptor maps; reconstructions beside originals with
audio; the resolved configuration and the package versions. Figures and audio are
embedded (base64), so the page can be mailed alone.
"""

from __future__ import annotations

import logging
import platform
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from matplotlib.figure import Figure

from timbrespace.analysis import (
    Report,
    descriptor_map,
    figure_png,
    latent_projection,
    latent_slice,
    mi_heatmap,
    physical_features,
    project_latents,
    render_frames,
    spectrogram_axes,
    spectrogram_row,
    training_curves,
    traversal_gif,
    traversal_grid,
)
from timbrespace.analysis._plotting import FIGURE_DPI
from timbrespace.datasets import Dataset
from timbrespace.features import FeatureSidecar, invert
from timbrespace.generation import traverse
from timbrespace.metrics import RepresentationScores
from timbrespace.models import VAE
from timbrespace.models.ddsp import AudioDecoder
from timbrespace.training import decode_array
from timbrespace.training.audio_decoder import decode_audio
from timbrespace.utils.paths import safe_name

__all__ = ["write_run_report", "traversal_values", "package_versions"]

log = logging.getLogger(__name__)

_PACKAGES = ("timbrespace", "numpy", "scipy", "torch", "lightning", "scikit-learn", "librosa",
             "pandas", "matplotlib", "zarr", "soundfile", "pydantic")


def traversal_values(mu: np.ndarray, dim: int, *, n_steps: int, half_range: float) -> np.ndarray:
    """Values of latent ``dim`` for a traversal: mean ± ``half_range`` standard deviations.

    The spread is that of the aggregate posterior (the latent means over the dataset),
    so inactive latents (collapsed to the prior mean) still get a visible, honest
    traversal of what the decoder does with them.

    Returns
    -------
    np.ndarray [shape=(n_steps,), dtype=float32]
    """
    centre = float(np.mean(mu[:, dim]))
    spread = float(np.std(mu[:, dim]))
    spread = spread if spread > 1e-3 else 1.0
    return (centre + np.linspace(-half_range, half_range, n_steps) * spread).astype(np.float32)


def package_versions() -> dict[str, str]:
    """Python and the versions of the packages a run's numbers depend on."""
    versions = {"python": platform.python_version()}
    for name in _PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _silence_join(clips: np.ndarray, sample_rate: int, gap_s: float = 0.08) -> np.ndarray:
    gap = np.zeros(int(gap_s * sample_rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for clip in clips:
        peak = float(np.max(np.abs(clip))) if clip.size else 0.0
        parts.extend([clip / peak * 0.9 if peak > 1.0 else clip, gap])
    return np.concatenate(parts) if parts else gap


@dataclass
class _Page:
    """What every section needs."""

    report: Report
    figures_dir: Path
    config: Any
    dataset: Dataset
    mu: np.ndarray
    scores: RepresentationScores
    metrics: dict[str, Any]
    model: VAE
    sidecar: FeatureSidecar
    audio_decoder: AudioDecoder | None = None

    def keep(self, fig: Figure, stem: str, caption: str) -> None:
        png = figure_png(fig)  # drawn once: the file and the page hold the same PNG
        (self.figures_dir / f"{safe_name(stem, what='figure name')}.png").write_bytes(png)
        self.report.figure(png, caption)

    def decode(self, z: np.ndarray) -> np.ndarray:
        return decode_array(self.model, z.astype(np.float32))


def write_run_report(
    run_dir: Path,
    *,
    config: Any,
    dataset: Dataset,
    history: list[Any],
    mu: np.ndarray,
    scores: RepresentationScores,
    metrics: dict[str, Any],
    model: VAE,
    sidecar: FeatureSidecar,
    recon_media: dict[str, Any],
    audio_decoder: AudioDecoder | None = None,
) -> Path:
    """Write ``run_dir/report.html`` (and PNGs under ``run_dir/figures``); return its path.

    Parameters
    ----------
    run_dir : Path
    config : ExperimentConfig
    dataset : Dataset
    history : list of EpochRecord
    mu : np.ndarray [shape=(n_items, latent_dim)]
        Latent means of every item.
    scores : RepresentationScores
        From :func:`timbrespace.metrics.evaluate_representation`.
    metrics : dict
        ``metrics.json`` so far (scores and reconstruction).
    model : VAE
    sidecar : FeatureSidecar
        Of the features the model was trained on.
    recon_media : dict
        Test items' audio and features, and their resynthesis (empty without audio).
    audio_decoder : AudioDecoder, optional
        A trained DDSP decoder: the traversals' audio comes from it (no phase retrieval).
    """
    figures_dir = run_dir / "figures"
    figures_dir.mkdir(exist_ok=True)
    page = _Page(Report(f"timbrespace run: {config.name}", subtitle=str(run_dir)), figures_dir, config,
                 dataset, mu, scores, metrics, model, sidecar, audio_decoder)
    _summary(page)
    _references(page)
    if history:
        _training(page, history)
    _latents_and_factors(page)
    order = _traversals(page)
    _descriptor_maps(page, order)
    if recon_media:
        _reconstructions(page, recon_media)
    _configuration(page)
    path = run_dir / "report.html"
    page.report.write(path)
    return path


def _summary(page: _Page) -> None:
    m, ds = page.metrics, page.dataset
    page.report.section("Summary")
    unfinished = m.get("training_unfinished")
    if unfinished:
        page.report.text(f"<b>Training unfinished</b> (epoch {unfinished['epoch']} of {unfinished['epochs']}): "
                         "these are the scores of the last checkpoint, not of a trained model.")
    page.report.text(
        f"Dataset `{ds.root}`: {len(ds)} items, factors "
        f"{', '.join(ds.factor_names)}; {page.mu.shape[1]} latents, {page.scores.n_active} active "
        f"(their mean varies across items). MIG **{_f(m['mig'])}**, DCI disentanglement "
        f"**{_f(m['dci']['disentanglement'])}**, completeness {_f(m['dci']['completeness'])}, "
        f"informativeness {_f(m['dci']['informativeness'])}."
    )
    rows = {name: {"levels": row["n_levels"], "MIG": _f(row["mig"]), "best latent": f"z{row['best_latent']}",
                   "DCI completeness": _f(row["dci_completeness"]),
                   "DCI informativeness": _f(row["dci_informativeness"])}
            for name, row in m["per_factor"].items()}
    page.report.table(rows)
    recon = m.get("reconstruction") or {}
    if recon.get("spectral_convergence") is not None:
        page.report.text(
            f"Resynthesis: spectral convergence **{_f(recon['spectral_convergence'])}** "
            f"(‖S − Ŝ‖ / ‖S‖ of STFT magnitudes, original S against the reconstruction's audio Ŝ; mean over "
            f"{recon.get('n_resynthesised', len(recon.get('spectral_convergence_per_item', [])))} test items; "
            "0 is exact, 1 is as far as silence).")
    refined = recon.get("decoder_refinement")
    if refined:
        page.report.text(
            f"Decoder refined for {int(refined['epochs'])} epochs with the encoder frozen (latents and scores "
            f"unchanged): spectral loss {_f(refined['spectral_loss_first'])} → "
            f"{_f(refined['spectral_loss_last'])}.")


def _references(page: _Page) -> None:
    """MIG of the model beside the same MIG of its linear references, per factor."""
    m, names = page.metrics, page.dataset.factor_names
    aligned, baselines = m.get("aligned"), m.get("linear_baselines")
    if not aligned and not baselines and m.get("mig_at_init") is None:
        return
    page.report.section("Scores beside linear references")
    rows = {"model latents (the score)": {"MIG": _f(m["mig"]),
                                          **{n: _f(m["per_factor"][n]["mig"]) for n in names}}}
    if m.get("mig_at_init") is not None:
        at_init = m.get("per_factor_at_init") or {}
        rows["model latents before training"] = {"MIG": _f(m["mig_at_init"]),
                                                 **{n: _f(at_init.get(n)) for n in names}}
    if aligned:
        rows[f"model latents, {aligned['method'].upper()} re-aligned"] = {
            "MIG": _f(aligned["mig"]), **{n: _f(aligned["per_factor"][n]) for n in names}}
    for method, label in (("pca", "PCA of the features"), ("ica", "FastICA of the features")):
        if baselines and method in baselines:
            rows[f"{label} ({baselines['n_components']} components)"] = {
                "MIG": _f(baselines[method]["mig"]), **{n: _f(baselines[method]["per_factor"][n]) for n in names}}
    page.report.table(rows, "MIG overall and per factor; all rows scored with the same MIG.")
    method = aligned["method"].upper() if aligned else "ICA"
    page.report.text(
        f"The {method} re-alignment row fits an unsupervised linear map to the active latents' means (no "
        "labels; an analysis of the model, not its score): a large rise means the model found the factors along "
        "straight directions but mixed them across axes. The PCA and FastICA rows use no model: a VAE "
        "that scores like PCA follows the principal directions; one below FastICA has missed independent "
        "directions that a linear method finds. The row before training scores the encoder before its "
        "first optimiser step: the gap to the score is what training did."
    )
    if m.get("note"):
        page.report.text(f"Note: {m['note']}.")


def _training(page: _Page, history: list[Any]) -> None:
    tc = page.config.training
    page.report.section("Training")
    warmup = ""
    if tc.beta_schedule == "linear":
        steps = tc.fitted_warmup(len(page.dataset.split_indices("train")), warn=False).warmup_steps
        warmup = (f" β rises linearly from {tc.beta_start:g} to {page.config.model.beta:g} over the first "
                  f"{steps} steps (shaded): the loss, whose KL term is weighted by β, rises "
                  "there even as the model improves; reconstruction and KL show what the model does.")
    page.keep(training_curves(history), "training_curves",
              "Per-epoch means of the loss (reconstruction NLL + β·KL), the reconstruction term and the "
              "KL to the prior, in nats per item, train and validation; and β." + warmup)


def _latents_and_factors(page: _Page) -> None:
    ev, ds, mu = page.config.evaluation, page.dataset, page.mu
    page.report.section("Latents × factors")
    page.keep(mi_heatmap(page.scores.mig.mi, [f"z{k}" for k in range(mu.shape[1])], ds.factor_names),
              "mi_heatmap", "Mutual information (nats) between each discretised latent mean and each factor.")
    page.report.section("Latent projections")
    subset = np.arange(len(mu))
    if len(subset) > ev.max_items_for_projection:
        rng = np.random.default_rng(page.config.seed)
        subset = np.sort(rng.choice(len(mu), ev.max_items_for_projection, replace=False))
    embedding = project_latents(mu[subset], method=ev.projection, random_state=page.config.seed)
    values = ds.factor_values
    for spec in ds.factors:
        log_scale = spec.scale in ("log", "exp2") and spec.kind == "continuous"
        label = f"{spec.name} ({spec.unit})" if spec.unit else spec.name
        fig = latent_projection(mu[subset], values[spec.name].to_numpy()[subset], method=ev.projection,
                                random_state=page.config.seed, embedding=embedding, factor_name=label,
                                log_scale=log_scale)
        scale = " (log colour scale: the levels are log-spaced)" if log_scale else ""
        page.keep(fig, f"projection_{spec.name}",
                  f"{ev.projection.upper()} of the latent means coloured by {spec.name}{scale}.")


def _traversals(page: _Page) -> np.ndarray:
    """Traversal grid, audio and GIF of the most informative latents; returns their order."""
    ev, mu, names = page.config.evaluation, page.mu, page.dataset.factor_names
    mi = page.scores.mig.mi
    order = np.argsort(-np.nanmax(mi, axis=1))[: min(ev.n_traversal_latents, mu.shape[1])]
    if not len(order):
        return order
    page.report.section("Latent traversals")
    base = np.median(mu, axis=0).astype(np.float32)
    values = np.stack([traversal_values(mu, int(d), n_steps=ev.n_traversal_steps, half_range=ev.traversal_range)
                       for d in order])
    grids = [traverse(base, [int(d)], v)[0] for d, v in zip(order, values, strict=True)]
    decoded = [page.decode(z) for z in grids]
    labels = [f"z{d}: {names[int(np.argmax(mi[d]))]}" for d in order]
    axes = spectrogram_axes(page.sidecar)
    strips = np.stack([physical_features(x, page.sidecar) for x in decoded])
    page.keep(traversal_grid(strips, latent_names=labels, values=values, axes=axes,
                             title="Latent traversals (decoder output)"), "traversals",
              f"Each row moves one latent from −{ev.traversal_range} to +{ev.traversal_range} standard deviations "
              "of its aggregate posterior (the value above each cell), the others at their median; each row is "
              "labelled with the factor that latent informs most.")
    if page.dataset.card.audio_format not in (None, "none"):
        typical = page.sidecar.normalization.typical_minmax()
        extra = {} if typical is None else {"item_min": typical[0], "item_max": typical[1]}
        for x, z, label in zip(decoded, grids, labels, strict=True):
            if page.audio_decoder is not None:
                audio = decode_audio(page.audio_decoder, z)[0]
                label = f"{label} (DDSP audio decoder)"
            else:
                audio = invert(x, page.sidecar, method=ev.inversion, n_iter=ev.n_iter, **extra)
            page.report.audio(_silence_join(audio, page.dataset.sample_rate), page.dataset.sample_rate,
                              f"traversal of {label}")
    if strips.ndim == 4:
        best = labels[0].split(": ", 1)[1]
        titles = [f"z{int(order[0])} = {v:+.2f}   (informs {best} most)" for v in values[0]]
        gif = traversal_gif(render_frames(strips[0], titles, axes=axes),
                            page.figures_dir / f"traversal_z{int(order[0])}.gif", origin="upper", duration_ms=300)
        page.report.figure(gif, f"Animated traversal of {labels[0]} (seed 001's traversal GIFs).", dpi=FIGURE_DPI)
    return order


def _descriptor_maps(page: _Page, order: np.ndarray) -> None:
    """Spectral descriptors of the decoder's output over the two most informative latents."""
    cfg = page.sidecar.config
    if cfg.kind != "stft" or cfg.single_frame or cfg.output not in ("db", "magnitude") or len(order) < 2:
        return
    ev, mu = page.config.evaluation, page.mu
    dx, dy = int(order[0]), int(order[1])
    vx = traversal_values(mu, dx, n_steps=9, half_range=ev.traversal_range)
    vy = traversal_values(mu, dy, n_steps=9, half_range=ev.traversal_range)
    grid = latent_slice(np.median(mu, axis=0).astype(np.float32), dx, dy, vx, vy).reshape(-1, mu.shape[1])
    magnitudes = 10.0 ** (physical_features(page.decode(grid), page.sidecar) / 20.0)  # y outer, x inner
    fig = descriptor_map(vx, vy, magnitudes=magnitudes.astype(np.float32), sample_rate=page.dataset.sample_rate,
                         n_fft=cfg.n_fft, hop_length=cfg.hop_length, x_label=f"z{dx} (latent value)",
                         y_label=f"z{dy} (latent value)")
    page.report.section("Descriptor maps")
    page.keep(fig, "descriptor_map", f"Spectral centroid, bandwidth, flatness and loudness of the decoder's "
              f"output over the plane of z{dx} and z{dy}, the other latents at their median.")


def _reconstructions(page: _Page, media: dict[str, Any]) -> None:
    n_show = min(page.config.evaluation.n_reconstructions, len(media["indices"]))
    if not n_show:
        return
    page.report.section("Reconstructions (test items)")
    norm, axes = page.sidecar.normalization, spectrogram_axes(page.sidecar)
    sr, ids = page.dataset.sample_rate, page.dataset.item_ids
    _sound_table(page, media, ids)
    for k in range(n_show):
        item = int(media["indices"][k])
        own = {} if norm.item_min is None else {"item_min": norm.item_min[item], "item_max": norm.item_max[item]}
        pair = [physical_features(media[key][k:k + 1], page.sidecar, **own)[0] for key in ("x", "x_hat")]
        sc = media.get("resynth_sc", page.metrics["reconstruction"]["spectral_convergence_per_item"])[k]
        source = f" ({media['resynth_source']})" if "resynth_source" in media else ""
        page.keep(spectrogram_row(pair, ["original", "reconstruction"], axes=axes), f"reconstruction_{k}",
                  f"{ids[item]}: features of the item and the model's reconstruction; spectral convergence "
                  f"of the resynthesis{source} {sc:.3f}.")
        page.report.audio_row([(media["original"][k], "original"), (media["resynth"][k], "reconstruction")], sr)


def _sound_table(page: _Page, media: dict[str, Any], ids: list[str]) -> None:
    """Measures of sound of each resynthesised item (``metrics.json`` ``reconstruction``)."""
    rec = page.metrics["reconstruction"]
    if "mrstft_per_item" not in rec:
        if rec.get("sound_note"):
            page.report.text(rec["sound_note"] + ".")
        return
    rows = {ids[int(item)]: {"spectral convergence": rec["spectral_convergence_per_item"][k],
                             "MR-STFT": rec["mrstft_per_item"][k],
                             "f0 error (cents)": rec["f0_error_cents_per_item"][k],
                             "loudness error (dB)": rec["loudness_error_db_per_item"][k]}
            for k, item in enumerate(media["indices"])}
    rows["mean (f0: median)"] = {"spectral convergence": rec["spectral_convergence"], "MR-STFT": rec["mrstft"],
                                 "f0 error (cents)": rec["f0_error_cents"],
                                 "loudness error (dB)": rec["loudness_error_db"]}
    caption = ("Decoded audio against the original, per resynthesised test item: spectral convergence in the "
               "features' STFT frames; the multi-resolution STFT distance (auraloss's defaults: spectral "
               "convergence + log-magnitude L1 at 1024/2048/512 points); the median pYIN f0 difference over frames "
               "voiced in both (empty where none is); the mean difference of DDSP's A-weighted loudness.")
    if rec.get("f0_note"):
        caption += " " + rec["f0_note"] + "."
    page.report.table(rows, caption, float_format="{:.3f}")


def _configuration(page: _Page) -> None:
    page.report.section("Configuration")
    text = yaml.safe_dump(page.config.model_dump(mode="json"), sort_keys=False)
    page.report.code(text)
    page.report.table(package_versions(), "Python and package versions of this run.")


def _f(x: Any) -> str:
    return "—" if x is None else f"{x:.3f}"
