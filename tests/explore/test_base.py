"""The adapter interface: z and option checks, and the info and paths every kind shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from timbrespace.errors import ParameterError
from timbrespace.explore.base import Explorable
from timbrespace.explore.types import Clip, Option


class _Toy(Explorable):
    """Items whose latent 0 is factor ``a``, latent 1 is factor ``b`` and latent 2 is noise-free zero."""

    kind = "toy"

    def __init__(self) -> None:
        super().__init__("toy-run", latent_dim=3, sample_rate=1000)
        a, b = np.meshgrid(np.arange(6), np.arange(5), indexing="ij")
        a, b = a.ravel(), b.ravel()
        mu = np.stack([a - 2.5, (b - 2.0) * 0.5, np.zeros(len(a))], axis=1)
        logvar = np.stack([np.full(len(a), -4.0), np.full(len(a), -4.0), np.zeros(len(a))], axis=1)
        self._set_items([f"i{k}" for k in range(len(a))], mu, logvar,
                        pd.DataFrame({"a": a * 100.0, "b": [f"b{v}" for v in b]}), ["train"] * len(a))
        self.options = (Option("gain", "gain", 1.0, min=0.0, max=2.0, step=0.1),
                        Option("shape", "shape", "sine", values=("sine", "square")),
                        Option("bars", "bars", 2, min=1, max=8, step=1))

    def decode_batch(self, z, options):  # noqa: ANN001, ANN201
        t = np.arange(1000) / 1000
        return [Clip((options["gain"] * 0.1 * np.sin(2 * np.pi * (200 + 50 * row[0]) * t)).astype(np.float32), 1000)
                for row in z]

    def _item_clips(self, index, options):  # noqa: ANN001, ANN201
        clip = self.decode_batch(self.items().latents[index : index + 1], options)[0]
        return clip, clip

    def export_part(self, part):  # noqa: ANN001, ANN201
        raise NotImplementedError


def test_check_z_and_options():
    toy = _Toy()
    assert toy.check_z([1, 2, 3]).dtype == np.float32
    for bad, message in (([1, 2], r"expected \(3,\)"), ([1, None, 3], "NaN"), ([[1, 2, 3]], r"expected \(3,\)"),
                         ("abc", "got str"), ([1, "x", 3], "numbers"), ([1, 2, float("inf")], "NaN or infinite"),
                         ([1e9, 0, 0], "within")):
        with pytest.raises(ParameterError, match=message):
            toy.check_z(bad)
    assert toy.check_options({}) == {"gain": 1.0, "shape": "sine", "bars": 2}
    with pytest.raises(ParameterError, match="unknown option 'kit' for a 'toy' run: allowed gain, shape, bars"):
        toy.check_options({"kit": "x"})
    with pytest.raises(ParameterError, match="item index 30 is out of range: allowed 0..29"):
        toy.check_index(30)


def test_info_ranks_latents_by_their_factor():
    info = _Toy().info()
    assert [lat["index"] for lat in info["latents"]] == [0, 1]  # latent 2 has KL 0: inactive
    by_index = {lat["index"]: lat for lat in info["latents"]}
    assert by_index[0]["best_factor"] == "a" and by_index[1]["best_factor"] == "b"
    # each latent is a one-to-one copy of its factor: MI = H(factor), the other latent's MI with
    # it is 0 (independent grid), so the gap over the entropy is 1.
    assert by_index[0]["mig"] == pytest.approx(1.0, abs=1e-6)
    assert by_index[1]["mig"] == pytest.approx(1.0, abs=1e-6)
    assert by_index[0]["range"] == pytest.approx([-2.5 - 0.5, 2.5 + 0.5])
    assert sorted(info["default_plane"]) == [0, 1]
    assert info["origin"] == pytest.approx([0.0, 0.0, 0.0], abs=1e-9)
    pc = np.asarray(info["pca"]["components"])
    assert abs(pc[0] @ [1, 0, 0]) == pytest.approx(1.0, abs=1e-6)  # the widest direction is latent 0
    assert info["pca"]["std"][0] == pytest.approx(np.std(np.repeat(np.arange(6) - 2.5, 5), ddof=1), rel=1e-6)
    assert [o["name"] for o in info["options"]] == ["gain", "shape", "bars"]


def test_path_ends_at_the_items_and_slerp_keeps_the_norm():
    toy = _Toy()
    mu = toy.items().latents
    result = toy.path(0, 4, steps=5)  # (-2.5, -1, 0) to (-2.5, 1, 0)
    for name in ("lerp", "slerp"):
        np.testing.assert_allclose(result.z[name][0], mu[0], atol=1e-6)
        np.testing.assert_allclose(result.z[name][-1], mu[4], atol=1e-6)
    norms = np.linalg.norm(result.z["slerp"], axis=1)
    np.testing.assert_allclose(norms, np.linspace(np.linalg.norm(mu[0]), np.linalg.norm(mu[4]), 5), rtol=1e-5)
    clip = result.clips["lerp"]
    assert clip.step_starts_s == pytest.approx([0.0, 1.1, 2.2, 3.3, 4.4])  # 1 s notes, 0.1 s apart
    assert clip.duration_s == pytest.approx(5.5)
    with pytest.raises(ParameterError, match="steps=1 is out of range: allowed 2..16"):
        toy.path(0, 1, steps=1)
