"""The memory experiment's model and its starting weights.

One layer of the zoo (fused) between an embedding and a two-way verb choice. "Chrono"
initialisation of the gates (Tallec & Ollivier, 2018) draws the LSTM's forget bias and the
GRU's update bias as log U(1, T - 1) for sequences of T steps (the LSTM's input bias its
negative), so a gated cell starts out able to keep its state for about the task's length.
With torch's default initialisation (forget bias near 0) the LSTM does not find the
dependency within the default budget even at 20 steps (benchmarks/RESULTS.md, issue 12);
`init="default"` shows that.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqcli.experiments.agreement import VOCAB
from seqcli.models.zoo import build_recurrent

EMBEDDING_SIZE = 16
GATE_CHUNK = {"lstm": 1, "gru": 1}  # the forget gate (i, f, g, o) and update gate (r, z, n)


class AgreementModel(nn.Module):
    """Embedding -> one recurrent layer of the zoo (fused) -> a two-way verb choice."""

    def __init__(self, cell: str, hidden: int) -> None:
        super().__init__()
        self.cell = cell
        self.embedding = nn.Embedding(len(VOCAB), EMBEDDING_SIZE)
        self.recurrent = build_recurrent("fused", cell, EMBEDDING_SIZE, hidden, 1, 0.0, False)
        self.head = nn.Linear(hidden, 2)

    def forward(self, ids: Tensor) -> Tensor:
        output, _ = self.recurrent(self.embedding(ids))
        return self.head(output[:, -1])


@torch.no_grad()
def chrono_init_(module: nn.RNNBase, cell: str, length: int) -> None:
    """Gate biases that let a gated cell keep its state for about `length` steps at the start.

    torch.nn's layout: LSTM gates (i, f, g, o), GRU gates (r, z, n), and z -> 1 keeps h.
    Draws from torch's global generator, which the caller has seeded.
    """
    if cell not in GATE_CHUNK:
        return
    hidden = module.hidden_size
    keep = torch.log(torch.empty(hidden).uniform_(1.0, max(float(length - 1), 1.0 + 1e-3)))
    gate = slice(GATE_CHUNK[cell] * hidden, (GATE_CHUNK[cell] + 1) * hidden)
    module.bias_ih_l0[gate] = keep
    module.bias_hh_l0[gate] = 0.0
    if cell == "lstm":
        module.bias_ih_l0[:hidden] = -keep
        module.bias_hh_l0[:hidden] = 0.0
