"""The wide side's features: which word uni- and bigrams a text holds, hashed (NBSVM/fastText).

A linear model over binary n-gram indicators reaches a good accuracy in seconds (on SST-2 an
NBSVM-style baseline matches a BiLSTM trained for many minutes on a slow CPU), so with
``--wide N`` the classifier adds such a model's logits to the recurrent encoder's ("wide and
deep", seqcli/models/classifier.py) and trains both at once.

The features of a text are those of its tokens as the run's tokenizer reads them (lower-cased
when the run lower-cases, truncated to ``max_length`` with the ids), each token by its own
string, so an [UNK] word still counts as itself:

- every distinct token (unigram) and every distinct pair of adjacent tokens (bigram, the two
  strings joined by one space), each counted once however often it occurs (binary);
- with a character tokenizer the tokens are characters, so the features are character uni-
  and bigrams, which is what suits languages written without spaces;
- each is hashed into buckets 1..N-1 by ``subwords.bucket`` (CRC-32 of the UTF-8 bytes); 0 is
  "no feature" (padding). Two features that share a bucket both count.

They are computed once, when texts are encoded, and kept as one flat int32 tensor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from seqcli.classify.subwords import bucket

SEPARATOR = " "  # between a bigram's two tokens (no word token holds a space)


def ngram_strings(tokens: Sequence[str]) -> list[str]:
    """The distinct n-grams of a text: unigrams in order of first occurrence, then bigrams
    likewise (the order of `text_ngrams`, computed faster)."""
    grams = dict.fromkeys(tokens)
    grams.update(dict.fromkeys([a + SEPARATOR + b for a, b in zip(tokens, tokens[1:])]))
    return list(grams)


def text_ngrams(tokens: Sequence[str]) -> dict[str, list[int]]:
    """Each distinct n-gram of a text -> the token positions it covers, one entry per token
    per occurrence (what explain splits an n-gram's weight over)."""
    found: dict[str, list[int]] = {}
    for i, token in enumerate(tokens):
        found.setdefault(token, []).append(i)
    for i in range(len(tokens) - 1):
        found.setdefault(tokens[i] + SEPARATOR + tokens[i + 1], []).extend((i, i + 1))
    return found


def wide_buckets(tokens: Sequence[str], buckets: int) -> list[int]:
    """The bucket of each distinct n-gram of a text (see the module docstring)."""
    return [bucket(gram, buckets) for gram in ngram_strings(tokens)]


@dataclass
class WideTable:
    """The n-gram buckets of a set of texts: text i's are ``buckets[offsets[i]:offsets[i+1]]``."""

    buckets: torch.Tensor  # [total features] int32
    offsets: torch.Tensor  # [N + 1] int64

    def batch(self, indices: Sequence[int]) -> torch.Tensor:
        """[B, F] int64 buckets of these texts, right-padded with 0 (F >= 1)."""
        starts, ends = self.offsets[:-1][list(indices)], self.offsets[1:][list(indices)]
        width = max(1, int((ends - starts).max()))
        rows = torch.zeros(len(indices), width, dtype=torch.long)
        for row, (start, end) in enumerate(zip(starts.tolist(), ends.tolist())):
            rows[row, :end - start] = self.buckets[start:end]
        return rows


def wide_table(words: Sequence[Sequence[str]], buckets: int) -> WideTable:
    """Token strings per text (already truncated like the ids) -> their WideTable."""
    cache: dict[str, int] = {}
    flat: list[int] = []
    offsets = [0]
    for tokens in words:
        for gram in ngram_strings(tokens):
            b = cache.get(gram)
            if b is None:
                b = cache[gram] = bucket(gram, buckets)
            flat.append(b)
        offsets.append(len(flat))
    return WideTable(torch.tensor(flat, dtype=torch.int32),
                     torch.tensor(offsets, dtype=torch.long))


def token_scores(tokens: Sequence[str], weight: torch.Tensor) -> list[float]:
    """The wide side's logit for one class, exactly, split over a text's tokens.

    ``weight`` [N] is that class's weight per bucket. The wide logit is linear in the
    indicators, so each n-gram's weight is its exact share; it is divided equally among the
    token positions it covers (a bigram's half to each of its tokens, an n-gram found twice a
    half to each occurrence), so the scores add up to the logit.
    """
    scores = [0.0] * len(tokens)
    values = weight.detach().double().cpu()
    for gram, positions in text_ngrams(tokens).items():
        share = float(values[bucket(gram, values.numel())]) / len(positions)
        for p in positions:
            scores[p] += share
    return scores
