"""Named model configurations of the seeds, as :class:`VAEConfig` s of the one family.

- :func:`timbre_config`: seed 002's conditional conv VAE on (512, 64) min–max dB
  spectrograms, conditioned on a descriptor label, a pitch label and the magnitude / 100
  (a continuous input). Presets ``seed`` (the seed's architecture, for a GPU), ``cpu``
  (the same shape, narrower, trains in minutes on 2 cores) and ``tiny`` (tests).
- :func:`groove_config` and :func:`seed004_config`: the groove VAE of seed 004 (MLP) and
  its GRU variant, on drum patterns ``(n_steps, n_voices)``: hits, hits and velocities, or
  GrooVAE's hits, velocities and offsets (``outputs``, :data:`GROOVE_OUTPUTS`).

The seed-002 loss ``recon_weight · mean((x̂ − x)²) + KL`` is the Gaussian likelihood with
``output_variance = 0.5 · n_features / recon_weight`` under the package's convention
(:mod:`timbrespace.models.config`): the seed's 1e6 on 512 × 64 pixels is a variance of
0.016384; the ``cpu`` preset's 32768 is 0.5, the plain sum of squared errors.
"""

from __future__ import annotations

import math
from typing import Any

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.models.config import VAEConfig

__all__ = [
    "TIMBRE_PRESETS",
    "SEED002_INPUT_SHAPE",
    "timbre_config",
    "recon_weight_to_variance",
    "groove_config",
    "seed004_config",
    "GROOVE_OUTPUTS",
    "groove_outputs",
    "GROOVE_TASKS",
    "groove_task",
]

GROOVE_OUTPUTS: dict[str, str] = {"hits": "bernoulli", "hv": "hit_velocity", "hvo": "hvo"}
"""What a groove model predicts (``groove_config(outputs=...)``, ``drums train --outputs``) → its likelihood:
``hits`` H alone (seed 004), ``hv`` H and velocities V, ``hvo`` H, V and micro-timing offsets O (GrooVAE)."""

GROOVE_TASKS: dict[str, str] = {"reconstruct": "full", "humanize": "hits"}
"""What a groove model's encoder reads (``groove_config(task=...)``, ``drums train --task``) → its
``encoder_input``: ``reconstruct`` the whole bar (a VAE), ``humanize`` the bar's hits only, its
velocities and offsets the targets (GrooVAE's Humanize; ``outputs`` ``hvo`` only)."""

SEED002_INPUT_SHAPE: tuple[int, int] = (512, 64)
"""(frequency bins, frames) of seed 002's spectrograms."""

_SEED002_STRIDES = ((2, 2), (2, 2), (2, 2), (2, 2), (2, 1))

# name -> (conv channels, latent_dim, dense layer (0: none), seed's pixel-MSE weight)
_TIMBRE: dict[str, tuple[tuple[int, ...], int, int, float]] = {
    "cpu": ((16, 32, 32, 64, 64), 16, 256, 32768.0),
    "seed": ((512, 256, 128, 64, 32), 128, 0, 1e6),
    "tiny": ((4, 8, 8, 8, 8), 4, 32, 32768.0),
}
TIMBRE_PRESETS: tuple[str, ...] = tuple(_TIMBRE)
"""Names accepted by :func:`timbre_config`."""


def recon_weight_to_variance(recon_weight: float, n_features: int) -> float:
    """Gaussian ``output_variance`` equal to a loss ``recon_weight · mean over n_features of (x̂ − x)²``.

    ``recon_weight · sum / n_features = 0.5 · sum / variance`` gives
    ``variance = 0.5 · n_features / recon_weight``.

    Raises
    ------
    ParameterError
        If ``recon_weight`` or ``n_features`` is not positive.

    Examples
    --------
    >>> from timbrespace.models import recon_weight_to_variance
    >>> recon_weight_to_variance(1.0, 64), recon_weight_to_variance(10.0, 1)
    (32.0, 0.05)
    """
    if not recon_weight > 0 or n_features < 1:
        raise ParameterError(
            f"recon_weight={recon_weight} and n_features={n_features} must be positive"
        )
    return 0.5 * n_features / float(recon_weight)


