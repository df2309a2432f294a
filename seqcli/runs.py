"""Load a finished (or interrupted) run directory for generation, classification or evaluation."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from seqcli.config import RunConfig
from seqcli.data.tokenizers import Tokenizer, load_tokenizer
from seqcli.device import Placement, place
from seqcli.errors import CheckpointError
from seqcli.models.zoo import build_model
from seqcli.training import checkpoint as ckpt

TASK_NAMES = {"lm": "language-model", "classify": "classifier"}


@dataclass
class LoadedRun:
    path: Path
    config: RunConfig
    meta: dict[str, Any]  # facts fixed at creation: vocab size, labels, corpus, created
    tokenizer: Tokenizer
    model: torch.nn.Module
    placement: Placement

    @property
    def task(self) -> str:
        return self.config.task


def load_run(path: Path, *, device: str = "auto", precision: str = "auto",
             expect_task: str | None = None) -> LoadedRun:
    """Rebuild the model from config.json and load best.pt (or last.pt) onto a device."""
    path = Path(path)
    stored = ckpt.read_run_config(path)
    if expect_task is not None and stored["task"] != expect_task:
        raise CheckpointError(
            f"{path} is a {TASK_NAMES.get(stored['task'], stored['task'])} run, but this command "
            f"needs a {TASK_NAMES[expect_task]} run"
            + (" (train one with `seqcli train --task classify`)" if expect_task == "classify"
               else " (train one with `seqcli train`)"))
    config = ckpt.resolved_config(path, stored)
    meta = stored.get("meta", {})
    tokenizer = load_tokenizer(path / ckpt.TOKENIZER_FILE)
    model = build_model(config, vocab_size=tokenizer.vocab_size,
                        num_classes=len(meta.get("labels", [])))
    weights = ckpt.weights_file(path)
    payload = ckpt.load_checkpoint(weights)
    load_weights(model, payload[ckpt.KEY_MODEL], weights)
    placement = place(device, precision)
    model.to(placement.device).eval()
    return LoadedRun(path, config, meta, tokenizer, model, placement)


def load_weights(model: torch.nn.Module, state: dict[str, Any], path: Path) -> None:
    """Load a checkpoint's weights into a model built from the run's config, or explain why not."""
    ckpt.check_finite(state, path)
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, ValueError) as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        detail = " ".join(lines[1:2] or lines[:1])  # torch's first specific mismatch
        raise CheckpointError(f"weights in {path} do not match the run's config.json and "
                              f"tokenizer.json ({detail[:200]})") from None
