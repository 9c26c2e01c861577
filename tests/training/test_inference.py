"""``eval_mode``: eval for the block, the model's mode (each submodule's too) given back after."""

from __future__ import annotations

import pytest
import torch

from timbrespace.training import eval_mode


def _model() -> torch.nn.Module:
    return torch.nn.Sequential(torch.nn.Linear(4, 4), torch.nn.BatchNorm1d(4), torch.nn.Dropout(0.5))


@pytest.mark.parametrize("training", [True, False])
def test_eval_for_the_block_then_the_mode_before(training: bool) -> None:
    model = _model().train(training)
    with eval_mode(model) as inside:
        assert inside is model
        assert not any(m.training for m in model.modules())
    assert all(m.training is training for m in model.modules())


def test_an_eval_step_changes_no_statistics_and_the_mode_comes_back_on_an_error() -> None:
    model = _model().train()
    norm = model[1]
    before = norm.running_mean.clone()
    x = torch.randn(8, 4, generator=torch.Generator().manual_seed(0))
    with pytest.raises(RuntimeError, match="boom"), eval_mode(model):
        assert torch.equal(model(x), model(x))  # no dropout: the same output twice
        raise RuntimeError("boom")
    assert torch.equal(norm.running_mean, before)  # batch-norm statistics not updated
    assert model.training and norm.training
