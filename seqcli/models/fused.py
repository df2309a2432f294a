"""The recurrent contract of ``recurrent.py`` over torch.nn's fused kernels (cuDNN, oneDNN).

``FusedRecurrent`` keeps an ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` as the submodule ``rnn``
(so ``.to()``, ``.train()`` and cuDNN weight flattening work untouched) but hides that level
from state dicts: keys read ``weight_ih_l0``, not ``rnn.weight_ih_l0``, exactly as
``ScratchRecurrent`` and a bare torch.nn module, so checkpoints move between the two forms.
Parameter *order* matches as well, so optimizer state moves too; only ``named_parameters``
still shows the ``rnn.`` prefix.

Fast path: one time step at inference on a CPU (every token of ``seqcli generate`` after the
prime) goes through torch's cell functions (``torch.lstm_cell``...) on the same weights. The
oneDNN sequence kernel spends about half a millisecond setting itself up per call, many times
the arithmetic of one step; the cell functions compute the same equations directly.

Fast path: ``outputs(x, lengths)`` (a many-to-one model needs the outputs, not the final state)
runs each layer and direction as its own pass over the *padded* batch instead of a packed one.
oneDNN has no kernel for packed sequences (torch falls back to a loop of small ops there) and
its padded bf16 kernel is several times faster: 41 ms against 124 ms for a 256-unit BiLSTM step
on 64 texts of up to 30 tokens, forward and backward, on an AMX Xeon. GPUs keep packed
sequences: cuDNN runs them natively, from the module's flattened weights.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor, nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from seqcli.errors import UsageError
from seqcli.models.cells import State
from seqcli.models.dropouts import drop_hidden_weights, hidden_weight_names, sequence_dropout
from seqcli.models.recurrent import (WEIGHT_NAMES, check_arguments, gather_time, layer_suffix,
                                     reverse_index)

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
        weight_drop: float = 0.0,
        locked: bool = False,
    ) -> None:
        super().__init__()
        check_arguments(cell, input_size, hidden_size, num_layers, dropout, weight_drop)
        self.cell, self.input_size, self.hidden_size = cell, input_size, hidden_size
        self.num_layers, self.dropout, self.bidirectional = num_layers, dropout, bidirectional
        self.weight_drop, self.locked = weight_drop, locked
        self.directions = 2 if bidirectional else 1
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
            if x.shape[1] == 1 and self._step_is_cheaper(x):
                return self._single_step(x, state)
            if self._regularised():
                return self._layered(x, state, self._dropped_weights())
            return self.rnn(x, state)
        if self._regularised():
            raise UsageError("weight drop and locked dropout between layers need whole "
                             "sequences (no lengths) or outputs(x, lengths)")
        # pack_padded_sequence wants lengths on the CPU; it sorts and unsorts for us.
        packed = pack_padded_sequence(x, lengths.cpu(), batch_first=True, enforce_sorted=False)
        output, state = self.rnn(packed, state)
        output, _ = pad_packed_sequence(output, batch_first=True, total_length=x.shape[1])
        return output, state

    def outputs(self, x: Tensor, lengths: Tensor) -> Tensor:
        """``forward(x, None, lengths)[0]`` without the final state, from padded kernels.

        Padding never reaches a real step: the input's padding is zeroed (so not even NaN
        can leak into gradients), each forward pass reads a sequence's padding only after its
        real steps, and the reverse direction runs forward over each sequence reversed within
        its length (padding left in place), then is reversed back. Outputs at padded steps
        are set to zero, as with packing.
        """
        if x.device.type != "cpu" and not self._regularised():  # cuDNN has packed kernels
            return self.forward(x, None, lengths)[0]
        dropped = self._dropped_weights()
        lengths = lengths.to(x.device)
        keep = (torch.arange(x.shape[1], device=x.device) < lengths.unsqueeze(1)).unsqueeze(-1)
        x = torch.where(keep, x, 0.0)  # keep: [B, T, 1]
        index = reverse_index(lengths, x.shape[1]) if self.bidirectional else None
        for layer in range(self.num_layers):
            halves = [self._padded_pass(x, layer, False, dropped)]
            if index is not None:
                reversed_out = self._padded_pass(gather_time(x, index), layer, True, dropped)
                halves.append(gather_time(reversed_out, index))
            x = halves[0] if len(halves) == 1 else torch.cat(halves, dim=-1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = sequence_dropout(x, self.dropout, True, self.locked)
        return torch.where(keep, x, 0.0)

    def _regularised(self) -> bool:
        """Training with weight drop, or with locked dropout between layers: then the layers
        run one by one through torch's sequence functions (the same fused kernels) on the
        masked weights, since nn.LSTM itself takes neither."""
        return self.training and (self.weight_drop > 0 or (
            self.locked and self.dropout > 0 and self.num_layers > 1))

    def _dropped_weights(self) -> dict[str, Tensor]:
        return drop_hidden_weights(lambda name: getattr(self.rnn, name),
                                   hidden_weight_names(self.num_layers, self.directions),
                                   self.weight_drop, self.training)

    def _layer_weights(self, layer: int, reverse: bool, dropped: dict[str, Tensor]) -> list[Tensor]:
        suffix = layer_suffix(layer, reverse)
        return [dropped.get(name + suffix, getattr(self.rnn, name + suffix))
                for name in WEIGHT_NAMES]

    def _layered(self, x: Tensor, state: State | None,
                 dropped: dict[str, Tensor]) -> tuple[Tensor, State]:
        """forward(x, state) layer by layer: see `_regularised`."""
        if state is None:
            h = x.new_zeros(self.num_layers * self.directions, x.shape[0], self.hidden_size)
            state = (h, torch.zeros_like(h)) if self.cell == "lstm" else h
        h0, c0 = state if self.cell == "lstm" else (state, None)
        finals_h, finals_c = [], []
        for layer in range(self.num_layers):
            rows = slice(layer * self.directions, (layer + 1) * self.directions)
            params = [w for d in range(self.directions)
                      for w in self._layer_weights(layer, d == 1, dropped)]
            hx = [h0[rows], c0[rows]] if c0 is not None else h0[rows]
            result = _SEQUENCE_FUNCTIONS[self.cell](x, hx, params, True, 1, 0.0, True,
                                                    self.bidirectional, True)
            x = result[0]
            finals_h.append(result[1])
            if c0 is not None:
                finals_c.append(result[2])
            if self.dropout > 0 and layer < self.num_layers - 1:
                x = sequence_dropout(x, self.dropout, True, self.locked)
        h_n = torch.cat(finals_h)
        return x, ((h_n, torch.cat(finals_c)) if c0 is not None else h_n)

    def _padded_pass(self, x: Tensor, layer: int, reverse: bool,
                     dropped: dict[str, Tensor]) -> Tensor:
        """One layer, one direction, forward in time over x [B, T, F] from zeros -> [B, T, H]."""
        params = self._layer_weights(layer, reverse, dropped)
        h0 = x.new_zeros(1, x.shape[0], self.hidden_size)
        hx = [h0, torch.zeros_like(h0)] if self.cell == "lstm" else h0
        # The function torch.nn.LSTM/GRU/RNN itself calls, here for a single layer and direction.
        return _SEQUENCE_FUNCTIONS[self.cell](x, hx, params, True, 1, 0.0, self.training,
                                              False, True)[0]

    def _step_is_cheaper(self, x: Tensor) -> bool:
        """One step, no gradients, no dropout, on a CPU: see the module docstring."""
        return x.device.type == "cpu" and not self.training and not torch.is_grad_enabled()

    def _single_step(self, x: Tensor, state: State | None) -> tuple[Tensor, State]:
        """x [B, 1, input_size] through every layer and direction with the cell functions."""
        directions = 2 if self.bidirectional else 1
        rows = self.num_layers * directions
        if state is None:
            h = x.new_zeros(rows, x.shape[0], self.hidden_size)
            state = (h, torch.zeros_like(h)) if self.cell == "lstm" else h
        h0, c0 = state if self.cell == "lstm" else (state, None)
        cell_fn = _CELL_FUNCTIONS[self.cell]
        layer_input, finals_h, finals_c = x[:, 0], [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(directions):
                row = layer * directions + direction
                weights = [getattr(self.rnn, name + layer_suffix(layer, direction == 1))
                           for name in WEIGHT_NAMES]
                hx = (h0[row], c0[row]) if c0 is not None else h0[row]
                new = cell_fn(layer_input, hx, *weights)
                h_new = new[0] if c0 is not None else new
                outputs.append(h_new)
                finals_h.append(h_new)
                if c0 is not None:
                    finals_c.append(new[1])
            layer_input = outputs[0] if directions == 1 else torch.cat(outputs, dim=-1)
        h_n = torch.stack(finals_h)
        return layer_input.unsqueeze(1), ((h_n, torch.stack(finals_c)) if c0 is not None else h_n)


_CELL_FUNCTIONS = {"lstm": torch.lstm_cell, "gru": torch.gru_cell, "rnn": torch.rnn_tanh_cell}
_SEQUENCE_FUNCTIONS = {"lstm": torch.lstm, "gru": torch.gru, "rnn": torch.rnn_tanh}
