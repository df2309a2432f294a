"""Character n-gram features of words (fastText-style), so unseen words are not blank.

A word-level classifier trained from scratch knows nothing of a word it never saw: on SST-2,
470 of the 872 dev sentences hold at least one (``warmly``, ``rehashed``, ``repulsively``), and
they all read as [UNK]. With ``--subwords N`` every word also carries the character n-grams
(3 to 5 characters) of ``<word>``, hashed into N buckets; the model adds the mean of their
vectors to the word's own (seqcli/models/classifier.py). ``warmly`` then shares ``<war``,
``warm`` and ``arm`` with ``warm`` and ``warmth``.

Hashing (CRC-32, stable across processes and machines) needs no n-gram vocabulary, so nothing
beyond the bucket count is saved in a run. Bucket 0 is reserved as "no n-gram" (padding).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass

import torch

MIN_N, MAX_N = 3, 5
MAX_NGRAMS = 48  # per word; a 16-letter word has 45 (longer words keep their shortest n-grams)


def char_ngrams(word: str) -> list[str]:
    """The distinct n-grams (MIN_N..MAX_N characters) of ``<word>``, shortest first."""
    marked = f"<{word}>"
    seen: dict[str, None] = {}
    for n in range(MIN_N, MAX_N + 1):
        for start in range(len(marked) - n + 1):
            seen.setdefault(marked[start:start + n])
    return list(seen)[:MAX_NGRAMS]


def bucket(gram: str, buckets: int) -> int:
    """The bucket (1..buckets-1) of one n-gram: CRC-32 of its UTF-8 bytes, never Python's
    salted hash(), so every process and machine agrees. The wide side's word n-grams
    (seqcli/classify/wide.py) are hashed by this same rule."""
    return zlib.crc32(gram.encode("utf-8")) % (buckets - 1) + 1


def ngram_buckets(word: str, buckets: int) -> list[int]:
    """Bucket ids (1..buckets-1) of a word's n-grams."""
    return [bucket(g, buckets) for g in char_ngrams(word)]


@dataclass
class SubwordTable:
    """The n-gram buckets of each distinct word of a set of texts.

    ``pieces`` [total tokens] gives, per token, its row of ``rows`` [P, K] (bucket ids padded
    with 0). Row 0 has no n-grams: it stands for padding and for a text with no words.
    """

    pieces: torch.Tensor  # [total tokens] int32
    rows: torch.Tensor  # [P, K] int32


def subword_table(words: Sequence[Sequence[str]], buckets: int) -> SubwordTable:
    """Token strings per text (already truncated like the ids) -> their SubwordTable."""
    index: dict[str, int] = {}
    table: list[list[int]] = [[]]
    pieces: list[int] = []
    for text in words:
        for word in text:
            row = index.get(word)
            if row is None:
                row = index[word] = len(table)
                table.append(ngram_buckets(word, buckets))
            pieces.append(row)
    width = max(1, max(len(r) for r in table))
    rows = torch.zeros(len(table), width, dtype=torch.int32)
    for i, row in enumerate(table):
        rows[i, :len(row)] = torch.tensor(row, dtype=torch.int32)
    return SubwordTable(torch.tensor(pieces, dtype=torch.int32), rows)
