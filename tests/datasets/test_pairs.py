"""Pairs for weak supervision: share all factors but k, seeded, clear error without pairs."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.datasets import PairSampler
from timbrespace.errors import DatasetError, ParameterError


def _grid(*levels: int) -> np.ndarray:
    return np.stack(np.meshgrid(*[np.arange(n) for n in levels], indexing="ij"), -1).reshape(-1, len(levels))


def test_pairs_differ_in_exactly_k_factors_on_a_grid():
    codes = _grid(4, 3, 3)
    first, second = PairSampler(codes, k=1).sample(200, np.random.default_rng(0))
    assert ((codes[first] != codes[second]).sum(axis=1) == 1).all()
    assert (first != second).all()
    varied = np.flatnonzero(codes[first] != codes[second]) % 3
    assert set(varied.tolist()) == {0, 1, 2}  # every factor gets varied


def test_random_k_and_allowed_factors():
    codes = _grid(3, 3, 3, 2)
    first, second = PairSampler(codes, k="random").sample(300, np.random.default_rng(1))
    n_diff = (codes[first] != codes[second]).sum(axis=1)
    assert n_diff.min() >= 1 and n_diff.max() <= 3 and len(set(n_diff.tolist())) == 3
    first, second = PairSampler(codes, k=1, factors=[2]).sample(50, np.random.default_rng(2))
    assert (codes[first][:, [0, 1, 3]] == codes[second][:, [0, 1, 3]]).all()


def test_same_generator_state_same_pairs():
    sampler = PairSampler(_grid(5, 4), k=1)
    a = sampler.sample(20, np.random.default_rng(7))
    b = sampler.sample(20, np.random.default_rng(7))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1], b[1])


def test_table_without_pairs_is_a_clear_error():
    one_per_instrument = np.array([[0, 0], [1, 1], [2, 2]])
    with pytest.raises(DatasetError, match="no two items share all factors but 1"):
        PairSampler(one_per_instrument, k=1)
    with pytest.raises(ParameterError, match="k=5"):
        PairSampler(_grid(2, 2), k=5)
