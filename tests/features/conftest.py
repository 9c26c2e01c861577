"""Fixtures for the features tests: real notes as a batch and as a small on-disk dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from timbrespace.datasets.card import DatasetCard
from timbrespace.datasets.dataset import Dataset, write_audio_file, write_card, write_metadata

SAMPLE_RATE = 22050


@pytest.fixture(autouse=True)
def _one_torch_thread() -> object:
    """Small FFT batches run fastest on one thread (and do not fight other jobs)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def read_notes(notes_dir: Path, n: int, *, step: int = 23) -> tuple[np.ndarray, list[str]]:
    """``n`` real notes spread over instruments and pitches, float32 (n, 22050)."""
    files = sorted((notes_dir / "audio").glob("*.wav"))[::step][:n]
    audio = np.stack([sf.read(f, dtype="float32")[0] for f in files])
    return audio, [f.stem for f in files]


@pytest.fixture(scope="session")
def notes(notes_dir: Path) -> np.ndarray:
    """12 real notes (6 instruments, several pitches), float32 (12, 22050) at 22050 Hz."""
    return read_notes(notes_dir, 12)[0]


def make_dataset(
    root: Path, audio: np.ndarray, item_ids: list[str], *, sample_rate: int = SAMPLE_RATE
) -> Dataset:
    """Write a minimal dataset (card, metadata with splits, audio) and open it."""
    n = len(audio)
    for item_id, y in zip(item_ids, audio, strict=True):
        write_audio_file(root / "audio" / f"{item_id}.wav", y, sample_rate)
    splits = np.array(["train"] * (n - n // 4) + ["test"] * (n // 4), dtype=object)
    meta = pd.DataFrame(
        {
            "item_id": item_ids,
            "audio_path": [f"audio/{i}.wav" for i in item_ids],
            "split": splits,
            "variation": 0,
        }
    )
    write_metadata(root, meta)
    card = DatasetCard(
        name="notes",
        source={"kind": "test"},
        factors=[],
        sample_rate=sample_rate,
        n_samples=audio.shape[1],
        n_items=n,
        splits={"train": int((splits == "train").sum()), "test": int((splits == "test").sum())},
    )
    write_card(root, card)
    return Dataset(root)


@pytest.fixture()
def notes_dataset(tmp_path: Path, notes_dir: Path) -> Dataset:
    """A 10-item dataset of real notes in ``tmp_path`` (7 train, 3 test... by position)."""
    audio, ids = read_notes(notes_dir, 10)
    return make_dataset(tmp_path / "ds", audio, ids)


@pytest.fixture()
def ragged_dataset(tmp_path: Path, notes_dir: Path) -> tuple[Dataset, np.ndarray]:
    """5 notes, the last one cut to 5000 samples, with no fixed ``n_samples`` in the card."""
    audio, ids = read_notes(notes_dir, 5)
    ds = make_dataset(tmp_path / "ragged", audio, ids)
    write_audio_file(ds.root / "audio" / f"{ids[4]}.wav", audio[4, :5000], ds.sample_rate)
    write_card(ds.root, DatasetCard.from_dict({**ds.card.to_dict(), "n_samples": None}))
    return Dataset(ds.root), audio