def timbre_config(
    name: str = "cpu",
    *,
    n_descriptors: int,
    n_pitches: int,
    input_shape: tuple[int, int] = SEED002_INPUT_SHAPE,
    **overrides: Any,
) -> VAEConfig:
    """Seed 002's conditional conv VAE as a :class:`VAEConfig`.

    Conv blocks (Conv 3×3, BatchNorm, ReLU) with strides (2, 2) × 4 then (2, 1), a dense
    layer (none in ``seed``), the latents, the mirrored transposed convs and a sigmoid
    output in [0, 1]. Conditions: a descriptor label, a pitch label (one-hots) and one
    continuous input, the magnitude / 100; so ``c`` is
    ``[descriptor index, pitch index, magnitude / 100]``.

    Parameters
    ----------
    name : {"cpu", "seed", "tiny"}
        ``seed``: channels 512, 256, 128, 64, 32, latent 128, no dense layer, loss
        1e6 · MSE + KL. ``cpu``: channels 16..64, dense 256, latent 16, loss SSE + KL.
        ``tiny``: channels 4..8, dense 32, latent 4 (tests).
    n_descriptors, n_pitches : int
        Classes of the descriptor and pitch labels (at least 2 each).
    input_shape : tuple of int
        (n_bins, n_frames), default (512, 64).
    **overrides
        Any other :class:`VAEConfig` field (e.g. ``beta``, ``latent_dim``).

    Returns
    -------
    VAEConfig

    Raises
    ------
    ParameterError
        Unknown preset (allowed names listed).
    ConfigError
        An invalid field (e.g. fewer than 2 descriptors).

    References
    ----------
    Seed 002 (SEEDS.md); Sohn et al. 2015 (conditional VAE).

    Examples
    --------
    >>> from timbrespace.models import timbre_config
    >>> config = timbre_config(n_descriptors=3, n_pitches=5)
    >>> config.architecture, config.input_shape, config.condition_classes, config.latent_dim
    ('conv', (512, 64), (3, 5), 16)
    """
    if name not in _TIMBRE:
        raise ParameterError(f"model={name!r} is unknown: allowed {', '.join(_TIMBRE)}")
    channels, latent_dim, dense, recon_weight = _TIMBRE[name]
    fields: dict[str, Any] = {
        "input_shape": tuple(input_shape),
        "latent_dim": latent_dim,
        "architecture": "conv",
        "hidden_sizes": (dense,) if dense else (),
        "conv_channels": channels,
        "conv_kernel_size": 3,
        "conv_strides": _SEED002_STRIDES,
        "batch_norm": True,
        "activation": "relu",
        "likelihood": "gaussian",
        "output_activation": "sigmoid",
        "output_variance": recon_weight_to_variance(recon_weight, math.prod(input_shape)),
        "beta": 1.0,
        "condition_classes": (n_descriptors, n_pitches),
        "condition_continuous": 1,
        "logvar_bounds": (-20.0, 10.0),
    }
    return VAEConfig(**{**fields, **overrides})


