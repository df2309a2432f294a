"""Train and resume: place -> prepare (task) -> build model -> trainer, into a run directory.

This is the one path behind `seqcli train` and `seqcli.train(...)`; it takes explicit
arguments (no flags, no environment). Language modelling and classification share everything
here except how their data becomes a `Task`.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from rich.console import Console

from seqcli import transfer
from seqcli.atomic import remove_stale_temps
from seqcli.choices import MAX_SEED
from seqcli.classify.prepare import prepare_classify
from seqcli.config import RunConfig, resume_conflicts, with_overrides
from seqcli.config_legacy import WHY, retired_in_use
from seqcli.data.tokenizers import Tokenizer, load_tokenizer
from seqcli.device import Placement, place
from seqcli.errors import CheckpointError, ConfigError, SeqcliError, UsageError
from seqcli.lm.prepare import prepare_lm
from seqcli.locations import Locations
from seqcli.models.builder import build_model
from seqcli.runs import (TOKENIZER_FILE, first_detail, new_run_dir, prepare_out_dir,
                         read_run_config, resolved_config, write_config, write_run_files)
from seqcli.training.checkpoint import (KEY_MODEL, LAST_FILE, check_finite,
                                        load_checkpoint)
from seqcli.training.distributed import SOLO, Group, local_device
from seqcli.training.distributed import stop as leave_group
from seqcli.training.reporting import Reporter
from seqcli.training.task import Prepared
from seqcli.training.trainer import Trainer

PREPARERS = {"lm": prepare_lm, "classify": prepare_classify}


def prepare(config: RunConfig, locations: Locations, tokenizer: Tokenizer | None,
            console: Console | None) -> Prepared:
    """The task's data, ready to train (its tokenizer fit now, or the run's on resume)."""
    return PREPARERS[config.task](config, locations, tokenizer, console)


def train(config: RunConfig, locations: Locations, *, out: Path | None = None,
          reporter: Reporter | None = None, console: Console | None = None,
          group: Group = SOLO) -> dict[str, Any]:
    """Train a new run; the directory is created only once the data is known to be good.

    In a data-parallel run every rank prepares the same data and model; rank 0 alone creates
    and writes the run directory.
    """
    if config.task == "classify" and config.train.pretrain_minutes and not config.train.init_from:
        config = transfer.pretrain(config, locations, console, group, train)
    started = time.perf_counter()  # the run's clock: --max-minutes counts from here
    placement = place(local_device(group, config.train.device), config.train.precision)
    torch.manual_seed(config.train.seed)
    prepared = prepare(config, locations, None, console)
    model = build_model(config, prepared.tokenizer.vocab_size,
                        len(prepared.meta.get("labels", [])))
    if prepared.init_model is not None:  # before the run directory exists: it may fail
        prepared.init_model(model)
    run_dir = _shared_run_dir(group, lambda: _create(config, locations, out, prepared, placement,
                                                       group))
    _seed_rank(config.train.seed, group)
    trainer = Trainer(model, prepared.task, config.train, placement, run_dir, reporter, group,
                      started=started)
    return _fit(trainer, placement, group)


def _create(config: RunConfig, locations: Locations, out: Path | None, prepared: Prepared,
            placement: Placement, group: Group) -> Path:
    run_dir = prepare_out_dir(out) if out is not None else new_run_dir(locations.runs, config.task)
    write_run_files(run_dir, config, prepared.tokenizer,
                    {**prepared.meta, "device": placement.describe(),
                     "world_size": group.world_size})
    return run_dir


def _shared_run_dir(group: Group, create: Callable[[], Path]) -> Path:
    """Rank 0 creates the directory and tells the others where it is, or why it failed."""
    if not group.active:
        return create()
    made = {"error": "rank 0 could not create the run directory", "code": 1}
    if group.is_main:
        try:
            made = {"path": str(create())}
        except SeqcliError as err:
            made = {"error": str(err), "code": err.exit_code}
    made = group.broadcast(made)
    if "error" in made:
        raise (UsageError if made["code"] == 2 else CheckpointError)(made["error"])
    return Path(made["path"])


def _seed_rank(seed: int, group: Group) -> None:
    """Each rank its own dropout masks (rank 0 keeps the one-process stream)."""
    if group.rank:
        torch.manual_seed((seed * 1009 + group.rank) % MAX_SEED)


def fresh_config(base: RunConfig, given: dict[tuple[str, str], Any]) -> RunConfig:
    """A new run's settings: `base` (the task's defaults or a TOML file), then `given`; a run
    with --init-from takes its encoder's settings from that language model (transfer.py)."""
    return with_overrides(base, transfer.transfer_settings(base, given))


