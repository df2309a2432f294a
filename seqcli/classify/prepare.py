"""A classifier run's data: labelled splits -> tokenizer (fit on train only) -> a ClassifyTask."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import torch
from rich.console import Console

from seqcli.classify.embeddings import load_pretrained, tokenizer_vocab
from seqcli.classify.encoding import encode_labelled
from seqcli.classify.splits import load_splits
from seqcli.classify.task import ClassifyTask, inverse_frequency_weights
from seqcli.config import RunConfig
from seqcli.data.tokenizers import Tokenizer, train_tokenizer
from seqcli.locations import Locations
from seqcli.training.task import Prepared


def prepare_classify(config: RunConfig, locations: Locations, tokenizer: Tokenizer | None,
                     console: Console | None) -> Prepared:
    """Labelled splits encoded for the model and a ClassifyTask; the tokenizer is fit on the
    training texts unless one is given (resume)."""
    d, t = config.data, config.train
    splits = load_splits(config, locations, console)
    labels = sorted(set(splits.train.labels))
    if tokenizer is None:
        tokenizer = train_tokenizer(d.tokenizer, splits.train.texts, vocab_size=d.vocab_size,
                                    min_frequency=d.min_frequency, lowercase=d.lowercase)
    train, truncated = encode_labelled(tokenizer, splits.train, labels, config)
    val, _ = encode_labelled(tokenizer, splits.val, labels, config)
    weights = inverse_frequency_weights(train.labels, len(labels)) \
        if t.class_weights == "auto" else None
    # Balanced weights say the classes matter equally: then pick checkpoints by macro-F1.
    task = ClassifyTask(train, val, labels, batch_size=d.batch_size, seed=t.seed,
                        class_weights=weights, label_smoothing=t.label_smoothing,
                        word_dropout=t.word_dropout, adversarial=t.adversarial,
                        monitor="val_macro_f1" if weights is not None else "val_accuracy")
    meta = {"labels": labels, "corpus": d.corpus, "train_texts": len(train),
            "val_texts": len(val), "validation": splits.validation,
            "label_counts": dict(sorted(Counter(splits.train.labels).items())),
            "truncated_train_texts": truncated, "max_length": d.max_length}
    if weights is not None:
        meta["class_weights"] = dict(zip(labels, weights.tolist()))
    init = _embeddings_hook(t.embeddings, tokenizer, d.lowercase, console) \
        if t.embeddings else None
    return Prepared(task, tokenizer, meta, init_model=init)


def _embeddings_hook(path: str, tokenizer: Tokenizer, lowercase: bool,
                     console: Console | None) -> Callable[[torch.nn.Module], None]:
    """A function that copies pretrained vectors into a freshly built model's embedding."""
    vocab = tokenizer_vocab(tokenizer)

    def init_model(model) -> None:
        found = load_pretrained(model.embedding, Path(path), vocab, lowercase=lowercase)
        if console is not None:
            console.print(f"pretrained vectors: {found} of {len(vocab)} words found in {path}",
                          highlight=False, markup=False)

    return init_model
