"""In-memory minibatches: the same order a shuffling DataLoader draws, and DDP shards."""

from __future__ import annotations

import pytest
import torch
from torch.utils.data import DataLoader, TensorDataset

from timbrespace.training.batches import ItemBatches, shuffled_order


@pytest.mark.parametrize(("n_items", "batch_size"), [(100, 32), (64, 16), (7, 64), (800, 32)])
def test_the_order_and_the_generator_state_are_a_shuffling_dataloader_s(n_items: int, batch_size: int) -> None:
    """Oracle: ``DataLoader(TensorDataset(arange), shuffle=True, generator)`` read as Lightning
    reads it (``len(loader)`` batches per epoch), epoch after epoch, full last batch or not."""
    loader_generator = torch.Generator().manual_seed(3)
    loader = DataLoader(TensorDataset(torch.arange(n_items)), batch_size=batch_size, shuffle=True,
                        generator=loader_generator)
    ours = torch.Generator().manual_seed(3)
    batches = ItemBatches(n_items, batch_size, generator=ours)
    for _ in range(3):
        batch_iter = iter(loader)
        expected = [next(batch_iter)[0] for _ in range(len(loader))]
        (epoch,) = list(batches)  # one Lightning batch per epoch on one process
        assert len(batches) == 1 and len(epoch) == len(expected)
        for got, want in zip(epoch, expected, strict=True):
            assert torch.equal(got, want)
        assert torch.equal(ours.get_state(), loader_generator.get_state())


def test_without_a_generator_the_items_come_in_order() -> None:
    (epoch,) = list(ItemBatches(10, 4))
    assert [b.tolist() for b in epoch] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]


def test_data_parallel_shards_cover_every_item_in_equal_steps() -> None:
    """Every process draws the same permutation and keeps ``order[rank::world]``, padded by
    wrapping around (DistributedSampler's rule), one minibatch per Lightning batch."""
    shards = []
    for rank in range(3):
        batches = ItemBatches(10, 2, generator=torch.Generator().manual_seed(0), world=lambda r=rank: (r, 3))
        steps = list(batches)
        assert len(steps) == len(batches) == 2 and all(len(step) == 1 for step in steps)
        shards.append(torch.cat([step[0] for step in steps]))
    order = shuffled_order(10, 2, torch.Generator().manual_seed(0))
    padded = torch.cat([order, order[:2]])
    for rank, shard in enumerate(shards):
        assert torch.equal(shard, padded[rank::3])
    assert set(torch.cat(shards).tolist()) == set(range(10))
