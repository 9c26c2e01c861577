"""Features in physical units for figures: levels in dB on axes in Hz and seconds.

A model sees normalised features (``minmax_item`` in [0, 1], ``standardize`` in
standard deviations); a reader wants decibels against frequency and time.
:func:`physical_features` undoes the normalisation recorded in the feature sidecar and
turns magnitudes into dB; :func:`spectrogram_axes` gives the matching extent, axis
labels and colour-bar unit for :mod:`timbrespace.analysis.spectrograms`.
"""

from __future__ import annotations

import numpy as np

from timbrespace.analysis.spectrograms import SpectrogramAxes
from timbrespace.errors import ParameterError
from timbrespace.features import FeatureSidecar
from timbrespace.features.normalization import undo_normalization

__all__ = ["LEVEL_LABEL", "physical_features", "row_frequencies_hz", "spectrogram_axes"]

_ROW_NAMES = {"mel": "mel band", "cqt": "CQT bin", "nsgt": "NSGT bin"}
# Levels are 20 log10 |X| of the transform as computed (reference magnitude 1, not a
# full-scale sine: an STFT or CQT of a full-scale tone exceeds 1, so levels above 0 dB
# are real). Decoded levels are the model's output, in the same unit.
LEVEL_LABEL = "level, 20·log₁₀|X| (dB)"


def physical_features(
    features: np.ndarray,
    sidecar: FeatureSidecar,
    *,
    item_min: np.ndarray | float | None = None,
    item_max: np.ndarray | float | None = None,
) -> np.ndarray:
    """Features as levels in dB (MDCT: coefficients), one image or spectrum per item.

    Parameters
    ----------
    features : np.ndarray [shape=(n_items, *sidecar.shape)]
        Normalised features, stored or decoded by a model.
    sidecar : FeatureSidecar
    item_min, item_max : float or np.ndarray [shape=(n_items,)], optional
        The items' range before ``minmax_item`` scaling (their stored one, or a typical
        one for decoded latents). Default: the median over the stored items.

    Returns
    -------
    np.ndarray [shape=(n_items, n_rows[, n_frames]), dtype=float64]
        Levels in dB, ``20 log10 |X|`` of the transform as computed (reference magnitude
        1; not dB re a full-scale sine, which has magnitudes above 1): of magnitudes,
        the dB rows of ``db_phase``, the modulus of ``complex``; MDCT coefficients as
        they are.

    Raises
    ------
    ParameterError
        Features that do not match the sidecar's shape.
    """
    x = np.asarray(features, dtype=np.float64)
    if x.shape[1:] != sidecar.shape:
        raise ParameterError(f"features shape={x.shape} does not match the sidecar's (n, {sidecar.shape})")
    norm = sidecar.normalization
    if norm.kind == "minmax_item":
        if item_min is None or item_max is None:
            item_min, item_max = norm.typical_minmax() or (0.0, 1.0)
        n = len(x)
        raw = undo_normalization(x, norm.kind, item_min=np.broadcast_to(item_min, (n,)),
                                 item_max=np.broadcast_to(item_max, (n,)))
    elif norm.kind == "standardize":
        raw = undo_normalization(x, norm.kind, mean=norm.mean, std=norm.std)
    else:
        raw = x
    cfg = sidecar.config
    amin = cfg.amin
    if cfg.output in ("db", "real"):
        return raw
    half = raw.shape[1] // 2
    if cfg.output == "db_phase":
        return raw[:, :half]
    if cfg.output == "complex":
        raw = np.hypot(raw[:, :half], raw[:, half:])
    return 20.0 * np.log10(np.maximum(raw, amin))


