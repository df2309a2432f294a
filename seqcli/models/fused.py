"""The recurrent contract of ``recurrent.py`` over torch.nn's fused kernels (cuDNN, oneDNN).

``FusedRecurrent`` keeps an ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` as the submodule ``rnn``
(so ``.to()``, ``.train()`` and cuDNN weight flattening work untouched) but hides that level
from state dicts: keys read ``weight_ih_l0``, not ``rnn.weight_ih_l0``, exactly as
``ScratchRecurrent`` and a bare torch.nn module, so checkpoints move between the two forms.
Parameter *order* matches as well, so optimizer state moves too; only ``named_parameters``
still shows the ``rnn.`` prefix.
"""

from __future__ import annotations

from typing import Any

from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqcli.models.cells import State
from seqcli.models.recurrent import check_arguments

_CHILD = "rnn"


def _torch_module(cell: str, **kwargs: Any) -> nn.RNNBase:
    if cell == "lstm":
        return nn.LSTM(**kwargs)
    if cell == "gru":
        return nn.GRU(**kwargs)
    return nn.RNN(nonlinearity="tanh", **kwargs)


def _drop_child_prefix(module: nn.Module, state_dict: dict, prefix: str, *_: Any) -> None:
    """state_dict post-hook: ``<prefix>rnn.weight_ih_l0`` -> ``<prefix>weight_ih_l0``."""
    inner = prefix + _CHILD + "."
    for key in [k for k in state_dict if k.startswith(inner)]:
        state_dict[prefix + key[len(inner):]] = state_dict.pop(key)


def _add_child_prefix(module: nn.Module, state_dict: dict, prefix: str, *_: Any) -> None:
    """load_state_dict pre-hook: the inverse, so flat keys load into the child module."""
    names = {name for name, _ in module.named_parameters(prefix="", recurse=True)}
    for name in names:
        flat = prefix + name[len(_CHILD) + 1:]
        if flat in state_dict:
            state_dict[prefix + name] = state_dict.pop(flat)


class FusedRecurrent(nn.Module):
    """torch.nn.RNN(tanh)/LSTM/GRU behind the shared ``forward(x, state, lengths)`` contract."""

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        dropout: float = 0.0,
        bidirectional: bool = False,
    ) -> None:
        super().__init__()
        check_arguments(cell, input_size, hidden_size, num_layers, dropout)
        self.cell, self.input_size, self.hidden_size = cell, input_size, hidden_size
        self.num_layers, self.dropout, self.bidirectional = num_layers, dropout, bidirectional
        self.rnn = _torch_module(
            cell, input_size=input_size, hidden_size=hidden_size, num_layers=num_layers,
            # torch.nn warns about dropout with one layer; it has no effect there anyway.
            dropout=dropout if num_layers > 1 else 0.0,
            bidirectional=bidirectional, batch_first=True)
        self.register_state_dict_post_hook(_drop_child_prefix)
        self.register_load_state_dict_pre_hook(_add_child_prefix)

    def forward(
        self, x: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """See ``seqcli.models.recurrent`` for the contract."""
        if lengths is None:
            return self.rnn(x, state)
        # pack_padded_sequence wants lengths on the CPU; it sorts and unsorts for us.
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        output, state = self.rnn(packed, state)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])
        return output, state
