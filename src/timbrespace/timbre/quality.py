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
  floor that the representation allows.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import librosa
import numpy as np
from scipy.stats import spearmanr

from timbrespace.errors import DatasetError
from timbrespace.metrics import log_spectral_distance
from timbrespace.timbre.generate import original_audio
from timbrespace.timbre.preprocess import from_spectrogram, magnitude_stft, spectrogram_magnitudes
from timbrespace.timbre.run import TimbreRun
from timbrespace.utils.atomic import atomic_write_json

__all__ = ["TimbreQuality", "evaluate_run", "measure_pitch_midi", "weighted_centroid_hz"]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TimbreQuality:
    """Quality figures of a run (written to ``metrics.json``).

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


def measure_pitch_midi(audio: np.ndarray, *, sample_rate: int) -> np.ndarray:
    """Median pYIN f0 of each note as a (fractional) MIDI number; NaN where unvoiced.

    Parameters
    ----------
    audio : np.ndarray [shape=(n_items, n_samples)]
    sample_rate : int

    Returns
    -------
    np.ndarray [shape=(n_items,), dtype=float64]

    References
    ----------
    M. Mauch and S. Dixon, "pYIN: a fundamental frequency estimator using probabilistic
    threshold distributions", ICASSP 2014.
    """
    out = np.full(len(audio), np.nan)
    for k, y in enumerate(np.asarray(audio, dtype=np.float32)):
        if not np.any(np.abs(y) > 1e-6):
            continue
        f0, voiced, _ = librosa.pyin(y, fmin=200.0, fmax=2000.0, sr=sample_rate, frame_length=2048)
        good = voiced & np.isfinite(f0)
        if np.any(good):
            out[k] = float(librosa.hz_to_midi(np.median(f0[good])))
    return out


def weighted_centroid_hz(mag: np.ndarray, *, sample_rate: int, n_fft: int) -> np.ndarray:
    """Energy-weighted spectral centroid (Hz) of magnitude spectrograms ``(n, n_fft//2+1, n_frames)``."""
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft)
    power = np.asarray(mag, dtype=np.float64) ** 2
    total = power.sum(axis=(1, 2))
    return np.where(total > 0, np.einsum("f,nft->n", freqs, power) / np.maximum(total, 1e-30), 0.0)


def _monotonic(values: np.ndarray, sign: float) -> tuple[bool, float]:
    d = np.diff(values) * sign
    rho = spearmanr(np.arange(len(values)), values).statistic * sign
    return bool(np.all(d > 0)), float(rho)


