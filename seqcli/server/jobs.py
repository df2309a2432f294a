"""One completion request inside the engine: its rows, their streams, and what it tells its
caller.

The route builds a `Completion` (checked options), the engine wraps it in a `Job` and steps
its rows with everyone else's; the job turns each step's tokens into events for the route:
`("piece", index, text, records, finish_reason)` as text is released (streamed requests
only), then `("done", result)` or `("error", ApiError)`. Events cross from the engine's
thread to the event loop through `post` (the engine sends one batch per step).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from seqcli.config import SampleConfig
from seqcli.data.tokenizers import Tokenizer
from seqcli.server.errors import ApiError
from seqcli.lm.rows import Row
from seqcli.server.stream import RowStream


@dataclass(frozen=True)
class TraceSpec:
    """The trace extension: one signal of one layer (from 1), these units, per token."""

    layer: int
    signal: str
    units: tuple[int, ...]

    def to_dict(self) -> dict:
        return {"layer": self.layer, "signal": self.signal, "units": list(self.units)}


@dataclass(frozen=True)
class Completion:
    """A checked completions request: `options` as `seqcli generate` takes them (length,
    temperature or greedy, top_k, top_p, num_samples, seed, stop, keep_stop)."""

    prompt: str
    options: SampleConfig
    seed: int  # row i draws from seed + i, as `seqcli generate --num-samples`
    stream: bool = False
    echo: bool = False
    logprobs: int | None = None  # top alternatives per token (0: the chosen token's only)
    trace: TraceSpec | None = None
    prompt_tokens: int = 0


@dataclass
class Choice:
    text: str = ""
    finish_reason: str | None = None
    records: list[dict[str, Any]] = field(default_factory=list)


class Job:
    """The engine's handle on one Completion (see the module docstring)."""

    def __init__(self, completion: Completion, tokenizer: Tokenizer, deadline: float,
                 post: Callable[[Job, tuple], None]):
        self.completion, self.tokenizer, self.deadline, self.post = completion, tokenizer, \
            deadline, post
        c = completion
        self.rows = [Row(tokenizer, c.prompt, c.options, c.seed + i, decode=True)
                     for i in range(c.options.num_samples)]
        holdback = max(map(len, c.options.stop), default=1) - 1
        self.streams = [RowStream(c.prompt if c.echo else "", holdback) for _ in self.rows]
        self.choices = [Choice() for _ in self.rows]
        self.arrived = time.monotonic()
        self.first_token: float | None = None
        self.last_token = 0.0
        self.queue: Any = None  # the route's asyncio.Queue that `deliver` puts events in
        self.cancelled = False  # the caller went away (set from the event loop)
        self.over = False  # done, failed or dropped: the engine holds none of its rows

    @property
    def n(self) -> int:
        return len(self.rows)

    @property
    def wants_records(self) -> bool:
        return self.completion.logprobs is not None or self.completion.trace is not None

    def take(self, k: int, token: int, record: dict[str, Any] | None) -> bool:
        """Row k's new token; True when the row has finished."""
        row, stream, choice = self.rows[k], self.streams[k], self.choices[k]
        row.add(token)
        if not row.finished:
            self._released(k, *stream.push(row.piece, record))
            return False
        stream.add(row.piece, record)
        final = row.sample().text
        prefix = self.completion.prompt if self.completion.echo else ""
        choice.finish_reason = "stop" if row.stopped is not None else "length"
        choice.text = prefix + final[len(self.completion.prompt):]
        self._released(k, *stream.finish(choice.text), choice.finish_reason)
        if all(c.finish_reason is not None for c in self.choices):
            self.over = True
            self.post(self, ("done", self.result()))
        return True

    def _released(self, k: int, text: str, records: list, reason: str | None = None) -> None:
        self.choices[k].records += records
        if self.completion.stream and (text or records or reason):
            self.post(self, ("piece", k, text, records, reason))

    def fail(self, error: ApiError) -> None:
        """End the job with an error event (its rows leave the batch)."""
        if not self.over:
            self.over = True
            self.post(self, ("error", error))

    def result(self) -> dict[str, Any]:
        generated = sum(len(row.tokens) for row in self.rows)
        return {"choices": self.choices,
                "usage": {"prompt_tokens": self.completion.prompt_tokens,
                          "completion_tokens": generated,
                          "total_tokens": self.completion.prompt_tokens + generated}}
