"""CLI commands: ``features`` (compute and store a representation) and ``invert`` (back to WAV).

Thin wrappers over :func:`timbrespace.features.compute_dataset_features` and
:func:`timbrespace.features.invert_items`.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from timbrespace.cli._options import ProgressOption, as_options, check_min, distinct, names
from timbrespace.errors import ParameterError

logger = logging.getLogger(__name__)

_FEATURE_OPTIONS = ("kind", "n_fft", "hop_length", "win_length", "window", "top_db", "n_mels", "n_bins",
                    "bins_per_octave", "fmin_hz", "fmax_hz", "single_frame", "normalization", "name", "batch_size")


def features(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder.")],
    kind: Annotated[str, typer.Option(help="Transform: stft | mdct | cqt | mel | nsgt.")] = "stft",
    n_fft: Annotated[int, typer.Option(help="FFT size / MDCT frame length (samples).")] = 1024,
    hop_length: Annotated[int | None, typer.Option(help="Hop (samples); default n_fft/4 (mdct: n_fft/2; cqt: 512).")] = None,
    win_length: Annotated[int | None, typer.Option(help="Window length (samples), <= n_fft.")] = None,
    window: Annotated[str | None, typer.Option(help="Window (hann, ...; mdct: sine | kbd).")] = None,
    scale: Annotated[str | None, typer.Option(
        "--scale", help="What each stored value is: db | magnitude | db_phase | complex (per kind; default db)."
    )] = None,
    top_db: Annotated[float, typer.Option(help="dB floor below each item's maximum.")] = 80.0,
    n_mels: Annotated[int, typer.Option(help="Mel bands (mel), count: at most n_fft/2+1, each holding an FFT bin.")] = 128,
    n_bins: Annotated[int | None, typer.Option(help="Frequency bins kept: stft the first N rows; cqt the number of bins.")] = None,
    bins_per_octave: Annotated[int, typer.Option(help="Bins per octave (cqt / nsgt).")] = 12,
    fmin_hz: Annotated[float | None, typer.Option(help="Lowest frequency in Hz (mel, cqt, nsgt), below Nyquist.")] = None,
    fmax_hz: Annotated[float | None, typer.Option(help="Highest frequency in Hz (mel, nsgt), up to Nyquist.")] = None,
    single_frame: Annotated[bool, typer.Option(help="One frame of the first n_fft samples (seed 000).")] = False,
    normalization: Annotated[str, typer.Option(help="Scaling: none | minmax_item (per item, to [0, 1]) | standardize (per bin).")] = "none",
    name: Annotated[str | None, typer.Option(help="Feature set name (default from the parameters).")] = None,
    batch_size: Annotated[int, typer.Option(help="Items per batch and per zarr chunk (items).")] = 256,
    overwrite: Annotated[bool, typer.Option(help="Replace a feature set of this --name computed with another config.")] = False,
    progress: ProgressOption = True,
) -> None:
    """Compute features for every item; writes features/NAME.zarr + NAME.json (resumable)."""
    from timbrespace.datasets.dataset import Dataset
    from timbrespace.features import FeatureConfig, compute_dataset_features

    check_min("--batch-size", batch_size, 1)
    with as_options(_FEATURE_OPTIONS, {"output": "--scale"}):
        cfg = FeatureConfig(
            kind=kind, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, output=scale,
            top_db=top_db, n_mels=n_mels, n_bins=n_bins, bins_per_octave=bins_per_octave, fmin_hz=fmin_hz,
            fmax_hz=fmax_hz, single_frame=single_frame, normalization=normalization,
        )
    ds = Dataset(dataset)
    with as_options(_FEATURE_OPTIONS, {"output": "--scale"}):
        done = compute_dataset_features(ds, cfg, name=name, batch_size=batch_size, progress=progress,
                                        overwrite=overwrite)
    typer.echo(str(ds.features_dir / f"{done}.zarr"))


def invert(
    dataset: Annotated[Path, typer.Argument(help="Dataset folder.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for <item_id>.wav files.")],
    features: Annotated[str | None, typer.Option(help="Feature set name (default: the only one).")] = None,
    method: Annotated[str, typer.Option(help="auto | phase | griffinlim | pghi | pghi+gl.")] = "auto",
    n_iter: Annotated[int | None, typer.Option(help="Phase-retrieval iterations, 1..1000 (Griffin-Lim; default: the method's).")] = None,
    items: Annotated[str | None, typer.Option(help="Comma-separated item ids (default: all).")] = None,
    array: Annotated[Path | None, typer.Option(
        help=".npy of features (e.g. model output) in the stored layout, one row per item or per --items."
    )] = None,
    batch_size: Annotated[int, typer.Option(help="Items inverted at once.")] = 64,
    overwrite: Annotated[bool, typer.Option(help="Replace WAV files of an earlier inversion in --out.")] = False,
    progress: ProgressOption = True,
) -> None:
    """Turn stored features (or a .npy of model output) back into DIR/<item_id>.wav."""
    from timbrespace.experiments.train import open_features
    from timbrespace.features import invert_items
    from timbrespace.features.transforms import METHODS

    if method not in (*METHODS, "imdct"):
        raise ParameterError(f"--method={method!r} is unknown: allowed {', '.join((*METHODS, 'imdct'))}")
    check_min("--n-iter", n_iter, 1)
    check_min("--batch-size", batch_size, 1)
    ds, features = open_features(dataset, features)
    wanted = list(distinct(names(items), "--items", items)) if items else None
    with as_options(("method", "n_iter", "items", "batch_size", "array")):
        done = invert_items(ds, features, out, items=wanted, array=None if array is None else _read_array(array),
                            method=method, n_iter=n_iter, batch_size=batch_size, overwrite=overwrite,
                            progress=progress)
    sc = done.spectral_convergence
    if sc.size:
        logger.info("spectral convergence: mean %.4f, max %.4f", float(np.mean(sc)), float(np.max(sc)))
    typer.echo(f"wrote {len(done.paths)} files to {out}")


def _read_array(path: Path) -> np.ndarray:
    """A numeric ``.npy`` file; pickled objects are never loaded."""
    try:
        data = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise ParameterError(f"--array {path}: not a readable numeric .npy file ({str(exc)[:120]})") from None
    if not isinstance(data, np.ndarray) or not np.issubdtype(data.dtype, np.number):
        raise ParameterError(f"--array {path}: expected one numeric array (np.save), got {type(data).__name__}")
    if data.ndim == 0:
        raise ParameterError(f"--array {path}: a 0-d array (one number); expected one row of features per item")
    return data


def register(app: typer.Typer) -> None:
    """Add ``features`` and ``invert`` to the root ``app``."""
    app.command("features")(features)
    app.command("invert")(invert)
