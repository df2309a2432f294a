"""What the units of a language model do, token by token: `trace` replays a text through the
model's own weights with the cell equations (seqcli/models/cells.py), recording every layer's
hidden state, cell state and gates.

The fused (torch.nn) and scratch forms keep their weights under the same names, so one replay
serves both, and the replayed hidden states are checked against the model's own pass: what is
shown is what the model computed (both in plain fp32: seqcli/device.py `ieee_fp32`).
`correlations` ranks units by how closely they follow simple properties of the text
(seqcli/lm/properties.py): the classic "a cell that tracks quotes".

The text is read as the model was trained to read it (lower-cased when the run lower-cases,
last token first for a right-to-left model), and every result is given per token of the text
as written, in its order, with each token's place in it (the tokenizer's offsets), so a word
or BPE model's tokens show with their spacing.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqcli.choices import CELL_SIGNALS, DIRECTIONS
from seqcli.data.offsets import original_spans
from seqcli.data.tokenizers import Tokenizer
from seqcli.device import Placement, ieee_fp32
from seqcli.errors import SeqcliError, UsageError
from seqcli.lm.properties import informative, token_properties
from seqcli.models.cells import gru_gates, lstm_gates, project_input, rnn_step
from seqcli.models.language_model import LanguageModel

MAX_TOKENS = 20_000  # one replay holds every signal of every token: keep it a page of text
ATOL, RTOL = 1e-4, 1e-3  # replay against the model's pass, both in fp32: rounding only

Span = tuple[int, int]


@dataclass
class Trace:
    text: str  # as written
    spans: list[Span]  # each token's (start, end) in `text`, in text order
    cell: str
    signals: dict[str, torch.Tensor]  # signal -> [layers, tokens, hidden] on the CPU, text order
    reverse: bool = False  # read right to left (the model was trained with --reverse)

    @property
    def tokens(self) -> list[str]:
        return [self.text[start:end] for start, end in self.spans]

    @property
    def num_layers(self) -> int:
        return next(iter(self.signals.values())).shape[0]

    @property
    def hidden_size(self) -> int:
        return next(iter(self.signals.values())).shape[2]

    def values(self, signal: str, layer: int, unit: int) -> list[float]:
        return self.signals[signal][layer, :, unit].tolist()


@torch.no_grad()
def trace(model: LanguageModel, tokenizer: Tokenizer, text: str, cell: str,
          placement: Placement, *, reverse: bool = False, lowercase: bool = False) -> Trace:
    """Every signal of every layer for `text`, state carried from zeros. A right-to-left model
    (`reverse`) reads the tokens last first, as it was trained; its signals are put back in
    text order, so a token's value is the state after reading from the text's end to it."""
    ids = tokenizer.encode(text.lower() if lowercase else text)
    if not ids:
        raise UsageError("inspect needs some text (it is empty)")
    if len(ids) > MAX_TOKENS:
        raise UsageError(f"the text has {len(ids)} tokens; inspect reads at most {MAX_TOKENS}")
    model.eval()
    order = torch.tensor([ids[::-1] if reverse else ids], device=placement.device)
    with ieee_fp32():
        embedded = model.embedding(order).float()  # [1, T, E]
        weights = {k: v.float() for k, v in model.recurrent.state_dict().items()}
        layers, x = [], embedded
        for layer in range(model.recurrent.num_layers):
            layers.append(_replay_layer(cell, x, weights, layer))
            x = layers[-1]["hidden"]
        _check_against_model(model, embedded, x, cell)
    signals = {name: torch.stack([r[name][0] for r in layers]).cpu()
               for name in CELL_SIGNALS[cell]}
    if reverse:
        signals = {name: values.flip(1) for name, values in signals.items()}
    return Trace(text, original_spans(tokenizer, text, lowercase), cell, signals, reverse)


def _replay_layer(cell: str, x: torch.Tensor, weights: dict[str, torch.Tensor],
                  layer: int, start: tuple[torch.Tensor, torch.Tensor] | None = None
                  ) -> dict[str, torch.Tensor]:
    """One layer over the whole sequence, one step at a time, from the layer's state `start`
    ((h, c), each [B, H]; zeros when None): {signal: [B, T, H]}."""
    w_ih, w_hh = weights[f"weight_ih_l{layer}"], weights[f"weight_hh_l{layer}"]
    b_ih, b_hh = weights[f"bias_ih_l{layer}"], weights[f"bias_hh_l{layer}"]
    gi = project_input(x, w_ih, b_ih)  # [B, T, gates * H]
    if start is None:
        h = torch.zeros(x.shape[0], w_hh.shape[1], device=x.device)
        c = torch.zeros_like(h)
    else:
        h, c = start
    steps: dict[str, list[torch.Tensor]] = {name: [] for name in CELL_SIGNALS[cell]}
    for t in range(gi.shape[1]):
        gates: dict[str, torch.Tensor] = {}
        if cell == "lstm":
            h, c, gates = lstm_gates(gi[:, t], (h, c), w_hh, b_hh)
            gates["cell"] = c
        elif cell == "gru":
            h, gates = gru_gates(gi[:, t], h, w_hh, b_hh)
        else:
            h = rnn_step(gi[:, t], h, w_hh, b_hh)
        for name, value in {**gates, "hidden": h}.items():
            steps[name].append(value)
    return {name: torch.stack(values, dim=1) for name, values in steps.items()}


@torch.no_grad()
def step_signal(model: LanguageModel, cell: str, tokens: list[int], state, layer: int,
                signal: str, placement: Placement) -> torch.Tensor:
    """One signal of one layer (from 1) as each row reads its token from `state`, the
    recurrent state before it ([layers, rows, hidden], or an LSTM's (h, c) of those):
    [rows, hidden] on the CPU. For a token inside a text this is the value `trace` records for
    it; generation reads it for each token it draws (seqcli serve's trace)."""
    h_all, c_all = state if isinstance(state, tuple) else (state, None)
    with ieee_fp32():
        x = model.embedding(torch.tensor(tokens, device=placement.device)[:, None]).float()
        weights = {k: v.float() for k, v in model.recurrent.state_dict().items()}
        for index in range(layer):
            h = h_all[index].float()
            start = (h, c_all[index].float() if c_all is not None else torch.zeros_like(h))
            signals = _replay_layer(cell, x, weights, index, start)
            x = signals["hidden"]
    return signals[signal][:, 0].cpu()


def _check_against_model(model: LanguageModel, embedded: torch.Tensor,
                         replayed: torch.Tensor, cell: str) -> None:
    """The replay must reproduce the model's own top-layer outputs (it reads the same weights):
    a failure is a one-line error, never values that are not the model's."""
    own, _ = model.recurrent(embedded, None)
    if not torch.allclose(own.float(), replayed, atol=ATOL, rtol=RTOL):
        gap = (own.float() - replayed).abs().max().item()
        raise SeqcliError(f"inspect's replay of the {cell.upper()} equations differs from the "
                          f"model's own pass by {gap:.2e} (more than {ATOL:g}), so it shows "
                          f"nothing; please report this with the run's config.json")


def correlations(values: torch.Tensor, properties: dict[str, list[float]],
                 top: int) -> dict[str, list[tuple[int, float]]]:
    """For each property, the `top` units whose values [T, H] correlate most with it (Pearson
    r, by absolute value), as (unit, r)."""
    centred = values - values.mean(0, keepdim=True)
    scale = centred.norm(dim=0).clamp_min(1e-12)
    ranked = {}
    for name, series in properties.items():
        prop = torch.tensor(series, dtype=values.dtype)
        prop = prop - prop.mean()
        if prop.norm() < 1e-12:  # constant in this text: nothing to correlate with
            continue
        r = (centred * prop[:, None]).sum(0) / (scale * prop.norm())
        order = r.abs().argsort(descending=True)[:top].tolist()
        ranked[name] = [(unit, round(r[unit].item(), 4)) for unit in order]
    return ranked


@dataclass
class Inspection:
    """What `seqcli inspect` shows: some units of one signal of one layer, over the tokens."""

    text: str  # as written
    spans: list[Span]  # each token's (start, end) in `text`
    cell: str
    layer: int  # 1-based, as the user gave it
    signal: str
    units: dict[int, list[float]]  # unit -> one value per token
    top: dict[str, list[tuple[int, float]]]  # property -> [(unit, r)], strongest first
    direction: str = DIRECTIONS[0]  # the model's reading order (seqcli/choices.py)

    @property
    def tokens(self) -> list[str]:
        """Each token as written (a word model's [UNK] is the word it stands for)."""
        return [self.text[start:end] for start, end in self.spans]

    def to_dict(self) -> dict:
        return {"cell": self.cell, "layer": self.layer, "signal": self.signal,
                "direction": self.direction, "text": self.text, "tokens": self.tokens,
                "spans": [[start, end] for start, end in self.spans],
                "units": {str(u): v for u, v in self.units.items()},
                "top": {name: [[u, r] for u, r in pairs] for name, pairs in self.top.items()}}


def inspect_text(model: LanguageModel, tokenizer: Tokenizer, cell: str, text: str,
                 placement: Placement, *, reverse: bool = False, lowercase: bool = False,
                 layer: int | None = None, signal: str = "hidden",
                 units: list[int] | None = None, top: int = 3) -> Inspection:
    """Trace `text` (read as the run reads: `reverse`, `lowercase` from its data config), then
    pick the units to show: those asked for, else the `top` units of each property that varies
    enough in the text (one list per property, strongest first)."""
    layer = check_view(model, cell, layer, signal, units)
    if top < 1:
        raise UsageError(f"--top must be at least 1; got {top}")
    traced = trace(model, tokenizer, text, cell, placement, reverse=reverse, lowercase=lowercase)
    values = traced.signals[signal][layer - 1]  # [T, H]
    ranked = correlations(values, informative(token_properties(text, traced.spans)), top)
    chosen = units or list(dict.fromkeys(u for pairs in ranked.values() for u, _ in pairs[:1]))
    chosen = chosen or [0]
    return Inspection(text, traced.spans, cell, layer, signal,
                      {u: values[:, u].tolist() for u in chosen}, ranked, DIRECTIONS[reverse])


def check_view(model: LanguageModel, cell: str, layer: int | None, signal: str,
               units: list[int] | None) -> int:
    """Refuse a layer, signal or unit the model does not have; the layer (default: the top)."""
    check_signal(cell, signal)
    layers, size = model.recurrent.num_layers, model.recurrent.hidden_size
    layer = layers if layer is None else layer
    if not 1 <= layer <= layers:
        raise UsageError(f"--layer must be from 1 to {layers} (the model's layers); got {layer}")
    bad = [u for u in units or [] if not 0 <= u < size]
    if bad:
        raise UsageError(f"--unit must be from 0 to {size - 1} (the layer's units); got {bad[0]}")
    return layer


def check_signal(cell: str, signal: str) -> None:
    if signal not in CELL_SIGNALS[cell]:
        article = "a" if cell == "gru" else "an"
        raise UsageError(f"--signal {signal}: {article} {cell.upper()} has no such signal (it "
                         f"has {', '.join(CELL_SIGNALS[cell])})")
