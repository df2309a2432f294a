"""Deep, optionally bidirectional recurrent layers unrolled in Python from the cell equations.

Forward contract, shared by ``ScratchRecurrent`` (here) and ``FusedRecurrent`` (fused.py)::

    forward(x, state=None, lengths=None) -> (output, state)

    x        [B, T, input_size], batch first.
    state    the initial state: ``h`` [num_layers * D, B, H] for rnn/gru, ``(h, c)`` for
             lstm, rows ordered as torch.nn (layer-major, forward then reverse direction);
             None means zeros. D = 2 if bidirectional else 1, H = hidden_size.
    lengths  optional 1-D integer tensor [B] of true lengths of a right-padded batch.
             Semantics are those of ``pack_padded_sequence`` with torch.nn modules: outputs
             at padded positions are zero, each sequence's final state is its state after
             its last real step, and the reverse direction starts at its last real token.
    output   [B, T, D * H]: the last layer's hidden states, forward then reverse halves.
    state    the final state, shaped and ordered as the initial one.

    outputs(x, lengths) -> output   the same output from zero states, without the final state
             (all a many-to-one model needs; the fused form computes it faster that way).

Dropout (``dropout`` > 0) applies to each layer's output except the last, in training only;
with ``locked`` one mask per sequence serves every time step. ``weight_drop`` > 0 applies
DropConnect to the hidden-to-hidden matrices in training (see dropouts.py).
Both modules have state_dict keys identical to torch.nn.RNN/LSTM/GRU (``weight_ih_l0``,
``bias_hh_l1_reverse``...), so weights move between them with ``load_state_dict``.

Speed: the input projection of every step is one matmul per layer and direction; only the
hidden-to-hidden part loops over time, in ``unroll.py``, whose backward pass is derived by
hand (one matmul per step instead of autograd's many small ops; the weight gradient in one
matmul). ``step_by_step`` keeps the plain autograd loop as the reference it is tested against.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from seqcli.errors import UsageError
from seqcli.models.cells import CELLS, State, init_uniform_, project_input
from seqcli.models.dropouts import drop_hidden_weights, hidden_weight_names, sequence_dropout
from seqcli.models.unroll import unroll

# Parameter names per layer/direction, in torch.nn's order (so parameters() align too).
WEIGHT_NAMES = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def check_arguments(
    cell: str, input_size: int, hidden_size: int, num_layers: int, dropout: float,
    weight_drop: float = 0.0,
) -> None:
    """Reject constructor arguments that can never work, with the same message for both forms."""
    if cell not in CELLS:
        raise UsageError(f"unknown cell {cell!r}; choose one of: {', '.join(CELLS)}")
    for name, value in (("input_size", input_size), ("hidden_size", hidden_size),
                        ("num_layers", num_layers)):
        if value < 1:
            raise UsageError(f"{name} must be a positive integer, got {value}")
    for name, value in (("dropout", dropout), ("weight_drop", weight_drop)):
        if not 0.0 <= value < 1.0:
            raise UsageError(f"{name} must be in [0, 1), got {value}")


def layer_suffix(layer: int, reverse: bool) -> str:
    """torch.nn's parameter suffix: ``_l0``, ``_l0_reverse``..."""
    return f"_l{layer}" + ("_reverse" if reverse else "")


def reverse_index(lengths: Tensor, steps: int) -> Tensor:
    """[B, T] gather index that reverses each row's first ``length`` steps, padding in place.

    Applying it twice is the identity, so the same index reverses the outputs back.
    """
    t = torch.arange(steps, device=lengths.device).unsqueeze(0)
    last = lengths.unsqueeze(1) - 1
    return torch.where(t <= last, last - t, t)


def gather_time(x: Tensor, index: Tensor) -> Tensor:
    """``x[b, index[b, t]]`` for x [B, T, F]."""
    return x.gather(1, index.unsqueeze(-1).expand_as(x))


def _where(keep: Tensor, new: State, old: State) -> State:
    """Take ``new`` where ``keep`` [B, 1] is true, else ``old`` (for h or (h, c))."""
    if isinstance(new, tuple):
        return tuple(torch.where(keep, n, o) for n, o in zip(new, old))  # type: ignore[return-value]
    return torch.where(keep, new, old)


def _hidden(state: State) -> Tensor:
    return state[0] if isinstance(state, tuple) else state