def evaluate_run(run: TimbreRun, *, max_requests: int | None = 120, n_pairs: int = 8, n_iter: int = 32,
                 seed: int = 0, write: bool = True) -> TimbreQuality:
    """Measure a run on its held-back notes and write ``metrics.json``.

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
    write : bool
        Write ``RUN/metrics.json`` (merging into an existing one).

    Returns
    -------
    TimbreQuality

    Raises
    ------
    DatasetError
        No held-back (``test``) notes.
    """
    latent_dim = run.require_model().config.latent_dim
    prep = replace(run.preprocessing, n_iter=n_iter)
    sr = prep.sample_rate
    rng = np.random.default_rng(seed)
    is_test = run.items["split"].astype(str).to_numpy() == "test"
    # Magnitude 0 is the same clean note under every descriptor, so a held-back clean note
    # may have been seen in training under another descriptor: measure effected notes only.
    effected = run.items["magnitude"].to_numpy(dtype=float) > 0
    test = np.flatnonzero(is_test & effected) if np.any(is_test & effected) else np.flatnonzero(is_test)
    if test.size == 0:
        raise DatasetError(f"{run.root}: no held-back (test) notes to measure")
    req = test if max_requests is None or test.size <= max_requests else np.sort(rng.choice(test, max_requests, replace=False))
    z0 = np.zeros((len(req), latent_dim), np.float32)
    x = run.decode(z0, run.conditions_of(req))
    generated = from_spectrogram(run.spectrograms_of(x, req), prep, seed=seed)
    originals = original_audio(run, req)
    target = run.items["pitch"].to_numpy(dtype=float)[req]
    cents = 100.0 * (measure_pitch_midi(generated, sample_rate=sr) - target)
    cents_orig = 100.0 * (measure_pitch_midi(originals, sample_rate=sr) - target)
    hit = np.nan_to_num(np.abs(cents), nan=np.inf) <= 50.0
    hit_orig = np.nan_to_num(np.abs(cents_orig), nan=np.inf) <= 50.0
    gen_lsd = log_spectral_distance(magnitude_stft(originals, prep), magnitude_stft(generated, prep))

    mono: dict[str, float] = {}
    rho: dict[str, float] = {}
    mono_orig: dict[str, float] = {}
    for name, sign in (("Bright", 1.0), ("Dark", -1.0)):
        if name not in run.descriptors:
            continue
        flags, rhos, flags_orig = [], [], []
        for pitch in run.pitches:
            rows = np.array([run.find(name, m, pitch) for m in run.magnitudes])
            xd = run.decode(np.zeros((len(rows), latent_dim), np.float32), run.conditions_of(rows))
            cent = weighted_centroid_hz(spectrogram_magnitudes(run.spectrograms_of(xd, rows), prep), sample_rate=sr, n_fft=prep.n_fft)
            cent_orig = weighted_centroid_hz(
                spectrogram_magnitudes(run.spectrograms_of(np.asarray(run.spectrograms[rows]), rows), prep),
                sample_rate=sr, n_fft=prep.n_fft)
            ok, r = _monotonic(cent, sign)
            flags.append(ok)
            rhos.append(r)
            flags_orig.append(_monotonic(cent_orig, sign)[0])
        mono[name], rho[name], mono_orig[name] = float(np.mean(flags)), float(np.mean(rhos)), float(np.mean(flags_orig))

    pairs = rng.choice(test, size=(min(n_pairs, test.size // 2), 2), replace=False) if test.size >= 2 else np.zeros((0, 2), int)
    ends = pairs.reshape(-1)
    if ends.size:
        x_end = run.decode(run.encode(ends), run.conditions_of(ends))
        y_end = from_spectrogram(run.spectrograms_of(x_end, ends), prep, seed=seed)
        y_orig = original_audio(run, ends)
        ref = magnitude_stft(y_orig, prep)
        endpoint_lsd = float(np.mean(log_spectral_distance(ref, magnitude_stft(y_end, prep))))
        y_rt = from_spectrogram(run.spectrograms_of(np.asarray(run.spectrograms[ends]), ends), prep, seed=seed)
        roundtrip_lsd = float(np.mean(log_spectral_distance(ref, magnitude_stft(y_rt, prep))))
    else:
        endpoint_lsd = roundtrip_lsd = float("nan")
    voiced = np.isfinite(cents)
    quality = TimbreQuality(
        n_pitch_requests=int(len(req)), pitch_accuracy_50c=float(np.mean(hit)),
        pitch_accuracy_50c_originals=float(np.mean(hit_orig)),
        median_abs_cents=float(np.median(np.abs(cents[voiced]))) if np.any(voiced) else float("nan"),
        centroid_monotonic=mono, centroid_spearman=rho, centroid_monotonic_originals=mono_orig,
        interp_endpoint_lsd_db=endpoint_lsd, gl_roundtrip_lsd_db=roundtrip_lsd,
        generated_lsd_db=float(np.mean(gen_lsd)), n_pairs=int(len(pairs)),
    )
    logger.info("quality: %s", quality)
    if write:
        path = Path(run.root) / "metrics.json"
        existing = {}
        if path.is_file():
            import json

            existing = json.loads(path.read_text())
        atomic_write_json(path, {**existing, "timbre_quality": _finite(asdict(quality))})
    return quality


def _finite(d: dict) -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out[k] = _finite(v)
        elif isinstance(v, float) and not np.isfinite(v):
            out[k] = None
        else:
            out[k] = v
    return out
