"""Cells from the equations: hand-computed steps, and parity with torch.nn's cells."""

import math

import pytest
import torch
from torch import nn

from seqcli.models.cells import CELLS, GRUCell, LSTMCell, RNNCell

TORCH_CELLS = {"rnn": nn.RNNCell, "lstm": nn.LSTMCell, "gru": nn.GRUCell}


def sigmoid(v: float) -> float:
    return 1.0 / (1.0 + math.exp(-v))


def set_params(cell: nn.Module, **values: list[float]) -> None:
    """Fill a 1-unit, 1-input cell's parameters from plain lists (one value per gate)."""
    with torch.no_grad():
        for name, vals in values.items():
            param = getattr(cell, name)
            param.copy_(torch.tensor(vals, dtype=param.dtype).reshape(param.shape))


def test_rnn_step_by_hand() -> None:
    cell = RNNCell(1, 1).double()
    set_params(cell, weight_ih=[0.5], weight_hh=[-0.3], bias_ih=[0.1], bias_hh=[0.2])
    x, h = 2.0, 0.7
    expected = math.tanh(0.5 * x + 0.1 - 0.3 * h + 0.2)
    got = cell(torch.tensor([[x]], dtype=torch.double), torch.tensor([[h]], dtype=torch.double))
    assert got.item() == pytest.approx(expected, abs=1e-12)


def test_lstm_step_by_hand() -> None:
    # Gates in torch.nn order i, f, g, o.
    w_i, w_h, b_i, b_h = [0.5, -0.4, 0.3, 0.8], [0.2, 0.6, -0.7, 0.1], [0.1, 0.2, 0.3, 0.4], \
        [-0.1, 0.05, 0.0, 0.2]
    cell = LSTMCell(1, 1).double()
    set_params(cell, weight_ih=w_i, weight_hh=w_h, bias_ih=b_i, bias_hh=b_h)
    x, h, c = 1.5, -0.5, 0.25
    pre = [w_i[k] * x + b_i[k] + w_h[k] * h + b_h[k] for k in range(4)]
    i, f, g, o = sigmoid(pre[0]), sigmoid(pre[1]), math.tanh(pre[2]), sigmoid(pre[3])
    c_new = f * c + i * g
    h_new = o * math.tanh(c_new)
    t = lambda v: torch.tensor([[v]], dtype=torch.double)  # noqa: E731
    got_h, got_c = cell(t(x), (t(h), t(c)))
    assert got_c.item() == pytest.approx(c_new, abs=1e-12)
    assert got_h.item() == pytest.approx(h_new, abs=1e-12)


def test_gru_step_by_hand() -> None:
    # Gates in torch.nn order r, z, n; the reset gate multiplies W_hn h + b_hn.
    w_i, w_h, b_i, b_h = [0.5, -0.4, 0.3], [0.2, 0.6, -0.7], [0.1, 0.2, 0.3], [-0.1, 0.05, 0.4]
    cell = GRUCell(1, 1).double()
    set_params(cell, weight_ih=w_i, weight_hh=w_h, bias_ih=b_i, bias_hh=b_h)
    x, h = 1.5, -0.5
    r = sigmoid(w_i[0] * x + b_i[0] + w_h[0] * h + b_h[0])
    z = sigmoid(w_i[1] * x + b_i[1] + w_h[1] * h + b_h[1])
    n = math.tanh(w_i[2] * x + b_i[2] + r * (w_h[2] * h + b_h[2]))
    expected = z * h + (1 - z) * n
    got = cell(torch.tensor([[x]], dtype=torch.double), torch.tensor([[h]], dtype=torch.double))
    assert got.item() == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_parameters_match_torch(kind: str) -> None:
    ours, theirs = CELLS[kind](3, 5), TORCH_CELLS[kind](3, 5)
    assert [(k, v.shape) for k, v in ours.state_dict().items()] == \
        [(k, v.shape) for k, v in theirs.state_dict().items()]
    bound = 1 / math.sqrt(5)
    assert all(p.abs().max() <= bound for p in ours.parameters())
    assert all(p.std() > 0 for p in ours.parameters())  # actually initialised, not zeros


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_step_matches_torch_both_ways(kind: str) -> None:
    torch.manual_seed(0)
    ours, theirs = CELLS[kind](3, 5).double(), TORCH_CELLS[kind](3, 5).double()
    x = torch.randn(4, 3, dtype=torch.double)
    h = torch.randn(4, 5, dtype=torch.double)
    state = (h, torch.randn_like(h)) if kind == "lstm" else h
    for src, dst in ((theirs, ours), (ours, theirs)):
        dst.load_state_dict(src.state_dict())
        a, b = ours(x, state), theirs(x, state)
        for u, v in zip(a if kind == "lstm" else [a], b if kind == "lstm" else [b]):
            torch.testing.assert_close(u, v, rtol=1e-12, atol=1e-12)
    zero_a, zero_b = ours(x), theirs(x)  # state=None means zeros for both
    torch.testing.assert_close(zero_a, zero_b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru"])
def test_projection_of_all_steps_then_step(kind: str) -> None:
    """Projecting [B, T, I] at once and stepping equals calling the cell step by step."""
    torch.manual_seed(1)
    cell = CELLS[kind](3, 4).double()
    x = torch.randn(2, 6, 3, dtype=torch.double)
    gi = cell.project_input(x)
    assert gi.shape == (2, 6, cell.num_gates * 4)
    fast = slow = None
    for t in range(6):
        fast = cell.step(gi[:, t], cell.zero_state(x[:, t]) if fast is None else fast)
        slow = cell(x[:, t], slow)
    for u, v in zip(fast if kind == "lstm" else [fast], slow if kind == "lstm" else [slow]):
        torch.testing.assert_close(u, v, rtol=1e-12, atol=1e-12)
