"""Data-parallel training on PyTorch's own engine: one process per rank, `torch.distributed`
process group, `DistributedDataParallel` for the gradients.

`Group` is what the trainer needs from the other ranks, and `SOLO` is the same for a single
process (every operation is then the identity), so the trainer has one code path:

- `agree` sums, once per step, the loss, the items and the stop flags of every rank: all ranks
  report the global loss and stop at the same step (Ctrl-C, SIGTERM, --max-minutes), and a
  diverged loss is seen by all of them;
- `broadcast` hands rank 0's evaluation to all ranks, so early stopping agrees;
- `gather_rows` / `rows` put the recurrent state carried by each rank's share of the streams
  together (a checkpoint holds the same [layers, B, H] state as a one-process run) and take
  a rank's share of it back on resume.

Collectives time out (`TIMEOUT`) rather than wait forever for a rank that died; the launcher
(torchrun, or `seqcli train --nproc`) also stops the survivors as soon as one rank fails.
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist

from seqcli.errors import UsageError

TIMEOUT = datetime.timedelta(minutes=10)  # the longest a rank waits for the others


@dataclass(frozen=True)
class Spec:
    """Which process this is, as the launcher said (WORLD_SIZE, RANK, LOCAL_RANK)."""

    world_size: int = 1
    rank: int = 0
    local_rank: int = 0
    local_world_size: int = 0  # ranks on this machine (LOCAL_WORLD_SIZE); 0: all of them

    @property
    def ranks_here(self) -> int:
        return self.local_world_size or self.world_size


class Group:
    """The ranks of one run (see the module docstring); `SOLO` when there is one process."""

    def __init__(self, spec: Spec, device: torch.device | None = None):
        self.world_size, self.rank, self.local_rank = spec.world_size, spec.rank, spec.local_rank
        # where collectives' tensors must live: this rank's GPU under NCCL, else the CPU
        self.device = device or torch.device("cpu")

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def active(self) -> bool:
        return self.world_size > 1

    def agree(self, values: list[float]) -> list[float]:
        """The sum over ranks of each value (one collective for all of them)."""
        if not self.active:
            return values
        tensor = torch.tensor(values, dtype=torch.float64, device=self.device)
        dist.all_reduce(tensor)
        return tensor.tolist()

    def broadcast(self, value: Any) -> Any:
        """Rank 0's `value` on every rank: a small JSON document (metrics, a path).

        JSON in a byte tensor, by hand: torch's broadcast_object_list needs NumPy, and
        unpickles what it receives.
        """
        if not self.active:
            return value
        data = json.dumps(value).encode() if self.is_main else b""
        size = torch.tensor([len(data)], dtype=torch.int64, device=self.device)
        dist.broadcast(size, src=0)
        buffer = torch.frombuffer(bytearray(data), dtype=torch.uint8).to(self.device) \
            if self.is_main else torch.empty(int(size), dtype=torch.uint8, device=self.device)
        dist.broadcast(buffer, src=0)
        return value if self.is_main else json.loads(bytes(buffer.cpu().tolist()))

    def gather(self, tensor: torch.Tensor) -> list[torch.Tensor]:
        """Every rank's tensor of the same shape, in rank order, where `tensor` was."""
        if not self.active:
            return [tensor]
        here = tensor.to(self.device).contiguous()
        pieces = [torch.empty_like(here) for _ in range(self.world_size)]
        dist.all_gather(pieces, here)
        return [piece.to(tensor.device) for piece in pieces]

    def gather_rows(self, state: torch.Tensor) -> torch.Tensor:
        """Every rank's rows of a [layers, rows, hidden] state, in rank order (dim 1)."""
        return torch.cat(self.gather(state), dim=1) if self.active else state

    def rows(self, total: int) -> slice:
        """This rank's contiguous share of `total` rows (streams or texts)."""
        share = total // self.world_size
        return slice(self.rank * share, (self.rank + 1) * share)

    def wrap(self, module: torch.nn.Module) -> torch.nn.Module:
        """`module` under DistributedDataParallel (gradients averaged over the ranks). No
        device_ids: the module already sits on this rank's device and the task moves its
        batches itself (DDP would also move the lengths, which stay on the CPU)."""
        if not self.active:
            return module
        return torch.nn.parallel.DistributedDataParallel(module)


SOLO = Group(Spec())


def start(spec: Spec, device: str = "auto") -> Group:
    """Join the process group of a launched run: NCCL when every rank on this machine has a
    GPU of its own (and the run may use one), else gloo. Every rank decides alike."""
    if spec.world_size <= 1:
        return SOLO
    if not 0 <= spec.rank < spec.world_size:
        raise UsageError(f"RANK {spec.rank} is outside WORLD_SIZE {spec.world_size}")
    gpus = device in ("auto", "cuda") and torch.cuda.is_available() and \
        torch.cuda.device_count() >= spec.ranks_here
    if gpus:
        torch.cuda.set_device(spec.local_rank)
    if not dist.is_initialized():
        dist.init_process_group("nccl" if gpus else "gloo", timeout=TIMEOUT)
    return Group(spec, torch.device("cuda", spec.local_rank) if gpus else None)


def stop(group: Group, finished: bool = True) -> None:
    """Leave the process group; after a finished run, together (a rank that tears gloo down
    while a peer still talks to it can abort at exit)."""
    if group.active and dist.is_initialized():
        if finished:
            dist.barrier()
        dist.destroy_process_group()


def local_device(group: Group, requested: str) -> str:
    """The device string for this rank: its own GPU under NCCL, else what was asked."""
    if group.active and requested in ("auto", "cuda") and torch.cuda.is_available() \
            and dist.is_initialized() and dist.get_backend() == "nccl":
        return f"cuda:{group.local_rank}"
    return requested
