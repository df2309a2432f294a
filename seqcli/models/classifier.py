"""Embedding -> (bi)recurrent layers -> masked pooling -> dropout -> linear over the classes,
plus (optionally) a linear "wide" side over the text's word n-grams.

``forward(x, lengths, ngrams=None, wide=None) -> (logits, None)``: x [B, T] right-padded token
ids, lengths [B] their true lengths, and with subword features (``subword_buckets`` > 0) ngrams
[B, T, K] each token's character n-gram buckets (seqcli/classify/subwords.py; 0 pads). A token's
vector is then its word vector plus the mean of its n-gram vectors, so a word never seen in
training ([UNK]) still reads as what its pieces suggest.

With a wide side (``wide_buckets`` > 0; Cheng et al. 2016's "wide and deep") wide [B, F] holds
each text's hashed word uni- and bigram buckets (seqcli/classify/wide.py; 0 pads) and the
logits are the recurrent ("deep") logits plus the sum of those buckets' weights: a linear
model over binary n-gram indicators, NBSVM's and fastText's features, trained jointly. It
starts at zero, so an untrained wide side adds nothing, and learns in few steps what the
recurrent part then only has to add to.

The lengths go into the recurrent module (per-direction passes over the padded batch for the
fused form, masking for the scratch form; see ``outputs`` in recurrent.py) and into the
pooling masks, so padding never reaches a prediction: a text gets the same logits
whatever it is batched with.

Pooling over the top layer's outputs [B, T, D*H] (D = 2 when bidirectional):

- ``max``: per feature, the largest value over the real steps (padding masked to -inf);
- ``mean``: the average over the real steps;
- ``last``: the forward direction's output at the last real token; when bidirectional,
  concatenated with the backward direction's output at the first token (where the backward
  pass ends), i.e. each direction's state after reading the whole text.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqcli.choices import POOLINGS
from seqcli.data.tokenizers import PAD_ID
from seqcli.models.dropouts import embed, sequence_dropout
from seqcli.models.zoo import build_recurrent


def length_mask(lengths: Tensor, steps: int) -> Tensor:
    """[B, T] True at real steps, False at padding."""
    return torch.arange(steps, device=lengths.device).unsqueeze(0) < lengths.unsqueeze(1)


def pool(output: Tensor, lengths: Tensor, pooling: str, directions: int = 1) -> Tensor:
    """Reduce output [B, T, F] over time to [B, F], ignoring padded steps."""
    lengths = lengths.to(output.device)
    mask = length_mask(lengths, output.shape[1]).unsqueeze(-1)  # [B, T, 1]
    if pooling == "max":
        return output.masked_fill(~mask, float("-inf")).amax(dim=1)
    if pooling == "mean":
        total = output.masked_fill(~mask, 0.0).sum(dim=1)
        return total / lengths.unsqueeze(1).to(total.dtype)
    if pooling == "last":
        rows = torch.arange(output.shape[0], device=output.device)
        last = output[rows, lengths - 1]  # [B, F]
        if directions == 1:
            return last
        half = output.shape[-1] // 2
        return torch.cat([last[:, :half], output[:, 0, half:]], dim=-1)
    raise ValueError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}")


class Classifier(nn.Module):
    """Many-to-one recurrent classifier (see the module docstring)."""

    def __init__(self, vocab_size: int, embedding_size: int, hidden_size: int,
                 num_classes: int, *, cell: str = "lstm", num_layers: int = 1,
                 dropout: float = 0.0, impl: str = "fused", bidirectional: bool = False,
                 pooling: str = "max", input_dropout: float | None = None,
                 subword_buckets: int = 0, embedding_dropout: float = 0.0,
                 weight_drop: float = 0.0, locked: bool = False, wide_buckets: int = 0):
        super().__init__()
        if num_classes < 2:
            raise ValueError(f"a classifier needs at least 2 classes, got {num_classes}")
        if pooling not in POOLINGS:
            raise ValueError(f"unknown pooling {pooling!r}; choose one of {', '.join(POOLINGS)}")
        self.pooling, self.directions = pooling, 2 if bidirectional else 1
        self.embedding = nn.Embedding(vocab_size, embedding_size, padding_idx=PAD_ID)
        self.subword_embedding = None
        if subword_buckets:
            # Zeros, not noise: an n-gram training never saw then adds nothing to a word,
            # rather than a random offset to every unseen word that holds it.
            self.subword_embedding = nn.EmbeddingBag(subword_buckets, embedding_size,
                                                     mode="mean", padding_idx=0)
            nn.init.zeros_(self.subword_embedding.weight)
        # Dropout on the embeddings regularises the largest, most overfit-prone parameter
        # block; by default it is as strong as the dropout before the output layer.
        self.input_dropout = dropout if input_dropout is None else input_dropout
        self.embedding_dropout, self.locked = embedding_dropout, locked
        self.recurrent = build_recurrent(impl, cell, embedding_size, hidden_size, num_layers,
                                         dropout if num_layers > 1 else 0.0, bidirectional,
                                         weight_drop=weight_drop, locked=locked)
        self.dropout = nn.Dropout(dropout)
        self.output = nn.Linear(self.directions * hidden_size, num_classes)
        self.wide = None
        if wide_buckets:  # the output layer's bias serves both sides
            self.wide = nn.EmbeddingBag(wide_buckets, num_classes, mode="sum", padding_idx=0)
            nn.init.zeros_(self.wide.weight)

    def forward(self, x: Tensor, lengths: Tensor | None = None, ngrams: Tensor | None = None,
                wide: Tensor | None = None) -> tuple[Tensor, None]:
        """x [B, T] ids, lengths [B] (None: every row is full), ngrams [B, T, K] (with subword
        features), wide [B, F] (with a wide side) -> logits [B, C], None.

        Every text starts from zero states and none is carried on, so the state is None.
        """
        if lengths is None:
            lengths = torch.full((x.shape[0],), x.shape[1], dtype=torch.long, device=x.device)
        if self.wide is not None and wide is None:
            raise ValueError("this classifier has a wide side: pass each text's n-gram buckets")
        return self.classify_embedded(self.embed(x, ngrams), lengths, wide), None

    def embed(self, x: Tensor, ngrams: Tensor | None = None) -> Tensor:
        """Ids [B, T] (and n-gram buckets [B, T, K]) -> embeddings [B, T, E], before dropout:
        where adversarial training perturbs the input (seqcli/training/classify_task.py)."""
        embedded = embed(self.embedding, x, self.embedding_dropout, self.training)
        if self.subword_embedding is None:
            return embedded
        if ngrams is None:
            raise ValueError("this classifier uses subword features: pass each token's n-grams")
        bags = self.subword_embedding(ngrams.reshape(-1, ngrams.shape[-1]))  # [B*T, E]
        return embedded + bags.view_as(embedded).to(embedded.dtype)

    def classify_embedded(self, embedded: Tensor, lengths: Tensor,
                          wide: Tensor | None = None) -> Tensor:
        """Embeddings [B, T, E] of texts with these lengths (and their wide n-gram buckets
        [B, F]) -> logits [B, C]. Without `wide`, the deep side alone: what explain attributes
        by gradients (the wide side it attributes exactly)."""
        emb = sequence_dropout(embedded, self.input_dropout, self.training, self.locked)
        out = self.recurrent.outputs(emb, lengths)                 # [B, T, D*H]
        pooled = pool(out, lengths, self.pooling, self.directions)  # [B, D*H]
        logits = self.output(self.dropout(pooled))                 # [B, C]
        if wide is None or self.wide is None:
            return logits
        return logits + self.wide(wide)                            # + [B, C]
