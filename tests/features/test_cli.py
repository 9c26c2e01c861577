"""CLI: ``timbrespace features`` and ``timbrespace invert``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from timbrespace.cli import main
from timbrespace.datasets.dataset import Dataset


def run(args: list[str]) -> int:
    try:
        main(args)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def test_features_then_invert(notes_dataset: Dataset, tmp_path: Path) -> None:
    root = str(notes_dataset.root)
    assert (
        run(
            [
                "features",
                root,
                "--kind",
                "stft",
                "--n-fft",
                "1024",
                "--hop-length",
                "256",
                "--normalization",
                "minmax_item",
                "--name",
                "spec",
            ]
        )
        == 0
    )
    assert Dataset(root).feature_names() == ["spec"]
    ids = notes_dataset.item_ids[:2]
    assert (
        run(
            [
                "invert",
                root,
                "--out",
                str(tmp_path / "wav"),
                "--items",
                ",".join(ids),
                "--method",
                "pghi+gl",
                "--n-iter",
                "8",
            ]
        )
        == 0
    )
    for k, item_id in enumerate(ids):
        y, sr = sf.read(tmp_path / "wav" / f"{item_id}.wav", dtype="float32")
        assert sr == 22050 and len(y) == notes_dataset.card.n_samples
        ref = notes_dataset.load_audio([k])[0]
        # same loudness envelope as the original (phase differs)
        assert np.sqrt(np.mean(y**2)) == pytest.approx(np.sqrt(np.mean(ref**2)), rel=0.1)


def test_bad_parameter_is_one_line_exit_2(
    notes_dataset: Dataset, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["features", str(notes_dataset.root), "--hop-length", "0"]) == 2
    assert capsys.readouterr().err.strip() == "error: hop_length=0 must be a positive integer"


def test_invert_model_output_array(notes_dataset: Dataset, tmp_path: Path) -> None:
    root = str(notes_dataset.root)
    assert run(["features", root, "--kind", "mdct", "--n-fft", "1024", "--normalization", "minmax_item"]) == 0
    name = Dataset(root).feature_names()[0]
    ids = notes_dataset.item_ids[3:5]
    array = tmp_path / "x_hat.npy"
    np.save(array, notes_dataset.load_features(name, [3, 4]))  # stands in for a decoder's output
    assert run(["invert", root, "--out", str(tmp_path / "out"), "--array", str(array), "--items", ",".join(ids)]) == 0
    for k, item_id in zip((3, 4), ids, strict=True):
        y, _ = sf.read(tmp_path / "out" / f"{item_id}.wav", dtype="float32")
        ref = notes_dataset.load_audio([k])[0]
        assert np.linalg.norm(y - ref) / np.linalg.norm(ref) < 1e-5  # iMDCT: exact
