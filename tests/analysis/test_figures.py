from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from matplotlib.figure import Figure

from timbrespace.analysis.figures import history_frame, mi_heatmap, training_curves
from timbrespace.analysis.spectrograms import spectrogram_image, traversal_grid
from timbrespace.errors import ParameterError


@dataclasses.dataclass(frozen=True)
class _Record:  # the shape of timbrespace.training's EpochRecord
    epoch: int
    train_loss: float
    train_recon: float
    train_kl: float
    val_loss: float | None
    val_recon: float | None
    val_kl: float | None
    beta: float


def _history(n: int = 5, with_val: bool = True) -> list[_Record]:
    return [
        _Record(
            e,
            10.0 / (e + 1),
            8.0 / (e + 1),
            2.0,
            11.0 / (e + 1) if with_val else None,
            9.0 / (e + 1) if with_val else None,
            2.1 if with_val else None,
            min(1.0, e / 3),
        )
        for e in range(n)
    ]


def test_training_curves_panels_and_lines() -> None:
    fig = training_curves(_history())
    assert isinstance(fig, Figure)
    visible = [ax for ax in fig.axes if ax.get_visible()]
    assert [ax.get_title() for ax in visible] == [
        "Loss: reconstruction NLL + β·KL", "Reconstruction NLL", "KL to the prior", "β, the weight of the KL term"]
    assert visible[0].get_ylabel() == "loss (nats per item)"
    loss_ax = visible[0]
    assert [line.get_label() for line in loss_ax.get_lines()] == ["train", "val"]
    np.testing.assert_allclose(loss_ax.get_lines()[0].get_ydata(), 10.0 / np.arange(1, 6))
    np.testing.assert_array_equal(loss_ax.get_lines()[0].get_xdata(), np.arange(5))


def test_training_curves_skips_missing_validation() -> None:
    fig = training_curves([dataclasses.asdict(r) for r in _history(with_val=False)])
    loss_ax = next(ax for ax in fig.axes if ax.get_title().startswith("Loss"))
    assert len(loss_ax.get_lines()) == 1


def test_history_frame_from_dataframe_and_mapping() -> None:
    frame = history_frame({"epoch": [0, 1], "train_loss": [2.0, 1.0]})
    assert list(frame.columns) == ["epoch", "train_loss"] and len(frame) == 2
    with pytest.raises(ParameterError):
        training_curves([])


def test_mi_heatmap_image_and_labels() -> None:
    mi = np.array([[0.1, 0.9], [0.7, 0.0], [0.0, 0.0]])
    fig = mi_heatmap(mi, ["a", "b", "c"], ["pitch", "decay"])
    ax = fig.axes[0]
    np.testing.assert_array_equal(ax.get_images()[0].get_array(), mi)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["pitch", "decay"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["a", "b", "c"]
    assert len(ax.texts) == 6 and ax.texts[1].get_text() == "0.90"
    assert len(fig.axes) == 2  # image + colour bar


def test_mi_heatmap_normalised() -> None:
    mi = np.array([[1.0, 0.5], [0.5, 0.0]])
    fig = mi_heatmap(mi, normalize_by=np.array([2.0, 0.0]))
    np.testing.assert_allclose(fig.axes[0].get_images()[0].get_array(), [[0.5, 0.0], [0.25, 0.0]])
    with pytest.raises(ParameterError, match="latent_names"):
        mi_heatmap(mi, ["only one"])


def test_spectrogram_image_extent() -> None:
    spec = np.random.default_rng(0).random((65, 40))
    fig = spectrogram_image(spec, sample_rate=16000, hop_length=400, title="x")
    image = fig.axes[0].get_images()[0]
    np.testing.assert_allclose(image.get_extent(), [0.0, 1.0, 0.0, 8000.0])
    assert fig.axes[0].get_ylabel() == "frequency (Hz)"


def test_traversal_grid_images_and_curves() -> None:
    specs = np.random.default_rng(0).random((3, 5, 16, 8))
    fig = traversal_grid(specs, values=np.linspace(-2, 2, 5), latent_names=["z0", "z3", "z7"])
    assert len(fig.axes) == 15
    np.testing.assert_array_equal(fig.axes[7].get_images()[0].get_array(), specs[1, 2])
    assert fig.axes[5].get_ylabel() == "z3"
    assert fig.axes[4].get_title() == "+2"
    curves = traversal_grid(specs[..., 0])
    np.testing.assert_array_equal(curves.axes[0].get_lines()[0].get_ydata(), specs[0, 0, :, 0])
    with pytest.raises(ParameterError):
        traversal_grid(specs[0, 0])


def test_training_curves_label_every_axis_and_shade_the_beta_warmup() -> None:
    """A rising loss under β warm-up is explained on the figure: the warm-up epochs
    (β below its final value) are shaded and every panel says what it plots, in nats."""
    fig = training_curves(_history(6))
    visible = [ax for ax in fig.axes if ax.get_visible()]
    labels = [ax.get_ylabel() for ax in visible]
    assert labels == ["loss (nats per item)", "NLL (nats per item)", "KL (nats per item)", "β (no unit)"]
    for ax in visible:
        (span,) = ax.patches  # axvspan of the warm-up: epochs 0..3 (β reaches 1 at epoch 3)
        np.testing.assert_allclose([span.get_x(), span.get_x() + span.get_width()], [0.0, 3.0])
    assert "β warm-up" in [t.get_text() for t in visible[0].get_legend().get_texts()]
    constant = [dataclasses.replace(r, beta=1.0) for r in _history(4)]
    assert not any(ax.patches for ax in training_curves(constant).axes)


def test_sweep_figure_with_one_beta_puts_the_models_on_the_x_axis():
    import pandas as pd

    from timbrespace.analysis import sweep_figure

    table = pd.DataFrame({
        "model": ["ica", "tcvae", "tcvae", "ada_gvae", "ada_gvae"],
        "beta": [float("nan"), 4.0, 4.0, 4.0, 4.0],
        "mig": [0.05, 0.4, 0.5, 0.6, 0.7],
        "mig_at_init": [float("nan"), 0.0, 0.0, 0.1, 0.1],
    })
    fig = sweep_figure(table, ["mig"], baselines=("ica",))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["tcvae", "ada_gvae"]  # grid order
    labels = ax.get_legend_handles_labels()[1]
    assert "before training" in labels and "ica (linear)" in labels
    init = next(line for line in ax.lines if line.get_label() == "before training")
    assert list(init.get_ydata()) == [0.0, 0.1]
