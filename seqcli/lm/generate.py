"""Generating text from a language model: `generate_samples`, the one entry point (the CLI,
`Run.generate`, `seqcli bench generate`), for greedy, temperature, top-k and top-p sampling,
N at once, and beam search.

The prime is run through the network once, with batch 1, and its state copied to the N
rows; after that each new token costs one step of the recurrence for all rows together,
never a re-run of the prefix. Each step, `choose_tokens` (rows.py) picks every row's token by
its own options, among the tokens that keep its bytes valid UTF-8 (utf8.py). Row i draws from
its own generator seeded ``seed + i`` (noise.py), so sample i of N equals the single sample of
``--seed seed+i``: up to the last bits of the arithmetic, which a BLAS may order differently
for N rows than for one (a token flips only on a near-exact tie; on the CPU the tests find
them equal). A row that reaches a stop string (stops.py) leaves the batch; the loop ends when
every row has. Beam search lives in beam.py; all share decoding.py and rows.py.
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
from seqcli.lm.decoding import Sample, TextStream, run_prime, select_rows, step
from seqcli.lm.noise import fresh_seed
from seqcli.lm.rows import Row, choose_tokens

MAX_LENGTH = 1_000_000  # tokens per sample: more is a typo, not a request
MAX_SAMPLES = 10_000
MAX_BATCH = 256  # rows per forward: bounds memory; rows never see each other, so it is invisible


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
    if config.greedy and config.num_samples > 1:
        raise UsageError("--greedy gives one text (every sample would be the same); for several "
                         "texts drop --greedy to sample, or use --beam N --num-samples N")
    if not config.greedy and not 0 < config.sampling_temperature < math.inf:
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
    if config.temperature is not None:  # given, whatever its value
        raise UsageError("--beam scores with the model's own probabilities: drop --temperature")
    if config.num_samples > beam:
        raise UsageError(f"--num-samples must be at most --beam ({beam}): beam search "
                         f"returns its best --num-samples continuations")


def generate_samples(model: torch.nn.Module, tokenizer: Tokenizer, prime: str,
                     config: SampleConfig, placement: Placement,
                     on_text: Callable[[str], None] | None = None) -> list[Sample]:
    """`config.num_samples` samples (or beams) of `prime`, after checking the settings: the one
    entry point of the CLI, the Python API and the benchmarks. The first sample is handed to
    `on_text` as it grows (beam search: once it is known, at the end)."""
    check_sample_config(config, tokenizer.vocab_size)
    if config.beam is not None:
        return beam_search(model, tokenizer, prime, config, placement, on_text)
    base = config.seed if config.seed is not None else fresh_seed()
    stream = None if on_text is None else TextStream(prime, on_text, _holdback(config.stop))
    samples: list[Sample] = []
    for first in range(0, config.num_samples, MAX_BATCH):
        last = min(first + MAX_BATCH, config.num_samples)
        rows = [Row(tokenizer, prime, config, base + i, decode=i == 0 and stream is not None)
                for i in range(first, last)]
        decode_rows(model, tokenizer, prime, rows, placement, stream if first == 0 else None)
        samples += [row.sample() for row in rows]
    if stream is not None:
        stream.finish(samples[0].text[len(prime):])
    return samples


@torch.no_grad()
def decode_rows(model: torch.nn.Module, tokenizer: Tokenizer, prime: str, rows: list[Row],
                placement: Placement, stream: TextStream | None = None) -> None:
    """Run `rows` (continuations of `prime`) to their ends as one batch: the prime once, then
    one step per token for all rows still going; a row that finishes leaves the batch. Row 0's
    new text goes to `stream` as it grows (the caller finishes the stream)."""
    logits, state = run_prime(model, tokenizer, prime, placement)
    logits, state = logits.expand(len(rows), -1), select_rows(state, [0] * len(rows))
    active = list(rows)  # rows still going, in order; the batch holds these
    while True:
        for row, token in zip(active, choose_tokens(logits, active)):
            row.add(token)
        if stream is not None and active[0] is rows[0] and rows[0].stopped is None:
            stream.push(rows[0].piece)
        going = [k for k, row in enumerate(active) if not row.finished]
        if not going:
            return
        if len(going) < len(active):
            active, state = [active[k] for k in going], select_rows(state, going)
        logits, state = step(model, [row.tokens[-1] for row in active], state, placement)


def _holdback(stops: tuple[str, ...]) -> int:
    """Characters a stream holds back: a stop string could begin in them."""
    return max(map(len, stops), default=1) - 1
