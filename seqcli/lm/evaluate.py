"""Held-out loss, perplexity and bits per token of a language model, over a whole stream.

Training's periodic evaluation and ``seqcli evaluate`` share `evaluate_stream`, and the text
reaches it by the path training uses (seqcli/lm/streams.py), so both report the same numbers
for the same weights and a corpus is never held whole in memory.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F
from rich.console import Console

from seqcli.device import Placement
from seqcli.errors import DataError
from seqcli.lm.batches import LMBatches
from seqcli.lm.streams import corpus_text_path, text_ids
from seqcli.locations import Locations
from seqcli.runs import LoadedRun
from seqcli.training.metrics import bits, perplexity


@torch.no_grad()
def evaluate_stream(model, ids: torch.Tensor, batch_size: int, seq_len: int,
                    placement: Placement, max_batches: int | None = None) -> dict[str, float]:
    """Mean next-token loss over a whole stream, state carried window to window; with
    `max_batches`, over its first batches only: a fixed sample of `batch_size` stretches
    spread evenly over the stream (what training's evaluations score, see lm/task.py).
    """
    batches = stream_batches(ids, batch_size, seq_len)
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    try:
        for k, (x, y) in enumerate(batches.epoch(0)):
            if max_batches is not None and k >= max_batches:
                break
            x, y = x.to(placement.device), y.to(placement.device)
            with placement.autocast():
                logits, state = model(x, state)
            total += F.cross_entropy(logits.float().flatten(0, 1), y.flatten(),
                                     reduction="sum").item()
            count += y.numel()
    finally:
        model.train(was_training)
    loss = total / max(1, count)
    return {"loss": loss, "perplexity": perplexity(loss), "bits_per_token": bits(loss),
            "tokens": count}


def stream_batches(ids: torch.Tensor, batch_size: int, seq_len: int) -> LMBatches:
    """The windows `evaluate_stream` reads: `batch_size` streams, state carried.

    A stream shorter than one window is read in one shorter window: the state is carried
    anyway, so the window length only changes how the work is cut, not what is measured.
    """
    if ids.numel() < 2:
        raise DataError(f"the text has {ids.numel()} token(s); evaluation needs at least 2")
    seq_len = min(seq_len, ids.numel() - 1)
    return LMBatches(ids, batch_size, seq_len, "sequential", shift=False)


def evaluate_language_model(run: LoadedRun, corpus: str | None, locations: Locations,
                            console: Console | None = None) -> dict[str, Any]:
    """The run's own held-out part (``corpus`` None, exactly as in training) or all of a text."""
    d = run.config.data
    path = corpus_text_path(corpus or d.corpus, locations, console)
    split = "validation" if corpus is None else "all"
    ids = text_ids(path, d, run.tokenizer, split)
    if ids.numel() < 2:
        raise DataError(f"{path} is too short to evaluate (fewer than 2 tokens)")
    result = evaluate_stream(run.model, ids, d.batch_size, d.seq_len, run.placement)
    return {"run_dir": str(run.path), "corpus": corpus or d.corpus, "split": split, **result}
