"""Checkpoint round trips: equal config, identical tensors, no pickle anywhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from timbrespace.errors import ConfigError
from timbrespace.models import VAEConfig, build_model
from timbrespace.training import load_checkpoint, load_model_config, save_checkpoint
from timbrespace.training.checkpoint import optimizer_state_from_flat, optimizer_state_to_flat

CONFIGS = [
    VAEConfig(input_shape=(10,), latent_dim=3, hidden_sizes=(8, 6), likelihood="bernoulli"),
    VAEConfig(
        input_shape=(1, 16, 8),
        latent_dim=2,
        architecture="conv",
        conv_channels=(3, 5),
        hidden_sizes=(7,),
        conv_strides=((2, 2), (2, 1)),
        condition_classes=(3, 2),
        condition_encoding="embedding",
        objective="factorvae",
        discriminator_hidden=(9,),
        learn_variance=True,
    ),
]


@pytest.mark.parametrize("config", CONFIGS, ids=["mlp", "conv-cond-factor"])
def test_save_load_gives_equal_config_and_identical_tensors(
    tmp_path: Path, config: VAEConfig
) -> None:
    model = build_model(config, seed=3)
    x = torch.rand(4, *config.input_shape)
    c = torch.zeros(4, 2, dtype=torch.long) if config.is_conditional else None
    model.train()
    model(x, c)  # moves BatchNorm running statistics away from their initial values
    save_checkpoint(model, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json", "model.safetensors"]
    loaded = load_checkpoint(tmp_path)
    assert loaded.config == config and load_model_config(tmp_path) == config
    sa, sb = model.state_dict(), loaded.state_dict()
    assert sa.keys() == sb.keys()
    for key in sa:
        assert torch.equal(sa[key], sb[key]), key
    model.eval()
    assert torch.equal(
        model.decode(torch.ones(2, config.latent_dim), None if c is None else c[:2]),
        loaded.decode(torch.ones(2, config.latent_dim), None if c is None else c[:2]),
    )
    # safetensors header is JSON: the file is not a pickle
    assert (tmp_path / "model.safetensors").read_bytes()[8:9] == b"{"


def test_load_rejects_foreign_or_mismatched_files(tmp_path: Path) -> None:
    model = build_model(CONFIGS[0])
    save_checkpoint(model, tmp_path)
    meta = json.loads((tmp_path / "model.json").read_text())
    meta["config"]["latent_dim"] = 4
    (tmp_path / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ConfigError, match="weights do not match"):
        load_checkpoint(tmp_path)
    (tmp_path / "model.json").write_text(json.dumps({"format": "pickle"}))
    with pytest.raises(ConfigError, match="expected 'timbrespace.vae'"):
        load_checkpoint(tmp_path)
    with pytest.raises(FileNotFoundError):
        load_checkpoint(tmp_path / "missing")


def test_optimizer_state_round_trip_through_flat_form() -> None:
    model = build_model(CONFIGS[0], seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.8, 0.95), weight_decay=0.1)
    x = torch.rand(3, 10)
    for _ in range(2):
        opt.zero_grad()
        model.loss(x, model(x)).loss.backward()
        opt.step()
    tensors, meta = optimizer_state_to_flat(opt.state_dict(), "optimizer0")
    meta = json.loads(json.dumps(meta))
    other = torch.optim.Adam(model.parameters(), lr=0.5)
    other.load_state_dict(optimizer_state_from_flat(tensors, meta, "optimizer0"))
    a, b = opt.state_dict(), other.state_dict()
    assert a["param_groups"][0]["betas"] == b["param_groups"][0]["betas"] == (0.8, 0.95)
    assert b["param_groups"][0]["lr"] == 1e-3
    for pid in a["state"]:
        for key in ("exp_avg", "exp_avg_sq", "step"):
            assert torch.equal(a["state"][pid][key], b["state"][pid][key])


def test_last_links_the_model_files_of_best_and_a_rewrite_leaves_best_alone(tmp_path: Path) -> None:
    """When an epoch improves, ``last`` hard-links ``best``'s model files instead of
    writing them twice; files are replaced by rename, so the next ``last`` never changes
    ``best``."""
    from timbrespace.training.checkpoint import load_tensors, write_checkpoint_folder

    model = build_model(CONFIGS[0], seed=1)
    best = write_checkpoint_folder(tmp_path / "best", model)
    last = write_checkpoint_folder(
        tmp_path / "last", model, state_tensors={"t": torch.ones(3)}, state_meta={"epoch": 1},
        model_from=best,
    )
    for name in ("model.safetensors", "model.json"):
        assert (last / name).read_bytes() == (best / name).read_bytes()
    assert (last / "model.safetensors").stat().st_ino == (best / "model.safetensors").stat().st_ino
    kept = (best / "model.safetensors").read_bytes()
    with torch.no_grad():
        next(model.parameters()).add_(1.0)
    write_checkpoint_folder(tmp_path / "last", model, state_tensors={"t": torch.ones(3)})
    assert (best / "model.safetensors").read_bytes() == kept
    assert not torch.equal(load_tensors(last / "model.safetensors")["encoder.body.0.weight"],
                           load_tensors(best / "model.safetensors")["encoder.body.0.weight"])


def test_save_tensors_copies_only_tensors_that_share_memory(tmp_path: Path) -> None:
    from timbrespace.training.checkpoint import load_tensors, save_tensors

    base = torch.arange(6.0)
    path = save_tensors({"a": base, "b": base, "c": base.reshape(2, 3).t()}, tmp_path / "t.safetensors")
    back = load_tensors(path)
    assert torch.equal(back["a"], base) and torch.equal(back["b"], base)
    assert torch.equal(back["c"], base.reshape(2, 3).t().contiguous())
