"""The network for a RunConfig: a language model or a classifier over the same zoo."""

from __future__ import annotations

from torch import nn

from seqcli.config import RunConfig
from seqcli.models.classifier import Classifier
from seqcli.models.language_model import LanguageModel


def build_model(config: RunConfig, vocab_size: int, num_classes: int = 0) -> nn.Module:
    """Flat config fields become the module's torch.nn-style arguments."""
    m = config.model
    if config.task == "lm":
        return LanguageModel(vocab_size, m.embedding_size, m.hidden_size, cell=m.cell,
                             num_layers=m.num_layers, dropout=m.dropout, impl=m.impl,
                             tie_weights=m.tie_weights)
    return Classifier(vocab_size, m.embedding_size, m.hidden_size, num_classes, cell=m.cell,
                      num_layers=m.num_layers, dropout=m.dropout, impl=m.impl,
                      bidirectional=m.bidirectional, pooling=m.pooling,
                      subword_buckets=m.subwords)
