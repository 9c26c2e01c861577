"""Per-item random streams.

Randomness for item ``i`` of a dataset made with ``seed`` comes from
``np.random.default_rng(SeedSequence([seed, i]))``: the same item gets the same
numbers whatever the batch size, the worker count or the order of rendering
(the torchsynth habit, see STYLE.md).
"""

from __future__ import annotations

import numpy as np


def item_seed_sequence(seed: int, item_index: int) -> np.random.SeedSequence:
    """Seed sequence of item ``item_index`` under the global ``seed``."""
    return np.random.SeedSequence([int(seed), int(item_index)])


def item_rng(seed: int, item_index: int) -> np.random.Generator:
    """Independent generator for item ``item_index`` under the global ``seed``."""
    return np.random.default_rng(item_seed_sequence(seed, item_index))
