"""The dropouts of AWD-LSTM (Merity et al., 2018), shared by both tasks and both recurrent forms.

- **Weight drop** (DropConnect on the hidden-to-hidden matrices): one mask per forward call,
  so per training batch, the same at every time step. It regularises the recurrence itself
  without touching the sequential kernel: the fused module still runs cuDNN/oneDNN, only on
  a masked copy of ``weight_hh``. Masks are drawn in one fixed order (layer, then direction)
  by ``drop_hidden_weights`` in both forms, so fused and scratch agree under the same seed.
- **Locked (variational) dropout**: one mask per sequence shared by every time step, on the
  embeddings, between layers and on the top layer's output. Ordinary dropout draws a new
  mask at each step, which for a recurrent model is noise on the very signal it must carry.
- **Embedding dropout**: whole words (rows of the embedding matrix) dropped for a batch, the
  rest scaled up, so the model cannot lean on any single word being present.

All are the identity at evaluation time.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import torch.nn.functional as F
from torch import Tensor, nn


def drop_hidden_weights(weight: Callable[[str], Tensor], names: list[str], p: float,
                        training: bool) -> dict[str, Tensor]:
    """{name: weight_hh with DropConnect} for `names` in order (empty when off)."""
    if p <= 0 or not training:
        return {}
    return {name: F.dropout(weight(name), p, training=True) for name in names}


def locked_dropout(x: Tensor, p: float, training: bool) -> Tensor:
    """x [B, T, F] with one dropout mask per sequence, shared across time."""
    if p <= 0 or not training:
        return x
    mask = x.new_empty(x.shape[0], 1, x.shape[2]).bernoulli_(1 - p) / (1 - p)
    return x * mask


def sequence_dropout(x: Tensor, p: float, training: bool, locked: bool) -> Tensor:
    """Locked or ordinary dropout on x [B, T, F], as the model is configured."""
    return locked_dropout(x, p, training) if locked else F.dropout(x, p, training)


def embed(embedding: nn.Embedding, ids: Tensor, p: float, training: bool) -> Tensor:
    """`embedding(ids)` with whole words dropped (probability p) and the rest scaled."""
    if p <= 0 or not training:
        return embedding(ids)
    weight = embedding.weight
    keep = weight.new_empty(weight.shape[0], 1).bernoulli_(1 - p) / (1 - p)
    return F.embedding(ids, weight * keep, embedding.padding_idx)


def hidden_weight_names(num_layers: int, directions: int) -> list[str]:
    """torch.nn's names of the hidden-to-hidden matrices, in mask-drawing order."""
    return [f"weight_hh_l{layer}" + ("_reverse" if d else "")
            for layer in range(num_layers) for d in range(directions)]



# Every rate a module of the zoo keeps as a float attribute (nn.Dropout modules aside).
RATE_ATTRIBUTES = ("dropout", "input_dropout", "output_dropout", "embedding_dropout",
                   "weight_drop")


@contextlib.contextmanager
def dropouts_off(model: nn.Module) -> Iterator[None]:
    """Every dropout of `model` at 0 (nn.Dropout and the rates above), restored after: the
    evaluation function even in training mode, which cuDNN needs for a backward pass."""
    saved: list[tuple[object, str, float]] = []
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            saved.append((module, "p", module.p))
        for name in RATE_ATTRIBUTES:
            value = getattr(module, name, None)
            if isinstance(value, float):
                saved.append((module, name, value))
    try:
        for module, name, _ in saved:
            setattr(module, name, 0.0)
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)
