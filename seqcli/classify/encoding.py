"""Texts as a run's classifier reads them: the same encoding in training, evaluation and
prediction, so a text never reads differently at prediction time than it did in training."""

from __future__ import annotations

from collections.abc import Sequence

from seqcli.classify.batches import EncodedTexts, encode_texts
from seqcli.config import RunConfig
from seqcli.data.labelled import LabelledData
from seqcli.data.tokenizers import Tokenizer
from seqcli.errors import DataError


def label_indices(data: LabelledData, labels: Sequence[str]) -> list[int]:
    """Class index of every example; a label the model does not know is an error."""
    index = {label: i for i, label in enumerate(labels)}
    unknown = sorted(set(data.labels) - set(index))
    if unknown:
        raise DataError(f"{data.source}: label {unknown[0]!r} does not occur in the training "
                        f"data (known labels: {', '.join(labels)})")
    return [index[label] for label in data.labels]


def encode_batch(tokenizer: Tokenizer, texts: Sequence[str], lowercase: bool) -> list[list[int]]:
    """Token ids for many texts at once (the `tokenizers` library encodes in parallel)."""
    texts = [t.lower() for t in texts] if lowercase else list(texts)
    if hasattr(tokenizer, "encode_batch"):
        return tokenizer.encode_batch(texts)
    return [tokenizer.encode(t) for t in texts]


def token_strings(tokenizer: Tokenizer, texts: Sequence[str],
                  config: RunConfig) -> tuple[list[list[int]], list[list[str]]]:
    """Ids and each token's string, as the run reads its texts (lower-cased when it does): the
    strings that subword and wide features are made of (an [UNK] token keeps its own)."""
    lowered = [t.lower() for t in texts] if config.data.lowercase else list(texts)
    return tokenizer.encode_batch_words(lowered)


def encode_for_model(tokenizer: Tokenizer, texts: Sequence[str], targets: Sequence[int] | None,
                     config: RunConfig) -> tuple[EncodedTexts, int]:
    """EncodedTexts, with n-gram buckets when the model uses subwords or a wide side, and how
    many texts were truncated to ``data.max_length``."""
    d, m = config.data, config.model
    words = None
    if m.subwords > 0 or m.wide > 0:
        ids, words = token_strings(tokenizer, texts, config)
    else:
        ids = encode_batch(tokenizer, texts, d.lowercase)
    truncated = sum(len(i) > d.max_length for i in ids)
    encoded = encode_texts(ids, targets, tokenizer.vocab_size, d.max_length, words=words,
                           buckets=m.subwords, wide=m.wide)
    return encoded, truncated


def encode_labelled(tokenizer: Tokenizer, data: LabelledData, labels: Sequence[str],
                    config: RunConfig) -> tuple[EncodedTexts, int]:
    """EncodedTexts of a split and how many of its texts were truncated."""
    return encode_for_model(tokenizer, data.texts, label_indices(data, labels), config)
