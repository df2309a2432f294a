"""Score a trained run on its own validation split or on any corpus."""

from __future__ import annotations

from typing import Any

from rich.console import Console

from seqcli.data.batching import ids_tensor, split_text
from seqcli.data.text import read_text
from seqcli.errors import DataError
from seqcli.runs import LoadedRun


def evaluate_run(run: LoadedRun, corpus: str | None, locations,
                 console: Console | None = None) -> dict[str, Any]:
    """Language models: loss, perplexity, bits/token. Classifiers: accuracy, F1, confusion."""
    if run.task == "classify":
        from seqcli.classification import evaluate_classifier

        return evaluate_classifier(run, corpus, locations, console)
    return evaluate_language_model(run, corpus, locations, console)


def evaluate_language_model(run: LoadedRun, corpus: str | None, locations,
                            console: Console | None = None) -> dict[str, Any]:
    from seqcli.training.lm_data import corpus_text_path, encode_chunks
    from seqcli.training.tasks import evaluate_stream

    d = run.config.data
    path = corpus_text_path(corpus or d.corpus, locations, console)
    text = read_text(path)
    if d.lowercase:
        text = text.lower()
    split = "all"
    if corpus is None:  # the run's own held-out part, exactly as in training
        text, split = split_text(text, d.val_fraction)[1], "validation"
    ids = ids_tensor(encode_chunks(run.tokenizer, text), run.tokenizer.vocab_size)
    if ids.numel() < 2:
        raise DataError(f"{path} is too short to evaluate (fewer than 2 tokens)")
    result = evaluate_stream(run.model, ids, d.batch_size, d.seq_len, run.placement)
    return {"run_dir": str(run.path), "corpus": corpus or d.corpus, "split": split, **result}
