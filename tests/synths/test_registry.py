"""Every registered model: declared parameters, batch invariance, entry-point plug-ins."""

from __future__ import annotations

import numpy as np
import pytest

from timbrespace.errors import ParameterError
from timbrespace.synths import get_sound_model, list_sound_models
from timbrespace.synths.base import SoundModel

BUILT_IN = [
    "additive",
    "additive_bandpass",
    "additive_seed001",
    "drip",
    "fm_moog",
    "harmonic_richness",
    "pop",
    "soundfont",
]
FAST = [m for m in BUILT_IN if m != "soundfont"]  # soundfont: one FluidSynth note per item


def test_all_seed_models_registered():
    assert set(BUILT_IN) <= set(list_sound_models())


@pytest.mark.parametrize("name", BUILT_IN)
def test_parameters_declared_with_unique_names_and_docs(name):
    cls = list_sound_models()[name]
    names = cls.parameter_names()
    assert len(names) == len(set(names)) and names
    for p in cls.parameters:
        assert p.doc and p.minimum <= p.default <= p.maximum
    assert cls.description and cls.reference


def _random_params(
    cls: type[SoundModel], n: int, rng: np.random.Generator
) -> dict[str, np.ndarray]:
    params = {}
    for p in cls.parameters:
        values = p.from_unit(rng.uniform(0, 1, n))
        if p.name == "n_partials" or p.name == "n_harmonics":
            values = np.minimum(values, 40)  # keep the test fast
        params[p.name] = values
    return params


@pytest.mark.parametrize("name", FAST)
def test_batch_of_256_equals_8x32_and_2x128_bit_exact(name):
    model = get_sound_model(name)
    params = _random_params(type(model), 256, np.random.default_rng(11))
    kw = {"sample_rate": 8000, "duration_s": 0.05, "seed": 5}
    whole = model.render(params, **kw)
    assert whole.shape == (256, 400) and whole.dtype == np.float32
    assert np.isfinite(whole).all() and np.abs(whole).max() <= 1.0
    for n_chunks in (8, 2):
        parts = [
            model.render({k: v[idx] for k, v in params.items()}, item_index=idx, **kw)
            for idx in np.array_split(np.arange(256), n_chunks)
        ]
        np.testing.assert_array_equal(np.concatenate(parts), whole)


@pytest.mark.parametrize("name", FAST)
def test_unknown_parameter_suggests_closest(name):
    model = get_sound_model(name)
    first = model.parameters[0].name
    with pytest.raises(ParameterError, match=f"did you mean '{first}'"):
        model.render({first[:-1] + "x": 1.0}, duration_s=0.01)


def test_a_value_that_is_not_a_number_is_named():
    model = get_sound_model("additive")
    with pytest.raises(ParameterError, match=r"^f0_hz='abc' is not a number: allowed 20\.\.5000 Hz$"):
        model.render({"f0_hz": np.array(["220", "abc"])}, duration_s=0.01)


def test_unknown_model_suggests_closest():
    with pytest.raises(ParameterError, match="did you mean 'fm_moog'"):
        get_sound_model("fm_mog")


def test_entry_point_plugin_is_listed(monkeypatch):
    from importlib import metadata

    from timbrespace.synths import registry

    class Plug(SoundModel):
        name = "test_plugin_tone"
        parameters = ()

        def _render(self, params, *, sample_rate, n_samples, seed, item_index):
            return np.zeros((len(item_index), n_samples), np.float32)

    class FakeEP:
        name = "test_plugin_tone"

        def load(self):
            return Plug

    monkeypatch.setattr(registry, "_entry_points_loaded", False)
    monkeypatch.setattr(
        metadata,
        "entry_points",
        lambda group: [FakeEP()] if group == registry.ENTRY_POINT_GROUP else [],
    )
    monkeypatch.setattr(registry, "_REGISTRY", dict(registry._REGISTRY))
    assert get_sound_model("test_plugin_tone").render({}, duration_s=0.01).shape == (1, 220)
