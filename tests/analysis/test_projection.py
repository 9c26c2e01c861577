from __future__ import annotations

import numpy as np
import pytest

from timbrespace.analysis.projection import latent_projection, project_latents
from timbrespace.errors import ParameterError


def _clusters(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(3), 30)
    centres = np.array([[0.0] * 5, [10.0] * 5, [-10.0, 10.0, 0.0, 0.0, 0.0]])
    return centres[labels] + rng.standard_normal((90, 5)), labels


def test_pca_matches_sklearn_variance() -> None:
    z, _ = _clusters()
    xy = project_latents(z, method="pca")
    centred = z - z.mean(axis=0)
    top = np.sort(np.linalg.eigvalsh(np.cov(centred.T)))[::-1][:2]
    np.testing.assert_allclose(np.var(xy, axis=0, ddof=1), top, rtol=1e-9)


def test_tsne_separates_clusters_and_is_seeded() -> None:
    z, labels = _clusters()
    a = project_latents(z, method="tsne", random_state=0, max_iter=250)
    b = project_latents(z, method="tsne", random_state=0, max_iter=250)
    np.testing.assert_array_equal(a, b)
    centroids = np.array([a[labels == k].mean(axis=0) for k in range(3)])
    spread = max(np.linalg.norm(a[labels == k] - centroids[k], axis=1).mean() for k in range(3))
    gaps = [np.linalg.norm(centroids[i] - centroids[j]) for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > 2 * spread


def test_categorical_legend() -> None:
    z, labels = _clusters()
    names = np.array(["Bright", "Dark", "Fuzz"])[labels]
    fig = latent_projection(z, names, factor_name="timbre")
    ax = fig.axes[0]
    assert len(ax.collections) == 3
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["Bright", "Dark", "Fuzz"]
    assert legend.get_title().get_text() == "timbre"
    assert sum(len(c.get_offsets()) for c in ax.collections) == 90


def test_continuous_colourbar_and_precomputed_embedding() -> None:
    z, _ = _clusters()
    values = np.linspace(100.0, 1000.0, 90)
    xy = project_latents(z)
    fig = latent_projection(z, values, embedding=xy, factor_name="f0_hz")
    assert len(fig.axes) == 2  # scatter + colour bar
    np.testing.assert_allclose(fig.axes[0].collections[0].get_offsets(), xy)
    np.testing.assert_allclose(fig.axes[0].collections[0].get_array(), values)
    assert fig.axes[1].get_ylabel() == "f0_hz"


def test_integer_codes_with_many_values_use_colourbar() -> None:
    z, _ = _clusters()
    fig = latent_projection(z, np.arange(90))
    assert fig.axes[0].get_legend() is None and len(fig.axes) == 2


def test_bad_inputs() -> None:
    z, labels = _clusters()
    with pytest.raises(ParameterError, match="values"):
        latent_projection(z, labels[:10])
    with pytest.raises(ParameterError, match="method"):
        project_latents(z, method="umap")  # type: ignore[arg-type]


def test_log_spaced_factors_get_a_log_colour_scale_with_round_ticks() -> None:
    from matplotlib.colors import LogNorm

    levels = np.geomspace(100.0, 1000.0, 8)
    values = np.repeat(levels, 10)
    z = np.random.default_rng(0).normal(size=(80, 3))
    fig = latent_projection(z, values, factor_name="f0_hz (Hz)", log_scale=True)
    points = fig.axes[0].collections[0]
    assert isinstance(points.norm, LogNorm) and points.norm.vmin == 100.0 and points.norm.vmax == 1000.0
    fig.canvas.draw()  # tick labels are set at draw time
    np.testing.assert_allclose(fig.axes[1].get_yticks(), [100.0, 200.0, 500.0, 1000.0])
    assert [t.get_text() for t in fig.axes[1].get_yticklabels()] == ["100", "200", "500", "1000"]
    assert fig.axes[1].get_ylabel() == "f0_hz (Hz), log scale"
    linear = latent_projection(z, values, factor_name="f0_hz")
    assert not isinstance(linear.axes[0].collections[0].norm, LogNorm)
    with pytest.raises(ParameterError, match="log_scale needs positive values"):
        latent_projection(z, values - 500.0, log_scale=True)


def test_pca_axes_give_the_share_of_variance_and_many_points_are_small_and_translucent() -> None:
    rng = np.random.default_rng(1)
    z = rng.normal(size=(1000, 3)) * np.array([3.0, 1.0, 0.1])  # variances 9, 1, 0.01
    fig = latent_projection(z, rng.normal(size=1000))
    ax = fig.axes[0]
    from sklearn.decomposition import PCA

    share = 100 * PCA(n_components=2).fit(z).explained_variance_ratio_
    assert ax.get_xlabel() == f"PC 1 ({share[0]:.0f} % of variance)"
    assert ax.get_ylabel() == f"PC 2 ({share[1]:.0f} % of variance)"
    points = ax.collections[0]
    assert points.get_sizes()[0] < 8.0 and points.get_alpha() < 0.5
    few = latent_projection(z[:50], np.arange(50.0))
    assert few.axes[0].collections[0].get_alpha() == 0.8
