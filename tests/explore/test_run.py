"""The ``run`` adapter on a trained run: what it decodes equals the library's own path."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from timbrespace.errors import DatasetError
from timbrespace.explore import open_explorable
from timbrespace.explore.limits import feature_range, soft_limit
from timbrespace.explore.run import DEFAULT_N_ITER, RunExplorable
from timbrespace.features import invert
from timbrespace.training import decode_array

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("explore-runs")]  # share the session's runs


def test_info_matches_the_runs_metrics(note_run, note_explorable):
    metrics = json.loads((note_run / "metrics.json").read_text())
    info = note_explorable.info()
    assert info["kind"] == "run" and info["latent_dim"] == 4 and info["sample_rate"] == 8000
    assert info["factors"] == metrics["factors"]
    with np.load(note_run / "latents.npz") as npz:
        variance = npz["mu"].astype(np.float64).var(axis=0)
    assert [lat["index"] for lat in info["latents"]] == np.flatnonzero(variance > 0.01).tolist()
    assert len(info["latents"]) == metrics["active_latents"]
    mi = np.asarray(metrics["mi_nats"])
    entropy = np.asarray([metrics["per_factor"][f]["entropy_nats"] for f in metrics["factors"]])
    for lat in info["latents"]:
        j = lat["index"]
        k = int(np.argmax(mi[j] / entropy))
        assert lat["best_factor"] == metrics["factors"][k]
        row = metrics["per_factor"][lat["best_factor"]]
        if row["best_latent"] == j:  # the factor's best latent: its gap is the factor's MIG
            assert lat["mig"] == pytest.approx(row["mig"], abs=1e-6)
        else:
            assert lat["mig"] == 0.0
    items = note_explorable.items()
    assert len(items.ids) == metrics["n_items"] == 18
    assert list(items.factors.columns) == metrics["factors"]


def test_decode_is_the_library_decode_and_invert(note_explorable):
    run = note_explorable
    z = np.random.default_rng(0).standard_normal(4).astype(np.float32)
    clip = run.decode(z.tolist())
    assert clip.sample_rate == 8000 and clip.audio.shape == (4000,) and clip.audio.dtype == np.float32
    # oracle: decode_array, soft limit into [0, 1], invert with the range of the 4 nearest items, weighted by 1 / distance
    mu = run.items().latents
    d = np.linalg.norm(mu - z, axis=1)
    near = np.argsort(d)[:4]
    w = (1 / (d[near] + 1e-6)) / np.sum(1 / (d[near] + 1e-6))
    norm = run.sidecar.normalization
    lo, hi = np.dot(w, np.asarray(norm.item_min)[near]), np.dot(w, np.asarray(norm.item_max)[near])
    x = soft_limit(decode_array(run.model, z[None]), feature_range(run.sidecar))[0]
    expected = invert(x, run.sidecar, method="pghi+gl", n_iter=DEFAULT_N_ITER["stft"], item_min=[lo], item_max=[hi])[0]
    np.testing.assert_allclose(clip.audio, expected, atol=1e-6)
    np.testing.assert_array_equal(run.decode(z.tolist()).audio, clip.audio)  # deterministic
    assert not np.allclose(run.decode(z.tolist(), n_iter=0).audio, clip.audio)


def test_item_clips_are_the_dataset_audio_and_the_decoded_mean(note_explorable):
    run = note_explorable
    original, recon = run.item_clips(5)
    np.testing.assert_array_equal(original.audio, run.dataset.load_audio([5])[0])
    # decoding the item's own mean uses (almost exactly) the item's own dB range
    np.testing.assert_allclose(run.decode(run.items().latents[5].tolist()).audio, recon.audio, atol=1e-4)


def test_path_interpolates_the_end_items_ranges(note_explorable):
    run = note_explorable
    result = run.path(2, 11, steps=3)
    clip = result.clips["slerp"]
    assert clip.step_starts_s == pytest.approx([0.0, 0.6, 1.2])
    first = clip.audio[: 4000]
    np.testing.assert_allclose(first, run.item_clips(2)[1].audio, atol=1e-5)  # t = 0 is item 2's reconstruction


def test_unfinished_or_missing_runs_are_refused(note_run, tmp_path):
    with pytest.raises(DatasetError, match="no such run folder"):
        open_explorable(tmp_path / "nothing")
    partial = tmp_path / "partial"
    partial.mkdir()
    shutil.copy(note_run / "run.json", partial / "run.json")
    shutil.copy(note_run / "config.yaml", partial / "config.yaml")
    with pytest.raises(DatasetError, match="not a finished run .no latents.npz."):
        RunExplorable(partial)
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    (sweep / "run.json").write_text(json.dumps({"kind": "sweep", "library_version": "0", "dataset": None,
                                                "created": "2026-01-01T00:00:00Z"}))
    with pytest.raises(DatasetError, match="a 'sweep' run cannot be explored"):
        open_explorable(sweep)


def test_the_default_experiment_decodes_through_the_features_inverse(shift_run):
    """The default run (shift-VAE on a dB CQT): encode, decode, and the CQT magnitude's inverse."""
    import torch

    from timbrespace.training import encode_array

    run = open_explorable(shift_run)
    assert run.kind == "run" and run.model.config.architecture == "shift" and run.feature_config.kind == "cqt"
    assert run.phase_method == "pghi+gl" and run.options[0].default == DEFAULT_N_ITER["cqt"] == 8
    # the stored latents are the model's encoding of the stored features
    x = run.dataset.load_features("run_features")
    mu = encode_array(run.model, x)
    np.testing.assert_allclose(run.items().latents, mu, atol=1e-5)
    z = np.random.default_rng(2).standard_normal(4).astype(np.float32)
    for n_iter in (0, 2):
        clip = run.decode(z.tolist(), n_iter=n_iter)
        with torch.no_grad():
            decoded = run.model.decode(torch.from_numpy(z[None])).numpy()
        decoded = soft_limit(decoded, feature_range(run.sidecar))[0]  # the stored dB range
        expected = invert(decoded, run.sidecar, method="pghi+gl", n_iter=n_iter)[0]  # no normalisation
        assert clip.sample_rate == 8000 and clip.audio.shape == (4000,)
        np.testing.assert_allclose(clip.audio, expected, atol=1e-6)
    original, recon = run.item_clips(3)
    np.testing.assert_array_equal(original.audio, run.dataset.load_audio([3])[0])
    np.testing.assert_allclose(run.decode(run.items().latents[3].tolist()).audio, recon.audio, atol=1e-6)
    info = run.info()
    assert info["kind"] == "run" and info["latent_dim"] == 4 and len(info["factors"]) == 4
    assert run.path(0, 5, steps=3).clips["slerp"].step_starts_s == pytest.approx([0.0, 0.6, 1.2])


