"""Beam search: the most likely continuations under the model, deterministically.

Each step every live beam is extended by its `width` most likely tokens, by the model's own
log-probabilities (no temperature, top-k or top-p; padding and unknown excluded as in
sampling), and the `width` extensions with the highest total log-probability live on, one
row each in the batch. A beam ends after --length new tokens, or earlier where its new text
reaches a stop string: it then waits among the finished while the others go on.

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
from dataclasses import dataclass

import torch

from seqcli.config import SampleConfig
from seqcli.data.tokenizers import Tokenizer
from seqcli.device import Placement
from seqcli.lm.decoding import (RowText, Sample, TextStream, finish, mask_special, run_prime,
                                select_rows, step)

LENGTH_ALPHA = 1.0
MAX_BEAM = 64


@dataclass
class Beam:
    text: RowText
    logp: float = 0.0  # sum of the new tokens' log-probabilities
    greedy: bool = False  # the continuation --greedy would give
    stopped: str | None = None

    @property
    def score(self) -> float:
        return normalised(self.logp, len(self.text.tokens))


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
    live = [Beam(RowText(tokenizer, prime, config.stop), greedy=True)]
    done: list[Beam] = []
    for t in range(config.length):
        parents, live = _extend(live, mask_special(logits), width)
        done += [b for b in live if b.stopped is not None]
        going = [k for k, b in enumerate(live) if b.stopped is None]
        live, parents = [live[k] for k in going], [parents[k] for k in going]
        if not live or t == config.length - 1:
            break
        state = select_rows(state, parents)
        logits, state = step(model, [b.text.tokens[-1] for b in live], state, placement)
    ranked = sorted(done + live, key=lambda b: -b.score)  # stable: ties keep beam order
    samples = [finish(tokenizer, prime, b.text.tokens, config.stop, config.keep_stop, b.score)
               for b in ranked[:config.num_samples]]
    if on_text is not None:
        TextStream(prime, on_text).finish(samples[0].text[len(prime):])
    return samples


def _extend(live: list[Beam], logits: torch.Tensor, width: int) -> tuple[list[int], list[Beam]]:
    """The next beams from masked logits [beams, vocab], and the row each one extends."""
    logp = torch.log_softmax(logits.double(), dim=-1)
    k = min(width, int(torch.isfinite(logits[0]).sum()))
    # Within a beam, log-probabilities rank as the logits do: a stable sort of the logits
    # puts the first maximum first, exactly as argmax (and --greedy) picks it.
    tokens = torch.sort(logits, dim=-1, descending=True, stable=True).indices[:, :k]
    totals = torch.tensor([b.logp for b in live], dtype=torch.float64)[:, None]
    scores = (totals + logp.gather(1, tokens)).flatten()  # [beams * k], beam-major
    tokens = tokens.flatten()
    picked = torch.sort(scores, descending=True, stable=True).indices[:width].tolist()
    greedy = next((i * k for i, b in enumerate(live) if b.greedy), None)
    if greedy is not None and greedy not in picked:
        picked[-1] = greedy  # keep --greedy's continuation in the beam
    parents, beams = [], []
    for flat in picked:
        parent = live[flat // k]
        text = parent.text.copy()
        stopped = text.add(int(tokens[flat]))
        beams.append(Beam(text, float(scores[flat]), parent.greedy and flat == greedy, stopped))
        parents.append(flat // k)
    return parents, beams
