"""Linear baselines: PCA and FastICA of the features, fitted on train, projecting every item;
and the reference representations a model's latents are scored beside."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from timbrespace.analysis import fit_linear_baseline, reference_latents
from timbrespace.errors import ParameterError
from timbrespace.metrics import mig


def _mixed_grid(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Four uniform grid factors (6 levels each) mixed linearly into 40 features.

    The mixing columns share one direction (cosines about 0.6), so principal
    components mix the factors; independent components recover them up to order,
    sign and scale.
    """
    rng = np.random.default_rng(seed)
    codes = np.array(list(itertools.product(range(6), repeat=4)))
    mixing = 0.8 * rng.normal(size=(40, 1)) + 0.6 * rng.normal(size=(40, 4))
    x = ((codes - 2.5) * np.array([1.0, 1.5, 2.0, 2.5])) @ mixing.T
    return x + 0.01 * rng.normal(size=x.shape), codes


def test_ica_recovers_linearly_mixed_factors_and_pca_does_not() -> None:
    x, codes = _mixed_grid()
    ica = mig(fit_linear_baseline(x, "ica", 4, random_state=0), codes)
    pca = mig(fit_linear_baseline(x, "pca", 4), codes)
    assert ica.score > 0.95 and min(ica.per_factor) > 0.9
    assert pca.score < 0.4


def test_baseline_is_fitted_on_the_train_rows_and_projects_every_row() -> None:
    x, codes = _mixed_grid()
    train = np.arange(0, len(x), 2)
    latents = fit_linear_baseline(x, "ica", 4, train=train, random_state=1)
    assert latents.shape == (len(x), 4) and latents.dtype == np.float64
    assert mig(latents, codes).score > 0.9
    # PCA fitted on the train rows: its scores there are centred on the train mean
    pca = fit_linear_baseline(x, "pca", 4, train=train)
    np.testing.assert_allclose(pca[train].mean(axis=0), 0.0, atol=1e-9)
    assert np.abs(pca[1::2].mean(axis=0)).max() > 1e-6


def test_baseline_is_deterministic() -> None:
    x, _ = _mixed_grid()
    first = fit_linear_baseline(x, "ica", 3, random_state=2)
    np.testing.assert_array_equal(first, fit_linear_baseline(x, "ica", 3, random_state=2))


@pytest.mark.parametrize(
    ("method", "k", "message"),
    [("nmf", 2, "method='nmf' unknown"), ("pca", 0, "n_components=0"), ("ica", 41, "1..40")],
)
def test_bad_baseline_settings_name_the_problem(method: str, k: int, message: str) -> None:
    x, _ = _mixed_grid()
    with pytest.raises(ParameterError, match=message):
        fit_linear_baseline(x, method, k)


def test_reference_latents_align_the_active_latents_and_fit_the_baselines() -> None:
    x, codes = _mixed_grid()
    mixing = np.array([[1.0, 0.6], [-0.4, 1.0]])
    mu = np.c_[((codes[:, :2] - 2.5) @ mixing.T), np.zeros(len(codes))]  # two mixed, one dead
    refs = reference_latents(mu, align="ica", features=x.reshape(-1, 5, 8), random_state=0)
    assert refs.aligned is not None and refs.aligned_method == "ica"
    np.testing.assert_array_equal(refs.aligned[:, 2], 0.0)  # the inactive latent passes through
    # ICA unmixes the two factors (MIG 0.79 with 20 bins over 6 levels); the mixed axes score 0.02
    assert mig(refs.aligned[:, :2], codes[:, :2]).score > 0.75 > 0.05 > mig(mu[:, :2], codes[:, :2]).score
    assert set(refs.linear_baselines) == {"pca", "ica"}
    assert refs.linear_baselines["ica"].shape == (len(x), 3)  # as many components as latents
    none = reference_latents(mu, align="none")
    assert none.aligned is None and not none.linear_baselines


def test_reference_latents_leave_out_what_cannot_be_fitted(caplog: pytest.LogCaptureFixture) -> None:
    line = np.linspace(-1, 1, 40)
    copies = np.c_[line, line, np.zeros(40)]  # two active latents that copy each other
    with caplog.at_level("WARNING"):
        refs = reference_latents(copies, features=np.ones((40, 2)), train=np.arange(2))
    assert refs.aligned is None and refs.linear_baselines == {}
    assert "re-alignment skipped" in caplog.text and "linear baseline pca skipped" in caplog.text
