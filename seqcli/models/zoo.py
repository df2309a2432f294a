"""The recurrent stack of the zoo by name: fused (torch.nn kernels) or scratch (the equations)."""

from __future__ import annotations

from torch import nn

from seqcli.errors import UsageError
from seqcli.models.fused import FusedRecurrent
from seqcli.models.recurrent import ScratchRecurrent

RECURRENT_IMPLS: dict[str, type[nn.Module]] = {
    "fused": FusedRecurrent,
    "scratch": ScratchRecurrent,
}


def build_recurrent(
    impl: str,
    cell: str,
    input_size: int,
    hidden_size: int,
    num_layers: int,
    dropout: float,
    bidirectional: bool,
    *,
    weight_drop: float = 0.0,
    locked: bool = False,
) -> nn.Module:
    """A recurrent stack: "fused" (torch.nn kernels) or "scratch" (cells in Python).

    Both share one forward contract and one state_dict layout (see ``recurrent.py``), so a
    model trained with one loads into the other. `weight_drop` and `locked` are the AWD
    regularisers of the recurrence (dropouts.py).
    """
    if impl not in RECURRENT_IMPLS:
        raise UsageError(f"unknown recurrent implementation {impl!r}; choose fused or scratch")
    return RECURRENT_IMPLS[impl](
        cell, input_size, hidden_size, num_layers=num_layers, dropout=dropout,
        bidirectional=bidirectional, weight_drop=weight_drop, locked=locked)
