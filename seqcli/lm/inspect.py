"""What the units of a language model do, token by token: `trace` replays a text through the
model's own weights with the cell equations (seqcli/models/cells.py), recording every layer's
hidden state, cell state and gates.

The fused (torch.nn) and scratch forms keep their weights under the same names, so one replay
serves both, and the replayed hidden states are checked against the model's own pass: what is
shown is what the model computed. `correlations` ranks units by how closely they follow simple
properties of the text (seqcli/lm/properties.py): the classic "a cell that tracks quotes".
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from seqcli.choices import CELL_SIGNALS
from seqcli.data.tokenizers import Tokenizer
from seqcli.device import Placement
from seqcli.errors import UsageError
from seqcli.lm.properties import text_properties
from seqcli.models.cells import gru_gates, lstm_gates, project_input, rnn_step
from seqcli.models.language_model import LanguageModel

MAX_TOKENS = 20_000  # one replay holds every signal of every token: keep it a page of text


@dataclass
class Trace:
    tokens: list[str]  # each token's text, in order
    cell: str
    signals: dict[str, torch.Tensor]  # signal -> [layers, tokens, hidden] on the CPU

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
          placement: Placement) -> Trace:
    """Every signal of every layer for `text`, state carried from zeros."""
    ids = tokenizer.encode(text)
    if not ids:
        raise UsageError("inspect needs some text (it is empty)")
    if len(ids) > MAX_TOKENS:
        raise UsageError(f"the text has {len(ids)} tokens; inspect reads at most {MAX_TOKENS}")
    model.eval()
    embedded = model.embedding(torch.tensor([ids], device=placement.device)).float()  # [1, T, E]
    weights = {k: v.float() for k, v in model.recurrent.state_dict().items()}
    layers, x = [], embedded
    for layer in range(model.recurrent.num_layers):
        layers.append(_replay_layer(cell, x, weights, layer))
        x = layers[-1]["hidden"]
    _check_against_model(model, embedded, x)
    names = CELL_SIGNALS[cell]
    signals = {name: torch.stack([r[name][0] for r in layers]).cpu() for name in names}
    return Trace([tokenizer.decode([i]) for i in ids], cell, signals)


def _replay_layer(cell: str, x: torch.Tensor, weights: dict[str, torch.Tensor],
                  layer: int) -> dict[str, torch.Tensor]:
    """One layer over the whole sequence, one step at a time: {signal: [1, T, H]}."""
    w_ih, w_hh = weights[f"weight_ih_l{layer}"], weights[f"weight_hh_l{layer}"]
    b_ih, b_hh = weights[f"bias_ih_l{layer}"], weights[f"bias_hh_l{layer}"]
    gi = project_input(x, w_ih, b_ih)  # [1, T, gates * H]
    h = torch.zeros(1, w_hh.shape[1], device=x.device)
    c = torch.zeros_like(h)
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


def _check_against_model(model: LanguageModel, embedded: torch.Tensor,
                         replayed: torch.Tensor) -> None:
    """The replay must reproduce the model's own top-layer outputs (it reads the same weights)."""
    own, _ = model.recurrent(embedded, None)
    if not torch.allclose(own.float(), replayed, atol=1e-4, rtol=1e-3):
        gap = (own.float() - replayed).abs().max().item()
        raise RuntimeError(f"the replayed states differ from the model's by {gap:.2e}")


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

    tokens: list[str]
    cell: str
    layer: int  # 1-based, as the user gave it
    signal: str
    units: dict[int, list[float]]  # unit -> one value per token
    top: dict[str, list[tuple[int, float]]]  # property -> [(unit, r)], strongest first

    def to_dict(self) -> dict:
        return {"cell": self.cell, "layer": self.layer, "signal": self.signal,
                "tokens": self.tokens, "units": {str(u): v for u, v in self.units.items()},
                "top": {name: [[u, r] for u, r in pairs] for name, pairs in self.top.items()}}


def inspect_text(model: LanguageModel, tokenizer: Tokenizer, cell: str, text: str,
                 placement: Placement, *, layer: int | None = None, signal: str = "hidden",
                 units: list[int] | None = None, top: int = 3) -> Inspection:
    """Trace `text`, then pick the units to show: those asked for, else the `top` units of
    each property of the text (one list per property, strongest first)."""
    check_signal(cell, signal)
    layers, size = model.recurrent.num_layers, model.recurrent.hidden_size
    layer = layers if layer is None else layer
    if not 1 <= layer <= layers:
        raise UsageError(f"--layer must be from 1 to {layers} (the model's layers); got {layer}")
    bad = [u for u in units or [] if not 0 <= u < size]
    if bad:
        raise UsageError(f"--unit must be from 0 to {size - 1} (the layer's units); got {bad[0]}")
    if top < 1:
        raise UsageError(f"--top must be at least 1; got {top}")
    traced = trace(model, tokenizer, text, cell, placement)
    values = traced.signals[signal][layer - 1]  # [T, H]
    ranked = correlations(values, text_properties(traced.tokens), top)
    chosen = units or list(dict.fromkeys(u for pairs in ranked.values() for u, _ in pairs[:1]))
    chosen = chosen or [0]
    return Inspection(traced.tokens, cell, layer, signal,
                      {u: values[:, u].tolist() for u in chosen}, ranked)


def check_signal(cell: str, signal: str) -> None:
    if signal not in CELL_SIGNALS[cell]:
        article = "a" if cell == "gru" else "an"
        raise UsageError(f"--signal {signal}: {article} {cell.upper()} has no such signal (it "
                         f"has {', '.join(CELL_SIGNALS[cell])})")
