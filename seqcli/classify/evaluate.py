"""Score a classifier on labelled data: accuracy, macro-F1, per-class scores and confusion."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from rich.console import Console

from seqcli.classify.encoding import encode_for_model, label_indices
from seqcli.classify.predict import predict_logits
from seqcli.classify.splits import load_splits, read_split, resolve_labelled
from seqcli.data.labelled import LabelledData
from seqcli.errors import UsageError
from seqcli.locations import Locations
from seqcli.runs import LoadedRun
from seqcli.training.metrics import classification_report, confusion_matrix


def evaluate_classifier(run: LoadedRun, corpus: str | None, locations: Locations,
                        console: Console | None = None, split: str = "validation"
                        ) -> dict[str, Any]:
    """Without `corpus`: the run's own validation texts (the same ones training used), or with
    `split="test"` its test set (see splits.py). With a corpus: its validation split when it
    has one (SST-2's dev set), else all its examples."""
    data, split = evaluation_data(run, corpus, locations, console, split)
    labels = run.labels
    targets = torch.tensor(label_indices(data, labels))
    encoded, _ = encode_for_model(run.tokenizer, data.texts, targets.tolist(), run.config)
    logits = predict_logits(run.model, encoded, run.placement)
    report = classification_report(confusion_matrix(targets, logits.argmax(1), len(labels)),
                                   labels)
    return {"run_dir": str(run.path), "corpus": corpus or run.config.data.corpus,
            "split": split, "labels": labels, "loss": F.cross_entropy(logits, targets).item(),
            **report}


def evaluation_data(run: LoadedRun, corpus: str | None, locations: Locations,
                    console: Console | None, split: str = "validation"
                    ) -> tuple[LabelledData, str]:
    d = run.config.data
    if corpus is None:
        splits = load_splits(run.config, locations, console)
        if split != "test":
            return splits.val, "validation"
        if splits.test is None:
            raise UsageError("this run has no test set: its corpus has no validation split "
                             "of its own, or the run selected checkpoints on it")
        return splits.test, "test"
    resolved = resolve_labelled(corpus, locations, console)
    data = read_split(resolved, "validation", d.text_column, d.label_column)
    if data is not None:
        return data, "validation"
    return read_split(resolved, "train", d.text_column, d.label_column), "all"
