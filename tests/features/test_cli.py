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
    assert capsys.readouterr().err.strip() == "error: --hop-length=0 must be a positive integer"


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


@pytest.mark.parametrize("value", [10.0, -10.0, 1e30])
def test_invert_of_extreme_arrays_is_finite_and_never_clips(
    notes_dataset: Dataset, tmp_path: Path, value: float, caplog: pytest.LogCaptureFixture
) -> None:
    """Fault test (issue 18): a model output far outside the stored range inverts to finite audio, peak <= 1."""
    root = str(notes_dataset.root)
    assert run(["features", root, "--kind", "stft", "--n-fft", "512", "--scale", "db", "--name", "stft_db"]) == 0
    shape = notes_dataset.feature_sidecar("stft_db")["shape"]
    lo, hi = notes_dataset.feature_sidecar("stft_db")["normalization"]["value_range"]
    stored = notes_dataset.load_features("stft_db")
    assert lo == pytest.approx(float(stored.min())) and hi == pytest.approx(float(stored.max()))
    array = tmp_path / "v.npy"
    np.save(array, np.full((1, *shape), value, np.float32))
    item = notes_dataset.item_ids[1]
    with caplog.at_level("WARNING"):
        assert run(["invert", root, "--features", "stft_db", "--items", item, "--array", str(array),
                    "--out", str(tmp_path / "out")]) == 0
    y, _ = sf.read(tmp_path / "out" / f"{item}.wav", dtype="float64")
    assert np.isfinite(y).all() and np.abs(y).max() <= 1.0
    n = int(np.prod(shape))
    if not lo <= value <= hi:
        assert f"{n} of {n} feature values lie outside the stored range" in caplog.text


@pytest.mark.parametrize("content", ["pickle", "text", "npz"])
def test_invert_array_that_is_not_a_numeric_npy_is_one_error(
    notes_dataset: Dataset, tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = str(notes_dataset.root)
    assert run(["features", root, "--kind", "mdct", "--n-fft", "1024"]) == 0
    array = tmp_path / "v.npy"
    if content == "pickle":
        np.save(array, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    elif content == "text":
        array.write_text("1.0 2.0 3.0\n")
    else:
        with open(array, "wb") as f:
            np.savez(f, x=np.zeros(3))
    capsys.readouterr()
    assert run(["invert", root, "--array", str(array), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and f"--array {array}" in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_invert_never_replaces_an_earlier_inversion_silently(
    notes_dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 18: WAVs of an earlier invert are kept unless --overwrite; new names may be added."""
    root = str(notes_dataset.root)
    assert run(["features", root, "--kind", "mdct", "--n-fft", "1024", "--name", "mdct_keep"]) == 0
    out = tmp_path / "wav"
    first, second = notes_dataset.item_ids[:2], notes_dataset.item_ids[2]
    base = ["invert", root, "--features", "mdct_keep", "--out", str(out)]
    assert run([*base, "--items", ",".join(first)]) == 0
    (out / f"{first[0]}.wav").write_bytes(b"edited by the user")
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    capsys.readouterr()

    assert run([*base, "--items", ",".join(first)]) == 2
    err = capsys.readouterr().err
    assert err.count("error:") == 1 and "already holds 2 of the 2 WAV files" in err and "--overwrite" in err
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    assert run([*base, "--items", second]) == 0  # a new name beside them
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.name in before} == before
    assert run([*base, "--items", ",".join(first), "--overwrite"]) == 0
    y, _ = sf.read(out / f"{first[0]}.wav", dtype="float32")
    assert len(y) == notes_dataset.card.n_samples  # replaced, as asked
