"""In-memory minibatches for :func:`~timbrespace.training.fit`: item indices, not collated items.

The training items live in one tensor; a batch is a tensor of item indices, and the
module gathers ``x[indices]`` itself. That removes the per-item ``__getitem__`` and
``collate`` of a ``DataLoader`` over a ``TensorDataset``, and lets one Lightning step
run a whole epoch of optimiser steps on a single process (Lightning's per-batch hooks
then run once per epoch instead of once per step).

The shuffled order is drawn exactly as Lightning drew it from ``DataLoader(dataset,
batch_size, shuffle=True, generator=g)``: each epoch takes one ``int64`` from ``g``
(the loader's base seed), then ``torch.randperm(n, generator=g)``, then, when the last
batch is partial, one more ``randperm`` (the ``RandomSampler`` is run to exhaustion to
fill that batch and draws again; with full batches Lightning stops after ``len(loader)``
batches and it never does). Runs trained before this module existed therefore keep
their weights for the same seed, and the generator's state after an epoch (saved in
the checkpoint) is the same as it was.

Under data parallelism every process draws the same permutation, pads it by wrapping
around to a multiple of the number of processes and keeps ``order[rank::world]``
(what ``DistributedSampler`` does); each Lightning step then runs one optimiser step,
since DDP reduces gradients once per forward of the wrapped module.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch

__all__ = ["ItemBatches", "shuffled_order"]


def shuffled_order(n_items: int, batch_size: int, generator: torch.Generator) -> torch.Tensor:
    """One epoch's item order, drawn as ``DataLoader(shuffle=True, generator=generator)``
    drew it under Lightning.

    Parameters
    ----------
    n_items : int
    batch_size : int
        Items per batch (whether the last batch is partial decides one more draw).
    generator : torch.Generator
        Advanced by the draws (see the module docstring).

    Returns
    -------
    torch.Tensor [shape=(n_items,), dtype=int64]
    """
    torch.empty((), dtype=torch.int64).random_(generator=generator)  # the loader's base seed
    order = torch.randperm(n_items, generator=generator)
    if n_items % batch_size:
        torch.randperm(n_items, generator=generator)  # the sampler's draw after its last index
    return order


class ItemBatches:
    """The minibatches of item indices of each epoch, for this process.

    Iterating gives the Lightning batches of one epoch; each Lightning batch is a list of
    index tensors (minibatches of at most ``batch_size`` items). On one process the whole
    epoch is one Lightning batch; under data parallelism each Lightning batch holds one
    minibatch of this process's shard.

    Parameters
    ----------
    n_items : int
        Items in the split.
    batch_size : int
        Items per optimiser step (the last minibatch may be smaller).
    generator : torch.Generator, optional
        Shuffles every epoch (:func:`shuffled_order`); ``None``: items in order.
    world : callable returning (rank, world_size)
        Read when an epoch starts (the trainer knows them only once it runs).
    """

    def __init__(
        self,
        n_items: int,
        batch_size: int,
        *,
        generator: torch.Generator | None = None,
        world: Callable[[], tuple[int, int]] = lambda: (0, 1),
    ) -> None:
        self.n_items, self.batch_size = int(n_items), int(batch_size)
        self.generator = generator
        self.world = world

    def _shard_size(self, world_size: int) -> int:
        return math.ceil(self.n_items / world_size)

    def __len__(self) -> int:
        _, world_size = self.world()
        if world_size == 1:
            return 1
        return math.ceil(self._shard_size(world_size) / self.batch_size)

    def __iter__(self) -> Iterator[list[torch.Tensor]]:
        rank, world_size = self.world()
        if self.generator is not None:
            order = shuffled_order(self.n_items, self.batch_size, self.generator)
        else:
            order = torch.arange(self.n_items)
        if world_size > 1:
            total = self._shard_size(world_size) * world_size
            order = order.repeat(math.ceil(total / self.n_items))[:total][rank::world_size]
        minibatches = list(order.split(self.batch_size))
        if world_size == 1:
            yield minibatches
        else:
            for minibatch in minibatches:
                yield [minibatch]
