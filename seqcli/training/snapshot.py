"""What `last.pt` holds beyond the optimizer: progress, weights, RNG streams, carried state.

Both are saved as a one-process run would have them, whatever the number of ranks: the
recurrent state of every stream (all ranks' rows gathered, [layers, B, H]) and the RNG state of
every rank. Resuming takes back this rank's rows, so a language model continues on exactly the
same streams under any number of ranks; the RNG streams (dropout masks) continue exactly when
the number of ranks is the same, and are reseeded from (seed, step, rank) when it is not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import torch

from seqcli.training.distributed import Group

State = torch.Tensor | tuple[torch.Tensor, ...] | None


@dataclass
class Progress:
    step: int = 0
    epoch: int = 0
    batch: int = 0  # batches finished in the current epoch
    items: int = 0  # tokens (or texts) trained on
    train_seconds: float = 0.0  # inside training steps (throughput)
    seconds: float = 0.0  # of the run's wall clock, as --max-minutes counts (training/clock.py)
    reserve: float = 0.0  # seconds its end needs (EndCosts.reserve), agreed by the ranks
    best: float | None = None
    best_step: int = 0
    best_metrics: dict[str, float] = field(default_factory=dict)
    bad_evals: int = 0


def cpu_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    """The model's weights, copied to the CPU (what a checkpoint stores)."""
    return {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}


def rng_states(group: Group) -> dict[str, Any]:
    """This process' RNG states, plus every rank's CPU state when there are several."""
    rng: dict[str, Any] = {"cpu": torch.get_rng_state()}
    if torch.cuda.is_available():
        rng["cuda"] = torch.cuda.get_rng_state_all()
    if group.active:
        rng["ranks"] = group.gather(rng["cpu"])
    return rng


def restore_rng(rng: dict[str, Any], group: Group, seed: int, step: int) -> None:
    ranks = rng.get("ranks")
    saved_ranks = 1 if ranks is None else len(ranks)
    if saved_ranks != group.world_size:
        torch.manual_seed((seed * 1_000_003 + step) * 1009 + group.rank)  # other world size
        return
    cpu = ranks[group.rank] if group.active else rng.get("cpu")
    if cpu is not None:
        torch.set_rng_state(cpu)
    if rng.get("cuda") and torch.cuda.is_available() and not group.active:
        torch.cuda.set_rng_state_all(rng["cuda"])


def gather_state(state: State, group: Group) -> list[torch.Tensor] | None:
    """The carried state of all streams, on the CPU (a collective: every rank calls it)."""
    if state is None:
        return None
    parts = state if isinstance(state, tuple) else (state,)
    return [group.gather_rows(p.detach()).cpu() for p in parts]


def own_rows(carried: list[torch.Tensor] | None, group: Group, device: torch.device) -> State:
    """This rank's rows of a saved state (all of them in a one-process run)."""
    if carried is None:
        return None
    rows = group.rows(carried[0].shape[1])
    parts = tuple(p[:, rows].contiguous().to(device) for p in carried)
    return parts if len(parts) > 1 else parts[0]
