"""The optimizer and the learning-rate schedule of every run."""

from __future__ import annotations

import math
import re

import torch

from seqcli.config import TrainConfig


def build_optimizer(model: torch.nn.Module, config: TrainConfig) -> torch.optim.Optimizer:
    """AdamW (decay on weight matrices only) or plain SGD, the textbook choice.

    With `layer_lr_decay` > 1 (ULMFiT's discriminative fine-tuning) each layer below the head
    learns `layer_lr_decay` times slower than the one above it: the head at the full rate,
    then the recurrent layers from the top down, then the embeddings. Each group keeps its
    share of the scheduled rate as "lr_scale" and its "depth" below the head, which gradual
    unfreezing (`frozen_depth`) reads. With neither, the groups are the two of old (decay or
    not), so checkpoints written before these options existed still resume.

    A classifier's wide side (parameters under ``wide.``, a linear model at the head's depth)
    learns at `wide_lr_scale` times the rate, in groups of its own placed last (the first
    group's rate is the one logged).
    """
    named = [(name, p) for name, p in model.named_parameters() if p.requires_grad]
    by_layer = config.layer_lr_decay != 1.0 or config.unfreeze_every > 0
    depths = layer_depths([name for name, _ in named]) if by_layer else {}
    groups: dict[tuple[bool, int, bool], list[torch.nn.Parameter]] = {}
    for name, p in named:
        decays = config.optimizer != "sgd" and p.dim() >= 2
        wide = name.startswith(WIDE_PREFIX) and config.wide_lr_scale != 1.0
        groups.setdefault((wide, depths.get(name, 0), decays), []).append(p)
    param_groups = []
    for (wide, depth, decays), params in sorted(groups.items(),
                                                key=lambda kv: (kv[0][:2], not kv[0][2])):
        scale = config.layer_lr_decay ** -depth * (config.wide_lr_scale if wide else 1.0)
        param_groups.append({"params": params, "depth": depth, "lr_scale": scale,
                             "lr": config.lr * scale,
                             "weight_decay": config.weight_decay if decays else 0.0})
    params = [p for _, p in named]
    if config.optimizer == "sgd":
        return torch.optim.SGD(param_groups, lr=config.lr)
    # The fused kernel updates each tensor in one pass instead of a dozen elementwise ones:
    # on a 2-core CPU that halves the step of a classifier with large embedding tables.
    fused = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
    return torch.optim.AdamW(param_groups, lr=config.lr, fused=fused or None)


WIDE_PREFIX = "wide."  # the classifier's wide side (seqcli/models/classifier.py)
_LAYER = re.compile(r"_l(\d+)(_reverse)?$")


def layer_depths(names: list[str]) -> dict[str, int]:
    """Depth below the head of each parameter: 0 for the head (decoder, output layer), then 1
    for the top recurrent layer ... L for the first, L + 1 for the embeddings."""
    layers = {name: int(m.group(1)) for name in names
              if name.startswith("recurrent.") and (m := _LAYER.search(name))}
    count = max(layers.values(), default=-1) + 1
    depths = {}
    for name in names:
        if name in layers:
            depths[name] = count - layers[name]
        elif name.split(".")[0].endswith("embedding"):
            depths[name] = count + 1
        else:
            depths[name] = 0
    return depths


def frozen_depth(config: TrainConfig, step: int) -> int | None:
    """The shallowest depth still frozen at `step` (None: nothing is).

    ULMFiT's gradual unfreezing: the head alone trains for the first `unfreeze_every` steps,
    then the top recurrent layer joins it, and so on down to the embeddings, so that a
    transferred encoder is not overwritten by the large, noisy gradients of a fresh head.
    """
    if config.unfreeze_every <= 0:
        return None
    return step // config.unfreeze_every + 1


def learning_rate(config: TrainConfig, step: int, total_steps: int,
                  time_fraction: float = 0.0) -> float:
    """Linear warm-up, then cosine decay to a tenth of the peak (or constant); or ULMFiT's
    slanted triangle (`slanted_rate`).

    With --max-minutes (and no --max-steps) the decay follows whichever budget runs out first,
    epochs or time, so a time-limited run still ends at a low learning rate; such runs resume
    close to, but not bit-for-bit like, an uninterrupted one. Step budgets resume exactly.
    """
    if config.schedule == "slanted":
        return slanted_rate(config.lr, max(step / max(1, total_steps), time_fraction))
    warmup = min(config.warmup_steps, max(0, total_steps // 10))
    if warmup and step < warmup:
        return config.lr * (step + 1) / warmup
    if config.schedule == "constant" or total_steps <= warmup:
        return config.lr
    done = min(1.0, max((step - warmup) / max(1, total_steps - warmup), time_fraction))
    return config.lr * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * done)))


SLANT_RISE, SLANT_RATIO = 0.1, 32.0  # ULMFiT's cut_frac and ratio (Howard & Ruder, 2018)


def slanted_rate(peak: float, done: float) -> float:
    """A short linear rise over the first tenth of the budget, then a long linear fall to
    1/32 of the peak: converge quickly to a good region, then refine. `done` is the share of
    the budget (steps or time) used; --warmup-steps does not apply."""
    done = min(1.0, max(0.0, done))
    if done < SLANT_RISE:
        share = done / SLANT_RISE
    else:
        share = 1.0 - (done - SLANT_RISE) / (1.0 - SLANT_RISE)
    return peak * (1.0 + share * (SLANT_RATIO - 1.0)) / SLANT_RATIO
