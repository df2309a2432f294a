"""How likely a language model finds a text: per-token surprisal, log-likelihood, perplexity.

Each text is read from the state a generation with an empty prime starts in (zeros, then the
start token: a newline where the vocabulary has one), so every token, the first included, is
scored: its surprisal is -ln p(token | the tokens before it), in nats. The text's
log-likelihood is minus their sum and its perplexity exp(mean surprisal), the per-token
measures `seqcli evaluate` reports over a corpus. The probabilities are the model's own
(no temperature, nothing masked).

Texts are batched by length and padded on the right: a left-to-right model never reads ahead,
so what follows a text in its row cannot change its scores, and a text scores the same alone
or among others (up to the order of the arithmetic).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from seqcli.data.tokenizers import PAD_ID, Tokenizer
from seqcli.device import Placement
from seqcli.errors import UsageError
from seqcli.lm.decoding import _start_token

BATCH_TOKENS = 32_768  # padded tokens per forward: bounds the [rows, time, vocab] logits


@dataclass(frozen=True)
class TextScore:
    text: str
    tokens: list[str]  # each token's text, in order
    surprisal: list[float]  # -ln p of each token given the ones before it (nats)
    log_likelihood: float  # sum of ln p over the tokens

    @property
    def perplexity(self) -> float:
        return math.exp(-self.log_likelihood / max(1, len(self.tokens)))

    @property
    def bits_per_token(self) -> float:
        return -self.log_likelihood / max(1, len(self.tokens)) / math.log(2)

    def to_dict(self) -> dict:
        return {"text": self.text, "tokens": self.tokens, "surprisal": self.surprisal,
                "log_likelihood": self.log_likelihood, "perplexity": self.perplexity,
                "bits_per_token": self.bits_per_token}


def score_texts(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str],
                placement: Placement, *, lowercase: bool = False) -> list[TextScore]:
    """One TextScore per text, in order (`lowercase`: as the run read its corpus)."""
    if not all(isinstance(t, str) for t in texts):
        raise UsageError("score takes a text or a list of texts (str)")
    if any(not t for t in texts):
        raise UsageError("score needs some text (one is empty)")
    ids = [tokenizer.encode(t.lower() if lowercase else t) for t in texts]
    start = _start_token(tokenizer)
    surprisals: list[list[float]] = [[] for _ in texts]
    for rows in length_batches([len(i) for i in ids], BATCH_TOKENS):
        for row, values in zip(rows, _surprisals(model, [[start] + ids[r] for r in rows],
                                                 placement)):
            surprisals[row] = values
    return [TextScore(text, [tokenizer.decode([i]) for i in row_ids], values, -math.fsum(values))
            for text, row_ids, values in zip(texts, ids, surprisals)]


def length_batches(lengths: list[int], budget: int) -> list[list[int]]:
    """Indices grouped by similar length, each group within `budget` padded tokens."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batches: list[list[int]] = []
    for i in order:
        if batches and (len(batches[-1]) + 1) * lengths[i] <= budget:
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


@torch.no_grad()
def _surprisals(model: torch.nn.Module, rows: list[list[int]],
                placement: Placement) -> list[list[float]]:
    """-ln p of tokens 1.. of each row given the ones before (token 0 is the start token)."""
    model.eval()
    width = max(map(len, rows))
    x = torch.full((len(rows), width), PAD_ID, dtype=torch.long)
    for r, row in enumerate(rows):
        x[r, :len(row)] = torch.tensor(row)
    x = x.to(placement.device)
    with placement.autocast():
        logits, _ = model(x[:, :-1], None)
    logp = torch.log_softmax(logits.float(), dim=-1).gather(-1, x[:, 1:, None])[..., 0]
    logp = logp.cpu()
    return [(-logp[r, :len(row) - 1]).tolist() for r, row in enumerate(rows)]
