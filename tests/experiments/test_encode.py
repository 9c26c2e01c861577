"""`timbrespace encode` and the measures of sound of a run, on one tiny run.

Oracles: a run's own items, encoded from their WAV files, give the latents the run
stored (``latents.npz``); the measures of sound in ``metrics.json`` are those of
:func:`timbrespace.metrics.audio_measures` on the items the run resynthesised.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import yaml

from timbrespace.errors import AudioError, DatasetError, ParameterError
from timbrespace.experiments import load_experiment_config, run_experiment
from timbrespace.experiments.encode import RunEncoder, encode_audio_files, write_encoded

TINY = {
    "name": "tiny-encode",
    "seed": 5,
    "dataset": {
        "sound_model": "additive",
        "sample_rate": 8000,
        "duration_s": 0.25,
        "fixed": {"n_partials": 6},
        "parameters": {
            "f0_hz": {"min": 150, "max": 600, "n": 3, "spacing": "log"},
            "decay_per_s": {"values": [2.0, 10.0]},
            "slope_db_per_octave": {"values": [-12.0, -3.0]},
        },
        "splits": {"train": 0.6, "valid": 0.2, "test": 0.2},
    },
    "features": {"kind": "stft", "n_fft": 256, "hop_length": 128, "output": "db", "normalization": "standardize"},
    "model": {"latent_dim": 3, "hidden_sizes": [32], "beta": 1.0},
    "training": {"epochs": 2, "batch_size": 8, "num_threads": 1},
    "evaluation": {"n_traversal_steps": 3, "n_traversal_latents": 1, "n_reconstructions": 2, "n_iter": 4},
}


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("encode")
    path = tmp / "tiny.yaml"
    path.write_text(yaml.safe_dump(TINY, sort_keys=False))
    result = run_experiment(load_experiment_config(path), out=tmp / "run", progress=False, workers=1)
    return result.run_dir


@pytest.mark.xdist_group("experiments-encode-run")
def test_own_items_encode_to_the_stored_latents(tiny_run):
    with np.load(tiny_run / "latents.npz") as data:
        mu, logvar, ids = data["mu"], data["logvar"], list(data["item_id"])
    audio_dir = tiny_run / "dataset" / "audio"
    chosen = [0, 5, len(ids) - 1]
    files = [next(audio_dir.glob(f"{ids[i]}.*")) for i in chosen]
    encoded = encode_audio_files(tiny_run, files)
    assert encoded.names == tuple(str(f) for f in files)
    assert encoded.latent_names == ("z0", "z1", "z2") and encoded.notes == ()
    np.testing.assert_allclose(encoded.mu, mu[chosen], atol=1e-4)
    np.testing.assert_allclose(encoded.logvar, logvar[chosen], atol=1e-4)
    # a folder gives every audio file in it, sorted by name
    everything = encode_audio_files(tiny_run, [audio_dir])
    order = np.argsort(ids)
    np.testing.assert_allclose(everything.mu, mu[order], atol=1e-4)


@pytest.mark.xdist_group("experiments-encode-run")
def test_other_rates_and_lengths_are_brought_to_the_run(tiny_run, tmp_path):
    import librosa

    encoder = RunEncoder(tiny_run)
    with np.load(tiny_run / "latents.npz") as data:
        mu, ids = data["mu"], list(data["item_id"])
    y, sr = sf.read(next((tiny_run / "dataset" / "audio").glob(f"{ids[3]}.*")), dtype="float32")
    assert sr == 8000 and len(y) == 2000
    up = librosa.resample(y, orig_sr=sr, target_sr=16000, res_type="soxr_hq")
    sf.write(tmp_path / "at16k.wav", up, 16000, subtype="FLOAT")
    got = encode_audio_files(encoder, [tmp_path / "at16k.wav"])
    assert any("resampled from 16000 Hz to the run's 8000 Hz" in n for n in got.notes)
    # up and down again is near the identity below the resamplers' cut-off
    np.testing.assert_allclose(got.mu[0], mu[3], atol=0.05)
    longer = encoder.encode(np.concatenate([y, np.zeros(500, np.float32)]), 8000, name="long")
    np.testing.assert_allclose(longer.mu[0], mu[3], atol=1e-4)
    assert "trimmed to the run's item duration of 0.250 s" in longer.notes[0]
    shorter = encoder.encode(y[:1500], 8000, name="short")
    assert "zero-padded" in shorter.notes[0]
    stereo = encoder.encode(np.stack([y, y]), 8000, name="stereo")
    np.testing.assert_allclose(stereo.mu, longer.mu, atol=1e-5)
    with open(tmp_path / "at16k.wav", "rb") as fh:
        from_bytes = encoder.encode_bytes(fh.read(), name="upload.wav")
    np.testing.assert_allclose(from_bytes.mu, got.mu, atol=1e-6)


@pytest.mark.xdist_group("experiments-encode-run")
def test_outputs_npz_and_json(tiny_run, tmp_path):
    files = sorted((tiny_run / "dataset" / "audio").iterdir())[:2]
    encoded = encode_audio_files(tiny_run, files)
    npz = write_encoded(encoded, tmp_path / "z.npz", run=tiny_run)
    with np.load(npz) as data:
        assert list(data["files"]) == [str(f) for f in files]
        assert list(data["latent_names"]) == ["z0", "z1", "z2"]
        np.testing.assert_array_equal(data["mu"], encoded.mu)
    out = json.loads(write_encoded(encoded, tmp_path / "z.json", run=tiny_run).read_text())
    assert out["latent_names"] == ["z0", "z1", "z2"] and len(out["items"]) == 2
    assert out["items"][1]["mu"]["z2"] == pytest.approx(float(encoded.mu[1, 2]))
    with pytest.raises(ParameterError, match="exists"):
        write_encoded(encoded, tmp_path / "z.json", run=tiny_run)


@pytest.mark.xdist_group("experiments-encode-run")
def test_bad_recordings(tiny_run, tmp_path):
    encoder = RunEncoder(tiny_run)
    with pytest.raises(AudioError, match="silent"):
        encoder.encode(np.zeros(2000, np.float32), 8000, name="quiet")
    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(AudioError, match="text.wav"):
        encode_audio_files(encoder, [tmp_path / "text.wav"])
    with pytest.raises(AudioError, match="upload"):
        encoder.encode_bytes(b"RIFF....", name="upload")
    with pytest.raises(ParameterError, match="no audio files"):
        encode_audio_files(encoder, [tmp_path / "empty"] if (tmp_path / "empty").mkdir() is None else [])
    with pytest.raises(DatasetError, match="not a run folder"):
        RunEncoder(tmp_path)


@pytest.mark.xdist_group("experiments-encode-run")
def test_measures_of_sound_in_metrics_and_report(tiny_run):
    from timbrespace.datasets import Dataset
    from timbrespace.experiments.pipeline import _match_length
    from timbrespace.features import FeatureSidecar, invert
    from timbrespace.metrics import audio_measures
    from timbrespace.training import decode_array, encode_array, load_checkpoint

    rec = json.loads((tiny_run / "metrics.json").read_text())["reconstruction"]
    for key in ("mrstft", "loudness_error_db", "spectral_convergence"):
        assert np.isfinite(rec[key]) and rec[key] > 0, key
    n = rec["n_resynthesised"]
    assert len(rec["mrstft_per_item"]) == len(rec["f0_error_cents_per_item"]) == n
    # two epochs decode no tone pYIN calls voiced: the f0 error is undefined, and said so
    assert (rec["f0_error_cents"] is None) == (rec["f0_items_voiced"] == 0) == ("f0_note" in rec)
    # oracle: the same measures on the same items, decoded again (resynthesis is deterministic)
    ds = Dataset(tiny_run / "dataset")
    test = ds.split_indices("test")
    rows = np.unique(np.linspace(0, len(test) - 1, n).round().astype(np.int64))
    chosen = test[rows]
    model = load_checkpoint(tiny_run / "checkpoints" / "last")
    sidecar = FeatureSidecar.from_dict(ds.feature_sidecar("run_features"))
    x_hat = decode_array(model, encode_array(model, ds.load_features("run_features", chosen)))
    resynth = _match_length(invert(x_hat, sidecar, method="griffinlim", n_iter=4, indices=chosen), ds.card.n_samples)
    want = audio_measures(ds.load_audio(chosen), resynth, sample_rate=ds.sample_rate).to_dict()
    assert rec["mrstft"] == pytest.approx(want["mrstft"], rel=1e-4)
    assert rec["loudness_error_db"] == pytest.approx(want["loudness_error_db"], rel=1e-4)
    got_f0 = np.array(rec["f0_error_cents_per_item"], dtype=float)  # None → nan
    want_f0 = np.array(want["f0_error_cents_per_item"], dtype=float)
    np.testing.assert_allclose(got_f0, want_f0, rtol=1e-4)
    page = (tiny_run / "report.html").read_text()
    assert "MR-STFT" in page and "loudness error (dB)" in page
