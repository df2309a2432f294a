"""The references seqcli is measured against, written the way the textbook writes them.

Dive into Deep Learning (d2l.ai, chapters 9-10) trains its character language models in two
ways, and these are faithful, self-contained re-creations of both:

* ``ScratchLM`` (``reference-scratch``): parameters per gate (``W_xi``, ``W_hi``, ``b_i``...),
  one-hot inputs, a Python loop over time steps with separate matmuls for every gate, an
  output matmul per step, SGD and d2l's gradient clipping (a Python sum of squared norms).
* ``ConciseLM`` (``reference-nn-lstm``): one-hot inputs into ``nn.LSTM`` (time-major, as d2l),
  a ``nn.Linear`` head, SGD, the same clipping, always fp32.

Both carry the state across windows, detached, as d2l's sequential iterator does. The third
reference is the plain PyTorch loop a `seqcli train` default must beat (issue 13, run by
benchmarks/reference_lm.py): ``ConciseLM`` over a learned embedding with dropout, AdamW at a
constant rate (``plain_reference``). They are benchmarks' baselines, not part of seqcli's
models, and this is their one home.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

GATES = {"rnn": ("h",), "gru": ("r", "z", "h"), "lstm": ("i", "f", "o", "c")}


class ScratchLayer(nn.Module):
    """One d2l-style scratch layer: an (input, hidden, bias) triple per gate, N(0, 0.01^2)."""

    def __init__(self, cell: str, num_inputs: int, num_hiddens: int, sigma: float = 0.01):
        super().__init__()
        self.cell, self.num_hiddens = cell, num_hiddens
        def init_weight(*shape: int) -> nn.Parameter:
            return nn.Parameter(torch.randn(*shape) * sigma)

        for gate in GATES[cell]:
            self.register_parameter(f"W_x{gate}", init_weight(num_inputs, num_hiddens))
            self.register_parameter(f"W_h{gate}", init_weight(num_hiddens, num_hiddens))
            self.register_parameter(f"b_{gate}", nn.Parameter(torch.zeros(num_hiddens)))

    def _gate(self, gate: str, X: Tensor, H: Tensor) -> Tensor:
        W_x, W_h, b = (getattr(self, f"{name}{gate}") for name in ("W_x", "W_h", "b_"))
        return torch.matmul(X, W_x) + torch.matmul(H, W_h) + b

    def forward(self, inputs: Tensor, state):
        """inputs [T, B, I] (time-major) -> list of T outputs [B, H], final state."""
        if state is None:
            zeros = inputs.new_zeros(inputs.shape[1], self.num_hiddens)
            state = (zeros, zeros.clone()) if self.cell == "lstm" else zeros
        outputs = []
        for X in inputs:
            state = getattr(self, f"_{self.cell}")(X, state)
            outputs.append(state[0] if self.cell == "lstm" else state)
        return outputs, state

    def _rnn(self, X: Tensor, H: Tensor) -> Tensor:
        return torch.tanh(self._gate("h", X, H))

    def _gru(self, X: Tensor, H: Tensor) -> Tensor:
        R = torch.sigmoid(self._gate("r", X, H))
        Z = torch.sigmoid(self._gate("z", X, H))
        H_tilde = torch.tanh(torch.matmul(X, self.W_xh) + torch.matmul(R * H, self.W_hh) + self.b_h)
        return Z * H + (1 - Z) * H_tilde

    def _lstm(self, X: Tensor, state: tuple[Tensor, Tensor]) -> tuple[Tensor, Tensor]:
        H, C = state
        I = torch.sigmoid(self._gate("i", X, H))
        F_ = torch.sigmoid(self._gate("f", X, H))
        O = torch.sigmoid(self._gate("o", X, H))
        C_tilde = torch.tanh(self._gate("c", X, H))
        C = F_ * C + I * C_tilde
        return O * torch.tanh(C), C


class ScratchLM(nn.Module):
    """d2l's RNNLMScratch over stacked scratch layers: one-hot in, a matmul per step out."""

    def __init__(self, cell: str, vocab_size: int, hidden_size: int, num_layers: int = 1):
        super().__init__()
        self.vocab_size = vocab_size
        self.layers = nn.ModuleList(
            ScratchLayer(cell, vocab_size if k == 0 else hidden_size, hidden_size)
            for k in range(num_layers))
        self.W_hq = nn.Parameter(torch.randn(hidden_size, vocab_size) * 0.01)
        self.b_q = nn.Parameter(torch.zeros(vocab_size))

    def forward(self, X: Tensor, state=None):
        """X [B, T] ids -> logits [B, T, V], per-layer states."""
        inputs = F.one_hot(X.T, self.vocab_size).float()  # [T, B, V]
        states = [None] * len(self.layers) if state is None else list(state)
        for k, layer in enumerate(self.layers):
            outputs, states[k] = layer(inputs, states[k])
            inputs = torch.stack(outputs)
        outs = [torch.matmul(H, self.W_hq) + self.b_q for H in inputs]
        return torch.stack(outs, 1), states


