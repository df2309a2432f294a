"""Embedding -> recurrent layers -> linear decoder over the vocabulary.

``forward(x, state) -> (logits, state)``: the state goes in and comes out so that training can
carry it across BPTT windows and generation can feed one token at a time after the prime.
"""

from __future__ import annotations

import torch
from torch import nn

from seqcli.models.zoo import build_recurrent


class LanguageModel(nn.Module):
    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int, *,
                 cell: str = "lstm", num_layers: int = 1, dropout: float = 0.0,
                 impl: str = "fused", tie_weights: bool = False):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embedding_size)
        self.dropout = nn.Dropout(dropout)
        # Dropout between stacked layers lives inside the recurrent module (as in torch.nn);
        # the dropouts here act on the embedding output and on the top layer's output.
        self.recurrent = build_recurrent(impl, cell, embedding_size, hidden_size, num_layers,
                                         dropout if num_layers > 1 else 0.0, False)
        self.decoder = nn.Linear(hidden_size, vocab_size)
        if tie_weights:
            if embedding_size != hidden_size:
                raise ValueError("weight tying needs embedding_size == hidden_size")
            self.decoder.weight = self.embedding.weight

    def forward(self, x: torch.Tensor, state=None):
        """x: [batch, time] token ids -> logits [batch, time, vocab], new state."""
        emb = self.dropout(self.embedding(x))          # [B, T, E]
        out, state = self.recurrent(emb, state)        # [B, T, H]
        return self.decoder(self.dropout(out)), state  # [B, T, V]


def detach_state(state):
    """Cut the graph at a window edge (truncated BPTT) while keeping the values."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()
