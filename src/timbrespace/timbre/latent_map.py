"""Latent maps of a timbre run: PCA and t-SNE of the latent means, coloured by a factor.

Seed 002 plotted a t-SNE of the latents coloured by timbre, magnitude or pitch
(``-timbre/-magnitude/-pitch``). In a *conditional* VAE the condition carries the
labels, so the latent means ideally hold what the labels do not (a well-disentangled
run shows little colour structure); the figures show how much label information leaks
into ``z``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from timbrespace.errors import ParameterError
from timbrespace.timbre.run import TimbreRun
from timbrespace.utils.atomic import atomic_path

__all__ = ["COLOR_FACTORS", "latent_map", "project_latents"]

logger = logging.getLogger(__name__)

#: ``--color`` value → metadata column.
COLOR_FACTORS: dict[str, str] = {"timbre": "descriptor", "magnitude": "magnitude", "pitch": "pitch"}


def project_latents(latents: np.ndarray, *, method: str, random_state: int = 0) -> np.ndarray:
    """2-D projection ``(n, 2)`` of latents ``(n, latent_dim)`` by ``pca`` or ``tsne``.

    Raises
    ------
    ParameterError
        Unknown method, or fewer than 3 points.
    """
    z = np.asarray(latents, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] < 3:
        raise ParameterError(f"latents have shape {z.shape}: need (n >= 3, latent_dim)")
    if z.shape[1] == 1:
        z = np.hstack([z, np.zeros_like(z)])
    if method == "pca":
        from sklearn.decomposition import PCA

        return PCA(n_components=2, random_state=random_state).fit_transform(z)
    if method == "tsne":
        from sklearn.manifold import TSNE

        perplexity = float(min(30.0, max(2.0, (z.shape[0] - 1) / 3.0)))
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=random_state).fit_transform(z)
    raise ParameterError(f"method={method!r} is unknown: allowed pca, tsne")


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
    if color != "all" and color not in COLOR_FACTORS:
        raise ParameterError(f"color={color!r} is unknown: allowed {', '.join([*COLOR_FACTORS, 'all'])}")
    colors = list(COLOR_FACTORS) if color == "all" else [color]
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = np.arange(len(run.items))
    if split is not None:
        rows = np.flatnonzero(run.items["split"].astype(str).to_numpy() == split)
    latents = run.encode(rows)
    out_dir = Path(out_dir)
    paths = []
    for method in methods:
        xy = project_latents(latents, method=method, random_state=random_state)
        for c in colors:
            values = run.items[COLOR_FACTORS[c]].to_numpy()[rows]
            fig, ax = plt.subplots(figsize=(6, 5))
            if c == "timbre":
                for k, name in enumerate(sorted(set(values.astype(str)))):
                    sel = values.astype(str) == name
                    ax.scatter(xy[sel, 0], xy[sel, 1], s=8, color=plt.cm.tab20(k % 20), label=name)
                ax.legend(fontsize=7, markerscale=2, loc="best")
            else:
                sc = ax.scatter(xy[:, 0], xy[:, 1], s=8, c=values.astype(float), cmap="viridis")
                fig.colorbar(sc, ax=ax, label=c)
            ax.set_title(f"{method.upper()} of latent means, coloured by {c}")
            ax.set_xticks([])
            ax.set_yticks([])
            target = out_dir / f"latent_{method}_{c}.png"
            with atomic_path(target) as tmp:
                fig.savefig(tmp, dpi=100, bbox_inches="tight")
            plt.close(fig)
            paths.append(target)
    return paths
