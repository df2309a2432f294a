"""The optimizer and the learning-rate schedule of every run."""

from __future__ import annotations

import math

import torch

from seqcli.config import TrainConfig


def build_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW (decay on weight matrices only) or plain SGD, the textbook choice.

    The decayed matrices in a group first, then the rest (biases, norms), in the order
    checkpoints of every earlier version hold them, so those resume. A classifier's wide
    side (parameters under ``wide.``, a linear model beside the head) learns at
    `wide_lr_scale` times the rate, in groups of its own placed last (the first group's rate is
    the one logged); each group keeps its share of the scheduled rate as "lr_scale".
    """
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    groups: dict[tuple[bool, bool], list[torch.nn.Parameter]] = {}
    for name, p in named:
        decays = config.optimizer != "sgd" and p.dim() >= 2
        wide = name.startswith(WIDE_PREFIX) and config.wide_lr_scale != 1.0
        groups.setdefault((wide, decays), []).append(p)
    param_groups = []
    for (wide, decays), params in sorted(groups.items(), key=lambda kv: (kv[0][0], not kv[0][1])):
        scale = config.wide_lr_scale if wide else 1.0
        param_groups.append({"params": params, "lr_scale": scale, "lr": config.lr * scale,
                             "weight_decay": config.weight_decay if decays else 0.0})
    if config.optimizer == "sgd":
        return torch.optim.SGD(param_groups, lr=config.lr)
    # The fused kernel updates each tensor in one pass instead of a dozen elementwise ones:
    # on a 2-core CPU that halves the step of a classifier with large embedding tables.
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for _, p in named)
    return torch.optim.AdamW(param_groups, lr=config.lr, fused=fused or None)


WIDE_PREFIX = "wide."  # the classifier's wide side (seqcli/models/classifier.py)


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
