"""CLI commands: ``features`` (compute and store a representation) and ``invert`` (back to WAV)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

logger = logging.getLogger(__name__)


def register(app: typer.Typer) -> None:
    """Add this module's commands to the root app."""

    @app.command("features")
    def features_cmd(
        dataset: Annotated[Path, typer.Argument(help="Dataset folder.")],
        kind: Annotated[str, typer.Option(help="stft | mdct | cqt | mel | nsgt.")] = "stft",
        n_fft: Annotated[int, typer.Option(help="FFT size / MDCT frame length (samples).")] = 1024,
        hop_length: Annotated[int | None, typer.Option(help="Hop (samples); default n_fft/4 (mdct: n_fft/2; cqt: 512).")] = None,
        win_length: Annotated[int | None, typer.Option(help="Window length (samples), <= n_fft.")] = None,
        window: Annotated[str | None, typer.Option(help="Window (hann, ...; mdct: sine | kbd).")] = None,
        output: Annotated[str | None, typer.Option(help="db | magnitude | db_phase | complex (per kind).")] = None,
        top_db: Annotated[float, typer.Option(help="dB floor below each item's maximum.")] = 80.0,
        n_mels: Annotated[int, typer.Option(help="Mel bands (mel).")] = 128,
        n_bins: Annotated[int | None, typer.Option(help="stft: keep the first n_bins rows; cqt: number of bins.")] = None,
        bins_per_octave: Annotated[int, typer.Option(help="cqt / nsgt.")] = 12,
        fmin_hz: Annotated[float | None, typer.Option(help="Lowest frequency (mel, cqt, nsgt).")] = None,
        fmax_hz: Annotated[float | None, typer.Option(help="Highest frequency (mel, nsgt).")] = None,
        single_frame: Annotated[bool, typer.Option(help="One frame of the first n_fft samples (seed 000).")] = False,
        normalization: Annotated[str, typer.Option(help="none | minmax_item | standardize.")] = "none",
        name: Annotated[str | None, typer.Option(help="Feature set name (default from the parameters).")] = None,
        batch_size: Annotated[int, typer.Option(help="Items per batch and per zarr chunk.")] = 256,
    ) -> None:
        """Compute features for every item; writes features/NAME.zarr + NAME.json (resumable)."""
        from timbrespace.datasets.dataset import Dataset
        from timbrespace.features import FeatureConfig, compute_dataset_features

        cfg = FeatureConfig(
            kind=kind, n_fft=n_fft, hop_length=hop_length, win_length=win_length, window=window, output=output,
            top_db=top_db, n_mels=n_mels, n_bins=n_bins, bins_per_octave=bins_per_octave, fmin_hz=fmin_hz,
            fmax_hz=fmax_hz, single_frame=single_frame, normalization=normalization,
        )
        ds = Dataset(dataset)
        done = compute_dataset_features(ds, cfg, name=name, batch_size=batch_size, progress=True)
        typer.echo(str(ds.features_dir / f"{done}.zarr"))

    @app.command("invert")
    def invert_cmd(
        dataset: Annotated[Path, typer.Argument(help="Dataset folder.")],
        out: Annotated[Path, typer.Option("--out", help="Folder for <item_id>.wav files.")],
        features: Annotated[str | None, typer.Option(help="Feature set name (default: the only one).")] = None,
        method: Annotated[str, typer.Option(help="auto | phase | griffinlim | pghi | pghi+gl.")] = "auto",
        n_iter: Annotated[int | None, typer.Option(help="Griffin-Lim iterations.")] = None,
        items: Annotated[str | None, typer.Option(help="Comma-separated item ids (default: all).")] = None,
        array: Annotated[Path | None, typer.Option(
            help=".npy of features (e.g. model output) in the stored layout, one row per item or per --items."
        )] = None,
        batch_size: Annotated[int, typer.Option(help="Items per batch.")] = 64,
    ) -> None:
        """Turn stored features (or a .npy of model output) back into DIR/<item_id>.wav."""
        from timbrespace.datasets.dataset import Dataset, write_audio_file
        from timbrespace.errors import DatasetError, ParameterError
        from timbrespace.features import invert

        ds = Dataset(dataset)
        names = ds.feature_names()
        if features is None:
            if len(names) != 1:
                raise DatasetError(f"{ds.root}: choose --features among: {', '.join(names) or 'none (run features)'}")
            features = names[0]
        sidecar = ds.feature_sidecar(features)
        ids = ds.item_ids
        if items:
            wanted = [s.strip() for s in items.split(",") if s.strip()]
            lookup = {item_id: k for k, item_id in enumerate(ids)}
            missing = [w for w in wanted if w not in lookup]
            if missing:
                raise ParameterError(f"--items: unknown item ids {missing[:5]}")
            indices = np.array([lookup[w] for w in wanted], dtype=np.int64)
        else:
            indices = np.arange(len(ids))
        source = np.load(array) if array is not None else None
        if source is not None and len(source) not in (len(indices), len(ids)):
            raise ParameterError(f"--array has {len(source)} rows; expected {len(indices)} or {len(ids)}")
        if source is not None and len(source) == len(ids):
            source = source[indices]
        sample_rate = int(sidecar["sample_rate"])
        sc_all: list[float] = []
        for start in range(0, len(indices), batch_size):
            idx = indices[start : start + batch_size]
            feats = ds.load_features(features, idx) if source is None else source[start : start + batch_size]
            result = invert(feats, sidecar, method=method, n_iter=n_iter, indices=idx, return_info=True)
            if result.spectral_convergence is not None:
                sc_all.extend(result.spectral_convergence.tolist())
            for k, y in zip(idx, result.audio, strict=True):
                write_audio_file(out / f"{ids[int(k)]}.wav", y, sample_rate)
        if sc_all:
            logger.info("spectral convergence: mean %.4f, max %.4f", float(np.mean(sc_all)), float(np.max(sc_all)))
        typer.echo(f"wrote {len(indices)} files to {out}")
