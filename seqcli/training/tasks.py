"""What the trainer needs to know about a task: its batches, its loss and its evaluation.

The trainer is task-agnostic; a task object supplies these hooks. `LMTask` is language
modelling over a token stream with truncated BPTT; the classification task follows the same
protocol (see seqcli/training/classify_task.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol

import torch
import torch.nn.functional as F

from seqcli.data.batching import LMBatches
from seqcli.device import Placement
from seqcli.errors import DataError
from seqcli.models.language_model import detach_state
from seqcli.training.metrics import bits, perplexity


class Task(Protocol):
    name: str
    monitor: str  # metric that picks the best checkpoint and drives early stopping
    monitor_mode: str  # "min" or "max"
    item_name: str  # "tokens" or "texts", for throughput
    progress_fields: tuple[str, ...]

    def batches_per_epoch(self) -> int: ...

    def train_batches(self, epoch: int, start: int) -> Iterator[Any]: ...

    def train_loss(self, model, batch, state, placement: Placement) -> tuple[torch.Tensor, Any, int]:
        """Loss (a scalar), the state to carry to the next batch, and the items it covered."""

    def evaluate(self, model, placement: Placement) -> dict[str, float]: ...


class LMTask:
    """Next-token prediction on a token stream; state carried across windows when sequential."""

    name, monitor, monitor_mode, item_name = "lm", "val_loss", "min", "tokens"
    progress_fields = ("loss", "ppl", "tok/s", "lr")

    def __init__(self, train_ids: torch.Tensor, val_ids: torch.Tensor, *, batch_size: int,
                 seq_len: int, partition: str = "sequential", seed: int = 0,
                 eval_batches: int | None = None):
        self.batches = LMBatches(train_ids, batch_size, seq_len, partition, seed)
        self.val_ids = val_ids
        self.batch_size, self.seq_len = batch_size, seq_len
        self.eval_batches = eval_batches

    def batches_per_epoch(self) -> int:
        return len(self.batches)

    def train_batches(self, epoch: int, start: int) -> Iterator[Any]:
        return self.batches.epoch(epoch, start)

    def train_loss(self, model, batch, state, placement: Placement):
        x, y = (t.to(placement.device, non_blocking=True) for t in batch)
        if not self.batches.carries_state:
            state = None
        logits, state = model(x, state)
        loss = F.cross_entropy(logits.float().flatten(0, 1), y.flatten())
        return loss, detach_state(state), y.numel()

    def evaluate(self, model, placement: Placement) -> dict[str, float]:
        result = evaluate_stream(model, self.val_ids, self.batch_size, self.seq_len, placement,
                                 max_batches=self.eval_batches)
        return {"val_loss": result["loss"], "val_perplexity": result["perplexity"],
                "val_bits": result["bits_per_token"]}


@torch.no_grad()
def evaluate_stream(model, ids: torch.Tensor, batch_size: int, seq_len: int,
                    placement: Placement, max_batches: int | None = None) -> dict[str, float]:
    """Mean next-token loss over a whole stream, state carried window to window.

    A stream shorter than one window is read in one shorter window: the state is carried
    anyway, so the window length only changes how the work is cut, not what is measured.
    """
    if ids.numel() < 2:
        raise DataError(f"the text has {ids.numel()} token(s); evaluation needs at least 2")
    seq_len = min(seq_len, ids.numel() - 1)
    batches = LMBatches(ids, batch_size, seq_len, "sequential", shift=False)
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        for k, (x, y) in enumerate(batches.epoch(0)):
            if max_batches is not None and k >= max_batches:
                break
            x, y = x.to(placement.device), y.to(placement.device)
            with placement.autocast():
                logits, state = model(x, state)
            total += F.cross_entropy(logits.float().flatten(0, 1), y.flatten(),
                                     reduction="sum").item()
            count += y.numel()
    finally:
        model.train(was_training)
    loss = total / max(1, count)
    return {"loss": loss, "perplexity": perplexity(loss), "bits_per_token": bits(loss),
            "tokens": count}
