"""Predict labels and probabilities with a trained classifier, and score it on labelled data.

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
from typing import Any, TypeVar

import torch
import torch.nn.functional as F
from rich.console import Console

from seqcli.runs import LoadedRun
from seqcli.training.classify_data import (encode_for_model, label_indices, load_splits,
                                           read_split, resolve_labelled)
from seqcli.training.classify_task import predict_logits
from seqcli.training.metrics import classification_report, confusion_matrix

CHUNK_TEXTS = 4096
BATCH_SIZE = 256
T = TypeVar("T")


@dataclass(frozen=True)
class Prediction:
    label: str
    probability: float  # of `label`
    probabilities: dict[str, float]  # every class, in the run's label order


def run_labels(run: LoadedRun) -> list[str]:
    return list(run.meta.get("labels", []))


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
    labels = run_labels(run)
    iterator = iter(items)
    while True:
        block = list(islice(iterator, chunk))
        if not block:
            return
        probs = probabilities(run, [text for _, text in block], batch_size)
        best = probs.argmax(dim=-1).tolist()
        for (key, _), row, k in zip(block, probs.tolist(), best):
            yield key, Prediction(labels[k], row[k], dict(zip(labels, row)))


def evaluate_classifier(run: LoadedRun, corpus: str | None, locations,
                        console: Console | None = None) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix.

    Without `corpus`: the run's own validation texts (the same ones training used). With a
    corpus: its validation split when it has one (SST-2's dev set), else all its examples.
    """
    d = run.config.data
    if corpus is None:
        data, split = load_splits(run.config, locations, console).val, "validation"
    else:
        resolved = resolve_labelled(corpus, locations, console)
        data, split = read_split(resolved, "validation", d.text_column, d.label_column), \
            "validation"
        if data is None:
            data, split = read_split(resolved, "train", d.text_column, d.label_column), "all"
    labels = run_labels(run)
    targets = torch.tensor(label_indices(data, labels))
    encoded, _ = encode_for_model(run.tokenizer, data.texts, targets.tolist(), run.config)
    logits = predict_logits(run.model, encoded, run.placement)
    report = classification_report(confusion_matrix(targets, logits.argmax(1), len(labels)),
                                   labels)
    return {"run_dir": str(run.path), "corpus": corpus or d.corpus, "split": split,
            "labels": labels, "loss": F.cross_entropy(logits, targets).item(), **report}