def test_a_train_run_is_explored_like_a_run(train_run, note_run, tmp_path):
    run = open_explorable(train_run)
    assert isinstance(run, RunExplorable) and run.kind == "train" and run.info()["kind"] == "train"
    assert run.features_name == "run_features" and run.dataset.root.resolve() == (note_run / "dataset").resolve()
    assert run.latent_dim == 3 and run.phase_method == "pghi+gl" and run.options[0].default == 8
    with np.load(train_run / "latents.npz") as npz:
        np.testing.assert_array_equal(run.items().latents, npz["mu"])
    z = np.zeros(3, np.float32)
    x = soft_limit(decode_array(run.model, z[None]), (0.0, 1.0))[0]
    lo, hi = run._nearest_range(z[None])  # min-max per item: the neighbours' range, as for a `run` run
    expected = invert(x, run.sidecar, method="pghi+gl", n_iter=8, item_min=lo, item_max=hi)[0]
    np.testing.assert_allclose(run.decode(z.tolist()).audio, expected, atol=1e-6)
    # a conditional train run (cvae) scores its latents but writes no config.yaml: refused by name
    cvae = tmp_path / "cvae"
    shutil.copytree(train_run, cvae, ignore=shutil.ignore_patterns("config.yaml", "report.html"))
    with pytest.raises(DatasetError, match="a conditional 'train' run .model cvae, no config.yaml. cannot be explored"):
        open_explorable(cvae)


def test_an_older_run_folder_gets_the_evaluate_error(note_run, tmp_path):
    old = tmp_path / "old"
    shutil.copytree(note_run, old, ignore=shutil.ignore_patterns("run.json", "dataset"))
    with pytest.raises(DatasetError, match="made by an older timbrespace .no run.json.; train again"):
        open_explorable(old)
