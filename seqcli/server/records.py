"""What a completion can report about each token it generates: the logprobs extension
(OpenAI's ``logprobs: N``) and seqcli's trace extension.

- logprobs: the token's log-probability and the N most likely tokens at that step with
  theirs, under the model's own distribution (before temperature, top-k or top-p), so a page
  can show "what else the model expected here".
- trace: the values of some units of one signal of one layer (hidden, cell or a gate; see
  seqcli/lm/inspect.py) as the model reads the token: what `seqcli inspect` shows for the same
  token of the same text, read live as the text is generated.

Both are computed in the engine's step, for the rows that asked, from the logits the tokens
were drawn from and the state before the model reads them.
"""

from __future__ import annotations

from typing import Any

import torch

from seqcli.data.tokenizers import Tokenizer
from seqcli.device import Placement
from seqcli.lm.decoding import select_rows
from seqcli.lm.inspect import step_signal
from seqcli.server.jobs import Completion

MAX_LOGPROBS = 5  # as OpenAI's completions API


def token_records(model: torch.nn.Module, tokenizer: Tokenizer, cell: str,
                  placement: Placement, logits: torch.Tensor, state, tokens: list[int],
                  asks: list[Completion | None]) -> list[dict[str, Any] | None]:
    """A record per row (None where the row's request asked for neither extension)."""
    records: list[dict[str, Any] | None] = [
        None if a is None else {"token": tokenizer.decode([t])} for a, t in zip(asks, tokens)]
    wanted = [i for i, a in enumerate(asks) if a is not None and a.logprobs is not None]
    if wanted:
        _logprobs(tokenizer, logits, tokens, wanted, asks, records)
    groups: dict[tuple[int, str], list[int]] = {}
    for i, ask in enumerate(asks):
        if ask is not None and ask.trace is not None:
            groups.setdefault((ask.trace.layer, ask.trace.signal), []).append(i)
    for (layer, signal), rows in groups.items():
        values = step_signal(model, cell, [tokens[i] for i in rows], select_rows(state, rows),
                             layer, signal, placement)
        for value, i in zip(values, rows):
            records[i]["trace"] = value[list(asks[i].trace.units)].tolist()  # type: ignore
    return records


def _logprobs(tokenizer: Tokenizer, logits: torch.Tensor, tokens: list[int], rows: list[int],
              asks: list, records: list) -> None:
    logp = torch.log_softmax(logits[rows].float(), dim=-1).cpu()
    chosen = logp.gather(1, torch.tensor([[tokens[i]] for i in rows]))[:, 0].tolist()
    most = max(asks[i].logprobs for i in rows)
    top_values, top_ids = logp.topk(min(most, logp.size(-1)), dim=-1) if most else (None, None)
    for k, i in enumerate(rows):
        records[i]["logprob"] = chosen[k]
        if top_ids is not None:
            count = asks[i].logprobs
            records[i]["top_logprobs"] = {
                tokenizer.decode([t]): v for t, v in
                zip(top_ids[k, :count].tolist(), top_values[k, :count].tolist())}