def row_frequencies_hz(sidecar: FeatureSidecar) -> np.ndarray | None:
    """Centre frequency (Hz) of each row of a CQT, NSGT or mel feature; None for the
    others (linear in Hz, or MDCT/STFT whose rows ``spectrogram_axes`` places by extent).

    Parameters
    ----------
    sidecar : FeatureSidecar

    Returns
    -------
    np.ndarray [shape=(n_rows,), dtype=float64] or None
        ``librosa.cqt_frequencies`` for ``cqt``; ``librosa.mel_frequencies`` (band
        centres) for ``mel``; for ``nsgt`` the DC band (0 Hz), the geometric scale of
        ``nsgt.OctScale`` from ``fmin_hz`` to ``fmax_hz`` and the Nyquist band.
    """
    import librosa

    cfg = sidecar.config
    sr = float(sidecar.sample_rate)
    n_rows = sidecar.shape[0] // (2 if cfg.output in ("db_phase", "complex") else 1)
    if cfg.kind == "cqt" and cfg.fmin_hz:
        return librosa.cqt_frequencies(n_rows, fmin=cfg.fmin_hz, bins_per_octave=cfg.bins_per_octave)
    if cfg.kind == "mel":
        fmax = cfg.fmax_hz if cfg.fmax_hz is not None else sr / 2.0
        return librosa.mel_frequencies(n_rows + 2, fmin=cfg.fmin_hz or 0.0, fmax=fmax)[1:-1]
    if cfg.kind == "nsgt" and cfg.fmin_hz:
        fmax = cfg.fmax_hz if cfg.fmax_hz is not None else 0.45 * sr  # as features.transforms
        lo, hi = np.log2(cfg.fmin_hz), np.log2(fmax)
        n_bands = int(np.ceil((hi - lo) * cfg.bins_per_octave)) + 1  # nsgt.OctScale's bands
        if n_rows == n_bands + 2:  # with the DC and Nyquist bands
            return np.concatenate([[0.0], 2.0 ** np.linspace(lo, hi, n_bands), [sr / 2.0]])
    return None


def spectrogram_axes(sidecar: FeatureSidecar) -> SpectrogramAxes:
    """Extent in seconds and Hz, axis labels and the colour-bar unit of
    :func:`physical_features` of ``sidecar``.

    Frequency axes that are not linear in Hz (CQT, NSGT, mel) keep one image row per
    bin and are ticked at round frequencies in Hz (``SpectrogramAxes.row_hz``).
    """
    cfg = sidecar.config
    sr = float(sidecar.sample_rate)
    level = "MDCT coefficient (no unit)" if cfg.output == "real" else LEVEL_LABEL
    n_rows = sidecar.shape[0] // (2 if cfg.output in ("db_phase", "complex") else 1)
    linear = cfg.kind in ("stft", "mdct")
    bin_hz = sr / cfg.n_fft
    row_hz = None if linear else row_frequencies_hz(sidecar)
    if len(sidecar.shape) == 1:  # one frame: a spectrum
        freqs = np.arange(n_rows) * bin_hz if linear else np.arange(n_rows, dtype=float)
        return SpectrogramAxes(y_label="frequency (Hz)" if linear else _ROW_NAMES.get(cfg.kind, "row"),
                               colorbar_label=level, frequencies=freqs)
    n_frames = sidecar.shape[-1]
    if cfg.kind == "nsgt":  # matrix form: every band's coefficients span the whole item
        step_s = sidecar.duration_s / n_frames
        t0, t1, x_label = 0.0, n_frames * step_s, "time (s)"
    elif not cfg.hop_length:
        t0, t1, x_label = -0.5, n_frames - 0.5, "frame"
    else:
        hop_s = cfg.hop_length / sr
        start = 0.0 if cfg.center or cfg.kind == "mdct" else 0.5 * cfg.n_fft / sr
        t0, t1, x_label = start - 0.5 * hop_s, start + (n_frames - 0.5) * hop_s, "time (s)"
    if linear:
        offset = 0.5 if cfg.kind == "mdct" else 0.0  # MDCT bin k is centred on (k + 1/2) sr / n_fft
        f0, f1, y_label = (offset - 0.5) * bin_hz, (n_rows + offset - 0.5) * bin_hz, "frequency (Hz)"
    else:
        f0, f1 = -0.5, n_rows - 0.5
        y_label = "frequency (Hz)" if row_hz is not None else _ROW_NAMES.get(cfg.kind, "row")
    return SpectrogramAxes(extent=(t0, t1, f0, f1), x_label=x_label, y_label=y_label, colorbar_label=level,
                           row_hz=row_hz)
