"""The limits a server puts on its callers, each a `seqcli serve` flag shown in /info.

They exist so one caller cannot take the machine from the others: rows bound the batch (its
memory and each step's time), the queue bounds the memory of waiting requests (429 beyond
it), the sizes bound a single request's work, the time limit its duration. Defaults are
meant for a 2-core CPU serving a small model; raise them on a GPU.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from seqcli.errors import UsageError


@dataclass(frozen=True)
class ServeLimits:
    max_rows: int = 64  # rows generating at once, per language model (each n counts n rows)
    max_queue: int = 256  # requests waiting to start, per model; more get 429
    max_prompt_tokens: int = 8192  # tokens of a prompt or of one text to classify/score/...
    max_tokens: int = 2048  # new tokens per completion (max_tokens above it: 422)
    max_n: int = 16  # completions per request (n; never more than max_rows: they run together)
    max_stops: int = 4  # stop strings per request
    max_texts: int = 256  # texts per classify/score/explain/inspect request
    max_body_bytes: int = 1_000_000  # request body (413 beyond it)
    timeout: float = 120.0  # seconds a request may take from arrival to its last byte
    batch_window_ms: float = 2.0  # how long a micro-batch waits for company

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


FLAGS = {"max_rows": "--max-rows", "max_queue": "--max-queue",
         "max_prompt_tokens": "--max-prompt-tokens", "max_tokens": "--max-tokens",
         "max_n": "--max-n", "max_stops": "--max-stops", "max_texts": "--max-texts",
         "max_body_bytes": "--max-body-bytes", "timeout": "--timeout",
         "batch_window_ms": "--batch-window-ms"}


def check_limits(limits: ServeLimits) -> None:
    """Refuse limits that cannot serve anything, naming the flag."""
    for name, value in limits.to_dict().items():
        smallest = 0 if name == "batch_window_ms" else 1
        if isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not value >= smallest or value == float("inf"):
            raise UsageError(f"{FLAGS[name]} must be a finite number >= {smallest}; "
                             f"got {value!r}")
    if limits.batch_window_ms > 1000:
        raise UsageError(f"--batch-window-ms must be at most 1000; got {limits.batch_window_ms}")
