"""Builders that turn flat settings into model modules (the CLI and configs call these)."""

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
) -> nn.Module:
    """A recurrent stack: "fused" (torch.nn kernels) or "scratch" (cells in Python).

    Both share one forward contract and one state_dict layout (see ``recurrent.py``), so a
    model trained with one loads into the other.
    """
    if impl not in RECURRENT_IMPLS:
        raise UsageError(f"unknown recurrent implementation {impl!r}; choose fused or scratch")
    return RECURRENT_IMPLS[impl](
        cell, input_size, hidden_size, num_layers=num_layers, dropout=dropout,
        bidirectional=bidirectional)


def build_model(config, vocab_size: int, num_classes: int = 0) -> nn.Module:
    """The network for a RunConfig: a language model or a classifier over the same zoo."""
    m = config.model
    if config.task == "lm":
        from seqcli.models.language_model import LanguageModel

        return LanguageModel(vocab_size, m.embedding_size, m.hidden_size, cell=m.cell,
                             num_layers=m.num_layers, dropout=m.dropout, impl=m.impl,
                             tie_weights=m.tie_weights)
    from seqcli.models.classifier import Classifier

    return Classifier(vocab_size, m.embedding_size, m.hidden_size, num_classes, cell=m.cell,
                      num_layers=m.num_layers, dropout=m.dropout, impl=m.impl,
                      bidirectional=m.bidirectional, pooling=m.pooling,
                      subword_buckets=m.subwords)
