"""Exports: seed 000 .npz (spectrum, phase, MDCT, the dB variants), NSynth examples.json."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from timbrespace.datasets import Dataset, DatasetConfig, generate_dataset
from timbrespace.datasets.export import export_dataset, mdct_frame, seed000_features
from timbrespace.errors import DatasetError, ParameterError

SR = 8192  # bin k of a 4096-point FFT sits at 2 k Hz, of a 2048-point FFT at 4 k Hz


@pytest.fixture(scope="module")
def sine_dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    config = DatasetConfig(
        name="sines",
        sound_model="additive",
        sample_rate=SR,
        duration_s=0.6,
        fixed={"n_partials": 1},
        parameters={
            "f0_hz": {"values": [200.0, 400.0, 1000.0]},
            "presence": {"values": ["all", "odd"]},
        },
    )
    return generate_dataset(config, tmp_path_factory.mktemp("ex") / "d", workers=1, progress=False)


@pytest.mark.parametrize(
    ("rep", "key", "rows"),
    [
        ("richness", "Spectrums", 1024),
        ("richness_phase", "Spectrums", 2048),
        ("spectrum", "images", 1025),
        ("spectrum_phase", "images", 2050),
        ("mdct", "images", 1024),
    ],
)
def test_seed000_npz(sine_dataset: Dataset, tmp_path: Path, rep: str, key: str, rows: int) -> None:
    path = export_dataset(sine_dataset, tmp_path / "x", format="seed000-npz", representation=rep)  # type: ignore[arg-type]
    data = np.load(path)
    assert path.suffix == ".npz" and data[key].shape == (rows, 6) and data[key].dtype == np.float32
    assert data["labels"].shape == (2, 6)
    np.testing.assert_allclose(data["labels"][0], sine_dataset.metadata["f0_hz"])
    np.testing.assert_array_equal(data["labels"][1], sine_dataset.factor_codes[:, 1])
    if rep != "mdct":  # the magnitude peaks at f0: 2 Hz per bin (4096-point FFT) or 4 (2048)
        peak_bins = np.argmax(data[key][:1024], axis=0)
        hz_per_bin = 2 if rep.startswith("richness") else 4
        np.testing.assert_array_equal(
            peak_bins, sine_dataset.metadata["f0_hz"].to_numpy() / hz_per_bin
        )
    if rep == "richness":  # dB with a -120 dB floor (the seed had none)
        assert data[key].min() >= -120.0 and data[key].max() > 20.0


def test_mdct_matches_naive_formula() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 16))
    m = 8
    w = np.sin(np.pi * (np.arange(16) + 0.5) / 16)
    naive = np.array(
        [
            [
                sum(
                    w[n] * x[i, n] * np.cos(np.pi / m * (n + 0.5 + m / 2) * (k + 0.5))
                    for n in range(16)
                )
                for k in range(m)
            ]
            for i in range(2)
        ]
    )
    np.testing.assert_allclose(mdct_frame(x), naive, atol=1e-12)
    with pytest.raises(ParameterError, match="representation='cqt'"):
        seed000_features(x, "cqt")  # type: ignore[arg-type]


def test_nsynth_json(sine_dataset: Dataset, tmp_path: Path) -> None:
    path = export_dataset(sine_dataset, tmp_path / "ns", format="nsynth-json")
    examples = json.loads(path.read_text())
    assert len(examples) == 6
    rec = examples["000005"]
    assert (
        rec["note"] == 5
        and rec["sample_rate"] == SR
        and rec["presence"] == "odd"
        and rec["presence_code"] == 1
    )
    assert rec["f0_hz"] == 1000.0
    audio, sr = sf.read(tmp_path / "ns" / rec["audio_path"], dtype="float32")
    np.testing.assert_array_equal(audio, sine_dataset.load_audio([5])[0])


def test_export_needs_audio(tmp_path: Path) -> None:
    config = DatasetConfig(
        name="n",
        sound_model="additive",
        sample_rate=8000,
        duration_s=0.1,
        parameters={"f0_hz": {"values": [200.0, 400.0]}},
        audio_format="none",
    )
    ds = generate_dataset(config, tmp_path / "n", workers=1, progress=False)
    assert ds.metadata["audio_path"].isna().all() and ds.card.audio_format is None
    with pytest.raises(DatasetError, match="keeps no audio"):
        export_dataset(ds, tmp_path / "x.npz", format="seed000-npz")


def test_unknown_format(sine_dataset: Dataset, tmp_path: Path) -> None:
    with pytest.raises(ParameterError, match="format='wav'"):
        export_dataset(sine_dataset, tmp_path / "y", format="wav")
    assert not (tmp_path / "y").exists()


def _naive_variants(db: np.ndarray, phase: np.ndarray | None) -> dict[str, np.ndarray]:
    # ToyRichnessGenerator.py's specPos, specDbNorm, specLin, specLinNorm, element by element
    lo, out = db.min(), {}
    pos = db - lo
    out["db"], out["db_shifted"], out["db_normalised"] = db, pos, pos / pos.max()
    lin = np.power(10.0, db / 20.0)
    out["linear"], out["linear_normalised"] = lin, lin / lin.max()
    if phase is not None:
        shifted = phase - phase.min()
        lin_phase = shifted * lin.max() / shifted.max()
        for k in out:
            out[k] = np.vstack([out[k], lin_phase if k.startswith("lin") else phase])
    return out


@pytest.mark.parametrize("rep", ["richness", "richness_phase"])
def test_seed000_variants_against_naive(sine_dataset: Dataset, tmp_path: Path, rep: str) -> None:
    folder = tmp_path / rep
    assert export_dataset(sine_dataset, folder, format="seed000-npz", representation=rep,  # type: ignore[arg-type]
                          variant="all") == folder
    phase = rep.endswith("phase")
    tag = "-phase-" if phase else "-"
    names = {  # the seed's file names
        "db_shifted": f"toy-spectral-richness-v2-db{tag}pos.npz",
        "db_normalised": f"toy-spectral-richness-v2-db{tag}norm.npz",
        "linear": f"toy-spectral-richness-v2{tag}lin.npz",
        "linear_normalised": f"toy-spectral-richness-v2-lin{tag}norm.npz",
        "db": "toy-spectral-richness-v2-db-phase.npz" if phase else "toy-spectral-richness-v2-db.npz",
    }
    assert sorted(p.name for p in folder.iterdir()) == sorted(names.values())
    spectra = np.load(folder / names["db"])["Spectrums"].astype(np.float64)
    expected = _naive_variants(spectra[:1024], spectra[1024:] if phase else None)
    for variant, name in names.items():
        data = np.load(folder / name)
        assert set(data.files) == {"Spectrums", "labels", "label_names"}
        np.testing.assert_allclose(data["Spectrums"], expected[variant], rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(data["labels"][0], sine_dataset.metadata["f0_hz"])
    shifted = np.load(folder / names["db_shifted"])["Spectrums"][:1024]
    normalised = np.load(folder / names["db_normalised"])["Spectrums"][:1024]
    assert shifted.min() == 0.0 and normalised.min() == 0.0 and normalised.max() == pytest.approx(1.0)
    # one variant alone: a .npz file, or the seed's name inside an existing folder
    one = export_dataset(sine_dataset, tmp_path / "one.npz", format="seed000-npz", representation=rep,  # type: ignore[arg-type]
                         variant="linear")
    np.testing.assert_array_equal(np.load(one)["Spectrums"], np.load(folder / names["linear"])["Spectrums"])


def test_seed000_variant_refusals(sine_dataset: Dataset, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ParameterError, match="variants are of its dB spectra.*not 'spectrum'"):
        export_dataset(sine_dataset, tmp_path / "x.npz", format="seed000-npz", variant="linear")
    with pytest.raises(ParameterError, match="give a folder, not a .npz file"):
        export_dataset(sine_dataset, tmp_path / "x.npz", format="seed000-npz", representation="richness",
                       variant="all")
    target = tmp_path / "kept.npz"
    target.write_bytes(b"user data")
    with pytest.raises(DatasetError, match="kept.npz already exists.*--overwrite"):
        export_dataset(sine_dataset, target, format="seed000-npz")
    assert target.read_bytes() == b"user data"
    with pytest.raises(DatasetError, match="kept.npz exists and is not a seed000-npz export"):
        export_dataset(sine_dataset, target, format="seed000-npz", overwrite=True)
    assert target.read_bytes() == b"user data"
    target.unlink()
    export_dataset(sine_dataset, target, format="seed000-npz")
    export_dataset(sine_dataset, target, format="seed000-npz", overwrite=True, representation="mdct")
    assert np.load(target)["images"].shape == (1024, 6)
    from timbrespace.cli import main

    for args in (["--variant", "log"], ["--representation", "richness", "--variant", "db_norm"]):
        with pytest.raises(SystemExit) as exc:
            main(["export", str(sine_dataset.root), "--format", "seed000-npz", "--out",
                  str(tmp_path / "cli"), *args])
        err = capsys.readouterr().err.strip().splitlines()
        assert exc.value.code == 2 and len(err) == 1 and err[0].startswith("error: --variant")
    assert not (tmp_path / "cli").exists() and not (tmp_path / "cli.npz").exists()
