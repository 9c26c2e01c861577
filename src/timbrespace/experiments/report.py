"""The run report: one self-contained HTML page of a finished experiment.

Sections: summary and per-factor scores; training curves; the latent × factor mutual
information heat map; 2-D projections of the latent means coloured by each factor;
latent traversals as spectrogram strips with audio; reconstructions beside originals
with audio. Figures and audio are embedded (base64), so the page can be mailed alone.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np

from timbrespace.features import FeatureSidecar

__all__ = ["write_run_report", "traversal_values"]

log = logging.getLogger(__name__)


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


def _silence_join(clips: np.ndarray, sample_rate: int, gap_s: float = 0.08) -> np.ndarray:
    gap = np.zeros(int(gap_s * sample_rate), dtype=np.float32)
    parts: list[np.ndarray] = []
    for clip in clips:
        peak = float(np.max(np.abs(clip))) if clip.size else 0.0
        parts.extend([clip / peak * 0.9 if peak > 1.0 else clip, gap])
    return np.concatenate(parts) if parts else gap


def write_run_report(
    run_dir: Path,
    *,
    config: Any,
    dataset: Any,
    history: list[Any],
    mu: np.ndarray,
    scores: Any,
    metrics: dict[str, Any],
    model: Any,
    sidecar: FeatureSidecar,
    recon_media: dict[str, Any],
) -> Path:
    """Write ``run_dir/report.html`` (and PNGs under ``run_dir/figures``); return its path."""
    from timbrespace.analysis import (
        Report,
        descriptor_map,
        latent_projection,
        latent_slice,
        mi_heatmap,
        project_latents,
        training_curves,
        traversal_gif,
        traversal_grid,
    )
    from timbrespace.features import invert
    from timbrespace.training import decode_array

    figures_dir = run_dir / "figures"
    figures_dir.mkdir(exist_ok=True)
    ev = config.evaluation
    sr = dataset.sample_rate
    names = dataset.factor_names
    n_latents = mu.shape[1]
    latent_names = [f"z{k}" for k in range(n_latents)]
    report = Report(f"timbrespace run: {config.name}")

    def keep(fig: Any, stem: str, caption: str) -> None:
        fig.savefig(figures_dir / f"{stem}.png", dpi=100, bbox_inches="tight")
        report.figure(fig, caption)

    # ---- summary
    report.section("Summary")
    report.text(
        f"Dataset <code>{dataset.root}</code>: {len(dataset)} items, factors "
        f"{', '.join(names)}; {n_latents} latents. "
        f"MIG <b>{_f(metrics['mig'])}</b>, DCI disentanglement <b>{_f(metrics['dci']['disentanglement'])}</b>, "
        f"completeness {_f(metrics['dci']['completeness'])}, informativeness "
        f"{_f(metrics['dci']['informativeness'])}."
    )
    rows = {name: {"levels": row["n_levels"], "MIG": _f(row["mig"]), "best latent": f"z{row['best_latent']}",
                   "DCI completeness": _f(row["dci_completeness"]),
                   "DCI informativeness": _f(row["dci_informativeness"])}
            for name, row in metrics["per_factor"].items()}
    report.table(rows)
    aligned = metrics.get("aligned")
    if aligned:
        per = ", ".join(f"{name} {_f(v)}" for name, v in aligned["per_factor"].items())
        report.text(
            f"After an unsupervised {aligned['method'].upper()} re-alignment of the active latents' "
            f"means (a linear map fitted without labels; an analysis of the model, not its score), "
            f"MIG is {_f(aligned['mig'])} ({per}). A large rise means the model found the "
            f"factors along straight directions but mixed them across axes."
        )
    baselines = metrics.get("linear_baselines")
    if baselines:
        report.text(
            f"Linear baselines on the features themselves, {baselines['n_components']} components, "
            f"no model: PCA MIG {_f(baselines['pca']['mig'])}, FastICA MIG {_f(baselines['ica']['mig'])}. "
            f"A VAE that scores like PCA follows the principal directions; one below ICA has missed "
            f"independent directions that a linear method finds."
        )

    # ---- training
    report.section("Training")
    if history:
        keep(training_curves(history), "training_curves", "Loss, reconstruction and KL per epoch (train and validation).")

    # ---- MI
    report.section("Latents × factors")
    mi = np.asarray(metrics["mi_nats"], dtype=np.float64)
    keep(mi_heatmap(mi, latent_names, names), "mi_heatmap",
         "Mutual information (nats) between each discretised latent mean and each factor.")

    # ---- projections
    report.section("Latent projections")
    rng = np.random.default_rng(config.seed)
    subset = np.arange(len(mu))
    if len(subset) > ev.max_items_for_projection:
        subset = np.sort(rng.choice(len(mu), ev.max_items_for_projection, replace=False))
    values = dataset.factor_values
    embedding = project_latents(mu[subset], method=ev.projection, random_state=config.seed)
    for name in names:
        fig = latent_projection(mu[subset], values[name].to_numpy()[subset], method=ev.projection,
                                random_state=config.seed, embedding=embedding, factor_name=name)
        keep(fig, f"projection_{name}", f"{ev.projection.upper()} of the latent means coloured by {name}.")

    # ---- traversals
    report.section("Latent traversals")
    order = np.argsort(-np.nanmax(mi, axis=1))[: min(ev.n_traversal_latents, n_latents)]
    base = np.median(mu, axis=0).astype(np.float32)
    strips: list[np.ndarray] = []
    labels: list[str] = []
    for dim in order:
        vals = traversal_values(mu, int(dim), n_steps=ev.n_traversal_steps, half_range=ev.traversal_range)
        z = np.repeat(base[None, :], len(vals), axis=0)
        z[:, dim] = vals
        feats = decode_array(model, z)
        strips.append(display_features(feats, sidecar))
        best = names[int(np.argmax(mi[dim]))]
        labels.append(f"z{dim}: {best}")
    if strips:
        keep(traversal_grid(np.stack(strips), latent_names=labels, values=None), "traversals",
             f"Each row moves one latent from −{ev.traversal_range} to +{ev.traversal_range} standard "
             "deviations of its aggregate posterior, others at the median.")
        if dataset.card.audio_format not in (None, "none"):
            for dim, label in zip(order, labels, strict=True):
                vals = traversal_values(mu, int(dim), n_steps=ev.n_traversal_steps, half_range=ev.traversal_range)
                z = np.repeat(base[None, :], len(vals), axis=0)
                z[:, dim] = vals
                audio = invert(decode_array(model, z), sidecar, method=ev.inversion, n_iter=ev.n_iter,
                               **_typical_minmax(sidecar))
                report.audio(_silence_join(audio, sr), sr, f"traversal of {label}")

        gif_path = traversal_gif(strips[0], figures_dir / f"traversal_z{int(order[0])}.gif")
        report.figure(gif_path, f"Animated traversal of {labels[0]} (seed 001's traversal GIFs).")

    # ---- descriptor map over the two most informative latents
    magnitude_of = _linear_magnitude_fn(sidecar)
    if magnitude_of is not None and len(order) >= 2:
        dx, dy = int(order[0]), int(order[1])
        vx = traversal_values(mu, dx, n_steps=9, half_range=ev.traversal_range)
        vy = traversal_values(mu, dy, n_steps=9, half_range=ev.traversal_range)
        grid = latent_slice(base, dx, dy, vx, vy).reshape(-1, n_latents)  # y outer, x inner
        mags = magnitude_of(decode_array(model, grid))
        cfg = sidecar.config
        fig = descriptor_map(vx, vy, magnitudes=mags, sample_rate=sr, n_fft=cfg.n_fft,
                             hop_length=cfg.hop_length, x_label=f"z{dx}", y_label=f"z{dy}")
        report.section("Descriptor maps")
        keep(fig, "descriptor_map", f"Spectral centroid, bandwidth, flatness and loudness of the decoder's output "
             f"over the plane of z{dx} and z{dy}, the other latents at their median.")

    # ---- reconstructions
    if recon_media:
        report.section("Reconstructions (test items)")
        n_show = min(ev.n_reconstructions, len(recon_media["indices"]))
        ids = dataset.item_ids
        for k in range(n_show):
            item = int(recon_media["indices"][k])
            pair = [display_features(recon_media["x"][k:k + 1], sidecar)[0],
                    display_features(recon_media["x_hat"][k:k + 1], sidecar)[0]]
            fig = _side_by_side(pair, ["original", "reconstruction"])
            sc = metrics["reconstruction"]["spectral_convergence_per_item"][k]
            keep(fig, f"reconstruction_{k}", f"{ids[item]}: spectral convergence of the resynthesis {sc:.3f}.")
            report.audio_row([(recon_media["original"][k], "original"),
                              (recon_media["resynth"][k], "reconstruction")], sr)
    path = run_dir / "report.html"
    report.write(path)
    return path


def _linear_magnitude_fn(sidecar: FeatureSidecar) -> Any:
    """A function from decoded STFT features to linear magnitudes, or None for other kinds."""
    from timbrespace.features.normalization import undo_normalization

    cfg, norm = sidecar.config, sidecar.normalization
    if cfg.kind != "stft" or cfg.output not in ("db", "magnitude") or cfg.single_frame:
        return None

    def convert(features: np.ndarray) -> np.ndarray:
        if norm.kind == "minmax_item":
            typical = _typical_minmax(sidecar)
            n = len(features)
            raw = undo_normalization(features, norm.kind, item_min=np.full(n, typical["item_min"]),
                                     item_max=np.full(n, typical["item_max"]))
        elif norm.kind == "standardize":
            raw = undo_normalization(features, norm.kind, mean=norm.mean, std=norm.std)
        else:
            raw = np.asarray(features, dtype=np.float64)
        return (10.0 ** (raw / 20.0) if cfg.output == "db" else np.maximum(raw, 0.0)).astype(np.float32)

    return convert


def _typical_minmax(sidecar: FeatureSidecar) -> dict[str, float]:
    """Decoded latents belong to no stored item: undo min–max with the dataset's typical range."""
    typical = sidecar.normalization.typical_minmax()
    return {} if typical is None else {"item_min": typical[0], "item_max": typical[1]}


def display_features(features: np.ndarray, sidecar: FeatureSidecar) -> np.ndarray:
    """Features in their physical unit for display (undo ``standardize``; min–max stays in [0, 1])."""
    from timbrespace.features.normalization import undo_normalization

    norm = sidecar.normalization
    if norm.kind == "standardize":
        return undo_normalization(features, "standardize", mean=norm.mean, std=norm.std).astype(np.float32)
    return np.asarray(features, dtype=np.float32)


def _side_by_side(images: list[np.ndarray], titles: list[str]) -> Any:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(3.2 * len(images), 2.6))
    lo = min(float(np.min(im)) for im in images)
    hi = max(float(np.max(im)) for im in images)
    axes = fig.subplots(1, len(images), squeeze=False)[0]
    for ax, im, title in zip(axes, images, titles, strict=True):
        shown = im if im.ndim == 2 else im[:, None]
        ax.imshow(shown, origin="lower", aspect="auto", cmap="magma", vmin=lo, vmax=hi)
        ax.set_title(title, fontsize=9)
        ax.set_xlabel("frame")
    axes[0].set_ylabel("bin")
    fig.tight_layout()
    return fig


def _f(x: Any) -> str:
    return "—" if x is None else f"{x:.3f}"
