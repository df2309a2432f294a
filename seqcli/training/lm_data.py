"""Language-model data: corpus text -> tokenizer (fit on the training part) -> id tensors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from rich.console import Console

from seqcli.config import RunConfig
from seqcli.data.batching import ids_tensor, split_text
from seqcli.data.registry import resolve_corpus
from seqcli.data.text import read_text
from seqcli.data.tokenizers import Tokenizer, train_tokenizer
from seqcli.errors import DataError
from seqcli.training.tasks import LMTask

CHUNK_CHARS = 1 << 20


def corpus_text_path(corpus: str, locations, console: Console | None) -> Path:
    """The single text file behind a corpus name or path."""
    resolved = resolve_corpus(corpus, data_dir=locations.data, cache_dir=locations.cache,
                              console=console)
    if resolved.corpus is not None and resolved.corpus.task != "lm":
        raise DataError(f"corpus {corpus!r} is a labelled ({resolved.corpus.task}) corpus; "
                        f"use it with --task classify")
    files = list(resolved.paths.values())
    if len(files) != 1 or not files[0].is_file():
        what = "a directory" if files and files[0].is_dir() else f"{len(files)} files"
        raise DataError(f"{corpus}: a language model needs one text file, got {what}")
    return files[0]


def encode_chunks(tokenizer: Tokenizer, text: str) -> Iterator[list[int]]:
    """Encode in pieces so no Python list of ints for the whole corpus ever exists.

    Pieces end at a newline where possible so word and BPE tokens are not cut in half.
    """
    start = 0
    while start < len(text):
        end = min(len(text), start + CHUNK_CHARS)
        if end < len(text):
            newline = text.rfind("\n", start, end)
            end = newline + 1 if newline > start else end
        yield tokenizer.encode(text[start:end])
        start = end


def prepare_lm(config: RunConfig, locations, tokenizer: Tokenizer | None,
               console: Console | None):
    from seqcli.training.pipeline import Prepared

    d = config.data
    path = corpus_text_path(d.corpus, locations, console)
    text = read_text(path)
    if d.lowercase:
        text = text.lower()
    train_text, val_text = split_text(text, d.val_fraction)
    if tokenizer is None:
        tokenizer = train_tokenizer(d.tokenizer, [train_text] if d.tokenizer == "char"
                                    else train_text.splitlines(), vocab_size=d.vocab_size,
                                    min_frequency=d.min_frequency)
    train_ids = ids_tensor(encode_chunks(tokenizer, train_text), tokenizer.vocab_size)
    val_ids = ids_tensor(encode_chunks(tokenizer, val_text), tokenizer.vocab_size)
    if val_ids.numel() < 2:
        raise DataError(f"{path}: the validation part (last {d.val_fraction:.0%}) is too short "
                        f"to evaluate; use a longer text")
    task = LMTask(train_ids, val_ids, batch_size=d.batch_size, seq_len=d.seq_len,
                  partition=d.partition, seed=config.train.seed,
                  eval_batches=config.train.eval_batches)
    meta = {"corpus": d.corpus, "corpus_path": str(path), "train_tokens": train_ids.numel(),
            "val_tokens": val_ids.numel()}
    return Prepared(task, tokenizer, meta)
