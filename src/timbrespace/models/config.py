"""The model configuration: one frozen dataclass that fully describes a VAE.

A model is a :class:`VAEConfig` plus the module :func:`~timbrespace.models.build_model`
makes from it (the Pythae habit, STYLE.md). The config round-trips through JSON
(:meth:`VAEConfig.to_dict` / :meth:`VAEConfig.from_dict`), which is how checkpoints
store it (``model.json`` beside ``model.safetensors``).

Loss convention
---------------
Every objective uses the same normalisation: the reconstruction term is the negative
log-likelihood **summed over feature dimensions**, the KL term is **summed over
latents**, and both are **averaged over the batch**. ``beta`` therefore means what it
means in the papers. Seed 000 divided the reconstruction by ``batch * n_features`` but
the KL only by ``batch``, an accidental β≈1000 for 1024 bins (SEEDS.md); this
convention makes that impossible.

``beta`` is the weight of the term each objective is named after:

- ``beta_vae`` (Higgins et al. 2017): ``recon + beta * KL``.
- ``annealed`` (Burgess et al. 2018): ``recon + beta * |KL - C(step)|``, ``C`` rising
  linearly from 0 to ``capacity_max`` nats over ``capacity_steps`` steps (the paper's γ).
- ``tcvae`` (Chen et al. 2018): ``recon + tc_alpha * MI + beta * TC + tc_gamma * dimKL``.
- ``factorvae`` (Kim & Mnih 2018): ``recon + KL + beta * TC_discriminator`` (the paper's γ).
- ``ada_gvae`` / ``ada_mlvae`` (Locatello et al. 2020): weakly supervised on pairs of
  items that share all factors but k. Per pair, latents whose KL between the two
  posteriors is below the midpoint of its largest and smallest value are shared: both
  posteriors are replaced there by their average (GVAE: arithmetic mean of means and
  variances; ML-VAE: product of experts). ``recon(x1) + recon(x2) + beta * (KL1 + KL2)``.

During a β warm-up the whole regulariser follows the schedule: for ``tcvae`` the MI
and dimension-wise KL terms are scaled by the same warm-up fraction as ``beta``.

The seeds' own losses are configurations under this convention: seed 002's
``1e6 · mean((x̂ − x)²) + KL`` over ``n_features`` pixels is a Gaussian likelihood with
``output_variance = 0.5 · n_features / 1e6`` (:func:`~timbrespace.models.presets.timbre_config`);
GrooVAE's hit cross-entropy plus velocity error on true hits is the ``hit_velocity``
likelihood with ``output_variance = 0.5``, and with the offset error too the ``hvo`` likelihood.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from timbrespace.errors import ConfigError
from timbrespace.models.shift import ShiftSpec
from timbrespace.utils.fields import config_from_dict, config_from_json

logger = logging.getLogger(__name__)

__all__ = [
    "VAEConfig",
    "ARCHITECTURES",
    "LIKELIHOODS",
    "GROOVE_LIKELIHOODS",
    "ENCODER_INPUTS",
    "OBJECTIVES",
    "OBJECTIVE_ALIASES",
    "ACTIVATIONS",
    "OUTPUT_ACTIVATIONS",
    "canonical_objective",
]

ARCHITECTURES = ("mlp", "conv", "gru", "shift")
MAX_LATENT_DIM = 4096
MAX_LAYER_WIDTH = 65536
"""Bounds on a model's sizes, checked whenever a config is built (a ``model.json`` read
back included): an edited ``latent_dim: 1e9`` would otherwise try to allocate terabytes."""
LIKELIHOODS = ("gaussian", "bernoulli", "hit_velocity", "hvo")
GROOVE_LIKELIHOODS = ("bernoulli", "hit_velocity", "hvo")
"""The likelihoods of drum patterns (hits, hits and velocities, hits, velocities and offsets)."""
ENCODER_INPUTS = ("full", "hits")
"""What an ``hvo`` encoder reads: the whole item, or its hits only (Humanize)."""
OUTPUT_ACTIVATIONS = ("identity", "sigmoid")
OBJECTIVES = ("beta_vae", "annealed", "tcvae", "factorvae", "ada_gvae", "ada_mlvae")
WEAK_OBJECTIVES = ("ada_gvae", "ada_mlvae")
OBJECTIVE_ALIASES = {"annealed_vae": "annealed"}
"""Other names accepted for an objective (with a warning naming the canonical one)."""
ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "silu", "tanh")
CONDITION_ENCODINGS = ("onehot", "embedding")



def canonical_objective(name: str) -> str:
    """The canonical name of an objective: ``"annealed_vae"`` → ``"annealed"`` (with a
    warning that names it); any other name unchanged (checked where it is used)."""
    canonical = OBJECTIVE_ALIASES.get(name) if isinstance(name, str) else None
    if canonical is None:
        return name
    logger.warning("%r is another name of the objective %r: say %r (the name runs and tables use)",
                   name, canonical, canonical)
    return canonical


_TUPLE_FIELDS = (
    "input_shape",
    "hidden_sizes",
    "conv_channels",
    "discriminator_hidden",
    "condition_classes",
)


@dataclass(frozen=True)
class VAEConfig:
    """Architecture, likelihood and objective of a VAE.

    Parameters
    ----------
    input_shape : tuple of int, optional
        Shape of one item, e.g. ``(1024,)`` for a single-frame spectrum or
        ``(1, 512, 64)`` / ``(512, 64)`` for a spectrogram (channels first; a 2-D shape
        means one channel for the conv architecture). ``None`` until the features are
        known (an experiment's ``model`` section): every other field is validated, the
        shape checks wait, and :func:`~timbrespace.models.build_model` refuses it.
    latent_dim : int
        Number of latents ``z``, 1..4096 (``MAX_LATENT_DIM``).
    architecture : {"mlp", "conv", "gru", "shift"}
        ``shift``: a log-frequency spectrogram ``(n_bins, n_frames)`` whose first latent
        is a translation along frequency, inferred by an equivariant soft-argmax head
        (:mod:`timbrespace.models.shift`; options in ``shift``). MLP flattens the input; conv needs a 2-D or 3-D ``input_shape``; gru reads a 2-D
        ``input_shape`` ``(n_steps, n_features)`` as a sequence: a bidirectional GRU
        encoder over the steps whose final states give ``(mu, logvar)``, and a GRU decoder
        driven by ``z`` at every step (with a learned step embedding, its first state
        ``tanh(W z)``) whose outputs give each step's features (the groove VAE).
    hidden_sizes : tuple of int
        Fully connected hidden layers: the whole MLP encoder (mirrored in the decoder),
        or the layers between the conv stack and the latents. Every width (here, in
        ``conv_channels``, ``discriminator_hidden``, ``gru_hidden``) is at most 65536
        (``MAX_LAYER_WIDTH``).
    conv_channels : tuple of int
        Output channels of each conv block of the encoder (mirrored in the decoder).
    conv_kernel_size : int
        Odd kernel size of every conv layer (padding ``kernel // 2``).
    conv_strides : tuple of (int, int), optional
        Stride of each conv block; default ``(2, 2)`` for all (seed 003 ends in ``(2, 1)``).
    batch_norm : bool
        BatchNorm after each hidden conv layer.
    linear_skip : bool
        MLP only: add a linear path from input to output around the hidden layers of
        the encoder and of the decoder, and start the hidden path's last layer at zero,
        so that the model starts linear and learns a nonlinear residual. With
        ``TrainConfig(init="ica")`` the linear paths start at the features' FastICA
        solution (:func:`timbrespace.training.linear_start`).
    activation : str
        One of ``ACTIVATIONS`` (seed 000 used ``relu6``).
    gru_hidden : int
        State size of the GRUs (``gru``).
    likelihood : {"gaussian", "bernoulli", "hit_velocity", "hvo"}
        Decoder distribution. Gaussian with fixed variance gives
        ``0.5 * sum((x - mu)**2) / output_variance`` (no constant); with
        ``learn_variance`` the full Gaussian NLL with one learned log-variance per
        feature. Bernoulli: binary cross-entropy on logits (data in [0, 1]).
        ``hit_velocity`` (GrooVAE, drum patterns with velocity in [0, 1], 0 = no hit):
        the encoder sees the hit indicator ``x > 0`` beside ``x``; the decoder gives a
        hit logit and a velocity logit per feature (raw output
        ``(n, 2, *input_shape)``); the loss is the hit cross-entropy plus
        ``0.5 * sum_{hits} (sigmoid(v) - x)**2 / output_variance``, the velocity error
        masked to the true hits. ``mlp`` or ``gru`` only.
        ``hvo`` (GrooVAE's hits, velocities and offsets): an item is
        ``(2, *input_shape)`` (:attr:`item_shape`), channel 0 the velocities as for
        ``hit_velocity``, channel 1 each hit's micro-timing offset in steps, in [-0.5, 0.5]
        (0 where no hit); the encoder sees hits, velocities and offsets; the decoder gives
        a hit logit, a velocity logit and an offset pre-activation per feature (raw output
        ``(n, 3, *input_shape)``, offset ``0.5 * tanh``); the loss adds
        ``0.5 * sum_{hits} (offset - o)**2 / output_variance`` to ``hit_velocity``'s.
        ``mlp`` or ``gru`` only.
    encoder_input : {"full", "hits"}
        What the encoder of an ``hvo`` model reads: the whole item (``full``) or only its
        hits (``hits``: the velocity channel replaced by the hit indicator, a constant
        velocity, and the offsets by 0), while the loss still targets the item's real
        velocities and offsets: GrooVAE's Humanize (a quantised bar → the played one).
        ``hits`` needs likelihood ``hvo``.
    output_activation : {"identity", "sigmoid"}
        Applied to the Gaussian mean (``sigmoid`` keeps it in [0, 1] like min–max
        features, seed 002). Gaussian likelihood only.
    learn_variance : bool
        Learn the Gaussian output variance (per feature) instead of fixing it.
    output_variance : float
        Fixed Gaussian variance, and the initial one when learned. 0.5 makes the
        reconstruction the sum of squared errors (disentanglement_lib's ``l2``).
    objective : {"beta_vae", "annealed", "tcvae", "factorvae", "ada_gvae", "ada_mlvae"}
        See the module docstring.
    beta : float
        Weight of the objective's named term (see the module docstring).
    capacity_max : float
        Final KL capacity ``C`` in nats (``annealed``).
    capacity_steps : int
        Optimiser steps over which ``C`` rises linearly from 0 (``annealed``).
    tc_alpha, tc_gamma : float
        Weights of the index-code MI and dimension-wise KL (``tcvae``).
    dataset_size : int, optional
        Training set size for minibatch-weighted sampling (``tcvae``); ``fit`` fills it.
    discriminator_hidden : tuple of int
        Hidden layers of the FactorVAE discriminator (LeakyReLU 0.2).
    condition_classes : tuple of int
        Number of classes of each conditioning label; ``()`` for an unconditional VAE.
        A conditional VAE takes integer labels ``c`` of shape ``(n, len(condition_classes))``
        in ``encode``, ``decode`` and ``forward``.
    condition_encoding : {"onehot", "embedding"}
        How labels are fed to the encoder and the decoder.
    condition_embedding_dim : int
        Size of each label embedding (``embedding``).
    condition_continuous : int
        Number of continuous condition inputs fed as they are, after the labels (seed
        002: the magnitude / 100). A model with them takes float ``c`` of shape
        ``(n, len(condition_classes) + condition_continuous)``: integer-valued labels
        first, then the continuous values.
    shift : ShiftSpec or mapping, optional
        Options of the ``shift`` architecture (:class:`~timbrespace.models.shift.ShiftSpec`).
    logvar_bounds : tuple of (float, float), optional
        Clamp the encoder's ``logvar`` to ``[low, high]`` (seed 002: (-20, 10); the groove
        VAE: (-12, 8)); ``None``: no clamp.
    input_offset, input_scale : float, optional
        A Gaussian model (not ``shift``, whose head scales by ``shift.input_offset`` /
        ``shift.input_scale``) standardises what it reads, ``(x - input_offset) /
        input_scale``, and its decoder maps back, so the reconstruction term is the
        squared error on that scale. ``fit`` fills them with the training items' mean
        and sd when the features are far from unit scale (|x| > 100 or sd > 10, e.g. dB
        without normalisation, where the first steps overflowed to NaN); ``None``: the
        features are read as they are.

    References
    ----------
    Higgins et al., "β-VAE: learning basic visual concepts with a constrained variational
    framework", ICLR 2017. Burgess et al., "Understanding disentangling in β-VAE", 2018.
    Chen et al., "Isolating sources of disentanglement in VAEs", NeurIPS 2018.
    Kim & Mnih, "Disentangling by factorising", ICML 2018. Sohn et al., "Learning
    structured output representation using deep conditional generative models", 2015.
    Gillick et al., "Learning to groove with inverse sequence transformations", ICML 2019
    (GrooVAE). Seeds 002 (conditional conv VAE) and 004 (groove VAE).

    Examples
    --------
    >>> from timbrespace.models import VAEConfig
    >>> config = VAEConfig(input_shape=(64,), latent_dim=4, hidden_sizes=(32,), beta=4.0)
    >>> config.architecture, config.likelihood, config.objective
    ('mlp', 'gaussian', 'beta_vae')
    """

    input_shape: tuple[int, ...] | None = None
    latent_dim: int = 10
    architecture: Literal["mlp", "conv", "gru", "shift"] = "mlp"
    hidden_sizes: tuple[int, ...] = (400,)
    conv_channels: tuple[int, ...] = (32, 64, 128)
    conv_kernel_size: int = 3
    conv_strides: tuple[tuple[int, int], ...] | None = None
    batch_norm: bool = True
    linear_skip: bool = False
    activation: str = "relu"
    gru_hidden: int = 128
    likelihood: Literal["gaussian", "bernoulli", "hit_velocity", "hvo"] = "gaussian"
    encoder_input: Literal["full", "hits"] = "full"
    output_activation: Literal["identity", "sigmoid"] = "identity"
    learn_variance: bool = False
    output_variance: float = 0.5
    objective: Literal["beta_vae", "annealed", "tcvae", "factorvae", "ada_gvae", "ada_mlvae"] = "beta_vae"
    beta: float = 1.0
    capacity_max: float = 25.0
    capacity_steps: int = 10_000
    tc_alpha: float = 1.0
    tc_gamma: float = 1.0
    dataset_size: int | None = None
    discriminator_hidden: tuple[int, ...] = (256, 256, 256)
    condition_classes: tuple[int, ...] = field(default=())
    condition_encoding: Literal["onehot", "embedding"] = "onehot"
    condition_embedding_dim: int = 8
    condition_continuous: int = 0
    logvar_bounds: tuple[float, float] | None = None
    input_offset: float | None = None
    input_scale: float | None = None
    shift: ShiftSpec | None = None

    def __post_init__(self) -> None:
        if (self.input_offset is None) != (self.input_scale is None):
            raise ConfigError("input_offset and input_scale go together: set both or neither")
        if self.input_scale is not None and not (math.isfinite(float(self.input_scale)) and self.input_scale > 0
                                                 and math.isfinite(float(self.input_offset))):
            raise ConfigError(f"input_offset={self.input_offset}, input_scale={self.input_scale} must be finite, "
                              "the scale > 0")
        if self.shift is not None or self.architecture == "shift":
            object.__setattr__(self, "shift", ShiftSpec.from_value(self.shift if self.shift is not None else {}))
        for name in _TUPLE_FIELDS:
            value = getattr(self, name)
            if value is None and name == "input_shape":
                continue
            if isinstance(value, int):
                value = (value,)
            try:
                object.__setattr__(self, name, tuple(int(v) for v in value))
            except (TypeError, ValueError):
                raise ConfigError(f"{name}={value!r} must be a sequence of integers") from None
        if self.conv_strides is not None:
            try:
                strides = tuple(
                    (int(s), int(s)) if isinstance(s, int) else (int(s[0]), int(s[1]))
                    for s in self.conv_strides
                )
            except (TypeError, ValueError, IndexError):
                raise ConfigError(
                    f"conv_strides={self.conv_strides!r} must be a sequence of (int, int)"
                ) from None
            object.__setattr__(self, "conv_strides", strides)
        if self.logvar_bounds is not None:
            try:
                low, high = (float(v) for v in self.logvar_bounds)
            except (TypeError, ValueError):
                raise ConfigError(
                    f"logvar_bounds={self.logvar_bounds!r} must be (low, high) or None"
                ) from None
            if not low < high:
                raise ConfigError(f"logvar_bounds={self.logvar_bounds!r} needs low < high")
            object.__setattr__(self, "logvar_bounds", (low, high))
        self._validate()

    def _validate(self) -> None:
        def allowed(name: str, options: tuple[str, ...]) -> None:
            if getattr(self, name) not in options:
                raise ConfigError(
                    f"{name}={getattr(self, name)!r} is not allowed: one of {', '.join(options)}"
                )

        allowed("architecture", ARCHITECTURES)
        allowed("likelihood", LIKELIHOODS)
        object.__setattr__(self, "objective", canonical_objective(self.objective))
        allowed("objective", OBJECTIVES)
        allowed("activation", ACTIVATIONS)
        allowed("condition_encoding", CONDITION_ENCODINGS)
        if self.input_shape is not None and (not self.input_shape or min(self.input_shape) < 1):
            raise ConfigError(
                f"input_shape={self.input_shape} must be a non-empty tuple of positive integers"
            )
        if self.latent_dim < 1:
            raise ConfigError(f"latent_dim={self.latent_dim} must be a positive integer")
        if self.latent_dim > MAX_LATENT_DIM:
            raise ConfigError(f"latent_dim={self.latent_dim} is out of range: allowed 1..{MAX_LATENT_DIM} latents")
        for name in ("hidden_sizes", "conv_channels", "discriminator_hidden"):
            if any(v < 1 for v in getattr(self, name)):
                raise ConfigError(f"{name}={getattr(self, name)} must hold positive integers")
            if any(v > MAX_LAYER_WIDTH for v in getattr(self, name)):
                raise ConfigError(f"{name}={getattr(self, name)} is out of range: allowed widths 1..{MAX_LAYER_WIDTH}")
        for name in ("gru_hidden", "condition_embedding_dim"):
            if getattr(self, name) > MAX_LAYER_WIDTH:
                raise ConfigError(f"{name}={getattr(self, name)} is out of range: allowed 1..{MAX_LAYER_WIDTH}")
        if any(v < 2 for v in self.condition_classes):
            raise ConfigError(f"condition_classes={self.condition_classes} must hold integers >= 2")
        if self.linear_skip and self.architecture != "mlp":
            raise ConfigError("linear_skip=True needs architecture='mlp'")
        self._validate_family()
        if self.architecture == "conv":
            if self.input_shape is not None and len(self.input_shape) not in (2, 3):
                raise ConfigError(
                    f"input_shape={self.input_shape} must be (height, width) or (channels, height, width) "
                    "for architecture='conv'"
                )
            if not self.conv_channels:
                raise ConfigError(
                    "conv_channels=() must hold at least one layer for architecture='conv'"
                )
            if self.conv_kernel_size < 1 or self.conv_kernel_size % 2 == 0:
                raise ConfigError(
                    f"conv_kernel_size={self.conv_kernel_size} must be a positive odd integer"
                )
            if self.conv_strides is not None and len(self.conv_strides) != len(self.conv_channels):
                raise ConfigError(
                    f"conv_strides has {len(self.conv_strides)} entries, conv_channels {len(self.conv_channels)}: "
                    "they must match"
                )
            if self.conv_strides is not None and min(min(s) for s in self.conv_strides) < 1:
                raise ConfigError(f"conv_strides={self.conv_strides} must be positive")
        for name in ("beta", "capacity_max", "tc_alpha", "tc_gamma"):
            if not float(getattr(self, name)) >= 0.0:
                raise ConfigError(f"{name}={getattr(self, name)} must be >= 0")
        if not self.output_variance > 0.0:
            raise ConfigError(f"output_variance={self.output_variance} must be > 0")
        if self.capacity_steps < 1:
            raise ConfigError(f"capacity_steps={self.capacity_steps} must be a positive integer")
        if self.dataset_size is not None and self.dataset_size < 1:
            raise ConfigError(f"dataset_size={self.dataset_size} must be a positive integer")
        if self.condition_embedding_dim < 1:
            raise ConfigError(
                f"condition_embedding_dim={self.condition_embedding_dim} must be positive"
            )

    def _validate_family(self) -> None:
        """Checks of the GRU, the hit/velocity likelihood, the output and the condition inputs."""
        if self.output_activation not in OUTPUT_ACTIVATIONS:
            raise ConfigError(
                f"output_activation={self.output_activation!r} is not allowed: one of {', '.join(OUTPUT_ACTIVATIONS)}"
            )
        if self.architecture == "gru" and self.input_shape is not None and len(self.input_shape) != 2:
            raise ConfigError(
                f"input_shape={self.input_shape} must be (n_steps, n_features) for architecture='gru'"
            )
        if self.gru_hidden < 1:
            raise ConfigError(f"gru_hidden={self.gru_hidden} must be a positive integer")
        if self.likelihood in ("hit_velocity", "hvo"):
            if self.architecture == "conv":
                raise ConfigError(
                    f"likelihood={self.likelihood!r} needs architecture 'mlp' or 'gru', not 'conv'"
                )
            if self.learn_variance:
                raise ConfigError("learn_variance=True is for likelihood='gaussian' only")
        if self.encoder_input not in ENCODER_INPUTS:
            raise ConfigError(f"encoder_input={self.encoder_input!r} is not allowed: one of {', '.join(ENCODER_INPUTS)}")
        if self.encoder_input == "hits" and self.likelihood != "hvo":
            raise ConfigError(f"encoder_input='hits' (Humanize: the encoder reads the hits only) needs likelihood "
                              f"'hvo', not {self.likelihood!r}")
        if self.output_activation != "identity" and self.likelihood != "gaussian":
            raise ConfigError(
                f"output_activation={self.output_activation!r} is for likelihood='gaussian' only "
                f"(likelihood={self.likelihood!r} has its own output)"
            )
        if self.condition_continuous < 0:
            raise ConfigError(
                f"condition_continuous={self.condition_continuous} must be a non-negative integer"
            )
        if self.architecture == "shift":
            assert self.shift is not None
            self.shift.check(self.input_shape, self.latent_dim)
            if self.likelihood != "gaussian" or self.output_activation != "identity" or self.learn_variance:
                raise ConfigError("architecture='shift' needs likelihood 'gaussian' with a fixed variance "
                                  "and output_activation 'identity'")
            if self.is_conditional:
                raise ConfigError("architecture='shift' takes no conditions")
        elif self.shift is not None:
            raise ConfigError(f"shift options are for architecture='shift', not {self.architecture!r}")

    # ------------------------------------------------------------------ derived
    @property
    def n_features(self) -> int:
        """Number of scalar features of one item (product of ``input_shape``)."""
        if self.input_shape is None:
            raise ConfigError("input_shape is not set: the model's features are not known yet")
        n = 1
        for s in self.input_shape:
            n *= s
        return n

    @property
    def is_conditional(self) -> bool:
        """True when the model takes conditions ``c`` (labels or continuous inputs)."""
        return bool(self.condition_classes) or self.condition_continuous > 0

    @property
    def n_conditions(self) -> int:
        """Columns of ``c``: one per label, then one per continuous input."""
        return len(self.condition_classes) + self.condition_continuous

    @property
    def likelihood_channels(self) -> int:
        """Values per feature at the encoder input and the decoder output (2 for ``hit_velocity``, 3 for ``hvo``)."""
        return {"hit_velocity": 2, "hvo": 3}.get(self.likelihood, 1)

    @property
    def item_shape(self) -> tuple[int, ...]:
        """Shape of one item the model reads: ``input_shape``, or ``(2, *input_shape)`` for ``hvo``
        (velocities and offsets).

        Examples
        --------
        >>> from timbrespace.models import VAEConfig
        >>> VAEConfig(input_shape=(16, 9), architecture="gru", likelihood="hvo").item_shape
        (2, 16, 9)
        """
        if self.input_shape is None:
            raise ConfigError("input_shape is not set: the model's features are not known yet")
        return (2, *self.input_shape) if self.likelihood == "hvo" else tuple(self.input_shape)

    @property
    def strides(self) -> tuple[tuple[int, int], ...]:
        """Per-layer conv strides (the default ``(2, 2)`` filled in)."""
        return (
            self.conv_strides
            if self.conv_strides is not None
            else ((2, 2),) * len(self.conv_channels)
        )

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples as lists)."""
        out = dataclasses.asdict(self)
        return json.loads(json.dumps(out))

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> VAEConfig:
        """Rebuild a config from :meth:`to_dict` output.

        Raises
        ------
        ConfigError
            On unknown or missing keys, or invalid values.
        """
        return config_from_dict(cls, data, "model config")

    def to_json(self) -> str:
        """JSON text of :meth:`to_dict` (sorted keys)."""
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> VAEConfig:
        """Inverse of :meth:`to_json`."""
        return config_from_json(cls, text, "model config")
