"""Encoded texts for classification and their length-bucketed batches.

Texts are encoded once into one flat compact tensor plus offsets (no Python list per text is
kept). A batch is right-padded with PAD_ID (0) to its longest member and carries the true
lengths, so the model can pack or mask and padding never changes a prediction. With subword
features (seqcli/classify/subwords.py) a batch also carries each token's n-gram buckets, and
with the wide side (seqcli/classify/wide.py) each text's word n-gram buckets.

Bucketing, for speed: each epoch shuffles the texts (seeded by (seed, epoch)), cuts the order
into pools of ``POOL_BATCHES`` batches, sorts each pool by length, cuts it into batches and
shuffles the batches. Batches then hold texts of similar length (little padding) while staying
random enough to train well, and the order is reproducible, so a resumed run skips exactly the
batches it had already seen.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import torch

from seqcli.classify.subwords import SubwordTable, subword_table
from seqcli.classify.wide import WideTable, wide_table
from seqcli.data.ids import compact_dtype
from seqcli.data.tokenizers import PAD_ID, UNK_ID

POOL_BATCHES = 50


class Batch(NamedTuple):
    """One batch of texts, as the model and the task take it."""

    ids: torch.Tensor  # [B, T] int64, right-padded with PAD_ID
    lengths: torch.Tensor  # [B]
    labels: torch.Tensor  # [B]
    ngrams: torch.Tensor | None  # [B, T, K] each token's character n-gram buckets (subwords)
    wide: torch.Tensor | None  # [B, F] each text's word n-gram buckets (the wide side)


@dataclass
class EncodedTexts:
    ids: torch.Tensor  # [total tokens], compact integer dtype
    offsets: torch.Tensor  # [N + 1] int64: text i is ids[offsets[i]:offsets[i + 1]]
    labels: torch.Tensor  # [N] int64 class indices (-1 when unlabelled)
    subwords: SubwordTable | None = None  # n-gram buckets of every token, when used
    wide: WideTable | None = None  # word n-gram buckets of every text, when used

    def __len__(self) -> int:
        return self.labels.numel()

    @property
    def lengths(self) -> torch.Tensor:
        return self.offsets[1:] - self.offsets[:-1]

    def batch(self, indices: Sequence[int]) -> Batch:
        """Right-padded [B, T] ids (int64), lengths [B], labels [B] and, with subwords, the
        [B, T, K] n-gram buckets (0 at padding; K the most any token here has); with the wide
        side, the [B, F] word n-gram buckets (0 at padding)."""
        lengths = self.lengths[list(indices)]
        x = torch.full((len(indices), int(lengths.max())), PAD_ID, dtype=torch.long)
        rows = torch.zeros(x.shape, dtype=torch.long) if self.subwords is not None else None
        for row, i in enumerate(indices):
            start, end = int(self.offsets[i]), int(self.offsets[i + 1])
            x[row, :end - start] = self.ids[start:end]
            if rows is not None:
                rows[row, :end - start] = self.subwords.pieces[start:end]
        ngrams = None
        if rows is not None:  # one gather, then trimmed to the widest token of this batch
            ngrams = self.subwords.rows[rows].long()
            ngrams = ngrams[..., :max(1, int((ngrams != 0).sum(-1).max()))].contiguous()
        wide = self.wide.batch(indices) if self.wide is not None else None
        return Batch(x, lengths, self.labels[list(indices)], ngrams, wide)


def encode_texts(encoded: Sequence[Sequence[int]], labels: Sequence[int] | None,
                 vocab_size: int, max_length: int, *,
                 words: Sequence[Sequence[str]] | None = None,
                 buckets: int = 0, wide: int = 0) -> EncodedTexts:
    """Token-id lists -> EncodedTexts, truncated to the first `max_length` tokens.

    An empty encoding becomes one [UNK] so every text has a length >= 1 (packing needs it).
    With `words` (each token's string, parallel to `encoded`) and `buckets` > 0 the texts also
    carry the tokens' character n-gram buckets; with `wide` > 0, their word n-gram buckets
    (none for an empty text).
    """
    kept = [list(ids[:max_length]) or [UNK_ID] for ids in encoded]
    if not kept:
        raise ValueError("no texts to encode")
    subwords = wide_features = None
    if buckets > 0 or wide > 0:
        if words is None:
            raise ValueError("subword and wide features need the token strings")
        words = [list(w[:max_length]) for w in words]
        if [len(w) or 1 for w in words] != [len(ids) for ids in kept]:
            raise ValueError("every token needs its string for subword and wide features")
        if buckets > 0:
            subwords = subword_table([w or [""] for w in words], buckets)
        if wide > 0:
            wide_features = wide_table(words, wide)
    lengths = torch.tensor([len(ids) for ids in kept], dtype=torch.long)
    offsets = torch.zeros(len(kept) + 1, dtype=torch.long)
    offsets[1:] = torch.cumsum(lengths, 0)
    dtype = compact_dtype(vocab_size)
    flat = torch.cat([torch.tensor(ids, dtype=torch.int64).to(dtype) for ids in kept])
    label_tensor = torch.tensor(labels if labels is not None else [-1] * len(kept),
                                dtype=torch.long)
    return EncodedTexts(flat, offsets, label_tensor, subwords, wide_features)


def sorted_batches(lengths: torch.Tensor, batch_size: int) -> list[list[int]]:
    """Index batches in length order (for evaluation and prediction: least padding)."""
    order = torch.argsort(lengths, stable=True).tolist()
    return [order[k:k + batch_size] for k in range(0, len(order), batch_size)]


class BucketedBatches:
    """Training batches of similar-length texts, deterministic in (seed, epoch)."""

    def __init__(self, data: EncodedTexts, batch_size: int, seed: int):
        self.data, self.batch_size, self.seed = data, max(1, batch_size), seed

    def __len__(self) -> int:
        return -(-len(self.data) // self.batch_size)

    def order(self, epoch: int) -> list[list[int]]:
        """This epoch's batches as lists of text indices."""
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + epoch)
        lengths = self.data.lengths
        shuffled = torch.randperm(len(self.data), generator=generator)
        pool = self.batch_size * POOL_BATCHES
        batches = []
        for start in range(0, len(shuffled), pool):
            members = shuffled[start:start + pool]
            members = members[torch.argsort(lengths[members], stable=True)].tolist()
            batches += [members[k:k + self.batch_size]
                        for k in range(0, len(members), self.batch_size)]
        permutation = torch.randperm(len(batches), generator=generator).tolist()
        return [batches[k] for k in permutation]

    def epoch(self, epoch: int, start: int = 0) -> Iterator[Batch]:
        for indices in self.order(epoch)[start:]:
            yield self.data.batch(indices)
