"""Beam search: the most likely continuations under the model, deterministically.

Each step every live beam is extended by its `width` most likely tokens, by the model's own
log-probabilities (no temperature, top-k or top-p; padding, unknown and the tokens that would
break UTF-8 excluded as in sampling: rows.py, utf8.py), and the `width` extensions with the
highest total log-probability live on, one row each in the batch. A beam ends after --length
new tokens, or earlier where its new text reaches a stop string: it then waits among the
finished while the others go on.

Finished beams are ranked by a length-normalised score, sum(log p) / length ** LENGTH_ALPHA
with alpha = 1: the mean log-probability per new token (exp(-score) is the continuation's
perplexity), so a beam that a stop string ends early is neither favoured nor penalised for
being short. (GNMT's alpha of 0.6-0.7 tilts toward longer outputs for translation; here all
beams have --length tokens unless a stop string ends them.)

The greedy continuation is kept in the beam: when its next token would fall outside the
best `width`, it takes the last place instead. So --beam 1 is exactly --greedy, and a wider
beam never returns a continuation the model scores below --greedy's. Ties go to the earlier
beam, then to the lower token id (as argmax).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import torch

from seqcli.config import SampleConfig
from seqcli.data.tokenizers import Tokenizer
from seqcli.device import Placement
from seqcli.lm.decoding import Sample, TextStream, run_prime, select_rows, step
from seqcli.lm.rows import Row, allowed_logits

LENGTH_ALPHA = 1.0
MAX_BEAM = 64


@dataclass
class Beam:
    row: Row
    logp: float = 0.0  # sum of the new tokens' log-probabilities
    greedy: bool = False  # the continuation --greedy would give

    @property
    def score(self) -> float:
        return normalised(self.logp, len(self.row.tokens))


def normalised(logp: float, length: int) -> float:
    """The score beams are ranked by: log-probability per new token (alpha = 1)."""
    return logp / max(1, length) ** LENGTH_ALPHA


@torch.no_grad()
def beam_search(model: torch.nn.Module, tokenizer: Tokenizer, prime: str, config: SampleConfig,
                placement: Placement,
                on_text: Callable[[str], None] | None = None) -> list[Sample]:
    """The best `config.num_samples` of `config.beam` beams, best first; the best is handed to
    `on_text` once the search is over."""
    width = config.beam or 1
    logits, state = run_prime(model, tokenizer, prime, placement)
    live = [Beam(Row(tokenizer, prime, replace(config, greedy=True)), greedy=True)]
    done: list[Beam] = []
    while live:
        parents, live = _extend(live, allowed_logits(logits, [b.row for b in live]), width)
        done += [b for b in live if b.row.finished]
        going = [k for k, b in enumerate(live) if not b.row.finished]
        live, parents = [live[k] for k in going], [parents[k] for k in going]
        if live:
            state = select_rows(state, parents)
            logits, state = step(model, [b.row.tokens[-1] for b in live], state, placement)
    ranked = sorted(done, key=lambda b: -b.score)  # stable: ties keep beam order
    samples = [b.row.sample(b.score) for b in ranked[:config.num_samples]]
    if on_text is not None:
        TextStream(prime, on_text).finish(samples[0].text[len(prime):])
    return samples


def _extend(live: list[Beam], logits: torch.Tensor, width: int) -> tuple[list[int], list[Beam]]:
    """The next beams from masked logits [beams, vocab], and the row each one extends."""
    logp = torch.log_softmax(logits.double(), dim=-1)
    k = min(width, int(torch.isfinite(logits).sum(-1).max()))
    # Within a beam, log-probabilities rank as the logits do: a stable sort of the logits
    # puts the first maximum first, exactly as argmax (and --greedy) picks it.
    tokens = torch.sort(logits, dim=-1, descending=True, stable=True).indices[:, :k]
    totals = torch.tensor([b.logp for b in live], dtype=torch.float64)[:, None]
    scores = (totals + logp.gather(1, tokens)).flatten()  # [beams * k], beam-major
    tokens = tokens.flatten()
    ranked = torch.sort(scores, descending=True, stable=True).indices[:width].tolist()
    picked = [flat for flat in ranked if scores[flat] > float("-inf")]  # masked: never
    greedy = next((i * k for i, b in enumerate(live) if b.greedy), None)
    if greedy is not None and greedy not in picked:  # keep --greedy's continuation
        if len(picked) == width:
            picked[-1] = greedy
        else:
            picked.append(greedy)
    parents, beams = [], []
    for flat in picked:
        parent = live[flat // k]
        row = parent.row.copy()
        row.add(int(tokens[flat]))
        beams.append(Beam(row, float(scores[flat]), parent.greedy and flat == greedy))
        parents.append(flat // k)
    return parents, beams
