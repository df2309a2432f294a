"""Classification data: corpus -> labelled splits -> tokenizer (fit on train only) -> a Task.

Validation data, in order of preference: the file given with ``data.validation``; the corpus'
own validation split (SST-2's dev.tsv); else a stratified, seeded ``data.val_fraction`` of the
training examples. Evaluation (seqcli/classification.py) rebuilds the same split with
`load_splits`, so "the run's validation data" means the same texts in both places.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from seqcli.config import RunConfig
from seqcli.data.classify_batches import EncodedTexts, encode_texts
from seqcli.data.labelled import LabelledData, read_labelled, read_paired, stratified_split
from seqcli.data.registry import ResolvedCorpus, resolve_corpus
from seqcli.data.tokenizers import Tokenizer, train_tokenizer
from seqcli.errors import DataError
from seqcli.training.classify_task import ClassifyTask, inverse_frequency_weights

# Training-time regularisers of the classification recipe (not run options). Word dropout
# replaces a quarter of the training tokens by [UNK] at each step, so no single word carries a
# text and [UNK] learns to stand for words never seen in training: on SST-2 it was worth
# about +2.5 points of dev accuracy. Label smoothing did not help there.
LABEL_SMOOTHING = 0.0
WORD_DROPOUT = 0.25


@dataclass
class Splits:
    train: LabelledData
    val: LabelledData
    validation: str  # where the validation texts came from, for the run's meta


def resolve_labelled(corpus: str, locations, console: Console | None) -> ResolvedCorpus:
    """Local files of a labelled corpus name or path; language-model corpora are refused."""
    return resolve_corpus(corpus, data_dir=locations.data, cache_dir=locations.cache,
                          console=console, task="classify")


def read_split(resolved: ResolvedCorpus, split: str, text_column: str | None = None,
               label_column: str | None = None) -> LabelledData | None:
    """A registry corpus' split (None when it has none), or all of a user path for "train"."""
    corpus = resolved.corpus
    if corpus is None:
        return read_labelled(resolved.path(), text_column=text_column,
                             label_column=label_column) if split == "train" else None
    files = corpus.split_files(split)
    if not files:
        return None
    if corpus.format == "paired":
        return read_paired({f.label: resolved.paths[f.path] for f in files},
                           encoding=corpus.encoding)
    parts = [read_labelled(resolved.paths[f.path], text_column=text_column or corpus.text_column,
                           label_column=label_column or corpus.label_column,
                           encoding=corpus.encoding) for f in files]
    names = corpus.label_names
    return LabelledData([t for p in parts for t in p.texts],
                        [names.get(label, label) for p in parts for label in p.labels],
                        ", ".join(p.source for p in parts))


def load_splits(config: RunConfig, locations, console: Console | None) -> Splits:
    """Training and validation examples for a run's config (see the module docstring)."""
    d = config.data
    resolved = resolve_labelled(d.corpus, locations, console)
    train = read_split(resolved, "train", d.text_column, d.label_column)
    assert train is not None
    if d.validation is not None:
        val = read_labelled(Path(d.validation), text_column=d.text_column,
                            label_column=d.label_column)
        return Splits(train, val, f"file {d.validation}")
    val = read_split(resolved, "validation", d.text_column, d.label_column)
    if val is not None:
        return Splits(train, val, "the corpus' validation split")
    train_idx, val_idx = stratified_split(train.labels, d.val_fraction, config.train.seed)
    if not val_idx:
        labels = ", ".join(sorted(set(train.labels)))
        raise DataError(f"{train.source}: too few examples to hold any out for validation "
                        f"(every class has one: {labels}); add examples or give a "
                        f"validation file with --validation")
    return Splits(train.subset(train_idx), train.subset(val_idx),
                  f"stratified {d.val_fraction:g} of the training data (seed {config.train.seed})")


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
    """Texts as a run's classifier reads them (training, evaluation and prediction alike):
    EncodedTexts, with n-gram buckets when the model uses subwords, and how many texts were
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


def prepare_classify(config: RunConfig, locations, tokenizer: Tokenizer | None,
                     console: Console | None):
    from seqcli.training.pipeline import Prepared

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
                        class_weights=weights, label_smoothing=LABEL_SMOOTHING,
                        word_dropout=WORD_DROPOUT, adversarial=t.adversarial,
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
                     console: Console | None) -> Callable:
    """A function that copies pretrained vectors into a freshly built model's embedding."""
    from seqcli.data.embeddings import load_pretrained, tokenizer_vocab

    vocab = tokenizer_vocab(tokenizer)

    def init_model(model) -> None:
        found = load_pretrained(model.embedding, Path(path), vocab, lowercase=lowercase)
        if console is not None:
            console.print(f"pretrained vectors: {found} of {len(vocab)} words found in {path}",
                          highlight=False, markup=False)

    return init_model
