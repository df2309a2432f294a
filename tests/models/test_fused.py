"""FusedRecurrent's one-step inference path (generation) against the torch.nn module it wraps."""

import itertools

import pytest
import torch

from seqcli.models.fused import FusedRecurrent

CASES = list(itertools.product(["rnn", "gru", "lstm"], [1, 2], [False, True]))


def as_list(state):
    return list(state) if isinstance(state, tuple) else [state]


@pytest.mark.parametrize("cell,layers,bidirectional", CASES)
def test_single_step_equals_the_sequence_kernel(cell, layers, bidirectional):
    torch.manual_seed(0)
    module = FusedRecurrent(cell, 5, 7, layers, 0.3, bidirectional).eval()
    prime, step = torch.randn(3, 4, 5), torch.randn(3, 1, 5)
    with torch.no_grad():
        _, state = module(prime)
        for given in (None, state):
            fast_out, fast_state = module(step, given)
            slow_out, slow_state = module.rnn(step, given)
            torch.testing.assert_close(fast_out, slow_out)
            for a, b in zip(as_list(fast_state), as_list(slow_state)):
                torch.testing.assert_close(a, b)


def test_single_step_is_not_used_when_training_or_with_gradients(monkeypatch):
    module = FusedRecurrent("lstm", 5, 7, 2, 0.5)
    monkeypatch.setattr(module, "_single_step", lambda *a: pytest.fail("fast path used"))
    x = torch.randn(2, 1, 5)
    module.train()
    with torch.no_grad():
        module(x)
    module.eval()
    out, _ = module(x)  # gradients enabled
    assert out.requires_grad
