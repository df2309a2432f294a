"""The zoo's models as export graphs: every input and output a tensor, no Python choices left.

- A language model exports **one step with its state explicit**::

      (ids [B, T], h0 [L, B, H] (, c0 [L, B, H] for lstm)) -> (logits [B, T, V], hn (, cn))

  A runtime primes once (T = the prime's length, zero state) and then feeds one token at a
  time (T = 1) with the state it got back, exactly as ``seqcli generate`` does.
- A classifier exports ``(ids [B, T], lengths [B] (, ngrams [B, T, K]) (, wide [B, F]))
  -> logits [B, C]`` with right-padded ids, as ``seqcli classify`` batches them: ngrams when
  the run has subword features, wide when it has a wide side.

Why the fused form, whatever ``impl`` trained the run: the scratch stack loops over time in
Python, which a tracer would unroll at one length; the fused one is torch.nn's sequence
operator, which ONNX has (RNN/LSTM/GRU) and TorchScript keeps for any length. Both forms share
one state_dict layout (seqcli/models/fused.py) and the zoo's tests prove they compute the same
function, so the weights are loaded into a fused copy; the verification then compares the
export with the run's own model, in its own form.

Why no packing: a packed batch is sorted, cut by time step and unsorted again around the
recurrent kernel, which exporters must translate specially (ONNX's ``sequence_lens``); that
translation is where they have gone wrong before, and a runtime gains nothing from it. (torch
2.13's TorchScript-based exporter did get two packed GRU classifiers right when tried.) The
classifier goes through ``FusedRecurrent.outputs`` instead, the padded path seqcli itself runs
on CPUs: one pass per layer and direction over the padded batch, the reverse direction over
each row reversed *within its length* (a gather), so it starts at the row's last real token;
padding is zeroed and pooling masks it. Plain gathers, comparisons and selects: every runtime
has them, and the verification's padded batches of mixed lengths check them.

The subword n-gram bag (``nn.EmbeddingBag``, mean, bucket 0 = none) is written as a gather
and a masked mean, and the wide side's bag (sum) as a gather and a masked sum: the same
numbers, in operators every runtime has.

Dropouts are not in these graphs: the copies are in eval mode, where every dropout of the zoo
(weight drop, locked, embedding) is the identity.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import Tensor, nn

from seqcli.models.classifier import Classifier, pool
from seqcli.models.fused import FusedRecurrent
from seqcli.models.language_model import LanguageModel

BATCH, TIME, NGRAMS, FEATURES = "batch", "time", "ngrams", "features"  # dynamic axes' names


@dataclass(frozen=True)
class GraphSpec:
    """Names, shapes (str: a dynamic axis) and an example call of one export graph."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    shapes: dict[str, tuple[int | str, ...]]
    example: tuple[Tensor, ...] = field(compare=False)

    def dynamic_axes(self) -> dict[str, dict[int, str]]:
        """torch.onnx's dynamic_axes: every named axis of every input and output."""
        return {name: {i: d for i, d in enumerate(shape) if isinstance(d, str)}
                for name, shape in self.shapes.items()}

    def dtype(self, name: str) -> str:
        return "int64" if name in ("ids", "lengths", "ngrams", "wide") else "float32"


def fused_copy(recurrent: nn.Module) -> FusedRecurrent:
    """A FusedRecurrent holding `recurrent`'s weights (fused or scratch), in eval mode."""
    fused = FusedRecurrent(recurrent.cell, recurrent.input_size, recurrent.hidden_size,
                           recurrent.num_layers, 0.0, recurrent.bidirectional)
    fused.load_state_dict(recurrent.state_dict())
    return fused.eval()


class LanguageModelStep(nn.Module):
    """(ids, h0 (, c0)) -> (logits, hn (, cn)): see the module docstring."""

    def __init__(self, model: LanguageModel):
        super().__init__()
        self.embedding, self.decoder = model.embedding, model.decoder
        self.rnn = fused_copy(model.recurrent).rnn  # torch.nn.RNN/LSTM/GRU, batch_first

    def forward(self, ids: Tensor, h0: Tensor, c0: Tensor | None = None) -> tuple[Tensor, ...]:
        state = h0 if c0 is None else (h0, c0)
        out, state = self.rnn(self.embedding(ids), state)   # [B, T, H]
        logits = self.decoder(out)                          # [B, T, V]
        return (logits, *state) if isinstance(state, tuple) else (logits, state)


