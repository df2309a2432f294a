"""The references benchmarks measure seqcli against: d2l's two models and the plain loop."""

import math

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from seqcli.bench.references import ConciseLM, held_out_loss, plain_reference, rows


def test_the_plain_reference_model_is_the_old_scripts_model_weight_for_weight():
    """benchmarks/reference_lm.py once built Embedding, LSTM (batch-first), Linear in that
    order; from the same seed the folded ConciseLM starts from the same weights."""
    torch.manual_seed(1234)
    old = [nn.Embedding(30, 16), nn.LSTM(16, 12, 2, dropout=0.2, batch_first=True),
           nn.Linear(12, 30)]
    torch.manual_seed(1234)
    new = ConciseLM("lstm", 30, 12, 2, embedding_size=16, dropout=0.2)
    old_weights = [p for module in old for p in module.parameters()]
    assert len(old_weights) == len(list(new.parameters()))
    for a, b in zip(old_weights, new.parameters()):
        assert torch.equal(a, b)
    x = torch.randint(0, 30, (3, 7))
    new.eval()
    logits, _ = new(x)
    ref, _ = old[1].eval()(old[0](x))
    torch.testing.assert_close(logits, old[2](ref))


def test_held_out_loss_carries_the_state_across_windows():
    torch.manual_seed(0)
    model = ConciseLM("gru", 11, 8, embedding_size=4)
    val = rows(torch.randint(0, 11, (2 * 23 + 1,)), 2)  # 23 tokens a row: windows of 5, 5, ... 2
    logits, _ = model.eval()(val[:, :-1])  # the whole row in one call
    whole = F.cross_entropy(logits.flatten(0, 1), val[:, 1:].flatten()).item()
    assert held_out_loss(model, val, seq_len=5) == pytest.approx(whole, rel=1e-5)


def test_the_plain_reference_trains_and_reports():
    ids = torch.arange(4000) % 13  # a text it can learn at once
    untrained = plain_reference(ids, ids[:800], 13, seconds=0, batch=4, seq_len=16)
    trained = plain_reference(ids, ids[:800], 13, seconds=3, batch=4, seq_len=16)
    assert untrained["steps"] == 0 and untrained["val_loss"] == pytest.approx(math.log(13), rel=0.1)
    assert trained["steps"] > 0 and trained["val_loss"] < untrained["val_loss"] - 0.5
