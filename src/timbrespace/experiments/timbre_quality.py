"""Quality of a trained timbre run, measured on held-back notes (the ``test`` split).

- **pitch**: for every held-back (descriptor, magnitude > 0, pitch) request, a note is
  generated from the prior (``z = 0``) and its f0 measured with pYIN (median over voiced
  frames, 200..2000 Hz); accuracy = fraction within ±50 cents of the request. The same is
  measured on the originals (what pYIN can do on these effects at all).
- **centroid**: for Bright and Dark (when in the run), notes generated at every magnitude
  for every pitch; the energy-weighted spectral centroid of the decoded magnitude
  spectrogram (what Griffin-Lim is asked to match) must rise with magnitude for Bright
  and fall for Dark; reported as the fraction of pitches whose sequence is strictly
  monotonic, and the mean Spearman correlation.
- **interpolation endpoints**: log-spectral distance (dB) between the Griffin-Lim audio
  of each endpoint (t = 0, 1, ``z`` = encoder mean) and its original, over pairs of
  held-back notes; the Griffin-Lim round trip of the originals' own spectrograms is the
  floor that the representation allows. The same reconstructions are measured as sound
  (:func:`timbrespace.metrics.audio_measures`: multi-resolution STFT distance, pYIN f0
  error in cents, A-weighted loudness error in dB).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from timbrespace.errors import DatasetError, ParameterError
from timbrespace.features import FeatureConfig, extract, linear_magnitude
from timbrespace.features.phase import check_n_iter
from timbrespace.metrics import audio_measures, log_spectral_distance
from timbrespace.timbre.quality import measure_pitch_midi, monotonic_trend, weighted_centroid_hz
from timbrespace.utils.limits import check_seed

if TYPE_CHECKING:
    from timbrespace.experiments.timbre_run import TimbreRun

__all__ = ["TimbreQuality", "measure_timbre_quality", "magnitudes_of_audio"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimbreQuality:
    """Quality figures of a run (``metrics.json`` ``timbre_quality``).

    Parameters
    ----------
    n_pitch_requests : int
    pitch_accuracy_50c : float
        Fraction of generated held-back notes within 50 cents.
    pitch_accuracy_50c_originals : float
        Same measurement on the original notes.
    median_abs_cents : float
        Over generated notes that pYIN found voiced.
    centroid_monotonic : dict of str to float
        Descriptor → fraction of pitches with strictly monotonic centroid.
    centroid_spearman : dict of str to float
        Descriptor → mean Spearman correlation of centroid with magnitude.
    centroid_monotonic_originals : dict of str to float
    interp_endpoint_lsd_db : float
        Mean LSD of interpolation endpoints vs originals.
    gl_roundtrip_lsd_db : float
        Mean LSD of the originals' own Griffin-Lim round trip (the floor).
    generated_lsd_db : float
        Mean LSD of prior-generated held-back notes vs originals.
    n_pairs : int
    not_measured : list of str
        Notes the measurements needed but the run has no original of (skipped, named).
    endpoint_sound : dict
        :meth:`timbrespace.metrics.AudioMeasures.to_dict` of the endpoints' audio against
        their originals (empty without pairs).
    """

    n_pitch_requests: int
    pitch_accuracy_50c: float
    pitch_accuracy_50c_originals: float
    median_abs_cents: float
    centroid_monotonic: dict[str, float]
    centroid_spearman: dict[str, float]
    centroid_monotonic_originals: dict[str, float]
    interp_endpoint_lsd_db: float
    gl_roundtrip_lsd_db: float
    generated_lsd_db: float
    n_pairs: int
    not_measured: list[str] = field(default_factory=list)
    endpoint_sound: dict[str, Any] = field(default_factory=dict)


def magnitudes_of_audio(audio: np.ndarray, run: TimbreRun) -> np.ndarray:
    """STFT magnitudes ``(n, n_fft // 2 + 1, n_frames)`` of audio, in the run's STFT geometry."""
    stft = FeatureConfig(**{**run.sidecar.config.model_dump(), "output": "magnitude", "top_db": None, "n_bins": None,
                            "normalization": "none"})
    return extract(audio, stft, sample_rate=run.sample_rate).features


def check_quality_options(*, max_requests: int | None, n_pairs: int, n_iter: int = 32, seed: int = 0) -> None:
    """Refuse the options of :func:`measure_timbre_quality` before a model is loaded.

    Raises
    ------
    ParameterError
        ``"max_requests=0 must be >= 1 (held-back pitch requests)"``, ``"n_pairs=-1 must be >= 1"``.
    """
    if max_requests is not None and (isinstance(max_requests, bool) or not isinstance(max_requests, int)
                                     or max_requests < 1):
        raise ParameterError(f"max_requests={max_requests!r} must be >= 1 (held-back pitch requests)")
    if isinstance(n_pairs, bool) or not isinstance(n_pairs, int) or n_pairs < 1:
        raise ParameterError(f"n_pairs={n_pairs!r} must be >= 1")
    check_n_iter(n_iter)
    check_seed(seed)


def measure_timbre_quality(run: TimbreRun, *, max_requests: int | None = 120, n_pairs: int = 8, n_iter: int = 32,
                           seed: int = 0) -> TimbreQuality:
    """Measure a run on its held-back notes.

    Parameters
    ----------
    run : TimbreRun
    max_requests : int or None
        Cap on held-back pitch requests (a seeded random subset); None = all.
    n_pairs : int
        Interpolation pairs (held-back notes, seeded).
    n_iter : int
        Griffin-Lim iterations.
    seed : int

    Returns
    -------
    TimbreQuality

    Raises
    ------
    DatasetError
        No held-back (``test``) notes.
    ParameterError
        ``max_requests`` or ``n_pairs`` below 1, ``n_iter`` outside 0..1000, or a bad ``seed``.
    """
    check_quality_options(max_requests=max_requests, n_pairs=n_pairs, n_iter=n_iter, seed=seed)
    latent_dim = run.require_model().config.latent_dim
    sr = run.sample_rate
    n_fft = int(run.sidecar.config.n_fft)
    rng = np.random.default_rng(seed)
    is_test = run.items["split"].astype(str).to_numpy() == "test"
    # Magnitude 0 is the same clean note under every descriptor, so a held-back clean note
    # may have been seen in training under another descriptor: measure effected notes only.
    effected = run.items["magnitude"].to_numpy(dtype=float) > 0
    test = np.flatnonzero(is_test & effected) if np.any(is_test & effected) else np.flatnonzero(is_test)
    if test.size == 0:
        raise DatasetError(f"{run.root}: no held-back (test) notes to measure")
    req = test if max_requests is None or test.size <= max_requests else np.sort(rng.choice(test, max_requests, replace=False))
    x = run.decode(np.zeros((len(req), latent_dim), np.float32), run.conditions_of(req))
    generated = run.to_audio(x, *run.stats_of(req), n_iter=n_iter, seed=seed)
    originals = run.original_audio(req)
    target = run.items["pitch"].to_numpy(dtype=float)[req]
    cents = 100.0 * (measure_pitch_midi(generated, sample_rate=sr) - target)
    cents_orig = 100.0 * (measure_pitch_midi(originals, sample_rate=sr) - target)
    hit = np.nan_to_num(np.abs(cents), nan=np.inf) <= 50.0
    hit_orig = np.nan_to_num(np.abs(cents_orig), nan=np.inf) <= 50.0
    gen_lsd = log_spectral_distance(magnitudes_of_audio(originals, run), magnitudes_of_audio(generated, run))

    mono: dict[str, float] = {}
    rho: dict[str, float] = {}
    not_measured: list[str] = []
    mono_orig: dict[str, float] = {}
    for name, sign in (("Bright", 1.0), ("Dark", -1.0)):
        if name not in run.descriptors:
            continue
        flags, rhos, flags_orig = [], [], []
        for pitch in run.pitches:
            rows, _, missing = run.find_present([(name, m, pitch) for m in run.magnitudes])
            not_measured.extend(missing)
            if len(rows) < 2:
                continue
            lo, hi = run.stats_of(rows)
            xd = run.decode(np.zeros((len(rows), latent_dim), np.float32), run.conditions_of(rows))
            cent = weighted_centroid_hz(linear_magnitude(xd, run.sidecar, item_min=lo, item_max=hi),
                                        sample_rate=sr, n_fft=n_fft)
            cent_orig = weighted_centroid_hz(linear_magnitude(run.features_of(rows), run.sidecar, item_min=lo, item_max=hi),
                                             sample_rate=sr, n_fft=n_fft)
            ok, r = monotonic_trend(cent, sign)
            flags.append(ok)
            rhos.append(r)
            flags_orig.append(monotonic_trend(cent_orig, sign)[0])
        if flags:
            mono[name], rho[name], mono_orig[name] = (float(np.mean(flags)), float(np.mean(rhos)),
                                                      float(np.mean(flags_orig)))

    pairs = rng.choice(test, size=(min(n_pairs, test.size // 2), 2), replace=False) if test.size >= 2 else np.zeros((0, 2), int)
    ends = pairs.reshape(-1)
    if ends.size:
        lo, hi = run.stats_of(ends)
        y_end = run.to_audio(run.decode(run.encode(ends), run.conditions_of(ends)), lo, hi, n_iter=n_iter, seed=seed)
        original_ends = run.original_audio(ends)
        ref = magnitudes_of_audio(original_ends, run)
        endpoint_lsd = float(np.mean(log_spectral_distance(ref, magnitudes_of_audio(y_end, run))))
        endpoint_sound = audio_measures(original_ends, y_end[:, :original_ends.shape[1]], sample_rate=sr).to_dict()
        y_rt = run.to_audio(run.features_of(ends), lo, hi, n_iter=n_iter, seed=seed)
        roundtrip_lsd = float(np.mean(log_spectral_distance(ref, magnitudes_of_audio(y_rt, run))))
    else:
        endpoint_lsd = roundtrip_lsd = float("nan")
        endpoint_sound = {}
    voiced = np.isfinite(cents)
    quality = TimbreQuality(
        n_pitch_requests=int(len(req)), pitch_accuracy_50c=float(np.mean(hit)),
        pitch_accuracy_50c_originals=float(np.mean(hit_orig)),
        median_abs_cents=float(np.median(np.abs(cents[voiced]))) if np.any(voiced) else float("nan"),
        centroid_monotonic=mono, centroid_spearman=rho, centroid_monotonic_originals=mono_orig,
        interp_endpoint_lsd_db=endpoint_lsd, gl_roundtrip_lsd_db=roundtrip_lsd,
        generated_lsd_db=float(np.mean(gen_lsd)), n_pairs=int(len(pairs)), not_measured=not_measured,
        endpoint_sound=endpoint_sound,
    )
    if not_measured:
        logger.warning("quality: %d notes have no original and were not measured: %s", len(not_measured),
                       ", ".join(not_measured[:6]))
    logger.debug("quality: pitch within 50 cents %.3f (originals %.3f), endpoint LSD %.2f dB", quality.pitch_accuracy_50c,
                 quality.pitch_accuracy_50c_originals, quality.interp_endpoint_lsd_db)
    return quality
