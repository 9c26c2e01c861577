"""The shift architecture's options: :class:`ShiftSpec` (``VAEConfig.shift``).

Validated, frozen and JSON-friendly; the modules that build the model from it are
:mod:`timbrespace.models.shift` (head, encoders, decoders), :mod:`timbrespace.models.warp`
(inharmonicity as a warp) and :mod:`timbrespace.models.harmonic` (the harmonic decoder).
Research record: ``docs/results/models_that_learn.md``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

from timbrespace.errors import ConfigError

__all__ = ["ShiftSpec", "SHIFT_DECODERS", "SHIFT_ENCODERS", "LINEAR_DECODERS", "HARMONIC_WEIGHT", "F0_CURVE_STAGES"]

SHIFT_DECODERS = ("full", "separable", "direct", "harmonic")
LINEAR_DECODERS = ("direct", "harmonic")
F0_CURVE_STAGES = ("training", "refinement")
HARMONIC_WEIGHT = 0.84  # Hermes (1988)
SHIFT_ENCODERS = ("mlp", "factored")


@dataclass(frozen=True)
class ShiftSpec:
    """Options of ``VAEConfig(architecture="shift")`` (see the module docstring).

    Parameters
    ----------
    input_offset, input_scale : float, optional
        The model sees ``(x - input_offset) / input_scale``; ``None``: the training
        items' minimum and range (filled in by ``fit``).
    head_channels : tuple of int
        Channels of the head's hidden 1-D conv layers.
    head_kernel_size : int
        Odd kernel size of the head's conv layers, in bins.
    head_init_gain : float
        Scale of the head's last layer at initialisation (0: every item at the centre).
    detach_shift : bool
        Train the heads (shift, and warp with ``warp``) by their equivariance losses only.
    equivariance_weight : float
        Weight of the equivariance loss in the objective.
    equivariance_shift_bins : float
        Translations δ of the equivariance loss are uniform in ±this many bins.
    encoder : {"mlp", "factored"}
    envelope_latents : int
        ``factored``: latents (the last ones) given by the level envelope.
    spectrum_window_bins : (int, int), optional
        ``factored``: rows of the aligned spectrum, relative to the fundamental, that the
        spectrum encoder sees (a range inside the input at every shift, so that band
        edges cannot tell it the shift); ``None``: all rows.
    encoder_time_pool : int
        ``mlp``: frames averaged before the content MLP.
    decoder : {"full", "separable", "direct", "harmonic"}
    shift_to_decoder : bool
        Also give ``z[0]`` to the decoder MLPs (effects tied to absolute frequency).
    decoder_hidden_sizes : tuple of int, optional
        ``harmonic``: hidden layers of the decoder's MLP; ``None``: the model's
        ``hidden_sizes`` reversed.
    margin_bins : int, optional
        Template rows beyond the input on each side (default half the view).
    shift_scale_bins : float, optional
        Bins per unit of ``z[0]`` (default a quarter of the view).
    top_db : float, optional
        Clip the decoded dB like the features: ``max(out, max(out) - top_db)``.
    envelope_reference_frame : int, optional
        ``separable``: subtract the envelope at this frame.
    initial_logvar : float
        Posterior log-variances at initialisation.
    input_bin_hz : float, optional
        The input is a linear-frequency spectrogram whose row ``k`` is at
        ``k * input_bin_hz`` Hz (needs ``decoder="direct"`` or ``"harmonic"``).
    log_fmin_hz, log_bins_per_octave, log_n_bins :
        The log-frequency view of a linear input.
    head_harmonic_sum : int
        ``H`` partials in the head's subharmonic-sum input (0: the view only).
    n_harmonics : int
        ``harmonic``: partials rendered per item.
    noise_bands : int
        ``harmonic``: bands of the noise floor added in power (0: none).
    inharmonicity : bool
        ``harmonic``: partials stretched by a per-item stiffness ``B`` from the content.
    f0_curve_cents : float
        ``harmonic``: the decoder also gives, per frame, a deviation of f0 from the note's
        (``z[0]``) of at most this many cents (``f0_curve_cents * tanh(out)``, flat at
        initialisation): vibrato, glides and the pitch drift of an attack; 0: one f0 per
        item (:func:`~timbrespace.models.harmonic.harmonic_power`).
    f0_curve_stage : {"training", "refinement"}
        ``harmonic`` with ``f0_curve_cents``: when the curve starts to move. ``"training"``:
        from the first VAE step. ``"refinement"``: held flat (one f0 per item) through VAE
        training and trained in the decoder refinement only (needs ``refine_epochs`` > 0).
        Trained from the start the curve can saturate at ``±f0_curve_cents`` where ``tanh``
        has no gradient (``real-notes-weak`` seed 3 in phase 5: 16.5 % of frames).
    harmonic_f0_offset_bins : float, optional
        ``harmonic``: the offset ``b`` of ``log2 f0`` in log-view bins; ``None``: calibrated
        during training (:meth:`~timbrespace.models.harmonic.HarmonicDecoder.calibrate`).
    warp : bool
        Inharmonicity as a geometric latent ``z[1] = B̂ / (warp_stiffness_max / 4)``
        (:mod:`timbrespace.models.warp`): a warp head on the aligned, time-averaged view,
        trained by warp equivariance alone (detached with ``detach_shift``); the decoder
        warps its template by ``u -> u + (b / 2) log2(1 + B 4^(u / b))`` (partial ``n`` to
        ``n sqrt(1 + B n^2)``, Fletcher 1964) before translating it.
    warp_bins_per_octave : float, optional
        Bins per octave ``b`` of the view (``None``: ``log_bins_per_octave`` for a linear input).
    warp_origin_bins : float
        The fundamental's row in the aligned view, from its centre (the shift head lands
        on the fundamental: median -0.25 bins on ``additive-4factor-weak``, seed 0).
    warp_stiffness_max, warp_candidates :
        The head's stiffness grid: an odd count, evenly in ``±warp_stiffness_max``.
    warp_equivariance_weight, warp_equivariance_stiffness :
        Weight of the warp equivariance loss; its ``Δ`` are uniform in ``±this``.
    level : bool
        Loudness as a geometric latent (after the shift and warp latents, index
        :attr:`level_index`): ``z = (peak - level_offset_db) / level_scale_db`` with
        ``peak`` the item's maximum in dB over bins and frames; the content encoder sees
        the input lowered by ``peak - level_offset_db`` (a gain is a translation along
        the dB axis, as a transposition is along log-frequency), and the decoder adds
        ``level_scale_db * z`` dB to its output (DDSP's loudness feature, Engel et al. 2020).
    level_to_decoder : bool
        With ``level``: also give the level latent to the decoder MLPs (timbre that
        changes with loudness). ``False``: the level is a pure gain, so a note decodes the
        same at every loudness up to that gain, and a loudness the training set lacks for
        a sound generalises exactly; loudness-dependent timbre is then left to the
        content latents.
    level_offset_db, level_scale_db : float, optional
        ``None``: the mean and standard deviation of the training items' peaks (filled in by
        ``fit``).
    """

    input_offset: float | None = None
    input_scale: float | None = None
    head_channels: tuple[int, ...] = (16, 16)
    head_kernel_size: int = 9
    head_init_gain: float = 0.0
    detach_shift: bool = True
    equivariance_weight: float = 1.0
    equivariance_shift_bins: float = 20.0
    encoder: Literal["mlp", "factored"] = "mlp"
    envelope_latents: int = 0
    spectrum_window_bins: tuple[int, int] | None = None
    encoder_time_pool: int = 1
    decoder: Literal["full", "separable", "direct", "harmonic"] = "full"
    shift_to_decoder: bool = True
    decoder_hidden_sizes: tuple[int, ...] | None = None
    margin_bins: int | None = None
    shift_scale_bins: float | None = None
    top_db: float | None = None
    envelope_reference_frame: int | None = None
    initial_logvar: float = -6.0
    input_bin_hz: float | None = None
    log_fmin_hz: float = 55.0
    log_bins_per_octave: int = 36
    log_n_bins: int = 216
    head_harmonic_sum: int = 0
    n_harmonics: int = 32
    noise_bands: int = 0
    inharmonicity: bool = False
    f0_curve_cents: float = 0.0
    f0_curve_stage: str = "training"
    harmonic_f0_offset_bins: float | None = None
    warp: bool = False
    warp_bins_per_octave: float | None = None
    warp_origin_bins: float = 0.0
    warp_stiffness_max: float = 0.01
    warp_candidates: int = 41
    warp_equivariance_weight: float = 1.0
    warp_equivariance_stiffness: float = 0.004
    level: bool = False
    level_offset_db: float | None = None
    level_scale_db: float | None = None
    level_to_decoder: bool = True

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "head_channels", tuple(int(v) for v in self.head_channels))
            if self.decoder_hidden_sizes is not None:
                object.__setattr__(self, "decoder_hidden_sizes", tuple(int(v) for v in self.decoder_hidden_sizes))
            if self.spectrum_window_bins is not None:
                lo, hi = (int(v) for v in self.spectrum_window_bins)
                object.__setattr__(self, "spectrum_window_bins", (lo, hi))
        except (TypeError, ValueError):
            raise ConfigError(
                f"shift.head_channels={self.head_channels!r}, shift.decoder_hidden_sizes="
                f"{self.decoder_hidden_sizes!r} and shift.spectrum_window_bins={self.spectrum_window_bins!r} "
                "must be integers"
            ) from None
        if self.encoder not in SHIFT_ENCODERS:
            raise ConfigError(f"shift.encoder={self.encoder!r} is not allowed: one of {', '.join(SHIFT_ENCODERS)}")
        if self.decoder not in SHIFT_DECODERS:
            raise ConfigError(f"shift.decoder={self.decoder!r} is not allowed: one of {', '.join(SHIFT_DECODERS)}")
        if self.head_kernel_size < 1 or self.head_kernel_size % 2 == 0:
            raise ConfigError(f"shift.head_kernel_size={self.head_kernel_size} must be a positive odd integer")
        if self.spectrum_window_bins is not None and not self.spectrum_window_bins[0] < self.spectrum_window_bins[1]:
            raise ConfigError(f"shift.spectrum_window_bins={self.spectrum_window_bins} needs low < high")
        if self.input_scale is not None and not self.input_scale > 0:
            raise ConfigError(f"shift.input_scale={self.input_scale} must be > 0")
        if self.input_bin_hz is not None and (not self.input_bin_hz > 0 or self.decoder not in LINEAR_DECODERS):
            raise ConfigError("shift.input_bin_hz (a linear-frequency input) must be > 0 and needs decoder "
                              f"'direct' or 'harmonic', not {self.decoder!r}")
        if self.decoder == "harmonic" and self.input_bin_hz is None:
            raise ConfigError("shift.decoder='harmonic' renders STFT bins: set shift.input_bin_hz = sample_rate / n_fft")
        if self.n_harmonics < 1 or self.noise_bands < 0 or self.head_harmonic_sum < 0:
            raise ConfigError(f"shift.n_harmonics={self.n_harmonics} must be >= 1, shift.noise_bands="
                              f"{self.noise_bands} and shift.head_harmonic_sum={self.head_harmonic_sum} >= 0")
        if not 0.0 <= self.f0_curve_cents <= 1200.0:
            raise ConfigError(f"shift.f0_curve_cents={self.f0_curve_cents} must be in [0, 1200] (cents)")
        if self.f0_curve_stage not in F0_CURVE_STAGES:
            raise ConfigError(f"shift.f0_curve_stage={self.f0_curve_stage!r} is not allowed: one of "
                              f"{', '.join(F0_CURVE_STAGES)}")
        harmonic_only = {"f0_curve_cents": self.f0_curve_cents > 0, "decoder_hidden_sizes": self.decoder_hidden_sizes}
        for name, used in harmonic_only.items():
            if used and self.decoder != "harmonic":
                raise ConfigError(f"shift.{name} needs shift.decoder='harmonic', not {self.decoder!r}")
        if self.decoder_hidden_sizes is not None and (not self.decoder_hidden_sizes
                                                      or min(self.decoder_hidden_sizes) < 1):
            raise ConfigError(f"shift.decoder_hidden_sizes={list(self.decoder_hidden_sizes)} must be positive sizes")
        for name in ("equivariance_weight", "equivariance_shift_bins", "warp_equivariance_weight",
                     "warp_equivariance_stiffness"):
            if not getattr(self, name) >= 0:
                raise ConfigError(f"shift.{name}={getattr(self, name)} must be >= 0")
        if self.level_scale_db is not None and not self.level_scale_db > 0:
            raise ConfigError(f"shift.level_scale_db={self.level_scale_db} must be > 0")
        if self.encoder_time_pool < 1 or self.envelope_latents < 0:
            raise ConfigError("shift.encoder_time_pool must be >= 1 and shift.envelope_latents >= 0")
        if self.warp:
            if self.bins_per_octave is None or not self.bins_per_octave > 0:
                raise ConfigError(f"shift.warp needs shift.warp_bins_per_octave > 0, got {self.warp_bins_per_octave}")
            if not self.warp_stiffness_max > 0 or self.warp_candidates < 3 or self.warp_candidates % 2 == 0:
                raise ConfigError(
                    f"shift.warp_stiffness_max={self.warp_stiffness_max} must be > 0 and "
                    f"shift.warp_candidates={self.warp_candidates} an odd integer >= 3"
                )
            if self.decoder == "direct":
                raise ConfigError("shift.warp needs decoder 'full' or 'separable' (a template to warp)")

    @property
    def n_geometric(self) -> int:
        """Latents set by heads: ``z[0]`` (shift), ``z[1]`` (warp) with ``warp``, then the level with ``level``."""
        return 1 + int(self.warp) + int(self.level)

    @property
    def level_index(self) -> int:
        """Index of the level latent (meaningful with ``level``)."""
        return 1 + int(self.warp)

    def decoder_columns(self, latent_dim: int, *, with_shift: bool) -> list[int]:
        """Latents a decoder MLP reads: all but ``z[0]`` unless ``with_shift``, and not the level without ``level_to_decoder``."""
        dropped = set() if with_shift else {0}
        if self.level and not self.level_to_decoder:
            dropped.add(self.level_index)
        return [i for i in range(latent_dim) if i not in dropped]

    @property
    def bins_per_octave(self) -> float | None:
        """Bins per octave of the log-frequency view the warp acts on."""
        if self.warp_bins_per_octave is not None:
            return float(self.warp_bins_per_octave)
        return None if self.input_bin_hz is None else float(self.log_bins_per_octave)

    def check(self, input_shape: tuple[int, ...] | None, latent_dim: int) -> None:
        """Checks that need the model's input shape and latent count.

        Raises
        ------
        ConfigError
        """
        n_geo = self.n_geometric
        if latent_dim < n_geo + 1:
            raise ConfigError(
                f"latent_dim={latent_dim} must be >= {n_geo + 1} for architecture='shift' "
                f"({n_geo} geometric latents + content)"
            )
        if self.encoder == "factored" and not 1 <= self.envelope_latents <= latent_dim - n_geo - 1:
            raise ConfigError(
                f"shift.envelope_latents={self.envelope_latents} must be in 1..latent_dim-{n_geo + 1}="
                f"{latent_dim - n_geo - 1} for shift.encoder='factored'"
            )
        if input_shape is None:
            return
        if len(input_shape) != 2:
            raise ConfigError(f"input_shape={input_shape} must be (n_bins, n_frames) for architecture='shift'")
        n_bins, n_frames = input_shape
        if n_frames % self.encoder_time_pool:
            raise ConfigError(f"shift.encoder_time_pool={self.encoder_time_pool} must divide n_frames={n_frames}")
        n_log = self.n_log(n_bins)
        if self.spectrum_window_bins is not None:
            lo, hi = self.spectrum_window_bins
            centre = round((n_log - 1) / 2)
            if centre + lo < 0 or centre + hi > n_log:
                raise ConfigError(
                    f"shift.spectrum_window_bins={self.spectrum_window_bins} reaches outside the "
                    f"{n_log}-bin view around its centre {centre}"
                )

    def n_log(self, n_bins: int) -> int:
        """Rows of the log-frequency view the head and the encoder see."""
        return n_bins if self.input_bin_hz is None else self.log_n_bins

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (tuples as lists)."""
        out = dataclasses.asdict(self)
        out["head_channels"] = list(self.head_channels)
        if self.decoder_hidden_sizes is not None:
            out["decoder_hidden_sizes"] = list(self.decoder_hidden_sizes)
        if self.spectrum_window_bins is not None:
            out["spectrum_window_bins"] = list(self.spectrum_window_bins)
        return out

    @classmethod
    def from_value(cls, value: Any) -> ShiftSpec:
        """A spec from a spec or a mapping of its fields.

        Raises
        ------
        ConfigError
            Unknown keys or bad values.
        """
        if isinstance(value, cls):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"shift must be a mapping of shift options, got {type(value).__name__}")
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(value) - known)
        if unknown:
            raise ConfigError(f"unknown shift options {unknown}; allowed: {', '.join(sorted(known))}")
        return cls(**value)
