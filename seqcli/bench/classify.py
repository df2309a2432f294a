"""`seqcli bench classify`: sentences per second of seqcli's classifier, against a naive loop.

``seqcli-classify`` is the public prediction API (``seqcli.classify.predict.predict``) on an
in-memory run: texts tokenized in bulk, batched by length (little padding), with the true
lengths so padding never reaches a prediction (per-direction padded passes on a CPU, packed
sequences on a GPU; see seqcli/models/fused.py), probabilities out. ``reference-padded`` is
how one would write it without those ideas: batches in input order, each padded to its longest
text and run as one dense tensor through the same model (no lengths, no masking).
Both include tokenization and the softmax, use the same model and tokenizer, and classify
the same sentences (SST-2's validation sentences when available).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

import torch

from seqcli.bench.settings import ClassifyBenchSettings
from seqcli.bench.timing import Candidate, build_report, interleave, machine_info
from seqcli.classify.encoding import encode_batch
from seqcli.classify.predict import predict
from seqcli.config import DataConfig, ModelConfig, RunConfig
from seqcli.data.tokenizers import PAD_ID, Tokenizer, train_tokenizer
from seqcli.device import Placement, place
from seqcli.models.classifier import Classifier
from seqcli.runs import LoadedRun

CLASSIFY_RATIOS = [("seqcli-classify", "reference-padded")]
LABELS = ["negative", "positive"]


def bench_classify(settings: ClassifyBenchSettings, texts: list[str], train_texts: list[str],
                   source: str, on_round: Callable[[int], None] | None = None) -> dict[str, Any]:
    placement = place(settings.device, settings.precision)
    tokenizer = train_tokenizer("word", train_texts, vocab_size=30000, lowercase=True)
    run = in_memory_run(settings, tokenizer, placement)
    candidates = [
        Candidate("seqcli-classify",
                  lambda: _count(predict(run, texts, batch_size=settings.batch_size)),
                  {"batching": "length-sorted", "lengths": True}),
        Candidate("reference-padded", lambda: reference_padded(run.model, tokenizer, texts,
                                                               settings.batch_size, placement),
                  {"batching": "input order", "lengths": False}),
    ]
    tallies = interleave(candidates, rounds=settings.rounds, repeats=1, warmup=settings.warmup,
                         on_round=on_round)
    lengths = [len(ids) for ids in encode_batch(tokenizer, texts, True)]
    config = {**asdict(settings), "corpus": source, "vocab_size": tokenizer.vocab_size,
              "mean_tokens_per_text": round(sum(lengths) / len(lengths), 2),
              "max_tokens_per_text": max(lengths), "device": placement.describe(),
              "precision_used": placement.precision, **machine_info()}
    return build_report(config, candidates, tallies, "texts", CLASSIFY_RATIOS)


def in_memory_run(settings: ClassifyBenchSettings, tokenizer: Tokenizer,
                  placement: Placement) -> LoadedRun:
    """A classifier run as ``seqcli classify`` would load it, built in memory (random weights:
    speed does not depend on what the weights are)."""
    torch.manual_seed(settings.seed)
    model_config = ModelConfig(cell=settings.cell, num_layers=settings.num_layers,
                               hidden_size=settings.hidden_size,
                               embedding_size=settings.embedding_size,
                               bidirectional=settings.bidirectional, impl=settings.impl,
                               pooling=settings.pooling, dropout=0.0)
    config = RunConfig(task="classify", model=model_config,
                       data=DataConfig(tokenizer="word", lowercase=True,
                                       max_length=settings.max_length))
    model = Classifier(tokenizer.vocab_size, settings.embedding_size, settings.hidden_size,
                       len(LABELS), cell=settings.cell, num_layers=settings.num_layers,
                       impl=settings.impl, bidirectional=settings.bidirectional,
                       pooling=settings.pooling)
    model.to(placement.device).eval()
    return LoadedRun(Path("<bench>"), config, {"labels": LABELS}, tokenizer, model, placement)


def _count(predictions) -> int:
    return sum(1 for _ in predictions)


@torch.no_grad()
def reference_padded(model: torch.nn.Module, tokenizer: Tokenizer, texts: list[str],
                     batch_size: int, placement: Placement) -> int:
    """Batches in input order, padded to their longest text, run dense (no lengths)."""
    encoded = encode_batch(tokenizer, texts, True)
    done = 0
    for start in range(0, len(encoded), batch_size):
        chunk = [ids or [PAD_ID] for ids in encoded[start:start + batch_size]]
        x = torch.full((len(chunk), max(map(len, chunk))), PAD_ID, dtype=torch.long)
        for row, ids in enumerate(chunk):
            x[row, :len(ids)] = torch.tensor(ids)
        with placement.autocast():
            logits, _ = model(x.to(placement.device))
        logits.float().softmax(-1).cpu()
        done += len(chunk)
    return done