class ScratchRecurrent(nn.Module):
    """torch.nn.RNN/LSTM/GRU (batch_first) rebuilt from the cell equations in ``cells.py``.

    Parameters sit directly on this module under torch.nn's names, and the cell math is
    called as functions of them, so state dicts are interchangeable with the fused form.
    """

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
        self.num_directions = 2 if bidirectional else 1
        self._step = CELLS[cell].step_fn
        gates = CELLS[cell].num_gates * hidden_size
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self.num_directions
            for direction in range(self.num_directions):
                shapes = ((gates, layer_input), (gates, hidden_size), (gates,), (gates,))
                suffix = layer_suffix(layer, direction == 1)
                for name, shape in zip(WEIGHT_NAMES, shapes):
                    self.register_parameter(name + suffix, nn.Parameter(torch.empty(shape)))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init_uniform_(list(self.parameters()), self.hidden_size)

    def extra_repr(self) -> str:
        return (f"{self.cell}, {self.input_size}, {self.hidden_size}, num_layers="
                f"{self.num_layers}, dropout={self.dropout}, bidirectional={self.bidirectional}"
                f", weight_drop={self.weight_drop}, locked={self.locked}")

    def zero_state(self, x: Tensor) -> State:
        """The state ``state=None`` stands for, for a batch ``x`` [B, T, input_size]."""
        h = x.new_zeros(self.num_layers * self.num_directions, x.shape[0], self.hidden_size)
        return (h, torch.zeros_like(h)) if self.cell == "lstm" else h

    def forward(
        self, x: Tensor, state: State | None = None, lengths: Tensor | None = None
    ) -> tuple[Tensor, State]:
        """See the module docstring for the contract."""
        if state is None:
            state = self.zero_state(x)
        # Rows of the stacked state, one per (layer, direction), each h or (h, c).
        rows = list(zip(*state)) if isinstance(state, tuple) else list(state.unbind(0))
        keep = None
        if lengths is not None:
            lengths = lengths.to(x.device)
            keep = torch.arange(x.shape[1], device=x.device) < lengths.unsqueeze(1)  # [B, T]
            # Zero the padding so its contents (even NaN) cannot reach values or gradients.
            x = torch.where(keep.unsqueeze(-1), x, 0.0)
        finals: list[State] = []
        dropped = drop_hidden_weights(
            lambda name: getattr(self, name),
            hidden_weight_names(self.num_layers, self.num_directions), self.weight_drop,
            self.training)
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.num_directions):
                row = layer * self.num_directions + direction
                out, final = self._direction(x, rows[row], layer, direction == 1, lengths, keep,
                                             dropped)
                outputs.append(out)
                finals.append(final)
            x = outputs[0] if len(outputs) == 1 else torch.cat(outputs, dim=-1)
            if self.dropout > 0 and self.training and layer < self.num_layers - 1:
                x = sequence_dropout(x, self.dropout, True, self.locked)
        return x, self._stack(finals)

    def outputs(self, x: Tensor, lengths: Tensor) -> Tensor:
        """``forward(x, None, lengths)[0]``: the many-to-one entry point both forms share."""
        return self.forward(x, None, lengths)[0]

    def _direction(
        self, x: Tensor, state: State, layer: int, reverse: bool,
        lengths: Tensor | None, keep: Tensor | None, dropped: dict[str, Tensor],
    ) -> tuple[Tensor, State]:
        """Run one layer in one direction over x [B, T, F] -> ([B, T, H], final state);
        `dropped` holds weight-dropped hidden matrices by name (empty when off)."""
        suffix = layer_suffix(layer, reverse)
        weight_ih, weight_hh, bias_ih, bias_hh = (getattr(self, name + suffix)
                                                  for name in WEIGHT_NAMES)
        weight_hh = dropped.get("weight_hh" + suffix, weight_hh)
        index = None
        if reverse:
            # Reversing within each length turns the reverse pass into a forward one whose
            # padding is still on the right, so the same masking applies.
            index = None if lengths is None else reverse_index(lengths, x.shape[1])
            x = x.flip(1) if index is None else gather_time(x, index)
        # All steps in one matmul, straight into the time-major layout [T, B, G*H] the loop
        # wants; rnn/lstm add b_hh to the same pre-activation, so it joins b_ih here.
        folded = self.cell != "gru"
        gx = project_input(x.transpose(0, 1), weight_ih, bias_ih + bias_hh if folded else bias_ih)
        out, state = self._unroll(gx, state, weight_hh, None if folded else bias_hh, keep)
        if reverse:
            out = out.flip(1) if index is None else gather_time(out, index)
        return out, state

    def _unroll(
        self, gx: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor | None,
        keep: Tensor | None,
    ) -> tuple[Tensor, State]:
        """The sequential part over gx [T, B, G*H] -> ([B, T, H], final state).

        ``unroll.py`` runs the equations of ``cells.py`` with a backward pass derived by hand
        (one matmul per step, weight gradients in one matmul); ``step_by_step`` is the plain
        autograd form of the same loop, kept as the readable reference.
        """
        return unroll(self.cell, gx, state, weight_hh, bias_hh, keep)

    def step_by_step(
        self, gi: Tensor, state: State, weight_hh: Tensor, bias_hh: Tensor,
        keep: Tensor | None,
    ) -> tuple[Tensor, State]:
        """The same loop over batch-first gi [B, T, G*H] (``W_ih x + b_ih``; b_hh added by the
        cell step functions), written with ``cells.py`` and differentiated by autograd."""
        # Under autocast the projection may come out in bf16/fp16: keep the state in kind.
        if isinstance(state, tuple):
            state = tuple(s.to(gi.dtype) for s in state)  # type: ignore[assignment]
        else:
            state = state.to(gi.dtype)
        keeps = [None] * gi.shape[1] if keep is None else keep.unsqueeze(-1).unbind(1)
        outputs = []
        for gi_t, keep_t in zip(gi.unbind(1), keeps):
            new = self._step(gi_t, state, weight_hh, bias_hh)
            if keep_t is None:
                state = new
                outputs.append(_hidden(new))
            else:  # past its length a sequence keeps its state and outputs zeros
                state = _where(keep_t, new, state)
                outputs.append(torch.where(keep_t, _hidden(new), 0.0))
        return torch.stack(outputs, dim=1), state

    def _stack(self, finals: list[State]) -> State:
        """Per-(layer, direction) final states -> torch.nn's stacked layout."""
        if self.cell == "lstm":
            return torch.stack([f[0] for f in finals]), torch.stack([f[1] for f in finals])
        return torch.stack(finals)  # type: ignore[arg-type]
