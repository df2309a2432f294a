"""The seam between the one trainer and the tasks: what a task must supply, and what preparing
one hands to the pipeline.

The trainer never learns whether it trains a language model or a classifier; seqcli/lm/task.py
and seqcli/classify/task.py implement `Task`, and their ``prepare`` modules return `Prepared`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import torch

from seqcli.data.tokenizers import Tokenizer
from seqcli.device import Placement


class Task(Protocol):
    name: str
    monitor: str  # metric that picks the best checkpoint and drives early stopping
    monitor_mode: str  # "min" or "max"
    item_name: str  # "tokens" or "texts", for throughput

    def batches_per_epoch(self) -> int: ...

    def train_batches(self, epoch: int, start: int) -> Iterator[Any]: ...

    def train_loss(self, model: torch.nn.Module, batch: Any, state: Any,
                   placement: Placement) -> tuple[torch.Tensor, Any, int]:
        """Loss (a scalar), the state to carry to the next batch, and the items it covered."""

    def evaluate(self, model: torch.nn.Module, placement: Placement) -> dict[str, float]:
        """The held-out scores that pick the best weights and drive early stopping, during
        training: cheap enough to run often (a language model scores a fixed sample)."""

    def final_evaluation(self, model: torch.nn.Module, placement: Placement) -> dict[str, float]:
        """Once, for the weights kept as best: what `evaluate` left out (the whole validation
        split where it scored a sample; a classifier's test set). {} when nothing is."""

    def final_cost(self) -> float:
        """`final_evaluation`'s cost in `evaluate`s, so a time budget can keep room for it."""

    def trace(self, model: torch.nn.Module, placement: Placement) -> dict[str, float]:
        """Scores logged beside each evaluation for benchmarks only (--trace-test), never
        used to select; {} unless asked for."""

    def shard(self, rank: int, world_size: int) -> None:
        """Train on this rank's share of every batch from now on (data-parallel runs)."""


@dataclass
class Prepared:
    """A task ready to train, plus what the run directory must remember about its data."""

    task: Task
    tokenizer: Tokenizer
    meta: dict[str, Any]
    # Optional: called once on a freshly built model (not on resume), e.g. to copy in
    # pretrained embeddings.
    init_model: Callable[[torch.nn.Module], None] | None = None


class TaskLoss(torch.nn.Module):
    """The task's loss as one module call, so DistributedDataParallel sees every forward pass
    of a step (the classifier's adversarial second pass too) as a single forward."""

    def __init__(self, model: torch.nn.Module, task: Task, placement: Placement):
        super().__init__()
        self.model, self.task, self.placement = model, task, placement

    def forward(self, batch: Any, state: Any) -> tuple[torch.Tensor, Any, int]:
        return self.task.train_loss(self.model, batch, state, self.placement)
