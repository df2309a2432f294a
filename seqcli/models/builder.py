"""The network for a RunConfig: a language model or a classifier over the same zoo."""

from __future__ import annotations

from torch import nn

from seqcli.config import ModelConfig, RunConfig
from seqcli.models.classifier import Classifier
from seqcli.models.language_model import LanguageModel


def build_model(config: RunConfig, vocab_size: int, num_classes: int = 0) -> nn.Module:
    """Flat config fields become the module's torch.nn-style arguments."""
    m = config.model
    rates = dropout_rates(m)
    if config.task == "lm":
        model: nn.Module = LanguageModel(
            vocab_size, m.embedding_size, m.hidden_size, cell=m.cell, num_layers=m.num_layers,
            impl=m.impl, tie_weights=m.tie_weights, locked=m.locked_dropout, **rates)
    else:
        model = Classifier(vocab_size, m.embedding_size, m.hidden_size, num_classes, cell=m.cell,
                           num_layers=m.num_layers, impl=m.impl, bidirectional=m.bidirectional,
                           pooling=m.pooling, subword_buckets=m.subwords, wide_buckets=m.wide,
                           locked=m.locked_dropout, **rates)
    # Frozen here, at build time, so a resumed run's optimizer sees the same parameters.
    model.embedding.weight.requires_grad_(not m.freeze_embedding)
    return model


def dropout_rates(m: ModelConfig) -> dict[str, float | None]:
    """The model's dropout rates, each scaled by drop_mult (one knob for all, as ULMFiT)."""
    def scaled(rate: float | None) -> float | None:
        return None if rate is None else rate * m.drop_mult

    return {"dropout": scaled(m.dropout), "input_dropout": scaled(m.input_dropout),
            "embedding_dropout": scaled(m.embedding_dropout),
            "weight_drop": scaled(m.weight_drop)}
