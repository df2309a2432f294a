"""The hand-written backward of models/unroll.py against autograd through the same equations.

tests/models/ already checks ScratchRecurrent (which uses it) against torch.nn; these tests
pin the function itself: gradients for every input, masks, the no-grad path, autocast.
"""

import pytest
import torch

from seqcli.models.recurrent import ScratchRecurrent
from seqcli.models.unroll import unroll

B, T, H = 3, 5, 4
GATES = {"rnn": 1, "gru": 3, "lstm": 4}
KEEP = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 0, 0, 0], [1, 1, 1, 1, 0]], dtype=torch.bool)


def inputs(cell: str, seed: int = 0, batch: int = B, steps: int = T):
    g = torch.Generator().manual_seed(seed)
    G = GATES[cell] * H
    gi = torch.randn(batch, steps, G, dtype=torch.double, generator=g, requires_grad=True)
    w = (torch.randn(G, H, dtype=torch.double, generator=g) * 0.5).requires_grad_()
    b = torch.randn(G, dtype=torch.double, generator=g, requires_grad=True)
    h = torch.randn(batch, H, dtype=torch.double, generator=g, requires_grad=True)
    state = (h, torch.randn(batch, H, dtype=torch.double, generator=g, requires_grad=True)) \
        if cell == "lstm" else h
    return gi, state, w, b


def autograd_reference(cell, gi, state, w, b, keep):
    """ScratchRecurrent.step_by_step: the cell functions, differentiated by autograd."""
    module = ScratchRecurrent(cell, 1, H)
    return module.step_by_step(gi, state, w, b, keep)


def time_major_unroll(cell, gi, state, w, b, keep):
    """unroll() takes the projection time-major; b_hh is added inside for rnn/lstm."""
    return unroll(cell, gi.transpose(0, 1), state, w, b, keep)


def leaves(gi, state, w, b):
    return [gi, w, b, *(state if isinstance(state, tuple) else (state,))]


def outputs_and_grads(fn, cell, keep, seed=0):
    gi, state, w, b = inputs(cell, seed)
    out, final = fn(cell, gi, state, w, b, keep)
    finals = final if isinstance(final, tuple) else (final,)
    g = torch.Generator().manual_seed(99)
    loss = (out * torch.randn(out.shape, dtype=out.dtype, generator=g)).sum()
    for f in finals:
        loss = loss + (f * torch.randn(f.shape, dtype=f.dtype, generator=g)).sum()
    loss.backward()
    return [out, *finals], [t.grad for t in leaves(gi, state, w, b)]


@pytest.mark.parametrize("masked", [False, True], ids=["full", "masked"])
@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_hand_backward_equals_autograd(cell, masked):
    keep = KEEP if masked else None
    values_a, grads_a = outputs_and_grads(time_major_unroll, cell, keep)
    values_b, grads_b = outputs_and_grads(autograd_reference, cell, keep)
    for a, b in zip(values_a, values_b):
        torch.testing.assert_close(a, b, rtol=1e-12, atol=1e-12)
    for a, b in zip(grads_a, grads_b):
        torch.testing.assert_close(a, b, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_gradcheck(cell):
    gi, state, w, b = inputs(cell, seed=3, batch=2, steps=3)
    states = state if isinstance(state, tuple) else (state,)
    keep = KEEP[1:, :3]  # one row stops after 2 of 3 steps

    def fn(gi, w, b, *states):
        out, final = time_major_unroll(cell, gi, states if cell == "lstm" else states[0], w, b,
                                       keep)
        return (out, *(final if isinstance(final, tuple) else (final,)))

    assert torch.autograd.gradcheck(fn, (gi, w, b, *states))


@pytest.mark.parametrize("cell", ["rnn", "gru", "lstm"])
def test_without_gradients_the_forward_is_the_same(cell):
    gi, state, w, b = inputs(cell)
    with_grad, _ = time_major_unroll(cell, gi, state, w, b, KEEP)
    with torch.no_grad():
        without, final = time_major_unroll(cell, gi, state, w, b, KEEP)
    assert not without.requires_grad
    torch.testing.assert_close(with_grad.detach(), without)


def test_under_bf16_autocast_the_state_follows_the_projection_and_grads_flow():
    module = ScratchRecurrent("lstm", 6, H)
    x = torch.randn(B, T, 6)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, (h, c) = module(x)
    assert out.dtype == torch.bfloat16 and h.dtype == torch.bfloat16
    out.float().sum().backward()
    assert all(p.grad is not None and p.grad.dtype == torch.float32 and p.grad.isfinite().all()
               for p in module.parameters())


def test_gru_needs_its_hidden_bias():
    gi, state, w, _ = inputs("gru")
    with pytest.raises(ValueError, match="bias_hh"):
        unroll("gru", gi.transpose(0, 1), state, w, None, None)
