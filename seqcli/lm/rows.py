"""One decoding step for any set of rows: each row's state, and the choice of its next token.

A `Row` is everything one continuation owns: the tokens it produced, its options (length,
temperature, top-k, top-p, greedy, stop strings), its random generator, its pending UTF-8
state and its stop watch. `choose_tokens` maps the model's logits for some rows to one token
per row, each by its own options, with every row's disallowed tokens masked first (padding,
unknown, and what would break UTF-8: utf8.py). Nothing else is shared between rows, so rows can
be batched in any grouping, join a running batch or leave it, and still produce exactly what
they produce alone: the one-shot loop (generate.py), beam search (beam.py) and a server that
batches requests continuously all step rows through these two pieces.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch

from seqcli.config import SampleConfig
from seqcli.data.tokenizers import Tokenizer
from seqcli.lm.decoding import IncrementalDecoder, Sample, finish, joiner, mask_special
from seqcli.lm.noise import TokenNoise, fresh_seed
from seqcli.lm.stops import StopWatch
from seqcli.lm.utf8 import ACCEPT, Utf8Masks, utf8_masks

Limit = int | float | None | Sequence[int | float | None]  # one value, or one per row


class Row:
    """One continuation of `prime` being decoded (see the module docstring).

    `seed` seeds the row's generator (a fresh one when None; greedy rows have none). With
    `decode` (or stop strings) its new text is decoded as it grows: `piece` is the text the
    last token completed, for a terminal or a stream.
    """

    def __init__(self, tokenizer: Tokenizer, prime: str, options: SampleConfig,
                 seed: int | None = None, *, decode: bool = False):
        self.tokenizer, self.prime, self.options = tokenizer, prime, options
        self.tokens: list[int] = []
        self.masks: Utf8Masks = utf8_masks(tokenizer)
        self.pending = ACCEPT  # UTF-8 state of the bytes produced so far (utf8.py)
        self.noise = None if options.greedy else TokenNoise(
            fresh_seed() if seed is None else seed, tokenizer.vocab_size)
        wanted = decode or bool(options.stop)
        self.decoder = IncrementalDecoder(tokenizer, joiner(tokenizer, prime)) if wanted else None
        self.watch = StopWatch(options.stop) if options.stop else None
        self.piece = ""
        self.stopped: str | None = None  # the stop string that ended the row

    @property
    def tokens_left(self) -> int:
        return self.options.length - len(self.tokens)

    @property
    def finished(self) -> bool:
        return self.stopped is not None or self.tokens_left <= 0

    def add(self, token: int) -> str | None:
        """Append a token; the stop string its text completes, if any."""
        self.tokens.append(token)
        self.pending = self.masks.after(self.pending, token)
        if self.decoder is not None:
            self.piece = self.decoder.add(token)
            if self.watch is not None and self.stopped is None:
                self.stopped = self.watch.feed(self.piece)
        return self.stopped

    def sample(self, score: float | None = None) -> Sample:
        """The finished row as returned: one full decode, cut at its first stop string."""
        return finish(self.tokenizer, self.prime, self.tokens, self.options.stop,
                      self.options.keep_stop, score)

    def copy(self) -> Row:
        """An independent continuation of this row (beam search branches; no generator)."""
        twin = Row.__new__(Row)
        twin.__dict__.update(self.__dict__)
        twin.tokens, twin.noise = list(self.tokens), None
        twin.decoder = None if self.decoder is None else self.decoder.copy()
        twin.watch = None if self.watch is None else self.watch.copy()
        return twin


def allowed_logits(logits: torch.Tensor, rows: Sequence[Row]) -> torch.Tensor:
    """[rows, vocab] logits as float32 on the CPU with every token the row may not take at
    -inf: padding, unknown, and tokens that would break its UTF-8 (rows share a tokenizer)."""
    logits, masks = mask_special(logits), rows[0].masks
    if masks.trivial:  # tokens of whole characters: nothing more to mask
        return logits
    allowed = masks.allowed([r.pending for r in rows], [r.tokens_left for r in rows])
    return logits.masked_fill_(~allowed, float("-inf"))


def choose_tokens(logits: torch.Tensor, rows: Sequence[Row]) -> list[int]:
    """The next token of each row from the model's logits [rows, vocab], by the row's own
    options: argmax for greedy rows, else temperature, top-k, top-p and the row's noise."""
    logits = allowed_logits(logits, rows)
    chosen = logits.argmax(-1)
    drawn = [k for k, row in enumerate(rows) if row.noise is not None]
    if drawn:
        part = logits if len(drawn) == len(rows) else logits[drawn]
        options = [rows[k].options for k in drawn]
        # Shift so the best logit is 0 before dividing: a tiny temperature then gives -inf
        # (never inf - inf = NaN), and softmax is unchanged by the shift.
        part = part - part.max(-1, keepdim=True).values
        temperature = torch.tensor([[o.sampling_temperature] for o in options])
        probs = filter_logits(part / temperature, [o.top_k for o in options],
                              [o.top_p for o in options]).softmax(-1)
        noise = torch.stack([rows[k].noise.draw() for k in drawn])  # type: ignore[union-attr]
        chosen[drawn] = (probs / noise).argmax(-1)
    return chosen.tolist()


def filter_logits(logits: torch.Tensor, top_k: Limit = None, top_p: Limit = None) -> torch.Tensor:
    """Mask (to -inf) every token outside the top-k and outside the top-p nucleus.

    logits: [rows, vocab]; `top_k`, `top_p`: one value for all rows or one per row (None: no
    limit). The most likely token always survives, so sampling never fails.
    """
    rows, vocab = logits.shape
    logits = logits.clone()
    ks = _per_row(top_k, rows)
    if any(k is not None and k < vocab for k in ks):
        k = torch.tensor([[vocab if k is None else min(int(k), vocab)] for k in ks])
        kth = torch.sort(logits, dim=-1, descending=True).values.gather(-1, k - 1)
        logits[logits < kth] = float("-inf")
    ps = _per_row(top_p, rows)
    if any(p is not None and p < 1.0 for p in ps):
        p = torch.tensor([[math.inf if p is None or p >= 1.0 else p] for p in ps])
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = sorted_logits.softmax(-1)
        # Drop a token when the tokens ranked above it already reach top_p.
        drop = probs.cumsum(-1) - probs >= p
        drop[..., 0] = False
        logits.scatter_(-1, order, sorted_logits.masked_fill(drop, float("-inf")))
    return logits


def _per_row(limit: Limit, rows: int) -> list:
    return list(limit) if isinstance(limit, Sequence) else [limit] * rows
