"""The optimizer and the learning-rate schedule of every run."""

from __future__ import annotations

import math

import torch

from seqcli.config import TrainConfig


def build_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW (decay on weight matrices only) or plain SGD, the textbook choice."""
    params = [p for p in model.parameters() if p.requires_grad]
    if config.optimizer == "sgd":
        return torch.optim.SGD(params, lr=config.lr)
    decay = [p for p in params if p.dim() >= 2]
    no_decay = [p for p in params if p.dim() < 2]
    groups = [{"params": decay, "weight_decay": config.weight_decay},
              {"params": no_decay, "weight_decay": 0.0}]
    # The fused kernel updates each tensor in one pass instead of a dozen elementwise ones:
    # on a 2-core CPU that halves the step of a classifier with large embedding tables.
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
    return torch.optim.AdamW(groups, lr=config.lr, fused=fused or None)


def learning_rate(config: TrainConfig, step: int, total_steps: int,
                  time_fraction: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak (or constant).

    With --max-minutes (and no --max-steps) the decay follows whichever budget runs out first,
    epochs or time, so a time-limited run still ends at a low learning rate; such runs resume
    close to, but not bit-for-bit like, an uninterrupted one. Step budgets resume exactly.
    """
    warmup = min(config.warmup_steps, max(0, total_steps // 10))
    if warmup and step < warmup:
        return config.lr * (step + 1) / warmup
    if config.schedule == "constant" or total_steps <= warmup:
        return config.lr
    done = min(1.0, max((step - warmup) / max(1, total_steps - warmup), time_fraction))
    return config.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * done)))
