"""Sampling text from a language model: greedy, temperature, top-k and top-p.

The prime is run through the network once; after that each new token costs one step of the
recurrence with the state carried, never a re-run of the prefix. Text is handed to `on_text`
as it is produced so the terminal can stream it.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from seqcli.choices import MAX_SEED
from seqcli.config import SampleConfig
from seqcli.data.tokenizers import PAD_ID, UNK_ID, Tokenizer
from seqcli.device import Placement
from seqcli.errors import UsageError

MAX_LENGTH = 1_000_000  # tokens per sample: more is a typo, not a request


def check_sample_config(config: SampleConfig, vocab_size: int) -> None:
    """Refuse settings that cannot sample, naming the option."""
    if not isinstance(config.length, int) or not 1 <= config.length <= MAX_LENGTH:
        raise UsageError(f"--length must be an integer from 1 to {MAX_LENGTH}; "
                         f"got {config.length!r}")
    if config.num_samples <= 0 or config.num_samples > 10_000:
        raise UsageError(f"--num-samples must be from 1 to 10000; got {config.num_samples}")
    if not config.greedy and not 0 < config.temperature < math.inf:
        raise UsageError(f"--temperature must be a finite number > 0 (use --greedy for "
                         f"argmax); got {config.temperature}")
    if config.seed is not None and not 0 <= config.seed < MAX_SEED:
        raise UsageError(f"--seed must be an integer from 0 to {MAX_SEED - 1}; got {config.seed}")
    if config.top_k is not None and not 1 <= config.top_k <= vocab_size:
        raise UsageError(f"--top-k must be from 1 to the vocabulary size {vocab_size}; "
                         f"got {config.top_k}")
    if config.top_p is not None and not 0 < config.top_p <= 1:
        raise UsageError(f"--top-p must be in (0, 1]; got {config.top_p}")


def filter_logits(logits: torch.Tensor, top_k: int | None = None,
                  top_p: float | None = None) -> torch.Tensor:
    """Mask (to -inf) every token outside the top-k and outside the top-p nucleus.

    logits: [..., vocab]. The most likely token always survives, so sampling never fails.
    """
    logits = logits.clone()
    if top_k is not None and top_k < logits.size(-1):
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]
        logits[logits < kth] = float("-inf")
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = sorted_logits.softmax(-1)
        # Drop a token when the tokens ranked above it already reach top_p.
        drop = probs.cumsum(-1) - probs >= top_p
        drop[..., 0] = False
        logits.scatter_(-1, order, sorted_logits.masked_fill(drop, float("-inf")))
    return logits


def next_token(logits: torch.Tensor, config: SampleConfig,
               generator: torch.Generator | None) -> torch.Tensor:
    """Pick one token per row from [batch, vocab] logits."""
    logits = logits.float().cpu()  # sample on the CPU so a seeded generator works anywhere
    logits[..., PAD_ID] = float("-inf")
    if logits.size(-1) > UNK_ID + 1:
        logits[..., UNK_ID] = float("-inf")
    if config.greedy:
        return logits.argmax(-1)
    # Shift so the best logit is 0 before dividing: a tiny temperature then gives -inf (never
    # inf - inf = NaN), and softmax is unchanged by the shift.
    logits = logits - logits.max(-1, keepdim=True).values
    logits = filter_logits(logits / config.temperature, config.top_k, config.top_p)
    return torch.multinomial(logits.softmax(-1), 1, generator=generator).squeeze(-1)


@torch.no_grad()
def sample(model: torch.nn.Module, tokenizer: Tokenizer, prime: str, config: SampleConfig,
           placement: Placement, on_text: Callable[[str], None] | None = None,
           generator: torch.Generator | None = None) -> str:
    """One sample: the prime followed by `config.length` new tokens."""
    model.eval()
    ids = tokenizer.encode(prime) or [_start_token(tokenizer)]
    x = torch.tensor([ids], dtype=torch.long, device=placement.device)
    with placement.autocast():
        logits, state = model(x, None)  # the prime, once
    produced: list[int] = []
    stream = TextStream(tokenizer, prime, on_text) if on_text is not None else None
    for _ in range(config.length):
        token = next_token(logits[:, -1], config, generator)
        produced.append(int(token))
        if stream is not None:
            stream.add(produced[-1])
        with placement.autocast():
            logits, state = model(token.view(1, 1).to(placement.device), state)  # one step
    full = render(tokenizer, prime, produced)
    if stream is not None:
        stream.finish(full)
    return full


def generate_texts(model: torch.nn.Module, tokenizer: Tokenizer, prime: str,
                   config: SampleConfig, placement: Placement,
                   on_text: Callable[[str], None] | None = None,
                   on_start: Callable[[int], None] | None = None) -> list[str]:
    """`config.num_samples` samples from one seeded generator, after checking the settings;
    `on_start(i)` is called before sample i streams, for a header between samples."""
    check_sample_config(config, tokenizer.vocab_size)
    generator = make_generator(config.seed)
    texts = []
    for i in range(config.num_samples):
        if on_start is not None:
            on_start(i)
        texts.append(sample(model, tokenizer, prime, config, placement, on_text=on_text,
                            generator=generator))
    return texts


def render(tokenizer: Tokenizer, prime: str, produced: list[int]) -> str:
    """The prime and the decoded new tokens, as one text."""
    text = tokenizer.decode(produced)
    # Word tokens decode without the space that separated them from the prime.
    joiner = " " if tokenizer.kind == "word" and prime and text else ""
    return prime + joiner + text


class TextStream:
    """Hands new text to `on_text` token by token, decoding only the tokens not yet shown.

    Each step decodes the pending tokens together with the last shown token as context (word
    tokens need it for the space between them, byte-level BPE for nothing) and emits what the
    context alone does not decode to: constant work per token, not a re-decode of the whole
    output. Pending tokens are held back while they end in a partly decoded multi-byte
    character (U+FFFD), and released when it completes.
    """

    def __init__(self, tokenizer: Tokenizer, prime: str, on_text: Callable[[str], None]):
        self.tokenizer, self.on_text = tokenizer, on_text
        self.context: list[int] = []  # the last token already shown
        self.pending: list[int] = []
        self.shown = [prime]  # everything handed out so far
        self.joiner = " " if tokenizer.kind == "word" and prime else ""
        on_text(prime)

    def add(self, token: int) -> None:
        self.pending.append(token)
        before = self.tokenizer.decode(self.context) if self.context else ""
        text = self.tokenizer.decode(self.context + self.pending)
        if text.endswith("\ufffd") or not text.startswith(before) or len(text) == len(before):
            return
        new = text[len(before):]
        if not self.context:  # the first new text: it joins the prime
            new = self.joiner + new if new else new
        self.on_text(new)
        self.shown.append(new)
        self.context, self.pending = self.pending[-1:], []

    def finish(self, full: str) -> None:
        """Emit whatever was held back (a character never completed) from the full text."""
        shown = "".join(self.shown)
        if full.startswith(shown) and len(full) > len(shown):
            self.on_text(full[len(shown):])


def _start_token(tokenizer: Tokenizer) -> int:
    """With no prime, start from a newline when the vocabulary has one."""
    newline = tokenizer.encode("\n")
    return newline[0] if newline and newline[0] != UNK_ID else UNK_ID + 1


def make_generator(seed: int | None) -> torch.Generator:
    generator = torch.Generator()
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(seed)
    return generator
