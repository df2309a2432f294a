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
from seqcli.classify.warm_start import extend_tokenizer, load_encoder
from seqcli.config import RunConfig
from seqcli.data.tokenizers import Tokenizer, train_tokenizer
from seqcli.errors import ConfigError
from seqcli.locations import Locations
from seqcli.runs import LoadedRun, load_language_model
from seqcli.training.task import Prepared


def prepare_classify(config: RunConfig, locations: Locations, tokenizer: Tokenizer | None,
                     console: Console | None) -> Prepared:
    """Labelled splits encoded for the model and a ClassifyTask; the tokenizer is fit on the
    training texts unless one is given (resume)."""
    d, t = config.data, config.train
    splits = load_splits(config, locations, console)
    labels = sorted(set(splits.train.labels))
    encoder = backward = None
    if tokenizer is None:
        tokenizer = train_tokenizer(d.tokenizer, splits.train.texts, vocab_size=d.vocab_size,
                                    min_frequency=d.min_frequency, lowercase=d.lowercase)
        if t.init_from:  # a fresh run only: a resumed one has the encoder in its checkpoint
            encoder = load_language_model(t.init_from)
            tokenizer, _ = extend_tokenizer(encoder.tokenizer, tokenizer)
            if t.init_from_backward:
                backward = load_language_model(t.init_from_backward, "--init-from-backward")
    train, truncated = encode_labelled(tokenizer, splits.train, labels, config)
    val, _ = encode_labelled(tokenizer, splits.val, labels, config)
    if t.trace_test and splits.test is None:
        raise ConfigError("--trace-test scores the run's test set, and this run has none: its "
                          "corpus has no validation split of its own, or the run selects "
                          "checkpoints on it (--selection corpus, --validation)")
    test = None if splits.test is None else encode_labelled(tokenizer, splits.test, labels,
                                                           config)[0]
    weights = inverse_frequency_weights(train.labels, len(labels)) \
        if t.class_weights == "auto" else None
    # Balanced weights say the classes matter equally: then pick checkpoints by macro-F1.
    task = ClassifyTask(train, val, labels, batch_size=d.batch_size, seed=t.seed,
                        class_weights=weights, word_dropout=t.word_dropout, adversarial=t.adversarial,
                        monitor="val_macro_f1" if weights is not None else "val_accuracy",
                        test=test, trace_test=t.trace_test)
    meta = {"labels": labels, "corpus": d.corpus, "train_texts": len(train),
            "val_texts": len(val), "validation": splits.validation,
            "test_texts": len(splits.test) if splits.test is not None else 0,
            "label_counts": dict(sorted(Counter(splits.train.labels).items())),
            "truncated_train_texts": truncated, "max_length": d.max_length}
    if weights is not None:
        meta["class_weights"] = dict(zip(labels, weights.tolist()))
    hooks = []
    if encoder is not None:
        hooks.append(_encoder_hook(encoder, backward, t.init_from, meta, console))
    if t.embeddings:
        hooks.append(_embeddings_hook(t.embeddings, tokenizer, d.lowercase, console))
    return Prepared(task, tokenizer, meta, init_model=_chain(hooks) if hooks else None)


def _chain(hooks: list[Callable[[torch.nn.Module], None]]) -> Callable[[torch.nn.Module], None]:
    def init_model(model) -> None:
        for hook in hooks:
            hook(model)

    return init_model


def _encoder_hook(encoder: LoadedRun, backward: LoadedRun | None, source: str, meta: dict,
                  console: Console | None) -> Callable[[torch.nn.Module], None]:
    """Copies the language model's encoder in and records where it came from."""
    def init_model(model) -> None:
        counts = load_encoder(model, encoder, backward)
        meta["encoder_from"] = {"run": str(source), **counts}
        if backward is not None:
            meta["encoder_from"]["backward_run"] = str(backward.path)
        if console is not None:
            console.print(f"encoder from {source}: {counts['encoder_tokens']} tokens with "
                          f"their vectors, {counts['added_tokens']} new from the mean",
                          highlight=False, markup=False)

    return init_model


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
