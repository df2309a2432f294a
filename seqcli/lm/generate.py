"""Sampling text from a language model: greedy, temperature, top-k and top-p, N at once.

The prime is run through the network once, with batch 1, and its state copied to the N
rows; after that each new token costs one step of the recurrence for all rows together,
never a re-run of the prefix. Row i draws from its own generator seeded ``seed + i`` (see
noise.py), so sample i of N equals the single sample of ``--seed seed+i``: up to the last
bits of the arithmetic, which a BLAS may order differently for N rows than for one (a token
flips only on a near-exact tie; on the CPU the tests find them equal). A row that reaches a
stop string (stops.py) leaves the batch; the loop ends when every row has. Beam search
lives in beam.py; the two share decoding.py.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from seqcli.choices import MAX_SEED
from seqcli.config import DataConfig, SampleConfig
from seqcli.data.tokenizers import Tokenizer
from seqcli.device import Placement
from seqcli.errors import UsageError
from seqcli.lm.beam import MAX_BEAM, beam_search
from seqcli.lm.decoding import (RowText, Sample, TextStream, finish, mask_special, run_prime,
                                select_rows, step)
from seqcli.lm.noise import RowNoise

MAX_LENGTH = 1_000_000  # tokens per sample: more is a typo, not a request
MAX_SAMPLES = 10_000
MAX_BATCH = 256  # rows per forward: bounds memory; rows never see each other, so it is invisible
DEFAULT_TEMPERATURE = SampleConfig().temperature


def check_left_to_right(data: DataConfig, run: object) -> None:
    """Generation continues a text; a right-to-left model (--reverse) predicts what came before."""
    if data.reverse:
        raise UsageError(f"{run} reads right to left (--reverse): it serves as a classifier's "
                         "backward encoder and cannot continue a prime; generate with a "
                         "left-to-right language model")


def check_sample_config(config: SampleConfig, vocab_size: int) -> None:
    """Refuse settings that cannot sample, naming the option."""
    if not isinstance(config.length, int) or not 1 <= config.length <= MAX_LENGTH:
        raise UsageError(f"--length must be an integer from 1 to {MAX_LENGTH}; "
                         f"got {config.length!r}")
    if config.num_samples <= 0 or config.num_samples > MAX_SAMPLES:
        raise UsageError(f"--num-samples must be from 1 to {MAX_SAMPLES}; "
                         f"got {config.num_samples}")
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
    _check_stops(config)
    if config.beam is not None:
        _check_beam(config)


def _check_stops(config: SampleConfig) -> None:
    if isinstance(config.stop, str) or not all(isinstance(s, str) for s in config.stop):
        raise UsageError(f"--stop takes strings (a tuple of them from Python); "
                         f"got {config.stop!r}")
    if any(not s for s in config.stop):
        raise UsageError("--stop must not be empty (an empty string would stop at once)")
    if config.keep_stop and not config.stop:
        raise UsageError("--keep-stop needs a --stop string")


def _check_beam(config: SampleConfig) -> None:
    beam = config.beam
    if not isinstance(beam, int) or isinstance(beam, bool) or not 1 <= beam <= MAX_BEAM:
        raise UsageError(f"--beam must be an integer from 1 to {MAX_BEAM}; got {beam!r}")
    if config.greedy or config.top_k is not None or config.top_p is not None:
        raise UsageError("--beam searches deterministically: it cannot be combined with "
                         "--greedy, --top-k or --top-p")
    if config.temperature != DEFAULT_TEMPERATURE:
        raise UsageError("--beam scores with the model's own probabilities: drop --temperature")
    if config.num_samples > beam:
        raise UsageError(f"--num-samples must be at most --beam ({beam}): beam search "
                         f"returns its best --num-samples continuations")


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
               noise: torch.Tensor | None) -> torch.Tensor:
    """Pick one token per row from [rows, vocab] logits; `noise` is Exp(1) [rows, vocab]
    (see noise.py), unused by greedy."""
    logits = mask_special(logits)  # on the CPU, where the seeded noise is
    if config.greedy:
        return logits.argmax(-1)
    # Shift so the best logit is 0 before dividing: a tiny temperature then gives -inf (never
    # inf - inf = NaN), and softmax is unchanged by the shift.
    logits = logits - logits.max(-1, keepdim=True).values
    probs = filter_logits(logits / config.temperature, config.top_k, config.top_p).softmax(-1)
    return (probs / noise).argmax(-1)


def generate_samples(model: torch.nn.Module, tokenizer: Tokenizer, prime: str,
                     config: SampleConfig, placement: Placement,
                     on_text: Callable[[str], None] | None = None) -> list[Sample]:
    """`config.num_samples` samples (or beams), after checking the settings. The first one
    is handed to `on_text` as it grows (beam search: once it is known, at the end)."""
    check_sample_config(config, tokenizer.vocab_size)
    if config.beam is not None:
        return beam_search(model, tokenizer, prime, config, placement, on_text)
    base = config.seed if config.seed is not None else fresh_seed()
    samples: list[Sample] = []
    for first in range(0, config.num_samples, MAX_BATCH):
        last = min(first + MAX_BATCH, config.num_samples)
        samples += sample_rows(model, tokenizer, prime, config, placement,
                               [base + i for i in range(first, last)],
                               on_text if first == 0 else None)
    return samples


def generate_texts(model: torch.nn.Module, tokenizer: Tokenizer, prime: str,
                   config: SampleConfig, placement: Placement,
                   on_text: Callable[[str], None] | None = None) -> list[str]:
    """The texts of `generate_samples`."""
    return [s.text for s in generate_samples(model, tokenizer, prime, config, placement,
                                             on_text)]


def sample(model: torch.nn.Module, tokenizer: Tokenizer, prime: str, config: SampleConfig,
           placement: Placement, on_text: Callable[[str], None] | None = None) -> str:
    """One sample, from the generator of `config.seed` (fresh when None), unchecked."""
    seed = config.seed if config.seed is not None else fresh_seed()
    return sample_rows(model, tokenizer, prime, config, placement, [seed], on_text)[0].text


@torch.no_grad()
def sample_rows(model: torch.nn.Module, tokenizer: Tokenizer, prime: str,
                config: SampleConfig, placement: Placement, seeds: list[int],
                on_text: Callable[[str], None] | None = None) -> list[Sample]:
    """One batch, a row per seed: the prime once, then one step per token for all rows
    still going. Row 0 streams to `on_text`, holding back what a stop could start in."""
    logits, state = run_prime(model, tokenizer, prime, placement)
    n = len(seeds)
    logits, state = logits.expand(n, -1), select_rows(state, [0] * n)
    noise = None if config.greedy else RowNoise(seeds, logits.size(-1))
    rows = [RowText(tokenizer, prime, config.stop, decode=i == 0 and on_text is not None)
            for i in range(n)]
    holdback = max(map(len, config.stop), default=1) - 1
    stream = TextStream(prime, on_text, holdback) if on_text is not None else None
    active = list(range(n))  # rows still sampling, in order; the batch holds these
    for t in range(config.length):
        drawn = next_token(logits, config, None if noise is None else noise.draw(active))
        going = []  # positions in `active` of the rows that did not just stop
        for k, (row, token) in enumerate(zip(active, drawn.tolist())):
            if rows[row].add(token) is None:
                going.append(k)
        if stream is not None and active[0] == 0 and going[:1] == [0]:  # row 0 goes on
            stream.push(rows[0].piece)
        if not going or t == config.length - 1:
            break
        if len(going) < len(active):
            active, state = [active[k] for k in going], select_rows(state, going)
        logits, state = step(model, [rows[row].tokens[-1] for row in active], state, placement)
    samples = [finish(tokenizer, prime, r.tokens, config.stop, config.keep_stop) for r in rows]
    if stream is not None:
        stream.finish(samples[0].text[len(prime):])
    return samples


def fresh_seed() -> int:
    """A seed for an unseeded run: random (without touching torch's global generator)."""
    return torch.Generator().seed() % MAX_SEED
