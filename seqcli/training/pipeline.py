"""From a RunConfig to a trained run directory: data, tokenizer, model, trainer.

This is the library entry point behind `seqcli train`; it is usable from Python with explicit
arguments (no flags, no environment). Language modelling and classification share everything
here except how their data becomes a `Task`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from seqcli import __version__
from seqcli.config import RunConfig
from seqcli.data.tokenizers import Tokenizer, load_tokenizer, save_tokenizer
from seqcli.device import place
from seqcli.errors import CheckpointError
from seqcli.models.zoo import build_model
from seqcli.training import checkpoint as ckpt
from seqcli.training.reporting import Reporter
from seqcli.training.trainer import Trainer


@dataclass(frozen=True)
class Locations:
    """Where runs go and where corpora are looked for (resolved by the caller)."""

    runs: Path
    data: Path | None = None
    cache: Path | None = None


@dataclass
class Prepared:
    """A task ready to train, plus what the run directory must remember about its data."""

    task: Any
    tokenizer: Tokenizer
    meta: dict[str, Any]
    # Optional: called once on a freshly built model (not on resume), e.g. to copy in
    # pretrained embeddings.
    init_model: Callable[[torch.nn.Module], None] | None = None


def prepare(config: RunConfig, locations: Locations, tokenizer: Tokenizer | None,
            console: Console | None) -> Prepared:
    if config.task == "lm":
        from seqcli.training.lm_data import prepare_lm

        return prepare_lm(config, locations, tokenizer, console)
    from seqcli.training.classify_data import prepare_classify

    return prepare_classify(config, locations, tokenizer, console)


def train(config: RunConfig, locations: Locations, *, out: Path | None = None,
          reporter: Reporter | None = None, console: Console | None = None) -> dict[str, Any]:
    """Train a new run; the directory is created only once the data is known to be good."""
    placement = place(config.train.device, config.train.precision)
    torch.manual_seed(config.train.seed)
    prepared = prepare(config, locations, None, console)
    model = build_model(config, prepared.tokenizer.vocab_size,
                        len(prepared.meta.get("labels", [])))
    if prepared.init_model is not None:  # before the run directory exists: it may fail
        prepared.init_model(model)
    run_dir = ckpt.prepare_out_dir(out) if out is not None \
        else ckpt.new_run_dir(locations.runs, config.task)
    meta = {**prepared.meta, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seqcli_version": __version__, "device": placement.describe()}
    try:
        save_tokenizer(prepared.tokenizer, run_dir / ckpt.TOKENIZER_FILE)
        ckpt.atomic_write_json(run_dir / ckpt.CONFIG_FILE, {
            ckpt.KEY_VERSION: ckpt.FORMAT_VERSION, "task": config.task,
            "config": config.to_dict(), "meta": meta})
    except (OSError, CheckpointError) as err:
        shutil.rmtree(run_dir, ignore_errors=True)
        reason = err if isinstance(err, CheckpointError) else \
            f"cannot write run directory {run_dir}: {err}"
        raise CheckpointError(f"{reason}; the unfinished run directory was removed") from None
    trainer = Trainer(model, prepared.task, config.train, placement, run_dir, reporter)
    return _fit(trainer, placement)


def resume(run_dir: Path, config: RunConfig, locations: Locations, *,
           reporter: Reporter | None = None, console: Console | None = None) -> dict[str, Any]:
    """Continue a run from its last.pt exactly where it stopped."""
    stored = ckpt.read_run_config(run_dir)
    ckpt.remove_stale_temps(run_dir)  # left by a crash (SIGKILL, power loss) mid-write
    tokenizer = load_tokenizer(run_dir / ckpt.TOKENIZER_FILE)
    payload = ckpt.load_checkpoint(run_dir / ckpt.LAST_FILE)
    placement = place(config.train.device, config.train.precision)
    prepared = prepare(config, locations, tokenizer, console)
    meta = stored.get("meta", {})
    model = build_model(config, tokenizer.vocab_size, len(meta.get("labels", [])))
    trainer = Trainer(model, prepared.task, config.train, placement, run_dir, reporter)
    ckpt.check_finite(payload[ckpt.KEY_MODEL], run_dir / ckpt.LAST_FILE)
    try:
        trainer.restore(payload)
    except (RuntimeError, KeyError, TypeError, ValueError, IndexError) as err:
        lines = [line.strip() for line in str(err).splitlines() if line.strip()]
        detail = " ".join(lines[1:2] or lines[:1]) or type(err).__name__
        raise CheckpointError(f"{run_dir / ckpt.LAST_FILE} does not match the run's config.json "
                              f"and tokenizer.json, or is incomplete ({detail[:200]})") from None
    if config.train != RunConfig.from_dict(stored["config"]).train:
        stored["config"] = config.to_dict()
        ckpt.atomic_write_json(run_dir / ckpt.CONFIG_FILE, stored)
    return _fit(trainer, placement)


def _fit(trainer: Trainer, placement) -> dict[str, Any]:
    summary = trainer.fit()
    summary["device"] = placement.describe()
    return summary
