"""What sampling and beam search share: the prime run once, the tokens they may never pick,
one step of the recurrence for all rows, and the new text decoded token by token (for stop
strings and for the terminal) and streamed.

A row's *new text* is everything after the prime in the returned text: for word tokens it
starts with the space that joins the first new word to the prime. Stop strings are looked
for in it, and streaming shows it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from seqcli.data.scripts import is_unspaced
from seqcli.data.tokenizers import PAD_ID, UNK_ID, LibraryTokenizer, Tokenizer
from seqcli.device import Placement
from seqcli.lm.stops import cut_at_stop


@dataclass(frozen=True)
class Sample:
    """One continuation, with what `seqcli generate --format json` says of it: `text` begins
    with the prime; `stopped` is the stop string that ended it (None when it ran to
    --length); `score` is beam search's length-normalised log-probability (None for
    samples); `new_tokens` counts the tokens produced after the prime."""

    text: str
    stopped: str | None = None
    score: float | None = None
    new_tokens: int = 0


def mask_special(logits: torch.Tensor) -> torch.Tensor:
    """[rows, vocab] logits as float32 on the CPU with padding and unknown at -inf: a
    generated [UNK] would read as text that is not there."""
    logits = logits.to(dtype=torch.float32, device="cpu", copy=True)  # never the model's own
    logits[..., PAD_ID] = float("-inf")
    if logits.size(-1) > UNK_ID + 1:
        logits[..., UNK_ID] = float("-inf")
    return logits


@torch.no_grad()
def run_prime(model: torch.nn.Module, tokenizer: Tokenizer, prime: str,
              placement: Placement) -> tuple[torch.Tensor, object]:
    """Feed the prime once, batch 1: the logits after its last token [1, vocab] and the
    state. An empty prime starts from a newline where the vocabulary has one."""
    model.eval()
    ids = tokenizer.encode(prime) or [_start_token(tokenizer)]
    x = torch.tensor([ids], dtype=torch.long, device=placement.device)
    with placement.autocast():
        logits, state = model(x, None)
    return logits[:, -1], state


@torch.no_grad()
def step(model: torch.nn.Module, tokens: list[int], state, placement: Placement):
    """One step of the recurrence for every row: tokens [rows] -> logits [rows, vocab]."""
    x = torch.tensor(tokens, dtype=torch.long, device=placement.device).view(-1, 1)
    with placement.autocast():
        logits, state = model(x, state)
    return logits[:, -1], state


def select_rows(state, rows: list[int]):
    """The recurrent state of some rows, in that order (repeats copy a row): dim 1 of
    [layers, rows, hidden], or of each tensor of an LSTM's (h, c)."""
    if isinstance(state, tuple):
        return tuple(select_rows(s, rows) for s in state)
    return state.index_select(1, torch.tensor(rows, dtype=torch.long, device=state.device))


def join_rows(states: list):
    """The recurrent states of several batches as one batch, rows in order (a row joining a
    running batch: its primed state after the others'). The inverse of `select_rows`."""
    if isinstance(states[0], tuple):
        return tuple(join_rows(list(parts)) for parts in zip(*states))
    return torch.cat(states, dim=1)


def joiner(tokenizer: Tokenizer, prime: str) -> str:
    """Word tokens decode without the space that separates the first new word from the prime
    (none after a character of a script written without spaces, for tokenizers that split
    those scripts)."""
    if tokenizer.kind != "word" or not prime:
        return ""
    script_words = isinstance(tokenizer, LibraryTokenizer) and tokenizer.script_words
    return "" if script_words and is_unspaced(prime[-1]) else " "


def render(tokenizer: Tokenizer, prime: str, produced: list[int]) -> str:
    """The prime and the decoded new tokens, as one text."""
    text = tokenizer.decode(produced)
    return prime + (joiner(tokenizer, prime) if text else "") + text


def finish(tokenizer: Tokenizer, prime: str, produced: list[int], stops: tuple[str, ...],
           keep_stop: bool, score: float | None = None) -> Sample:
    """The returned sample: one full decode, cut at the first stop string it holds."""
    full = render(tokenizer, prime, produced)
    new, stopped = cut_at_stop(full[len(prime):], stops, keep_stop)
    return Sample(prime + new, stopped, score, len(produced))


class IncrementalDecoder:
    """New text token by token, decoding only the tokens not yet shown.

    Each step decodes the pending tokens together with the last shown token as context (word
    tokens need it for the space between them, byte-level BPE for nothing) and returns what
    the context alone does not decode to: constant work per token, not a re-decode of the
    whole output. Pending tokens are held back while they end in a partly decoded multi-byte
    character (U+FFFD), and released when it completes.
    """

    def __init__(self, tokenizer: Tokenizer, joiner: str = ""):
        self.tokenizer, self.joiner = tokenizer, joiner
        self.context: list[int] = []  # the last token already returned
        self.pending: list[int] = []

    def add(self, token: int) -> str:
        self.pending.append(token)
        before = self.tokenizer.decode(self.context) if self.context else ""
        text = self.tokenizer.decode(self.context + self.pending)
        if text.endswith("\ufffd") or not text.startswith(before) or len(text) == len(before):
            return ""
        new = text[len(before):]
        if not self.context:  # the first new text: it joins the prime
            new = self.joiner + new
        self.context, self.pending = self.pending[-1:], []
        return new

    def copy(self) -> IncrementalDecoder:
        twin = IncrementalDecoder(self.tokenizer, self.joiner)
        twin.context, twin.pending = list(self.context), list(self.pending)
        return twin


class TextStream:
    """Hands a sample's text to `on_text` as it grows, never showing text past a stop.

    The last `holdback` characters (the longest stop string's length minus one) are held
    until more text arrives: a stop string could begin inside them. `finish` shows the
    rest of the final (cut) new text.
    """

    def __init__(self, prime: str, on_text: Callable[[str], None], holdback: int = 0):
        self.on_text, self.holdback = on_text, holdback
        self.held = ""
        self.shown: list[str] = []  # new text handed out so far
        on_text(prime)

    def push(self, piece: str) -> None:
        self.held += piece
        ready = len(self.held) - self.holdback
        if ready > 0:
            self._show(self.held[:ready])
            self.held = self.held[ready:]

    def finish(self, new_text: str) -> None:
        """Show what the final new text has beyond what was shown."""
        shown = "".join(self.shown)
        if new_text.startswith(shown) and len(new_text) > len(shown):
            self._show(new_text[len(shown):])

    def _show(self, text: str) -> None:
        self.on_text(text)
        self.shown.append(text)


def _start_token(tokenizer: Tokenizer) -> int:
    """With no prime, start from a newline when the vocabulary has one."""
    newline = tokenizer.encode("\n")
    return newline[0] if newline and newline[0] != UNK_ID else UNK_ID + 1
