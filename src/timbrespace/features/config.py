"""Configuration and result types of the spectral front end.

:class:`FeatureConfig` describes one representation (transform, output form and
normalisation). It is a frozen pydantic model; invalid values raise
:class:`FeatureConfigError` (a :class:`~timbrespace.errors.ParameterError` and a
:class:`~timbrespace.errors.ConfigError`) whose message names the parameter, the value
and what is allowed, e.g. ``hop_length=0 must be a positive integer``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator

from timbrespace.errors import ConfigError, ParameterError
from timbrespace.utils.fields import format_validation_error

__all__ = [
    "FeatureConfig",
    "FeatureConfigError",
    "FeatureResult",
    "InversionResult",
    "KINDS",
    "OUTPUTS",
]

KINDS = ("stft", "mdct", "cqt", "mel", "nsgt")
# Allowed ``output`` per kind; the first one is the default.
OUTPUTS: dict[str, tuple[str, ...]] = {
    "stft": ("db", "magnitude", "db_phase", "complex"),
    "mel": ("db", "magnitude"),
    "cqt": ("db", "magnitude", "complex"),
    "mdct": ("real",),
    "nsgt": ("complex", "db", "magnitude"),
}
_DEFAULT_HOP = {"stft": 4, "mel": 4, "mdct": 2, "nsgt": 4}  # n_fft // value
_DEFAULT_WINDOW = {"stft": "hann", "mel": "hann", "cqt": "hann", "mdct": "sine", "nsgt": "hann"}


class FeatureConfigError(ParameterError, ConfigError):
    """An invalid :class:`FeatureConfig` value (both a parameter and a config error)."""


class FeatureConfig(BaseModel):
    """One spectral representation: transform, output form and normalisation.

    Parameters
    ----------
    kind : {"stft", "mdct", "cqt", "mel", "nsgt"}
        Transform. ``stft``/``mel`` use ``n_fft``, ``hop_length``, ``win_length``,
        ``window``, ``center``, ``pad_mode`` like librosa; ``mdct`` uses a frame of
        ``n_fft`` samples (``n_fft // 2`` coefficients, hop ``n_fft // 2``) with a
        ``sine`` or ``kbd`` window; ``cqt`` is :func:`librosa.cqt` (its values to float
        rounding, computed on the whole batch: ``features._cqt``); ``nsgt`` is the
        invertible constant-Q non-stationary Gabor transform of the ``nsgt`` package.
    n_fft : int
        FFT size (samples), default 1024. For ``mdct`` the frame length (even). For
        ``cqt``/``nsgt`` magnitudes, the STFT their inverse retrieves phase on (with
        ``win_length`` and ``window``, hop ``n_fft // 4``).
    hop_length : int, optional
        Frame step (samples). Default ``n_fft // 4`` (``n_fft // 2`` for ``mdct``, fixed;
        512 for ``cqt``). Unused by ``nsgt``.
    win_length : int, optional
        Window length (samples), ``<= n_fft``; default ``n_fft``.
    window : str, optional
        Window name for :func:`scipy.signal.get_window` (default ``"hann"``); for
        ``mdct`` ``"sine"`` (default) or ``"kbd"`` (Kaiser-Bessel-derived, ``kbd_alpha``).
    center, pad_mode :
        As in :func:`librosa.stft`: frames centred on ``t = k * hop_length`` with the
        signal padded by ``n_fft // 2`` (``"constant"``: zeros, or ``"reflect"``).
    output : str, optional
        ``stft``: ``"db"`` (default), ``"magnitude"``, ``"db_phase"`` (dB rows then phase
        rows in radians, as seed 000 stacked them), ``"complex"`` (real rows then
        imaginary rows). ``mel``/``cqt``: ``"db"``/``"magnitude"`` (``cqt`` also
        ``"complex"``). ``mdct``: ``"real"``. ``nsgt``: ``"complex"`` (default,
        exactly invertible), ``"db"``, ``"magnitude"``.
    top_db : float or None
        dB floor: values are ``20 log10(max(|X|, amin))``, re magnitude 1.0 (not a
        full-scale sine: its STFT or CQT magnitudes exceed 1, so levels above 0 dB occur), and are
        clipped at ``top_db`` below each item's maximum (librosa's
        ``amplitude_to_db(S, ref=1.0, amin=amin, top_db=top_db)`` applied per item).
        The reference is absolute, so ``10 ** (db / 20)`` inverts it without stored
        per-item references. ``None``: no floor other than ``amin``.
    amin : float
        Smallest magnitude before the logarithm (default 1e-5, i.e. -100 dBFS).
    single_frame : bool
        ``stft``/``mdct`` only: one frame from the first ``n_fft`` samples, no centring
        (seed 000), giving ``(n_items, n_bins)`` instead of ``(n_items, n_bins, n_frames)``.
    n_bins : int, optional
        ``stft``: keep only the first ``n_bins`` frequency rows (seed 002 dropped the
        Nyquist row: 512 of 513; seed 000 kept 1024 of 2049); the inverse pads zeros.
        ``cqt``: number of CQT bins (default 84).
    n_mels, fmin_hz, fmax_hz, bins_per_octave :
        Mel bands (``mel``, default 128); lowest/highest frequency in Hz (``fmin_hz``
        default 0 for ``mel``, 32.70 Hz (C1) for ``cqt``/``nsgt``; ``fmax_hz`` default
        Nyquist for ``mel``, ``0.45 * sample_rate`` for ``nsgt``); bins per octave
        (``cqt``/``nsgt``, default 12).
    kbd_alpha : float
        Kaiser-Bessel-derived window shape (``mdct`` with ``window="kbd"``), default 4.
    n_samples : int, optional
        Fixed item length: audio is zero-padded or trimmed to this many samples before
        the transform, so every item has the same number of frames (seed 002: 16317
        samples, 0.74 s at 22050 Hz, 64 frames at hop 256). ``None``: the audio's length.
    normalization : {"none", "minmax_item", "standardize"}
        ``minmax_item``: each item scaled to [0, 1] with its min and max stored (seed
        002; a constant item gives zeros). ``standardize``: per-row (bin) mean and
        standard deviation over items and frames, fitted on the data given (the train
        split for a dataset) and stored.

    Raises
    ------
    FeatureConfigError
        On any invalid value (subclass of ``ParameterError`` and ``ConfigError``).

    Examples
    --------
    >>> from timbrespace.features import FeatureConfig
    >>> FeatureConfig(kind="stft", n_fft=1024, hop_length=256, output="db").hop_length
    256
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["stft", "mdct", "cqt", "mel", "nsgt"] = "stft"
    n_fft: int = 1024
    hop_length: int | None = None
    win_length: int | None = None
    window: str | None = None
    center: bool = True
    pad_mode: Literal["constant", "reflect"] = "constant"
    output: str | None = None
    top_db: float | None = 80.0
    amin: float = 1e-5
    single_frame: bool = False
    n_bins: int | None = None
    n_mels: int = 128
    fmin_hz: float | None = None
    fmax_hz: float | None = None
    bins_per_octave: int = 12
    kbd_alpha: float = 4.0
    n_samples: int | None = None
    normalization: Literal["none", "minmax_item", "standardize"] = "none"

    def __init__(self, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise FeatureConfigError(format_validation_error(exc, model=FeatureConfig)) from None

    @model_validator(mode="before")
    @classmethod
    def _fill_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        data = dict(data)
        kind = data.get("kind", "stft")
        if kind not in KINDS:
            return data  # the Literal check reports it
        n_fft = data.get("n_fft", 1024)
        if data.get("output") is None:
            data["output"] = OUTPUTS[kind][0]
        if data.get("window") is None:
            data["window"] = _DEFAULT_WINDOW[kind]
        if isinstance(n_fft, int) and n_fft > 0:
            if data.get("win_length") is None and kind != "mdct":
                data["win_length"] = n_fft
            if data.get("hop_length") is None:
                data["hop_length"] = 512 if kind == "cqt" else max(1, n_fft // _DEFAULT_HOP[kind])
        if kind == "cqt" and data.get("n_bins") is None:
            data["n_bins"] = 84
        if kind in ("cqt", "nsgt") and data.get("fmin_hz") is None:
            data["fmin_hz"] = 32.70
        return data

    @model_validator(mode="after")
    def _check(self) -> FeatureConfig:
        def positive_int(name: str, value: int | None) -> None:
            if value is not None and value <= 0:
                raise ValueError(f"{name}={value} must be a positive integer")

        positive_int("n_fft", self.n_fft)
        positive_int("hop_length", self.hop_length)
        positive_int("win_length", self.win_length)
        positive_int("n_bins", self.n_bins)
        positive_int("n_mels", self.n_mels)
        positive_int("bins_per_octave", self.bins_per_octave)
        positive_int("n_samples", self.n_samples)
        if self.win_length is not None and self.win_length > self.n_fft:
            raise ValueError(
                f"n_fft={self.n_fft} is smaller than win_length={self.win_length}: "
                "win_length must be <= n_fft"
            )
        allowed = OUTPUTS[self.kind]
        if self.output not in allowed:
            raise ValueError(f"output={self.output!r} is not available for kind={self.kind!r}: allowed {allowed}")
        if self.top_db is not None and not self.top_db > 0:
            raise ValueError(f"top_db={self.top_db} must be > 0 dB or None")
        if not self.amin > 0:
            raise ValueError(f"amin={self.amin} must be > 0")
        if self.single_frame and self.kind not in ("stft", "mdct"):
            raise ValueError(f"single_frame=True is only available for kind 'stft' or 'mdct', not {self.kind!r}")
        if self.kind == "mel" and self.n_mels > self.n_fft // 2 + 1:
            raise ValueError(
                f"n_mels={self.n_mels} exceeds the n_fft // 2 + 1 = {self.n_fft // 2 + 1} frequency bins of "
                f"n_fft={self.n_fft}: a mel band needs at least one bin; use n_mels <= {self.n_fft // 2 + 1} "
                "or a larger n_fft"
            )
        if self.kind != "mdct":
            _check_window(self.window)
        if self.kind == "stft" and self.n_bins is not None and self.n_bins > self.n_fft // 2 + 1:
            raise ValueError(f"n_bins={self.n_bins} exceeds n_fft // 2 + 1 = {self.n_fft // 2 + 1} for n_fft={self.n_fft}")
        if self.kind == "mdct":
            if self.n_fft % 2:
                raise ValueError(f"n_fft={self.n_fft} must be even for kind='mdct'")
            if self.hop_length != self.n_fft // 2:
                raise ValueError(f"hop_length={self.hop_length} must be n_fft // 2 = {self.n_fft // 2} for kind='mdct'")
            if self.window not in ("sine", "kbd"):
                raise ValueError(f"window={self.window!r} is not an MDCT window: allowed 'sine', 'kbd'")
        if self.fmin_hz is not None and self.fmin_hz < 0:
            raise ValueError(f"fmin_hz={self.fmin_hz} must be >= 0 Hz")
        if self.fmax_hz is not None and self.fmin_hz is not None and self.fmax_hz <= self.fmin_hz:
            raise ValueError(f"fmax_hz={self.fmax_hz} must be > fmin_hz={self.fmin_hz} Hz")
        if self.kind in ("cqt", "nsgt") and not (self.fmin_hz or 0) > 0:
            raise ValueError(f"fmin_hz={self.fmin_hz} must be > 0 Hz for kind={self.kind!r}")
        return self

    @property
    def magnitude_scale(self) -> Literal["db", "magnitude"] | None:
        """How the features relate to the linear magnitude ``|X|``: ``"db"`` (``20 log10 |X|``),
        ``"magnitude"`` (``|X|``), or ``None`` (phase or complex rows, or a normalisation)."""
        if self.normalization != "none" or self.output not in ("db", "magnitude"):
            return None
        return "db" if self.output == "db" else "magnitude"

    def check_audio(self, n_samples: int, sample_rate: int) -> None:
        """Refuse a config that cannot describe items of ``n_samples`` at ``sample_rate`` Hz.

        Checked before anything is computed or written: a frame (``n_fft``) longer than
        the items (for ``cqt`` and ``nsgt``, which do not use it, only when given), a
        frequency bound at or above Nyquist (``sample_rate / 2``), where a mel or
        constant-Q band holds no energy and every value would sit at the floor, and mel
        filters that hold no FFT bin (librosa's "Empty filters detected").

        Raises
        ------
        ParameterError
            Naming the field, its value and what is allowed.
        """
        uses_n_fft = self.kind in ("stft", "mel", "mdct")
        if self.n_fft > n_samples and (uses_n_fft or "n_fft" in self.model_fields_set):
            unused = "" if uses_n_fft else f" (kind={self.kind!r} does not use n_fft: leave it out)"
            raise ParameterError(
                f"n_fft={self.n_fft} is longer than the items ({n_samples} samples); choose n_fft <= {n_samples}"
                + unused
            )
        nyquist = sample_rate / 2
        if self.kind in ("mel", "cqt", "nsgt") and self.fmin_hz is not None and self.fmin_hz >= nyquist:
            raise ParameterError(f"fmin_hz={self.fmin_hz:g} is at or above Nyquist ({nyquist:g} Hz at "
                                 f"{sample_rate} Hz): allowed below {nyquist:g} Hz")
        if self.kind in ("mel", "nsgt") and self.fmax_hz is not None and self.fmax_hz > nyquist:
            raise ParameterError(f"fmax_hz={self.fmax_hz:g} is above Nyquist ({nyquist:g} Hz at "
                                 f"{sample_rate} Hz): allowed up to {nyquist:g} Hz")
        if self.kind == "mel":
            n_empty = _empty_mel_filters(sample_rate, self.n_fft, self.n_mels, self.fmin_hz or 0.0, self.fmax_hz)
            if n_empty:
                raise ParameterError(
                    f"n_mels={self.n_mels} leaves {n_empty} mel filters empty (no FFT bin of n_fft={self.n_fft} "
                    f"at {sample_rate} Hz between their edges; each would be a constant row): use fewer mel "
                    "bands, a larger n_fft or a wider fmin_hz..fmax_hz"
                )

    def fit_length(self, audio: np.ndarray) -> np.ndarray:
        """Zero-pad or trim ``audio`` ``(n_items, length)`` to ``n_samples`` (as it is when that is None)."""
        if self.n_samples is None or audio.shape[1] == self.n_samples:
            return audio
        out = np.zeros((audio.shape[0], self.n_samples), dtype=audio.dtype)
        m = min(self.n_samples, audio.shape[1])
        out[:, :m] = audio[:, :m]
        return out

    @property
    def has_phase(self) -> bool:
        """Whether the features keep phase (exact inverse without phase retrieval)."""
        return self.output in ("db_phase", "complex", "real")


def _check_window(window: str | None) -> None:
    """Refuse a window name :func:`scipy.signal.get_window` does not know (tried on 8 samples)."""
    from scipy.signal import get_window

    try:
        get_window(window, 8)
    except (ValueError, TypeError):
        raise ValueError(
            f"window={window!r} is not a window scipy.signal.get_window knows without parameters, "
            "e.g. 'hann', 'hamming', 'blackman', 'blackmanharris', 'boxcar'"
        ) from None


def _empty_mel_filters(sample_rate: int, n_fft: int, n_mels: int, fmin_hz: float, fmax_hz: float | None) -> int:
    """How many of librosa's mel filters hold no FFT bin (``n_mels`` rows of ``n_fft // 2 + 1``: cheap)."""
    import warnings

    import librosa

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # librosa's "Empty filters detected": counted and refused here
        weights = librosa.filters.mel(sr=sample_rate, n_fft=n_fft, n_mels=n_mels, fmin=fmin_hz, fmax=fmax_hz)
    return int(np.sum(weights.max(axis=1) <= 0))


@dataclass(frozen=True)
class FeatureResult:
    """Features and the sidecar needed to invert them.

    Attributes
    ----------
    features : np.ndarray [shape=(n_items, n_rows) or (n_items, n_rows, n_frames), dtype=float32]
    sidecar : dict
        JSON-able: ``config`` (the :class:`FeatureConfig` as a dict), ``sample_rate``,
        ``n_samples``, ``shape`` (per item), ``layout`` (what the rows hold) and
        ``normalization`` (kind and statistics).

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features import FeatureConfig, extract
    >>> res = extract(np.zeros((3, 800), np.float32), FeatureConfig(kind="mdct", n_fft=256),
    ...               sample_rate=8000)
    >>> res.features.shape, res.features.dtype, res.sidecar["sample_rate"]
    ((3, 128, 8), dtype('float32'), 8000)
    """

    features: np.ndarray
    sidecar: dict[str, Any]

    @property
    def config(self) -> FeatureConfig:
        return FeatureConfig(**self.sidecar["config"])


@dataclass(frozen=True)
class InversionResult:
    """Audio from :func:`~timbrespace.features.invert` and how well it matches.

    Attributes
    ----------
    audio : np.ndarray [shape=(n_items, n_samples), dtype=float32]
    method : str
        Method used (``"phase"``, ``"griffinlim"``, ``"pghi"``, ``"pghi+gl"``, ``"imdct"``, ...).
    n_iter : int
        Griffin-Lim iterations run (0 for direct inverses).
    spectral_convergence : np.ndarray [shape=(n_items,), dtype=float64] or None
        ``||S - |STFT(audio)| ||_F / ||S||_F`` per item against the target magnitude of
        the phase retrieval (for CQT magnitudes the STFT magnitude they were mapped to;
        for NSGT magnitudes ``||S - |NSGT(audio)| ||_F / ||S||_F`` against them), None
        for exact inverses.

    Examples
    --------
    >>> import numpy as np
    >>> from timbrespace.features import FeatureConfig, extract, invert
    >>> y = np.random.default_rng(0).standard_normal((1, 800)).astype(np.float32)
    >>> res = extract(y, FeatureConfig(kind="mdct", n_fft=256), sample_rate=8000)
    >>> info = invert(res.features, res, return_info=True)
    >>> info.method, info.n_iter, bool(np.allclose(info.audio, y, atol=1e-4))  # MDCT is exact
    ('imdct', 0, True)
    """

    audio: np.ndarray
    method: str
    n_iter: int = 0
    spectral_convergence: np.ndarray | None = field(default=None)
