"""Language modelling as a trainer `Task` (seqcli/training/task.py): next-token loss over a
token stream with truncated BPTT, the state carried across windows when partitioning is
sequential, and held-out loss / perplexity / bits per token as its evaluation.

Scoring a whole validation split at every evaluation cost tiny Shakespeare's default run about
a quarter of its time (108 batches of 16 x 64 every 100 steps, each a third of a step). So with
``eval_batches`` N, training's evaluations score a fixed sample, the split's first N batches
(N x 16 stretches spread evenly over the split, the same every time, state carried within
each), and the weights kept as best are scored on the whole split once, at the end: that is
the figure the summary and ``seqcli evaluate`` report. N None scores the whole split each time.
"""


from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.nn.functional as F

from seqcli.device import Placement
from seqcli.errors import DataError
from seqcli.lm.batches import LMBatches
from seqcli.lm.evaluate import evaluate_stream, stream_batches
from seqcli.models.language_model import detach_state


class LMTask:
    """Next-token prediction on a token stream; state carried across windows when sequential."""

    name, monitor, monitor_mode, item_name = "lm", "val_loss", "min", "tokens"

    def __init__(self, train_ids: torch.Tensor, val_ids: torch.Tensor, *, batch_size: int,
                 seq_len: int, partition: str = "sequential", seed: int = 0,
                 eval_batches: int | None = None):
        self.batches = LMBatches(train_ids, batch_size, seq_len, partition, seed)
        self.val_ids = val_ids
        self.batch_size, self.seq_len = batch_size, seq_len
        self.eval_batches = eval_batches
        self.rows = slice(None)  # this rank's streams: all of them in a one-process run

    def batches_per_epoch(self) -> int:
        return len(self.batches)

    def train_batches(self, epoch: int, start: int) -> Iterator[Any]:
        for x, y in self.batches.epoch(epoch, start):
            yield x[self.rows], y[self.rows]

    def shard(self, rank: int, world_size: int) -> None:
        """Rank r trains on rows [r*B/N, (r+1)*B/N) of every window: the N ranks together see
        the same B streams as one process with --batch-size B (state carried per rank)."""
        rows = self.batches.batch_size
        if rows % world_size:
            shrunk = " (the text holds only that many windows)" if rows < self.batch_size else ""
            raise DataError(f"--batch-size {rows}{shrunk} cannot be shared by {world_size} "
                            f"processes; use a multiple of {world_size}")
        share = rows // world_size
        self.rows = slice(rank * share, (rank + 1) * share)

    def train_loss(self, model: torch.nn.Module, batch: Any, state: Any,
                   placement: Placement) -> tuple[torch.Tensor, Any, int]:
        x, y = (t.to(placement.device, non_blocking=True) for t in batch)
        if not self.batches.carries_state:
            state = None
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        return loss, detach_state(state), y.numel()

    def evaluate(self, model: torch.nn.Module, placement: Placement) -> dict[str, float]:
        """The fixed sample (the whole split when eval_batches is None or covers it)."""
        return self._score(model, placement, self.eval_batches)

    def final_evaluation(self, model: torch.nn.Module, placement: Placement) -> dict[str, float]:
        """The whole split, when training's evaluations scored only a sample of it."""
        return self._score(model, placement, None) if self.final_cost() else {}

    def final_cost(self) -> float:
        """Batches of the whole split per batch of the sample; 0 when they are the same."""
        if self.eval_batches is None or self.val_ids.numel() < 2:
            return 0.0
        whole = len(stream_batches(self.val_ids, self.batch_size, self.seq_len))
        return whole / self.eval_batches if self.eval_batches < whole else 0.0

    def trace(self, model: torch.nn.Module, placement: Placement) -> dict[str, float]:
        return {}

    def _score(self, model: torch.nn.Module, placement: Placement,
               batches: int | None) -> dict[str, float]:
        result = evaluate_stream(model, self.val_ids, self.batch_size, self.seq_len, placement,
                                 max_batches=batches)
        return {"val_loss": result["loss"], "val_perplexity": result["perplexity"],
                "val_bits": result["bits_per_token"]}
