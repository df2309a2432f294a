"""A language-model run's data: its corpus streamed into compact ids and an `LMTask`."""

from __future__ import annotations

from rich.console import Console

from seqcli.config import RunConfig
from seqcli.data.tokenizers import Tokenizer
from seqcli.errors import DataError
from seqcli.lm.streams import corpus_text_path, split_ids
from seqcli.lm.task import LMTask
from seqcli.locations import Locations
from seqcli.training.task import Prepared


def prepare_lm(config: RunConfig, locations: Locations, tokenizer: Tokenizer | None,
               console: Console | None) -> Prepared:
    """The corpus as compact id tensors and an LMTask; the tokenizer is fit on the training
    part unless one is given (resume)."""
    d = config.data
    path = corpus_text_path(d.corpus, locations, console)
    tokenizer, train_ids, val_ids = split_ids(path, d, tokenizer)
    if val_ids.numel() < 2:
        raise DataError(f"{path}: the validation part (last {d.val_fraction:.0%}) is too short "
                        f"to evaluate; use a longer text")
    task = LMTask(train_ids, val_ids, batch_size=d.batch_size, seq_len=d.seq_len,
                  partition=d.partition, seed=config.train.seed,
                  eval_batches=config.train.eval_batches)
    meta = {"corpus": d.corpus, "corpus_path": str(path), "train_tokens": train_ids.numel(),
            "val_tokens": val_ids.numel()}
    return Prepared(task, tokenizer, meta)
