"""Predict labels and probabilities with a trained classifier.

Prediction streams: inputs are read, encoded and classified ``CHUNK_TEXTS`` at a time, so a
file of a million lines needs memory for one chunk, not for the file. Within a chunk texts are
batched by length (little padding); the model masks padding, so the order and company of a
text never change its result. Texts longer than the run's ``data.max_length`` tokens are
truncated to their first ``max_length`` tokens, exactly as in training.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

import torch

from seqcli.classify.batches import EncodedTexts, sorted_batches
from seqcli.classify.encoding import encode_for_model
from seqcli.config import PREDICT_BATCH_SIZE as BATCH_SIZE
from seqcli.device import Placement
from seqcli.runs import LoadedRun

CHUNK_TEXTS = 4096
T = TypeVar("T")


@dataclass(frozen=True)
class Prediction:
    label: str
    probability: float  # of `label`
    probabilities: dict[str, float]  # every class, in the run's label order


@torch.no_grad()
def predict_logits(model: torch.nn.Module, data: EncodedTexts, placement: Placement,
                   batch_size: int = BATCH_SIZE) -> torch.Tensor:
    """Float logits [N, C] on the CPU, in the order of `data` (batched by length for speed)."""
    was_training = model.training
    model.eval()
    result: torch.Tensor | None = None
    try:
        for indices in sorted_batches(data.lengths, batch_size):
            x, lengths, _, ngrams, wide = data.batch(indices)
            ngrams, wide = (None if t is None else t.to(placement.device) for t in (ngrams, wide))
            with placement.autocast():
                logits, _ = model(x.to(placement.device), lengths, ngrams, wide)
            logits = logits.float().cpu()
            if result is None:
                result = torch.empty(len(data), logits.shape[1])
            result[torch.tensor(indices)] = logits
    finally:
        model.train(was_training)
    assert result is not None
    return result


def probabilities(run: LoadedRun, texts: list[str], batch_size: int = BATCH_SIZE) -> torch.Tensor:
    """Class probabilities [N, C] for a list of texts (hold few enough to fit in memory)."""
    data, _ = encode_for_model(run.tokenizer, texts, None, run.config)
    return predict_logits(run.model, data, run.placement, batch_size).softmax(dim=-1)


def predict(run: LoadedRun, texts: Iterable[str], *,
            batch_size: int = BATCH_SIZE) -> Iterator[Prediction]:
    """One Prediction per text, in order, streaming."""
    for _, prediction in predict_items(run, ((t, t) for t in texts), batch_size=batch_size):
        yield prediction


def predict_items(run: LoadedRun, items: Iterable[tuple[T, str]], *,
                  batch_size: int = BATCH_SIZE,
                  chunk: int = CHUNK_TEXTS) -> Iterator[tuple[T, Prediction]]:
    """(key, text) pairs -> (key, Prediction) pairs, in order, `chunk` texts at a time."""
    labels = run.labels
    iterator = iter(items)
    while True:
        block = list(islice(iterator, chunk))
        if not block:
            return
        probs = probabilities(run, [text for _, text in block], batch_size)
        best = probs.argmax(dim=-1).tolist()
        for (key, _), row, k in zip(block, probs.tolist(), best):
            yield key, Prediction(labels[k], row[k], dict(zip(labels, row)))
