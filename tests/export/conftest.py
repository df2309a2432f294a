"""Runs of every cell and shape, made directly (untrained, random weights) so the export matrix
costs no training: an export is checked against the run's own model, trained or not."""

from pathlib import Path

import pytest
import torch
from torch import nn

from seqcli.config import default_config, with_overrides
from seqcli.data.tokenizers import train_tokenizer
from seqcli.device import place
from seqcli.models.builder import build_model
from seqcli.runs import LoadedRun, write_run_files
from tests.conftest import tiny_text

REVIEWS = ["a wonderful film, moving and warm", "an awful mess, dull and long",
           "a great cast and a lovely story", "a boring plot and terrible acting"]
LABELS = ["negative", "positive"]


def make_run(folder: Path, task: str = "lm", *, cell: str = "lstm", layers: int = 1,
             bidirectional: bool = False, impl: str = "fused", tokenizer: str | None = None,
             subwords: int = 0, pooling: str = "max", seed: int = 0, hidden: int = 12,
             tied: bool = False, wide: int = 0, reverse: bool = False) -> LoadedRun:
    """A run directory (config.json, tokenizer.json) and its LoadedRun with random weights;
    `tied` shares the LM's embedding and decoder (the embedding is then `hidden` wide)."""
    torch.manual_seed(seed)
    kind = tokenizer or ("char" if task == "lm" else "word")
    overrides = {("model", "cell"): cell, ("model", "num_layers"): layers,
                 ("model", "hidden_size"): hidden,
                 ("model", "embedding_size"): hidden if tied else 8,
                 ("model", "tie_weights"): tied, ("model", "impl"): impl,
                 ("data", "tokenizer"): kind}
    if reverse:
        overrides[("data", "reverse")] = True
    if task == "classify":
        overrides |= {("model", "bidirectional"): bidirectional, ("model", "pooling"): pooling,
                      ("model", "subwords"): subwords, ("model", "wide"): wide}
    config = with_overrides(default_config(task), overrides)
    texts = tiny_text(2).splitlines() if task == "lm" else REVIEWS
    tok = train_tokenizer(kind, texts, vocab_size=300, lowercase=config.data.lowercase)
    labels = LABELS if task == "classify" else []
    model = build_model(config, tok.vocab_size, len(labels))
    if getattr(model, "subword_embedding", None) is not None:
        nn.init.normal_(model.subword_embedding.weight, std=0.5)  # not the zeros it starts at
    if getattr(model, "wide", None) is not None:
        nn.init.normal_(model.wide.weight, std=0.5)
    folder.mkdir(parents=True, exist_ok=True)
    write_run_files(folder, config, tok, {"labels": labels})
    return LoadedRun(folder, config, {"labels": labels}, tok, model.eval(), place("cpu", "fp32"))


@pytest.fixture
def run_factory(tmp_path):
    counter = iter(range(1000))

    def factory(task: str = "lm", **kwargs) -> LoadedRun:
        return make_run(tmp_path / f"run-{next(counter)}", task, **kwargs)

    return factory
