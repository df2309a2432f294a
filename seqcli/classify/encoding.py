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


def encode_for_model(tokenizer: Tokenizer, texts: Sequence[str], targets: Sequence[int] | None,
                     config: RunConfig) -> tuple[EncodedTexts, int]:
    """EncodedTexts, with n-gram buckets when the model uses subwords, and how many texts were
    truncated to ``data.max_length``."""
    d, buckets = config.data, config.model.subwords
    words = None
    if buckets > 0:
        lowered = [t.lower() for t in texts] if d.lowercase else list(texts)
        ids, words = tokenizer.encode_batch_words(lowered)
    else:
        ids = encode_batch(tokenizer, texts, d.lowercase)
    truncated = sum(len(i) > d.max_length for i in ids)
    encoded = encode_texts(ids, targets, tokenizer.vocab_size, d.max_length, words=words,
                           buckets=buckets)
    return encoded, truncated


def encode_labelled(tokenizer: Tokenizer, data: LabelledData, labels: Sequence[str],
                    config: RunConfig) -> tuple[EncodedTexts, int]:
    """EncodedTexts of a split and how many of its texts were truncated."""
    return encode_for_model(tokenizer, data.texts, label_indices(data, labels), config)
