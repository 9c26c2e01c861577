"""GrooVAE's Humanize as a drums run: a quantised bar → its velocities and micro-timing.

A drums run trained with ``--outputs hvo --task humanize`` holds a groove model whose
encoder reads a bar's hits only (one velocity, every hit on its step;
``VAEConfig.encoder_input = "hits"``) and whose loss targets the bar's real velocities
and offsets (Gillick et al. 2019, "Humanization"). :func:`predict_humanized` plays the
hits of quantised bars through it (the latent means, so the same bar always gets the same
feel); the hits themselves pass through unchanged. :class:`ModelHumanizer` is what
``timbrespace drums humanize --run RUN`` plays a MIDI file with (beside the feel table,
:class:`~timbrespace.patterns.feel.GrooveFeel`, which draws each hit on its own).

References
----------
Gillick, Roberts, Engel, Eck, Bamman, "Learning to Groove with Inverse Sequence
Transformations", ICML 2019.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from timbrespace.errors import DatasetError, ParameterError
from timbrespace.experiments.drums_run import GrooveRun, load_groove_run, read_drums_config
from timbrespace.models import VAE, groove_task
from timbrespace.patterns.feel import MIN_VELOCITY
from timbrespace.training import encode_array, eval_mode

__all__ = ["quantized_items", "predict_humanized", "ModelHumanizer", "is_humanize_run", "load_humanizer"]


def quantized_items(hits: np.ndarray) -> np.ndarray:
    """The items a Humanize model reads: every hit at velocity 1, on its step.

    Parameters
    ----------
    hits : np.ndarray [shape=(n, n_steps, n_voices)]
        Where the hits are (``> 0`` or True); velocities and offsets are not read.

    Returns
    -------
    np.ndarray [shape=(n, 2, n_steps, n_voices), dtype=float32]
        Channel 0 the hit indicator as velocities, channel 1 zero offsets.

    Examples
    --------
    >>> quantized_items(np.array([[[0.3, 0.0]]])).tolist()
    [[[[1.0, 0.0]], [[0.0, 0.0]]]]
    """
    h = (np.asarray(hits) > 0).astype(np.float32)
    return np.stack([h, np.zeros_like(h)], axis=1)


@torch.no_grad()
def predict_humanized(model: VAE, hits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Velocities and offsets a Humanize model gives the hits of quantised bars.

    Each bar is encoded from its hits alone (:func:`quantized_items`) to the latent mean,
    decoded, and read at its hits: the hits pass through, silent cells stay silent.

    Parameters
    ----------
    model : VAE
        A groove model with ``likelihood="hvo"`` and ``encoder_input="hits"``.
    hits : np.ndarray [shape=(n, n_steps, n_voices)]
        Where the hits are (``> 0`` or True).

    Returns
    -------
    velocities : np.ndarray [shape=(n, n_steps, n_voices), dtype=float32]
        In [1/127, 1] at hits (MIDI velocity / 127), 0 elsewhere.
    offsets : np.ndarray [shape=(n, n_steps, n_voices), dtype=float32]
        Steps, in (-0.5, 0.5) at hits, 0 elsewhere.

    Raises
    ------
    ParameterError
        A model not trained for Humanize, or ``hits`` not ``(n, *model.config.input_shape)``.
    """
    if groove_task(model.config) != "humanize":
        raise ParameterError(f"the model reads whole bars (likelihood={model.config.likelihood!r}, encoder_input="
                             f"{model.config.encoder_input!r}); humanizing needs one trained with --task humanize")
    h = np.asarray(hits) > 0
    grid = model.config.item_shape[1:]  # (n_steps, n_voices) of an hvo model
    if h.ndim != 3 or h.shape[1:] != grid:
        raise ParameterError(f"hits has shape {h.shape}; expected (n, {', '.join(map(str, grid))})")
    if len(h) == 0:
        empty = np.zeros(h.shape, np.float32)
        return empty, empty.copy()
    mu = torch.from_numpy(encode_array(model, quantized_items(h)))
    with eval_mode(model):
        velocities = model.hits_and_velocities(mu)[1]
        offsets = model.offsets(mu)
    assert velocities is not None  # an hvo model
    v = np.where(h, np.clip(velocities.numpy(), MIN_VELOCITY, 1.0), 0.0).astype(np.float32)
    return v, np.where(h, offsets.numpy(), 0.0).astype(np.float32)


@dataclass(frozen=True)
class ModelHumanizer:
    """A Humanize run's model, played like a feel (``drums humanize --run RUN``).

    Attributes
    ----------
    run : GrooveRun
        Trained with ``--outputs hvo --task humanize``.
    """

    run: GrooveRun

    @property
    def drum_map(self) -> str:
        return self.run.drum_map

    @property
    def steps_per_quarter(self) -> int:
        return int(round(self.run.steps_per_quarter))

    @property
    def n_steps(self) -> int:
        """Steps of the bars the model reads."""
        return int(self.run.model.config.item_shape[1])

    @property
    def source(self) -> str:
        return f"the Humanize model of {self.run.root}"

    def check_bars(self, name: str, n_steps: int, time_signature: tuple[int, int]) -> None:
        """Refuse bars the model was not trained on, naming the file.

        Raises
        ------
        ParameterError
            Bars of ``n_steps`` other than :attr:`n_steps` (another meter).
        """
        if n_steps != self.n_steps:
            meter = "/".join(map(str, self.run.time_signature))
            raise ParameterError(f"{name}: bars of {n_steps} steps ({time_signature[0]}/{time_signature[1]}); the "
                                 f"model of {self.run.root} reads bars of {self.n_steps} steps ({meter})")

    def humanize(self, patterns: np.ndarray, *, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """Velocities and offsets of the hits of ``patterns`` (:func:`predict_humanized`).

        Parameters
        ----------
        patterns : np.ndarray [shape=(n_bars, n_steps, n_voices)]
            Hits where > 0; their velocities (and any offsets) are not read.
        seed : int
            Not used: the model plays the latent means, one feel per bar (kept so that a
            humanizer and a :class:`~timbrespace.patterns.feel.GrooveFeel` are called alike).

        Returns
        -------
        velocities, offsets : np.ndarray [shape=(n_bars, n_steps, n_voices), dtype=float32]
        """
        return predict_humanized(self.run.model, patterns)


def is_humanize_run(run: str | Path) -> bool:
    """Whether a drums run was trained with ``--task humanize`` (its ``config.yaml``).

    Raises
    ------
    ConfigError, DatasetError
        Not a drums run (see :func:`~timbrespace.experiments.drums_run.read_drums_config`).
    """
    config = read_drums_config(Path(run))
    return config.get("task", "reconstruct") == "humanize"


def load_humanizer(run: str | Path) -> ModelHumanizer:
    """The :class:`ModelHumanizer` of a drums run trained with ``--task humanize``.

    Raises
    ------
    DatasetError
        A run of another task, or unfinished (see
        :func:`~timbrespace.experiments.drums_run.load_groove_run`).
    """
    if not is_humanize_run(run):
        raise DatasetError(f"{run}: not trained with --task humanize (its model reads whole bars)")
    return ModelHumanizer(load_groove_run(run))
