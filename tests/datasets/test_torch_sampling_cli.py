"""Torch adapter, fixed-factor sampling, and the generate / info / export commands."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import zarr
from torch.utils.data import DataLoader

from timbrespace.cli import main
from timbrespace.datasets import Dataset, DatasetConfig, generate_dataset
from timbrespace.datasets.torch import TorchDataset


@pytest.fixture(scope="module")
def dataset(tmp_path_factory: pytest.TempPathFactory) -> Dataset:
    config = DatasetConfig(
        name="small",
        sound_model="additive",
        sample_rate=8000,
        duration_s=0.05,
        parameters={
            "f0_hz": {"min": 100, "max": 800, "n": 4, "spacing": "log"},
            "presence": {"values": ["all", "odd", "even"]},
        },
    )
    return generate_dataset(config, tmp_path_factory.mktemp("t") / "d", workers=1, progress=False)


def test_torch_adapter_streams_audio(dataset: Dataset) -> None:
    tds = TorchDataset(dataset, split="train")
    assert len(tds) == 10
    item = tds[3]
    i = int(dataset.split_indices("train")[3])
    assert item["index"] == i
    torch.testing.assert_close(item["x"], torch.from_numpy(dataset.load_audio([i])[0]))
    assert item["factors"].tolist() == dataset.factor_codes[i].tolist()
    batch = next(iter(DataLoader(tds, batch_size=4)))
    assert batch["x"].shape == (4, 400) and batch["factors"].shape == (4, 2)


def test_public_torch_dataset_with_dataloader_workers(dataset: Dataset) -> None:
    import timbrespace.datasets as tsd
    from timbrespace.datasets import TorchDataset as Public

    assert Public is TorchDataset and "TorchDataset" in tsd.__all__
    tds = Public(dataset.root, split=["train", "valid"])
    assert len(tds) == 11
    # the same batches in the main process and in two worker processes
    serial = list(DataLoader(tds, batch_size=4))
    parallel = list(DataLoader(tds, batch_size=4, num_workers=2))
    assert [b["index"].tolist() for b in serial] == [b["index"].tolist() for b in parallel]
    for a, b in zip(serial, parallel, strict=True):
        torch.testing.assert_close(a["x"], b["x"])
        assert a["x"].dtype == torch.float32 and a["factors"].dtype == torch.int64
    first = serial[0]
    torch.testing.assert_close(first["x"], torch.from_numpy(dataset.load_audio(first["index"].numpy())))
    assert first["factors"].tolist() == dataset.factor_codes[first["index"].numpy()].tolist()


def test_torch_adapter_streams_features(dataset: Dataset) -> None:
    feats = np.arange(12 * 5, dtype=np.float32).reshape(12, 5)
    dataset.features_dir.mkdir(exist_ok=True)
    arr = zarr.create_array(
        str(dataset.features_dir / "toy.zarr"), shape=feats.shape, dtype="float32", chunks=(4, 5)
    )
    arr[:] = feats
    (dataset.features_dir / "toy.json").write_text(json.dumps({"kind": "toy"}))
    tds = TorchDataset(dataset, features="toy", indices=[2, 7])
    assert len(tds) == 2
    np.testing.assert_array_equal(tds[1]["x"].numpy(), feats[7])


def test_sample_fixed_factor(dataset: Dataset) -> None:
    idx, code = dataset.sample_fixed_factor(1, 3, random_state=0)
    assert idx.shape == (3,) and np.all(dataset.factor_codes[idx, 1] == code)
    assert np.unique(idx).size == 3  # enough items (4 per presence code): no replacement
    idx2, code2 = dataset.sample_fixed_factor(1, 3, random_state=0)
    assert code2 == code and np.array_equal(idx, idx2)
    big, c = dataset.sample_fixed_factor(
        0, 10, random_state=1
    )  # 3 items per f0 code: with replacement
    assert big.shape == (10,) and np.all(dataset.factor_codes[big, 0] == c)
    codes = {dataset.sample_fixed_factor(0, 1, random_state=s)[1] for s in range(40)}
    assert codes == {0, 1, 2, 3}


def test_cli_generate_info_export(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "name: cli\nsound_model: additive\nsample_rate: 8000\nduration_s: 0.05\n"
        "parameters:\n  decay_per_s: {values: [0, 5, 10]}\n"
    )
    main(
        [
            "generate",
            str(cfg),
            "--out",
            str(tmp_path / "d"),
            "--workers",
            "1",
            "--no-progress",
            "--naming",
            "dsgenerator",
        ]
    )
    ds = Dataset(tmp_path / "d")
    assert ds.metadata["audio_path"].iloc[2] == "audio/additive--decay_per_s-10.00--v-000.wav"
    main(["info", str(tmp_path / "d")])
    out = capsys.readouterr().out
    assert "3 items" in out and "decay_per_s" in out and "1/s" in out
    main(["export", str(tmp_path / "d"), "--format", "nsynth-json", "--out", str(tmp_path / "ns")])
    assert len(json.loads((tmp_path / "ns" / "examples.json").read_text())) == 3
    with pytest.raises(SystemExit) as exc:
        main(
            [
                "generate",
                str(cfg),
                "--out",
                str(tmp_path / "d"),
                "--workers",
                "1",
                "--no-progress",
                "--naming",
                "index",
            ]
        )
    assert exc.value.code == 2
    assert "another config (naming: 'dsgenerator' -> 'index')" in capsys.readouterr().err
