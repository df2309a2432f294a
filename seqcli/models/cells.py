"""Recurrent cells written from the textbook equations.

Each cell splits its work in two, because only one half is sequential:

* ``project_input(x)``: the input projection ``W_ih x + b_ih`` for every time step at once
  (one matmul over ``[B, T, input_size]``), since it does not depend on the state;
* ``step(gi, state)``: one step of the recurrence given that projection for one time step.

The step math lives in plain functions (``rnn_step``, ``lstm_step``, ``gru_step``) that take
the hidden-to-hidden weights as arguments, so a module that stores its parameters under
torch.nn's layer names (see ``recurrent.py``) can reuse them without owning cell modules.

Parameter names, shapes, gate order and default initialisation follow ``torch.nn.RNNCell``,
``torch.nn.LSTMCell`` and ``torch.nn.GRUCell`` exactly, so state dicts load either way.
"""

from __future__ import annotations

import math
from typing import Callable, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn

# A cell's state: ``h`` for RNN and GRU, ``(h, c)`` for LSTM (as torch.nn).
State = Union[Tensor, tuple[Tensor, Tensor]]
StepFn = Callable[[Tensor, State, Tensor, Tensor], State]


def project_input(x: Tensor, weight_ih: Tensor, bias_ih: Tensor) -> Tensor:
    """``x @ weight_ih^T + bias_ih`` over any leading shape ([B, I] or [B, T, I])."""
    return F.linear(x, weight_ih, bias_ih)


def rnn_step(gi: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor) -> Tensor:
    """Elman RNN: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)``; ``gi`` is ``W_ih x + b_ih``."""
    return torch.tanh(gi + F.linear(h, weight_hh, bias_hh))


def lstm_step(
    gi: Tensor, state: tuple[Tensor, Tensor], weight_hh: Tensor, bias_hh: Tensor
) -> tuple[Tensor, Tensor]:
    """LSTM, gates stacked ``i, f, g, o`` along the last dim as in torch.nn::

        i = sigmoid(W_ii x + b_ii + W_hi h + b_hi)      input gate
        f = sigmoid(W_if x + b_if + W_hf h + b_hf)      forget gate
        g = tanh(W_ig x + b_ig + W_hg h + b_hg)         candidate cell
        o = sigmoid(W_io x + b_io + W_ho h + b_ho)      output gate
        c' = f * c + i * g
        h' = o * tanh(c')
    """
    h, c, _ = lstm_gates(gi, state, weight_hh, bias_hh)
    return h, c


def lstm_gates(gi: Tensor, state: tuple[Tensor, Tensor], weight_hh: Tensor,
               bias_hh: Tensor) -> tuple[Tensor, Tensor, dict[str, Tensor]]:
    """`lstm_step` that also returns its gates (input, forget, output: each in [0, 1]), so
    `seqcli inspect` shows exactly what the step computed."""
    h, c = state
    i, f, g, o = (gi + F.linear(h, weight_hh, bias_hh)).chunk(4, dim=-1)
    i, f, o = torch.sigmoid(i), torch.sigmoid(f), torch.sigmoid(o)
    c = f * c + i * torch.tanh(g)
    return o * torch.tanh(c), c, {"input": i, "forget": f, "output": o}


def gru_step(gi: Tensor, h: Tensor, weight_hh: Tensor, bias_hh: Tensor) -> Tensor:
    """GRU, gates stacked ``r, z, n`` along the last dim as in torch.nn::

        r = sigmoid(W_ir x + b_ir + W_hr h + b_hr)      reset gate
        z = sigmoid(W_iz x + b_iz + W_hz h + b_hz)      update gate
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))   candidate
        h' = z * h + (1 - z) * n

    The reset gate multiplies ``W_hn h + b_hn`` (bias included), which is why the
    hidden projection cannot simply be added to ``gi`` as for the other cells.
    """
    return gru_gates(gi, h, weight_hh, bias_hh)[0]


def gru_gates(gi: Tensor, h: Tensor, weight_hh: Tensor,
              bias_hh: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
    """`gru_step` that also returns its reset and update gates (each in [0, 1])."""
    i_r, i_z, i_n = gi.chunk(3, dim=-1)
    h_r, h_z, h_n = F.linear(h, weight_hh, bias_hh).chunk(3, dim=-1)
    r = torch.sigmoid(i_r + h_r)
    z = torch.sigmoid(i_z + h_z)
    n = torch.tanh(i_n + r * h_n)
    return z * h + (1 - z) * n, {"reset": r, "update": z}


def init_uniform_(params: list[Tensor], hidden_size: int) -> None:
    """torch.nn's default for all recurrent weights and biases: U(-1/sqrt(H), 1/sqrt(H))."""
    bound = 1.0 / math.sqrt(hidden_size)
    with torch.no_grad():
        for p in params:
            p.uniform_(-bound, bound)


class _Cell(nn.Module):
    """Shared parameters and plumbing; subclasses set ``num_gates`` and ``step_fn``."""

    num_gates: int = 1
    step_fn: StepFn

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        gates = self.num_gates * hidden_size
        self.weight_ih = nn.Parameter(torch.empty(gates, input_size))
        self.weight_hh = nn.Parameter(torch.empty(gates, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(gates))
        self.bias_hh = nn.Parameter(torch.empty(gates))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_uniform_(list(self.parameters()), self.hidden_size)

    def project_input(self, x: Tensor) -> Tensor:
        """Input projection for all positions at once: [..., input_size] -> [..., G*H]."""
        return project_input(x, self.weight_ih, self.bias_ih)

    def step(self, gi: Tensor, state: State) -> State:
        """One time step from a precomputed projection ``gi`` [B, G*H] and the old state."""
        return type(self).step_fn(gi, state, self.weight_hh, self.bias_hh)

    def zero_state(self, x: Tensor) -> State:
        """Zeros state for a batch ``x`` [B, input_size] (what ``state=None`` means)."""
        return x.new_zeros(x.shape[0], self.hidden_size)

    def forward(self, x: Tensor, state: State | None = None) -> State:
        """One step on ``x`` [B, input_size], as torch.nn's cells (returns the new state)."""
        if state is None:
            state = self.zero_state(x)
        return self.step(self.project_input(x), state)

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}"


class RNNCell(_Cell):
    """Elman cell with tanh, as ``torch.nn.RNNCell(nonlinearity="tanh")``."""

    num_gates = 1
    step_fn = staticmethod(rnn_step)


class LSTMCell(_Cell):
    """LSTM cell, as ``torch.nn.LSTMCell``; state is ``(h, c)``."""

    num_gates = 4
    step_fn = staticmethod(lstm_step)

    def zero_state(self, x: Tensor) -> tuple[Tensor, Tensor]:
        h = x.new_zeros(x.shape[0], self.hidden_size)
        return h, torch.zeros_like(h)


class GRUCell(_Cell):
    """GRU cell, as ``torch.nn.GRUCell``."""

    num_gates = 3
    step_fn = staticmethod(gru_step)


CELLS: dict[str, type[_Cell]] = {"rnn": RNNCell, "lstm": LSTMCell, "gru": GRUCell}