def bag_mean(weight: Tensor, ngrams: Tensor) -> Tensor:
    """nn.EmbeddingBag(mode="mean", padding_idx=0) over ngrams [B, T, K] -> [B, T, E]: the
    mean of each token's non-zero buckets' vectors (zeros for a token with none)."""
    vectors = nn.functional.embedding(ngrams, weight)       # [B, T, K, E]
    keep = (ngrams != 0).unsqueeze(-1).to(vectors.dtype)     # [B, T, K, 1]
    return (vectors * keep).sum(2) / keep.sum(2).clamp(min=1.0)


def bag_sum(weight: Tensor, wide: Tensor) -> Tensor:
    """nn.EmbeddingBag(mode="sum", padding_idx=0) over wide [B, F] -> [B, C]."""
    vectors = nn.functional.embedding(wide, weight)          # [B, F, C]
    return (vectors * (wide != 0).unsqueeze(-1).to(vectors.dtype)).sum(1)


class ClassifierGraph(nn.Module):
    """(ids, lengths (, ngrams) (, wide)) -> logits: see the module docstring."""

    def __init__(self, model: Classifier):
        super().__init__()
        self.embedding, self.output = model.embedding, model.output
        self.subword_embedding, self.wide = model.subword_embedding, model.wide
        self.recurrent = fused_copy(model.recurrent)
        self.pooling, self.directions = model.pooling, model.directions

    def forward(self, ids: Tensor, lengths: Tensor, *features: Tensor) -> Tensor:
        """`features`: ngrams when the model has subwords, then wide when it has a wide side."""
        rest = list(features)
        x = self.embedding(ids)                                            # [B, T, E]
        if self.subword_embedding is not None:
            x = x + bag_mean(self.subword_embedding.weight, rest.pop(0))
        out = self.recurrent.outputs(x, lengths)                           # [B, T, D*H]
        logits = self.output(pool(out, lengths, self.pooling, self.directions))  # [B, C]
        if self.wide is not None:
            logits = logits + bag_sum(self.wide.weight, rest.pop(0))
        return logits


def state_names(cell: str) -> list[tuple[str, str]]:
    """(input, output) names of the carried state: h, and c for an LSTM."""
    return [("h0", "hn"), ("c0", "cn")] if cell == "lstm" else [("h0", "hn")]


def language_model_graph(model: LanguageModel) -> tuple[LanguageModelStep, GraphSpec]:
    rnn = model.recurrent
    layers, hidden, vocab = rnn.num_layers, rnn.hidden_size, model.decoder.out_features
    names = state_names(rnn.cell)
    shapes: dict[str, tuple[int | str, ...]] = {"ids": (BATCH, TIME),
                                                "logits": (BATCH, TIME, vocab)}
    for inp, out in names:
        shapes[inp] = shapes[out] = (layers, BATCH, hidden)
    example = (torch.randint(2, vocab, (2, 3)),
               *(torch.zeros(layers, 2, hidden) for _ in names))
    spec = GraphSpec(("ids", *(i for i, _ in names)), ("logits", *(o for _, o in names)),
                     shapes, example)
    return LanguageModelStep(model), spec


def classifier_graph(model: Classifier) -> tuple[ClassifierGraph, GraphSpec]:
    vocab, classes = model.embedding.num_embeddings, model.output.out_features
    shapes: dict[str, tuple[int | str, ...]] = {"ids": (BATCH, TIME), "lengths": (BATCH,),
                                                "logits": (BATCH, classes)}
    example: tuple[Tensor, ...] = (torch.randint(2, vocab, (2, 4)), torch.tensor([4, 2]))
    inputs = ("ids", "lengths")
    if model.subword_embedding is not None:
        buckets = model.subword_embedding.num_embeddings
        shapes["ngrams"] = (BATCH, TIME, NGRAMS)
        example += (torch.randint(0, buckets, (2, 4, 3)),)
        inputs += ("ngrams",)
    if model.wide is not None:
        shapes["wide"] = (BATCH, FEATURES)
        example += (torch.randint(0, model.wide.num_embeddings, (2, 5)),)
        inputs += ("wide",)
    return ClassifierGraph(model), GraphSpec(inputs, ("logits",), shapes, example)


def export_graph(model: nn.Module) -> tuple[nn.Module, GraphSpec]:
    """The export graph of a model of the zoo (an eval-mode CPU copy), with its spec."""
    if isinstance(model, LanguageModel):
        return language_model_graph(model)
    if isinstance(model, Classifier):
        return classifier_graph(model)
    raise TypeError(f"no export graph for {type(model).__name__}")
