"""Embedding -> recurrent layers -> linear decoder over the vocabulary.

``forward(x, state) -> (logits, state)``: the state goes in and comes out so that training can
carry it across BPTT windows and generation can feed one token at a time after the prime.
"""

from __future__ import annotations

import torch
from torch import nn

from seqcli.models.dropouts import embed, sequence_dropout
from seqcli.models.zoo import build_recurrent


class LanguageModel(nn.Module):
    """`dropout` acts on the top layer's output and between layers, `input_dropout` (default:
    `dropout`) on the embeddings; `locked` makes them variational, `embedding_dropout` drops
    whole words and `weight_drop` the recurrence's connections (see dropouts.py)."""

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int, *,
                 cell: str = "lstm", num_layers: int = 1, dropout: float = 0.0,
                 impl: str = "fused", tie_weights: bool = False,
                 input_dropout: float | None = None, embedding_dropout: float = 0.0,
                 weight_drop: float = 0.0, locked: bool = False):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.output_dropout = dropout
        self.input_dropout = dropout if input_dropout is None else input_dropout
        self.embedding_dropout, self.locked = embedding_dropout, locked
        # Dropout between stacked layers lives inside the recurrent module (as in torch.nn).
        self.recurrent = build_recurrent(impl, cell, embedding_size, hidden_size, num_layers,
                                         dropout if num_layers > 1 else 0.0, False,
                                         weight_drop=weight_drop, locked=locked)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            if embedding_size != hidden_size:
                raise ValueError("weight tying needs embedding_size == hidden_size")
            self.decoder.weight = self.embedding.weight

    def forward(self, x: torch.Tensor, state=None):
        """x: [batch, time] token ids -> logits [batch, time, vocab], new state."""
        emb = embed(self.embedding, x, self.embedding_dropout, self.training)  # [B, T, E]
        emb = sequence_dropout(emb, self.input_dropout, self.training, self.locked)
        out, state = self.recurrent(emb, state)                                # [B, T, H]
        out = sequence_dropout(out, self.output_dropout, self.training, self.locked)
        return self.decoder(out), state                                        # [B, T, V]


def detach_state(state):
    """Cut the graph at a window edge (truncated BPTT) while keeping the values."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()
