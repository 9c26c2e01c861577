"""The generation engine: contents, determinism, resume, refusal, variations, Dask."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from timbrespace.datasets import Dataset, DatasetConfig, generate_dataset
from timbrespace.datasets.config import config_hash
from timbrespace.datasets.generate import JOURNAL_NAME, render_block
from timbrespace.errors import DatasetError
from timbrespace.synths import Parameter, SoundModel, get_sound_model, register_sound_model


def _config(**update: object) -> DatasetConfig:
    base: dict[str, object] = dict(
        name="t",
        sound_model="additive",
        sample_rate=8000,
        duration_s=0.05,
        fixed={"snr_db": 30.0},  # per-item noise: catches seeds that depend on the batch
        parameters={
            "f0_hz": {"min": 110, "max": 880, "n": 4, "spacing": "log"},
            "presence": {"values": ["all", "odd", "even"]},
        },
        seed=7,
    )
    base.update(update)
    return DatasetConfig(**base)


def _digest(root: Path) -> dict[str, str]:
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_contents_match_direct_render(tmp_path: Path) -> None:
    config = _config()
    ds = generate_dataset(config, tmp_path / "d", workers=1, progress=False)
    assert isinstance(ds, Dataset) and len(ds) == 12
    assert ds.card.extra["config_hash"] and not (tmp_path / "d" / JOURNAL_NAME).exists()
    audio = ds.load_audio()
    assert audio.shape == (12, 400) and audio.dtype == np.float32
    expected = get_sound_model("additive").render(
        {
            "f0_hz": ds.metadata["f0_hz"].to_numpy(),
            "presence": ds.metadata["presence"].tolist(),
            "snr_db": 30.0,
        },
        sample_rate=8000,
        duration_s=0.05,
        seed=7,
        item_index=np.arange(12),
    )
    np.testing.assert_array_equal(audio, expected)
    assert ds.factor_names == ["f0_hz", "presence"]
    assert ds.factor_codes.max(axis=0).tolist() == [3, 2]
    assert [f.unit for f in ds.factors] == ["Hz", ""]
    assert ds.card.splits == {"train": 10, "valid": 1, "test": 1}


def test_bytes_identical_whatever_workers_and_batch(tmp_path: Path) -> None:
    config = _config()
    ref = _digest(
        generate_dataset(config, tmp_path / "a", workers=1, batch_size=12, progress=False).root
    )
    for k, (workers, batch) in enumerate([(1, 1), (2, 5), (2, 3)]):
        out = tmp_path / f"b{k}"
        assert (
            _digest(
                generate_dataset(
                    config, out, workers=workers, batch_size=batch, progress=False
                ).root
            )
            == ref
        )
    assert len(ref) == 14  # 12 wav + metadata + card


def test_variations_are_chunks_of_one_long_render(tmp_path: Path) -> None:
    config = _config(
        duration_s=None,
        variations={"sound_duration_s": 0.35, "chunk_s": 0.1},
        parameters={"f0_hz": {"values": [220, 330]}},
    )
    ds = generate_dataset(config, tmp_path / "v", workers=1, batch_size=4, progress=False)
    assert len(ds) == 6 and ds.metadata["variation"].tolist() == [0, 1, 2, 0, 1, 2]
    long = get_sound_model("additive").render(
        {"f0_hz": [330.0], "snr_db": 30.0}, sample_rate=8000, duration_s=0.3, seed=7, item_index=[1]
    )
    np.testing.assert_array_equal(ds.load_audio([3, 4, 5]).reshape(-1), long[0])


def test_dsgenerator_naming(tmp_path: Path) -> None:
    config = _config(
        naming="dsgenerator", parameters={"f0_hz": {"values": [220, 330], "label": "pitch"}}
    )
    ds = generate_dataset(config, tmp_path / "n", workers=1, progress=False)
    assert ds.metadata["audio_path"].tolist() == [
        "audio/additive--pitch-220.00--v-000.wav",
        "audio/additive--pitch-330.00--v-000.wav",
    ]
    assert ds.load_audio().shape == (2, 400)


def test_resume_after_lost_items_and_refusals(tmp_path: Path) -> None:
    config = _config()
    out = tmp_path / "r"
    ref = _digest(generate_dataset(config, tmp_path / "ref", workers=1, progress=False).root)
    generate_dataset(config, out, workers=1, progress=False)
    # simulate an interrupted run: card/metadata not yet written, 5 items missing, a temp file left
    (out / "dataset.json").unlink()
    (out / "metadata.parquet").unlink()
    for p in sorted((out / "audio").iterdir())[3:8]:
        p.unlink()
    (out / "audio" / ".000004.wav.tmp123.wav").write_bytes(b"RIFF half")
    (out / JOURNAL_NAME).write_text(
        json.dumps({"config_hash": config_hash(config), "config": config.to_json_dict()})
    )
    mtime = (out / "audio" / "000000.wav").stat().st_mtime_ns
    generate_dataset(config, out, workers=2, batch_size=2, progress=False)
    assert _digest(out) == ref
    assert (
        out / "audio" / "000000.wav"
    ).stat().st_mtime_ns == mtime  # done items are not rewritten
    # complete dataset + same config: nothing to do; another config: refused with the change named
    generate_dataset(config, out, workers=1, progress=False)
    with pytest.raises(DatasetError, match=r"another config \(seed: 7 -> 8\)"):
        generate_dataset(_config(seed=8), out, workers=1, progress=False)
    (out / "dataset.json").unlink()
    (out / JOURNAL_NAME).write_text(
        json.dumps({"config_hash": "x", "config": config.to_json_dict()})
    )
    with pytest.raises(DatasetError, match=r"refusing to resume.*seed: 7 -> 8"):
        generate_dataset(_config(seed=8), out, workers=1, progress=False)
    with pytest.raises(DatasetError, match="not empty"):
        (tmp_path / "other").mkdir()
        (tmp_path / "other" / "x.txt").write_text("mine")
        generate_dataset(config, tmp_path / "other", workers=1, progress=False)
    assert (tmp_path / "other" / "x.txt").read_text() == "mine"


def test_unwritable_folder_is_one_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a folder")
    with pytest.raises(DatasetError, match="cannot write"):
        generate_dataset(_config(), tmp_path / "file" / "d", workers=1, progress=False)
    if os.geteuid() == 0:
        return  # root ignores permissions
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(DatasetError, match="cannot write"):
            generate_dataset(_config(), locked / "d", workers=1, progress=False)
    finally:
        locked.chmod(0o700)


KILL_SCRIPT = """
import sys
from timbrespace.datasets import generate_dataset, load_dataset_config
generate_dataset(load_dataset_config(sys.argv[1]), sys.argv[2], workers=1, batch_size=2, progress=False)
"""


KILL_WORKERS_SCRIPT = """
import sys
from timbrespace.datasets import generate_dataset, load_dataset_config
generate_dataset(load_dataset_config(sys.argv[1]), sys.argv[2], workers=2, batch_size=2, progress=False)
"""


@pytest.mark.slow
def test_kill_9_leaves_no_worker_and_resumes_to_identical_bytes(tmp_path: Path) -> None:
    """Fault test (issue 18): SIGKILL the parent of a 2-worker generate; its workers exit within 5 s."""
    import psutil

    config = _config(duration_s=0.5, fixed={"snr_db": 30.0, "n_partials": 200},
                     parameters={"f0_hz": {"min": 30, "max": 60, "n": 200}, "presence": {"values": ["all", "odd"]}})
    cfg_path = tmp_path / "c.json"
    cfg_path.write_text(json.dumps(config.to_json_dict()))
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-c", KILL_WORKERS_SCRIPT, str(cfg_path), str(out)],
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    workers: list[psutil.Process] = []
    while time.monotonic() < deadline and proc.poll() is None:
        workers = parent.children(recursive=True)
        n_written = len(list((out / "audio").glob("*.wav"))) if (out / "audio").is_dir() else 0
        if len(workers) >= 2 and n_written >= 6:
            break
        time.sleep(0.02)
    assert len(workers) >= 2, "the pool's workers must be running when the parent is killed"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    gone, alive = psutil.wait_procs(workers, timeout=5)
    assert not [p for p in alive if p.status() != psutil.STATUS_ZOMBIE], "workers outlived their parent"
    assert not (out / "dataset.json").exists()
    ds = generate_dataset(cfg_path, out, workers=2, batch_size=3, progress=False)  # the stale lock is taken over
    ref = generate_dataset(config, tmp_path / "ref", workers=1, batch_size=80, progress=False)
    assert _digest(ds.root) == _digest(ref.root)


def test_a_second_concurrent_generate_is_refused(tmp_path: Path) -> None:
    import socket

    holder = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "ds").mkdir()
        (tmp_path / "ds" / ".timbrespace.lock").write_text(f"{holder.pid} {socket.gethostname()}")
        with pytest.raises(DatasetError, match=f"being written by another generate \\(pid {holder.pid}"):
            generate_dataset(_config(), tmp_path / "ds", workers=1, progress=False)
        assert sorted(p.name for p in (tmp_path / "ds").iterdir()) == [".timbrespace.lock"]
    finally:
        holder.kill()
        holder.wait()


@pytest.mark.slow
def test_killed_run_resumes_to_identical_bytes(tmp_path: Path) -> None:
    config = _config(
        duration_s=0.5,
        fixed={"snr_db": 30.0, "n_partials": 200},
        parameters={
            "f0_hz": {"min": 30, "max": 60, "n": 200},  # 400 items: generation got fast (issue 29)
            "presence": {"values": ["all", "odd"]},
        },
    )
    cfg_path = tmp_path / "c.json"
    cfg_path.write_text(json.dumps(config.to_json_dict()))
    out = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, str(cfg_path), str(out)],
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    deadline = time.monotonic() + 60
    n_before = 0
    while time.monotonic() < deadline and proc.poll() is None:
        n_before = len(list((out / "audio").glob("*.wav"))) if (out / "audio").is_dir() else 0
        if n_before >= 10:
            break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    n_killed = len(list((out / "audio").glob("*.wav")))
    assert 10 <= n_killed < 400, "the kill must land in the middle of the run"
    assert not (out / "dataset.json").exists()
    ds = generate_dataset(cfg_path, out, workers=2, batch_size=3, progress=False)
    ref = generate_dataset(config, tmp_path / "ref", workers=1, batch_size=80, progress=False)
    assert _digest(ds.root) == _digest(ref.root)
    assert len(ds) == 400
    for p in ds.metadata["audio_path"]:
        assert sf.info(str(ds.root / p)).frames == 4000


@pytest.mark.slow
def test_dask_local_cluster_gives_same_bytes(tmp_path: Path) -> None:
    from dask.distributed import Client, LocalCluster

    config = _config()
    ref = _digest(generate_dataset(config, tmp_path / "ref", workers=1, progress=False).root)
    with (
        LocalCluster(
            n_workers=1, threads_per_worker=2, processes=False, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        ds = generate_dataset(
            config, tmp_path / "dask", batch_size=5, scheduler=client, progress=False
        )
    assert _digest(ds.root) == ref


class _BatchDependent(SoundModel):
    """A deliberately bad model: its output depends on the batch it is rendered in."""

    name = "test_batch_dependent"
    parameters = (Parameter("level", 0.0, 1.0, 0.5),)

    def _render(self, params, *, sample_rate, n_samples, seed, item_index):
        return np.tile((params["level"] + 1e-3 * params["level"].size)[:, None], (1, n_samples))


def test_render_blocks_make_bytes_independent_of_batching(tmp_path: Path) -> None:
    register_sound_model(_BatchDependent)
    config = DatasetConfig(
        name="b",
        sound_model="test_batch_dependent",
        sample_rate=1000,
        duration_s=0.01,
        parameters={"level": {"min": 0, "max": 1, "n": 50}},
    )
    assert render_block(config) == 32
    ref = _digest(
        generate_dataset(config, tmp_path / "a", workers=1, batch_size=1, progress=False).root
    )
    assert (
        _digest(
            generate_dataset(config, tmp_path / "b", workers=2, batch_size=50, progress=False).root
        )
        == ref
    )
    audio = Dataset(tmp_path / "a").load_audio()
    np.testing.assert_allclose(
        audio[:32, 0] - np.linspace(0, 1, 50)[:32], 0.032, atol=1e-6
    )  # blocks of 32
    np.testing.assert_allclose(
        audio[32:, 0] - np.linspace(0, 1, 50)[32:], 0.018, atol=1e-6
    )  # the rest


def test_audio_files_are_timestamp_free_and_flac_works(tmp_path: Path) -> None:
    ds = generate_dataset(_config(), tmp_path / "w", workers=1, progress=False)
    data = (ds.root / ds.metadata["audio_path"].iloc[0]).read_bytes()
    assert data[:4] == b"RIFF" and b"PEAK" not in data  # libsndfile's PEAK chunk holds the time
    assert sf.info(str(ds.root / ds.metadata["audio_path"].iloc[0])).subtype == "FLOAT"
    flac = generate_dataset(_config(audio_format="flac"), tmp_path / "f", workers=1, progress=False)
    assert flac.metadata["audio_path"].iloc[0].endswith(".flac")
    np.testing.assert_allclose(flac.load_audio(), ds.load_audio(), atol=2.0**-22)


def test_variations_of_one_render_stay_in_one_split(tmp_path: Path, caplog) -> None:
    """Slices of one long render share most of their sound: a split takes whole settings
    (the leak was 3 of 8 settings in both train and test), and `info` says so."""
    from timbrespace.datasets.summary import summarize_dataset

    config = _config(
        duration_s=None,
        variations={"sound_duration_s": 0.35, "chunk_s": 0.1},
        parameters={"f0_hz": {"values": [110, 147, 196, 220, 262, 330, 392, 440, 523, 659]}},
        splits={"train": 0.6, "valid": 0.2, "test": 0.2},
    )
    ds = generate_dataset(config, tmp_path / "s", workers=1, batch_size=4, progress=False)
    meta = ds.metadata
    per_setting = meta.groupby(meta["f0_hz"])["split"].nunique()
    assert (per_setting == 1).all(), per_setting
    assert meta["split"].value_counts().to_dict() == {"train": 18, "valid": 6, "test": 6}
    assert summarize_dataset(ds).split_by.startswith("by setting")
    # two settings cannot fill three splits: by item, with one warning line
    few = _config(duration_s=None, variations={"sound_duration_s": 0.35, "chunk_s": 0.1},
                  parameters={"f0_hz": {"values": [220, 330]}}, splits={"train": 0.5, "valid": 0.25, "test": 0.25})
    with caplog.at_level("WARNING"):
        ds2 = generate_dataset(few, tmp_path / "f", workers=1, progress=False)
    assert "too few to split" in caplog.text and summarize_dataset(ds2).split_by.startswith("by item")