class ConciseLM(nn.Module):
    """d2l's concise RNNLM: one-hot [T, B, V] into torch.nn's RNN/GRU/LSTM, a Linear head.

    With `embedding_size` it reads a learned embedding instead of one-hot vectors, and with
    `dropout` it drops between the layers and on the output: the plain reference's model.
    """

    def __init__(self, cell: str, vocab_size: int, hidden_size: int, num_layers: int = 1, *,
                 embedding_size: int | None = None, dropout: float = 0.0):
        super().__init__()
        self.vocab_size = vocab_size
        # created before the layers, so a seed gives the plain reference its old weights
        self.embedding = nn.Embedding(vocab_size, embedding_size) if embedding_size else None
        kind = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.rnn = kind(embedding_size or vocab_size, hidden_size, num_layers,
                        dropout=dropout if num_layers > 1 else 0.0)
        self.drop = nn.Dropout(dropout)
        self.linear = nn.Linear(hidden_size, vocab_size)

    def forward(self, X: Tensor, state=None):
        inputs = self.embedding(X.T) if self.embedding is not None \
            else F.one_hot(X.T, self.vocab_size).float()
        outputs, state = self.rnn(inputs, state)
        return self.linear(self.drop(outputs)).swapaxes(0, 1), state


def clip_gradients(params: list[nn.Parameter], grad_clip_val: float) -> None:
    """d2l's clipping: the global norm as a Python sum, then a rescale if it is too large."""
    norm = torch.sqrt(sum(torch.sum(p.grad ** 2) for p in params))
    if norm > grad_clip_val:
        for p in params:
            p.grad[:] *= grad_clip_val / norm


def _detach(state):
    if state is None:
        return None
    if isinstance(state, (list, tuple)):
        return type(state)(_detach(s) for s in state)
    return state.detach()


def d2l_train_step(model: nn.Module, lr: float = 1.0,
                   clip: float = 1.0) -> Callable[[Tensor, Tensor], int]:
    """A closure doing one d2l training step (forward, loss, backward, clip, SGD) per batch."""
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.SGD(params, lr=lr)
    carried = {"state": None}

    def step(X: Tensor, Y: Tensor) -> int:
        logits, state = model(X, _detach(carried["state"]))
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), Y.reshape(-1))
        optimizer.zero_grad()
        loss.backward()
        clip_gradients(params, clip)
        optimizer.step()
        carried["state"] = state
        return Y.numel()

    return step


def rows(ids: Tensor, batch: int) -> Tensor:
    """[N] -> [batch, N // batch]: each row a contiguous stretch of the text (seqcli's layout)."""
    n = ids.numel() // batch
    return ids[: n * batch].view(batch, n)


def plain_reference(train: Tensor, val: Tensor, vocab_size: int, *, seconds: float,
                    batch: int = 32, seq_len: int = 128, seed: int = 1234,
                    eval_at: Sequence[float] = ()) -> dict[str, Any]:
    """The plain PyTorch loop a `seqcli train` default must beat, trained for `seconds`.

    A 2x256 LSTM over a 256-wide embedding, dropout 0.2 between the layers and on the output,
    AdamW 3e-3 at a constant rate, global-norm clipping at 1, `batch` rows read sequentially
    in windows of `seq_len` with the state carried, fp32; evaluated once at the end on `val`.
    Returns the steps taken and the held-out loss in nats per token; with `eval_at` (seconds
    of training) also ``curve``, [seconds, held-out loss] at each of those moments, for an
    anytime curve (benchmarks/anytime.py). The time those evaluations take is not counted.
    """
    torch.manual_seed(seed)
    model = ConciseLM("lstm", vocab_size, 256, 2, embedding_size=256, dropout=0.2)
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
    train, val = rows(train, batch), rows(val, batch)
    marks, curve = sorted(m for m in eval_at if m < seconds), []
    trained, steps, state, pos = 0.0, 0, None, 0
    while trained < seconds:
        if marks and trained >= marks[0]:
            curve.append([marks.pop(0), held_out_loss(model, val, seq_len)])
            model.train()
        tick = time.perf_counter()
        if pos + seq_len + 1 > train.shape[1]:
            pos, state = 0, None
        x, y = train[:, pos:pos + seq_len], train[:, pos + 1:pos + seq_len + 1]
        pos += seq_len
        logits, state = model(x, _detach(state))
        loss = F.cross_entropy(logits.flatten(0, 1), y.flatten())
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        steps += 1
        trained += time.perf_counter() - tick
    final = held_out_loss(model, val, seq_len)
    return {"steps": steps, "val_loss": final, "curve": [*curve, [seconds, final]]}


@torch.no_grad()
def held_out_loss(model: nn.Module, val: Tensor, seq_len: int) -> float:
    """Mean cross-entropy over every next token of `val` [batch, N], state carried."""
    model.eval()
    total, count, state = 0.0, 0, None
    for i in range(0, val.shape[1] - 1, seq_len):
        y = val[:, i + 1:i + seq_len + 1]
        logits, state = model(val[:, i:i + y.shape[1]], state)
        total += F.cross_entropy(logits.flatten(0, 1), y.flatten(), reduction="sum").item()
        count += y.numel()
    return total / count