def resume(run_dir: Path, config: RunConfig, locations: Locations, *,
           reporter: Reporter | None = None, console: Console | None = None,
           group: Group = SOLO) -> dict[str, Any]:
    """Continue a run from its last.pt exactly where it stopped (any number of ranks: see
    seqcli/training/snapshot.py for what carries over exactly)."""
    started = time.perf_counter()
    stored = read_run_config(run_dir)
    if group.is_main:
        remove_stale_temps(run_dir)  # left by a crash (SIGKILL, power loss) mid-write
    tokenizer = load_tokenizer(run_dir / TOKENIZER_FILE)
    payload = load_checkpoint(run_dir / LAST_FILE)
    placement = place(local_device(group, config.train.device), config.train.precision)
    prepared = prepare(config, locations, tokenizer, console)
    model = build_model(config, tokenizer.vocab_size, len(stored["meta"].get("labels", [])))
    trainer = Trainer(model, prepared.task, config.train, placement, run_dir, reporter, group,
                      started=started)
    check_finite(payload[KEY_MODEL], run_dir / LAST_FILE)
    try:
        trainer.restore(payload)
    except (RuntimeError, KeyError, TypeError, ValueError, IndexError) as err:
        raise CheckpointError(f"{run_dir / LAST_FILE} does not match the run's config.json "
                              f"and tokenizer.json, or is incomplete ({first_detail(err)})") from None
    changed = config.train != RunConfig.from_dict(stored["config"]).train
    if group.is_main and (changed or stored["meta"].get("world_size", 1) != group.world_size):
        meta = {**stored["meta"], "world_size": group.world_size}
        write_config(run_dir, {**stored, "config": config.to_dict(), "meta": meta})
    return _fit(trainer, placement, group)


def resume_config(run_dir: Path, task: str | None,
                  overrides: dict[tuple[str, str], Any]) -> RunConfig:
    """The run's own config with the settings a resume may change (budgets, device, ...); a
    run trained with a setting seqcli no longer has is refused (config_legacy.py)."""
    raw = read_run_config(run_dir)
    retired = retired_in_use(raw["config"])
    if retired:
        raise CheckpointError(f"{run_dir} was trained with {', '.join(retired)}, which seqcli "
                              f"no longer has ({WHY}); it cannot be resumed as the same run, "
                              "but it still generates, classifies, evaluates and exports")
    stored = resolved_config(run_dir, raw)
    if task is not None and task != stored.task:
        raise ConfigError(f"--resume {run_dir} is a {stored.task} run, not {task}")
    conflicts = resume_conflicts(stored, overrides)
    if conflicts:
        raise ConfigError("--resume keeps the run's architecture and data; these options "
                          "differ: " + "; ".join(conflicts))
    return with_overrides(stored, overrides)


def _fit(trainer: Trainer, placement: Placement, group: Group) -> dict[str, Any]:
    """Train on every rank; then the ranks part, and rank 0 alone concludes the run (scores
    the kept weights, writes the summary): however long that takes, no rank is left waiting
    on a collective that could time out."""
    summary = trainer.fit()
    summary["device"] = placement.describe()
    leave_group(group)
    return trainer.conclude(summary) if group.is_main else summary
