"""Latent operations: interpolation end points and geometry, traversal grids, prior samples."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.generation import decode_grid, interpolate, lerp, sample_prior, slerp, traverse
from timbrespace.models import VAEConfig, build_model


def test_lerp_and_slerp_hit_end_points() -> None:
    a, b = np.array([1.0, 0.0, 2.0]), np.array([-1.0, 3.0, 0.5])
    for method in ("lerp", "slerp"):
        path = interpolate(a, b, 5, method)
        assert path.shape == (5, 3) and path.dtype == np.float32
        np.testing.assert_allclose(path[0], a, atol=1e-6)
        np.testing.assert_allclose(path[-1], b, atol=1e-6)
    np.testing.assert_allclose(lerp(a, b, 0.5)[0], (a + b) / 2, atol=1e-6)


def test_slerp_follows_the_great_circle() -> None:
    a, b = np.array([2.0, 0.0]), np.array([0.0, 2.0])
    mid = slerp(a, b, [0.5])[0]
    np.testing.assert_allclose(
        mid, [np.sqrt(2), np.sqrt(2)], atol=1e-6
    )  # norm kept at 2, angle 45 degrees
    t = np.linspace(0, 1, 9)
    path = slerp(a, b, t)
    angles = np.arctan2(path[:, 1], path[:, 0])
    np.testing.assert_allclose(angles, t * np.pi / 2, atol=1e-6)  # constant angular speed
    np.testing.assert_allclose(slerp(a, 3 * a, [0.5])[0], [4.0, 0.0], atol=1e-6)  # parallel: lerp


def test_traverse_grid() -> None:
    base = np.array([0.1, 0.2, 0.3, 0.4], dtype=np.float32)
    values = np.linspace(-2, 2, 5)
    grid = traverse(base, [0, 2], values)
    assert grid.shape == (2, 5, 4)
    np.testing.assert_allclose(grid[1, :, 2], values)
    np.testing.assert_allclose(grid[1, :, [0, 1, 3]].T, np.tile(base[[0, 1, 3]], (5, 1)))
    with pytest.raises(ParameterError, match=r"dims \[4\] out of range"):
        traverse(base, [4], values)
    with pytest.raises(ParameterError, match="values must be a non-empty 1-D sequence"):
        traverse(base, [0], [])


def test_sample_prior_is_seeded_standard_normal() -> None:
    model = build_model(VAEConfig(input_shape=(4,), latent_dim=6, hidden_sizes=(4,)))
    z = sample_prior(model, 4000, seed=1)
    assert z.shape == (4000, 6) and z.dtype == np.float32
    np.testing.assert_array_equal(z, sample_prior(6, 4000, seed=1))
    assert abs(float(z.mean())) < 0.03 and abs(float(z.std()) - 1.0) < 0.03
    assert not np.array_equal(z, sample_prior(6, 4000, seed=2))


def test_decode_grid_matches_row_by_row_decoding() -> None:
    from timbrespace.generation import decode_array

    config = VAEConfig(input_shape=(2, 5), latent_dim=3, hidden_sizes=(8,), condition_classes=(4,))
    model = build_model(config, seed=0)
    grid = traverse(np.zeros(3, np.float32), [0, 2], np.linspace(-1, 1, 4))
    out = decode_grid(model, grid, np.array([2]), batch_size=3)
    assert out.shape == (2, 4, 2, 5)
    expected = decode_array(model, grid[1], np.full((4, 1), 2))
    np.testing.assert_allclose(out[1], expected, rtol=1e-6, atol=1e-6)
    assert not np.allclose(out[0, 0], out[0, -1])


def test_slerp_moves_at_constant_angular_speed_on_the_unit_circle() -> None:
    """Seed 002's interpolation test, kept when its own slerp became this one."""
    z0, z1 = np.array([1.0, 0.0]), np.array([0.0, 1.0])
    path = slerp(z0, z1, np.linspace(0, 1, 5))
    np.testing.assert_allclose(path[0], z0, atol=1e-6)
    np.testing.assert_allclose(path[-1], z1, atol=1e-6)
    angles = np.arctan2(path[:, 1], path[:, 0])
    np.testing.assert_allclose(np.diff(angles), np.pi / 8, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(path, axis=1), 1.0, atol=1e-6)