def groove_config(
    *,
    n_steps: int = 16,
    n_voices: int = 9,
    architecture: str = "mlp",
    latent_dim: int = 8,
    hidden_sizes: tuple[int, ...] = (800,),
    gru_hidden: int = 128,
    velocities: bool = True,
    outputs: str | None = None,
    task: str = "reconstruct",
    **overrides: Any,
) -> VAEConfig:
    """The groove VAE on drum patterns ``(n_steps, n_voices)`` as a :class:`VAEConfig`.

    Parameters
    ----------
    n_steps, n_voices : int
        Steps per bar and voices of the drum map (16 and 9 for Magenta's map; seed 004:
        64 and 8).
    architecture : {"mlp", "gru"}
        ``mlp``: flatten → ``hidden_sizes`` → z → mirrored (seed 004: 512 → 800 → z).
        ``gru``: bidirectional GRU encoder, GRU decoder with a step embedding.
    latent_dim : int
    hidden_sizes : tuple of int
        MLP hidden layers.
    gru_hidden : int
        GRU state size.
    velocities : bool
        ``hit_velocity`` likelihood (hits and velocities, GrooVAE) or ``bernoulli`` on
        the hits alone (seed 004; train it on ``x > 0``); ``outputs`` says it too.
    outputs : {"hits", "hv", "hvo"}, optional
        What the model predicts (:data:`GROOVE_OUTPUTS`): ``hits`` is ``velocities=False``,
        ``hv`` the default, ``hvo`` adds each hit's micro-timing offset (``hvo``
        likelihood: items ``(2, n_steps, n_voices)``, velocities and offsets). Default:
        from ``velocities``.
    task : {"reconstruct", "humanize"}
        What the encoder reads (:data:`GROOVE_TASKS`): the whole bar, or (``humanize``,
        ``outputs="hvo"`` only) its hits alone, one velocity and no offset, so that the
        decoded velocities and offsets are predicted from a quantised bar (GrooVAE's
        Humanize; ``encoder_input="hits"``).
    **overrides
        Any other :class:`VAEConfig` field (e.g. ``beta``).

    Returns
    -------
    VAEConfig
        ``logvar`` clamped to [-12, 8].

    Raises
    ------
    ConfigError
        An invalid field (e.g. ``architecture="conv"`` with velocities), ``outputs`` not
        one of ``GROOVE_OUTPUTS``, or ``outputs`` other than ``hits`` with ``velocities=False``;
        ``task`` not one of ``GROOVE_TASKS``, or ``humanize`` with outputs other than ``hvo``.

    References
    ----------
    Seed 004 (ATIAM-Sequenceur); Gillick et al., ICML 2019 (GrooVAE).

    Examples
    --------
    >>> from timbrespace.models import groove_config
    >>> config = groove_config()
    >>> config.input_shape, config.likelihood, config.latent_dim
    ((16, 9), 'hit_velocity', 8)
    >>> groove_config(outputs="hvo").item_shape
    (2, 16, 9)
    >>> groove_config(outputs="hvo", task="humanize").encoder_input
    'hits'
    """
    if outputs is None:
        outputs = "hv" if velocities else "hits"
    if outputs not in GROOVE_OUTPUTS:
        raise ConfigError(f"outputs={outputs!r} is not allowed: one of {', '.join(GROOVE_OUTPUTS)}")
    if not velocities and outputs != "hits":
        raise ConfigError(f"outputs={outputs!r} predicts velocities: it cannot go with velocities=False (hits only)")
    if task not in GROOVE_TASKS:
        raise ConfigError(f"task={task!r} is not allowed: one of {', '.join(GROOVE_TASKS)}")
    if task == "humanize" and outputs != "hvo":
        raise ConfigError(f"task='humanize' predicts velocities and offsets from the hits: it needs outputs 'hvo', "
                          f"not {outputs!r}")
    fields: dict[str, Any] = {
        "input_shape": (n_steps, n_voices),
        "architecture": architecture,
        "latent_dim": latent_dim,
        "hidden_sizes": tuple(hidden_sizes),
        "gru_hidden": gru_hidden,
        "likelihood": GROOVE_OUTPUTS[outputs],
        "activation": "relu",
        "logvar_bounds": (-12.0, 8.0),
        "encoder_input": GROOVE_TASKS[task],
    }
    return VAEConfig(**{**fields, **overrides})


def groove_task(config: VAEConfig) -> str:
    """What a groove model's encoder is trained for, ``"reconstruct"`` or ``"humanize"`` (:data:`GROOVE_TASKS`).

    Examples
    --------
    >>> from timbrespace.models import groove_config, groove_task
    >>> groove_task(groove_config()), groove_task(groove_config(outputs="hvo", task="humanize"))
    ('reconstruct', 'humanize')
    """
    return "humanize" if config.encoder_input == "hits" else "reconstruct"


def groove_outputs(config: VAEConfig) -> str:
    """What a groove model predicts, ``"hits"``, ``"hv"`` or ``"hvo"`` (the key of :data:`GROOVE_OUTPUTS`).

    Raises
    ------
    ConfigError
        A model that is not a groove model (Gaussian likelihood).

    Examples
    --------
    >>> from timbrespace.models import groove_config, groove_outputs
    >>> groove_outputs(groove_config()), groove_outputs(groove_config(outputs="hvo"))
    ('hv', 'hvo')
    """
    for name, likelihood in GROOVE_OUTPUTS.items():
        if config.likelihood == likelihood:
            return name
    raise ConfigError(f"likelihood={config.likelihood!r} is not a groove model's (one of "
                      f"{', '.join(GROOVE_OUTPUTS.values())})")


def seed004_config(*, n_steps: int = 64, n_voices: int = 8, **overrides: Any) -> VAEConfig:
    """Seed 004's model: 8 voices × 64 steps = 512 hit inputs → 800 → z (2-D, the click plane) → 800 → 512.

    Bernoulli on hits (no velocities); β = 4 in the seed (set it on the training side).

    Returns
    -------
    VAEConfig

    Examples
    --------
    >>> from timbrespace.models import seed004_config
    >>> config = seed004_config()
    >>> config.input_shape, config.hidden_sizes, config.latent_dim, config.likelihood
    ((64, 8), (800,), 2, 'bernoulli')
    """
    fields: dict[str, Any] = {
        "n_steps": n_steps,
        "n_voices": n_voices,
        "architecture": "mlp",
        "latent_dim": 2,
        "hidden_sizes": (800,),
        "velocities": False,
    }
    return groove_config(**{**fields, **overrides})
