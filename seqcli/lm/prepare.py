"""A language-model run's data: its corpus streamed into compact ids and an `LMTask`."""

from __future__ import annotations

from rich.console import Console

from seqcli.config import RunConfig
from seqcli.data.tokenizers import Tokenizer
from seqcli.errors import DataError
from seqcli.lm.streams import corpus_text_path, split_ids
from seqcli.lm.task import LMTask
from seqcli.lm.warm_start import warm_start_hook
from seqcli.locations import Locations
from seqcli.runs import load_language_model
from seqcli.training.task import Prepared


def prepare_lm(config: RunConfig, locations: Locations, tokenizer: Tokenizer | None,
               console: Console | None) -> Prepared:
    """The corpus as compact id tensors and an LMTask; the tokenizer is fit on the training
    part unless one is given (resume) or the run starts from another LM's (--init-from)."""
    d = config.data
    path = corpus_text_path(d.corpus, locations, console)
    source = None
    if tokenizer is None and config.train.init_from:  # fresh runs only: resume has its weights
        source = load_language_model(config.train.init_from)
        tokenizer = source.tokenizer
    tokenizer, train_ids, val_ids = split_ids(path, d, tokenizer)
    if val_ids.numel() < 2:
        raise DataError(f"{path}: the validation part (last {d.val_fraction:.0%}) is too short "
                        f"to evaluate; use a longer text")
    task = LMTask(train_ids, val_ids, batch_size=d.batch_size, seq_len=d.seq_len,
                  partition=d.partition, seed=config.train.seed,
                  eval_batches=config.train.eval_batches or None)  # 0: the whole split
    meta = {"corpus": d.corpus, "corpus_path": str(path), "train_tokens": train_ids.numel(),
            "val_tokens": val_ids.numel()}
    hook = None if source is None else warm_start_hook(source, config.train.init_from, meta,
                                                         console)
    return Prepared(task, tokenizer, meta, init_model=hook)
