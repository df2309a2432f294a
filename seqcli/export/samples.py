"""The inputs an export is verified on, made from the run's own tokenizer and settings.

Texts of a few kinds: fixed English sentences (read through the run's tokenizer, lowercasing
and truncation as in prediction) and texts of seeded random tokens, so that every vocabulary,
whatever its language, yields sequences of several different lengths. The random tokens are
drawn by generation's own rule (`choose_tokens`, from flat logits), so they are valid text
for every tokenizer: random ids of a byte-level BPE would often not be. Language
models see batches of more than one row and of one row, of several lengths, then steps with the
state carried; classifiers see padded batches of mixed lengths, in and out of length order, and
a text alone.
"""

from __future__ import annotations

import torch
from torch import Tensor

from seqcli.classify.batches import EncodedTexts
from seqcli.classify.encoding import encode_for_model
from seqcli.config import RunConfig, SampleConfig
from seqcli.data.tokenizers import UNK_ID, Tokenizer
from seqcli.lm.rows import Row, choose_tokens

TEXTS = ("the time traveller looked at the small machine on the table.",
         "a wonderful film, moving and warm", "an awful mess", "Zqxj!")
RANDOM_LENGTHS = (1, 4, 11, 23)  # tokens of the texts decoded from random ids
LM_BATCHES = ((3, 9), (1, 17), (2, 1))  # (rows, prime length) of the language-model checks
STEPS = 3  # steps after each prime, each fed the state the previous one returned


def sample_texts(tokenizer: Tokenizer, seed: int = 0) -> list[str]:
    """The fixed texts, then texts of seeded random tokens (no [PAD], no [UNK])."""
    return [*TEXTS, *(random_text(tokenizer, n, seed + i) for i, n in enumerate(RANDOM_LENGTHS))]


def random_text(tokenizer: Tokenizer, length: int, seed: int) -> str:
    """`length` tokens drawn uniformly among those generation may take at each step."""
    row = Row(tokenizer, "", SampleConfig(length=length, temperature=1.0), seed)
    flat = torch.zeros(1, tokenizer.vocab_size)
    while not row.finished:
        row.add(choose_tokens(flat, [row])[0])
    return tokenizer.decode(row.tokens)


def lm_primes(tokenizer: Tokenizer) -> list[Tensor]:
    """Prime batches [B, T] (LM_BATCHES), each row a sample text's ids repeated to length T."""
    encoded = [tokenizer.encode(text) or [UNK_ID] for text in sample_texts(tokenizer)]
    primes, start = [], 0
    for rows, length in LM_BATCHES:
        chosen = [encoded[(start + r) % len(encoded)] for r in range(rows)]
        start += rows
        primes.append(torch.tensor([(ids * length)[:length] for ids in chosen]))
    return primes


def classifier_texts(tokenizer: Tokenizer, config: RunConfig) -> EncodedTexts:
    """The sample texts encoded exactly as `seqcli classify` encodes them."""
    return encode_for_model(tokenizer, sample_texts(tokenizer), None, config)[0]


def classifier_batches(data: EncodedTexts) -> list[list[int]]:
    """Index batches: all (padded to the longest), longest with shortest, one alone."""
    order = torch.argsort(data.lengths, descending=True, stable=True).tolist()
    every = list(range(len(data)))
    return [every, [order[0], order[-1]], [order[-1], order[len(order) // 2], order[0]],
            [order[len(order) // 2]]]
