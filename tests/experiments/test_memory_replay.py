"""The replay through the cell equations, and the gradient it measures going back."""

import math

import pytest
import torch
import torch.nn.functional as F

from seqcli.experiments.agreement import AgreementTask
from seqcli.experiments.memory_model import AgreementModel
from seqcli.experiments.memory_replay import gradient_norms, replay
from seqcli.experiments.memory_settings import MemoryConfig


@pytest.mark.parametrize("cell", ["rnn", "lstm", "gru"])
def test_the_replay_through_the_equations_is_the_fused_run(cell):
    torch.manual_seed(0)
    model = AgreementModel(cell, hidden=12).eval()
    ids, _ = AgreementTask(6).batch(10, torch.Generator().manual_seed(1))
    output, _ = model.recurrent(model.embedding(ids))
    logits, hidden = replay(model, ids)
    assert len(hidden) == ids.shape[1]
    for t in (0, 3, ids.shape[1] - 1):
        torch.testing.assert_close(hidden[t], output[:, t], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(logits, model(ids), atol=1e-5, rtol=1e-5)


def test_gradient_at_k0_is_the_fused_models_gradient_at_its_last_output():
    torch.manual_seed(0)
    model = AgreementModel("lstm", hidden=12)
    config = MemoryConfig(gradient_size=32)
    norms = gradient_norms(model, 5, config, torch.device("cpu"))
    assert len(norms) == AgreementTask(5).length
    ids, labels = AgreementTask(5).batch(32, torch.Generator().manual_seed(
        (config.seed + 0x9E3779B9) % 2**32))
    output, _ = model.recurrent(model.embedding(ids))
    output.retain_grad()
    F.cross_entropy(model.head(output[:, -1]), labels, reduction="sum").backward()
    assert norms[0] == pytest.approx(float(output.grad[:, -1].norm(dim=-1).mean()), rel=1e-4)


def test_the_plain_rnn_gradient_vanishes_going_back():
    torch.manual_seed(0)
    model = AgreementModel("rnn", hidden=16)
    norms = gradient_norms(model, 30, MemoryConfig(gradient_size=16), torch.device("cpu"))
    assert all(math.isfinite(n) and n >= 0 for n in norms)
    assert norms[-1] < 1e-3 * norms[0]
