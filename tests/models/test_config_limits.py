"""Model sizes are bounded whenever a config is built, a model.json read back included (issue 32)."""

from __future__ import annotations

import pytest

from timbrespace.errors import ConfigError
from timbrespace.models import VAEConfig
from timbrespace.models.config import MAX_LATENT_DIM, MAX_LAYER_WIDTH


def test_bounds() -> None:
    VAEConfig(input_shape=(16,), latent_dim=MAX_LATENT_DIM, hidden_sizes=(MAX_LAYER_WIDTH,))
    with pytest.raises(ConfigError, match="latent_dim=1000000000 is out of range: allowed 1..4096"):
        VAEConfig(input_shape=(16,), latent_dim=10**9)
    with pytest.raises(ConfigError, match="hidden_sizes=.* is out of range"):
        VAEConfig(input_shape=(16,), hidden_sizes=(400, 10**6))
    with pytest.raises(ConfigError, match="gru_hidden=100000 is out of range"):
        VAEConfig(input_shape=(16, 9), architecture="gru", gru_hidden=100_000)


def test_an_edited_model_json_names_the_file(tmp_path) -> None:
    import json

    from timbrespace.models import build_model
    from timbrespace.training import save_checkpoint
    from timbrespace.training.checkpoint import load_model_config

    save_checkpoint(build_model(VAEConfig(input_shape=(8,), latent_dim=2, hidden_sizes=(4,))), tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["config"]["latent_dim"] = 1e9
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match=r"model.json: latent_dim=1000000000(\.0)? is out of range"):
        load_model_config(tmp_path)
