from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from timbrespace.analysis.traversal import (
    tile_traversal_frames,
    traversal_audio,
    traversal_gif,
)
from timbrespace.errors import ParameterError


def test_gif_frames_and_colours(tmp_path) -> None:
    frames = np.zeros((4, 8, 10))
    frames[np.arange(4), 0, np.arange(4)] = 1.0  # one hot pixel per frame, bottom row
    path = traversal_gif(frames, tmp_path / "t.gif", min_size=16, bounce=False, cmap="gray")
    with Image.open(path) as image:
        assert image.n_frames == 4
        assert image.size == (20, 16)  # 8 rows -> enlarged x2
        image.seek(2)
        rgb = np.asarray(image.convert("RGB"))
    # origin="lower": row 0 is at the bottom; frame 2's hot pixel is column 2
    assert rgb[-1, 4].min() == 255 and rgb[-1, 6].max() == 0 and rgb[0, 4].max() == 0


def test_gif_is_what_pillow_writes_of_the_rgb_frames(tmp_path) -> None:
    """Oracle: Pillow's own GIF of the RGB frames played forward and back, byte for byte
    (each frame is given its palette once, not once more when played back)."""
    import matplotlib

    values = np.random.default_rng(0).random((4, 32, 40))
    path = traversal_gif(values, tmp_path / "t.gif", duration_ms=200)
    rgb = (matplotlib.colormaps["magma"]((values - values.min()) / np.ptp(values))[..., :3] * 255).astype(np.uint8)
    images = [Image.fromarray(np.ascontiguousarray(f)) for f in rgb[:, ::-1].repeat(4, 1).repeat(4, 2)]
    images += images[-2:0:-1]
    images[0].save(tmp_path / "ref.gif", format="GIF", save_all=True, append_images=images[1:], duration=200, loop=0)
    assert path.read_bytes() == (tmp_path / "ref.gif").read_bytes()


def test_gif_bounce_and_atomic(tmp_path) -> None:
    frames = np.random.default_rng(0).random((5, 4, 4))
    path = traversal_gif(frames, tmp_path / "b.gif")
    with Image.open(path) as image:
        assert image.n_frames == 8  # 5 forward + 3 back
    assert [p.name for p in tmp_path.iterdir()] == ["b.gif"]
    with pytest.raises(ParameterError):
        traversal_gif(frames[0], tmp_path / "bad.gif")


def test_tile_frames() -> None:
    specs = np.arange(2 * 3 * 4 * 5, dtype=float).reshape(2, 3, 4, 5)
    tiled = tile_traversal_frames(specs, gap=1)
    assert tiled.shape == (3, 4, 11)
    np.testing.assert_array_equal(tiled[1, :, :5], specs[0, 1])
    np.testing.assert_array_equal(tiled[1, :, 6:], specs[1, 1])
    np.testing.assert_array_equal(tiled[:, :, 5], 0.0)


def test_traversal_audio_layout() -> None:
    sr = 1000
    y = np.ones((3, 100)) * 0.5
    out = traversal_audio(y, sr, gap_s=0.05, fade_ms=10.0)
    assert out.shape == (3 * 150,)
    assert out[50] == pytest.approx(0.5) and out[0] == 0.0 and np.all(out[100:150] == 0.0)
    loud = traversal_audio(np.full((2, 50), 3.0), sr, fade_ms=0.0)
    assert np.max(np.abs(loud)) == pytest.approx(0.99, abs=1e-6)
