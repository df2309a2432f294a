"""The run directory as one concept: create it, read it, list and find runs, load one for use.

A run directory describes itself::

    runs/lm-20261123-101500/
      config.json      format version, task, resolved RunConfig, model/data facts (labels...)
      tokenizer.json   the tokenizer (ours for char, the `tokenizers` library's for word/BPE)
      best.pt, last.pt, metrics.jsonl, summary.json    written by the trainer
                                                       (seqcli/training/checkpoint.py)

It loads without executing code, on any device, whatever device trained it. Every file is
written through seqcli/atomic.py: a crash at any moment leaves the previous good file.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import torch

from seqcli.atomic import remove_stale_temps, write_json
from seqcli.config import RunConfig
from seqcli.data.tokenizers import Tokenizer, load_tokenizer, save_tokenizer
from seqcli.device import Placement, place
from seqcli.errors import CheckpointError, ConfigError
from seqcli.models.builder import build_model
from seqcli.training.checkpoint import (BEST_FILE, FORMAT_VERSION, KEY_MODEL, KEY_VERSION,
                                        LAST_FILE, SUMMARY_FILE, check_finite, load_checkpoint)
from seqcli.version import __version__

CONFIG_FILE, TOKENIZER_FILE = "config.json", "tokenizer.json"
TASK_NAMES = {"lm": "language-model", "classify": "classifier"}
TRAIN_HINT = {"lm": "`seqcli train`", "classify": "`seqcli train --task classify`"}


# ----- creating ------------------------------------------------------------------------------
def new_run_dir(parent: Path, task: str) -> Path:
    """A fresh, unique `<parent>/<task>-<timestamp>` folder."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        candidate = parent / (f"{task}-{stamp}" + (f"-{n}" if n else ""))
        try:
            candidate.mkdir(parents=True, exist_ok=False)
            return candidate
        except FileExistsError:
            continue
        except OSError as err:
            raise CheckpointError(f"cannot create run directory in {parent}: {err}") from None
    raise CheckpointError(f"cannot find a free run directory name in {parent}")


def prepare_out_dir(path: Path) -> Path:
    """Use an explicit --out folder, refusing to overwrite an existing run in it."""
    if (path / CONFIG_FILE).exists():
        raise CheckpointError(f"{path} already holds a run; choose another --out or use "
                              f"--resume {path}")
    if path.exists() and not path.is_dir():
        raise CheckpointError(f"--out {path} exists and is not a directory")
    if path.is_dir():
        remove_stale_temps(path)  # a start that was killed before its config.json
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / f".write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise CheckpointError(f"cannot write to run directory {path}: {err.strerror or err}") from None
    return path


def write_run_files(run_dir: Path, config: RunConfig, tokenizer: Tokenizer,
                    meta: dict[str, Any]) -> None:
    """config.json and tokenizer.json of a new run; on failure the half-made folder is removed
    (it holds nothing of the user's yet)."""
    meta = {**meta, "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "seqcli_version": __version__}
    try:
        save_tokenizer(tokenizer, run_dir / TOKENIZER_FILE)
        write_config(run_dir, {KEY_VERSION: FORMAT_VERSION, "task": config.task,
                               "config": config.to_dict(), "meta": meta})
    except CheckpointError as err:
        for name in (CONFIG_FILE, TOKENIZER_FILE):
            (run_dir / name).unlink(missing_ok=True)
        remove_stale_temps(run_dir)
        with contextlib.suppress(OSError):  # an --out folder that held other files stays
            run_dir.rmdir()
        raise CheckpointError(f"{err}; the unfinished run directory was removed") from None


def write_config(run_dir: Path, stored: dict[str, Any]) -> None:
    write_json(run_dir / CONFIG_FILE, stored)


# ----- reading -------------------------------------------------------------------------------
def read_run_config(run_dir: Path) -> dict[str, Any]:
    """The run's config.json, checked for being a seqcli run this version can read."""
    run_dir = Path(run_dir)
    path = run_dir / CONFIG_FILE
    if not run_dir.exists():
        raise CheckpointError(f"run directory not found: {run_dir}")
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir} is not a run directory (it is a file)")
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a seqcli run (no {CONFIG_FILE})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} is corrupt: {err}") from None
    if not isinstance(data, dict) or "config" not in data or "task" not in data:
        raise CheckpointError(f"{path} is not a seqcli run config")
    _check_version(data.get(KEY_VERSION), path, run_dir)
    _check_shape(data, path)
    return data


def _check_version(version: Any, path: Path, run_dir: Path) -> None:
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{path} is corrupt: format_version {version!r} is not a number")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{run_dir} was written by a newer seqcli (format {version!r}); "
                              f"upgrade seqcli to read it")


def _check_shape(data: dict[str, Any], path: Path) -> None:
    config, meta = data["config"], data.setdefault("meta", {})
    labels = meta.get("labels", []) if isinstance(meta, dict) else None
    if (not isinstance(data["task"], str) or not isinstance(config, dict)
            or not isinstance(meta, dict) or not isinstance(labels, list)
            or not all(isinstance(label, str) for label in labels)):
        raise CheckpointError(f"{path} is corrupt: task, config, meta or labels has the wrong "
                              f"type")
    if config.get("task", "lm") != data["task"]:
        raise CheckpointError(f"{path} is corrupt: it says task {data['task']!r} at the top but "
                              f"{config.get('task', 'lm')!r} in its config")


def resolved_config(run_dir: Path, stored: dict[str, Any] | None = None) -> RunConfig:
    """The run's RunConfig, rebuilt from config.json; an invalid one is a corrupt run."""
    stored = read_run_config(run_dir) if stored is None else stored
    try:
        return RunConfig.from_dict(stored["config"])
    except (ConfigError, TypeError) as err:
        raise CheckpointError(f"{Path(run_dir) / CONFIG_FILE} is invalid: {err}") from None


def weights_file(run_dir: Path) -> Path:
    """best.pt when present, else last.pt (a run interrupted before its first evaluation)."""
    for name in (BEST_FILE, LAST_FILE):
        if (run_dir / name).is_file():
            return run_dir / name
    raise CheckpointError(f"{run_dir} has no checkpoint yet ({BEST_FILE} or {LAST_FILE})")


def read_json_or_none(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def read_summary(run_dir: Path) -> dict[str, Any] | None:
    """summary.json, or None while a run is unfinished (or when the file is torn)."""
    summary = read_json_or_none(Path(run_dir) / SUMMARY_FILE)
    return summary if isinstance(summary, dict) else None


# ----- finding -------------------------------------------------------------------------------
def list_runs(parent: Path, task: str | None = None) -> list[dict[str, Any]]:
    """Loadable runs under `parent`, newest first, with their config and summary."""
    found = []
    if not parent.is_dir():
        return found
    for child in parent.iterdir():
        if not child.is_dir() or not (child / CONFIG_FILE).is_file():
            continue
        try:
            config = read_run_config(child)
            weights_file(child)
            resolved_config(child, config)
        except CheckpointError:
            continue  # not a loadable run: skipped here, explained by `runs show` or --model
        if task is not None and config["task"] != task:
            continue
        found.append({"path": child, "config": config, "summary": read_summary(child),
                      "created": str(config["meta"].get("created", "")),
                      "mtime": (child / CONFIG_FILE).stat().st_mtime})
    found.sort(key=lambda r: (r["created"], r["mtime"]), reverse=True)
    return found


def newest_run(parent: Path, task: str | None = None) -> Path:
    """The newest loadable run of `task` (any task when None), or why there is none.

    A right-to-left language model (``--reverse``) is never the default: it is a classifier's
    backward encoder, often made as a side effect (``--pretrain-minutes`` on a bidirectional
    classifier trains one after the forward model), and it cannot continue a text. It is
    used only when named with ``--model``.
    """
    runs = list_runs(parent, task)
    forward = [r for r in runs if not reads_right_to_left(r["config"])]
    if forward:
        return forward[0]["path"]
    what = f"{TASK_NAMES[task]} run" if task else "run"
    hint = f"train one with {TRAIN_HINT.get(task, TRAIN_HINT['lm'])} or pass --model DIR"
    if runs:
        raise CheckpointError(f"no left-to-right {what} found in {parent} (only right-to-left "
                              f"ones, such as {runs[0]['path'].name}, which are used only when "
                              f"named); {hint}")
    raise CheckpointError(f"no {what} found in {parent}; {hint}")


def reads_right_to_left(stored: dict[str, Any]) -> bool:
    """Whether a run's config.json (as `read_run_config` returns it) is a ``--reverse`` LM."""
    data = stored["config"].get("data")
    return isinstance(data, dict) and data.get("reverse") is True


def differing_settings(stored: list[dict[str, Any]], names: list[str]) -> list[str]:
    """A label per run: the settings in which the runs differ (``cell=gru, lr=0.003``), or
    the run's name where they do not."""
    flat = [{f"{section}.{key}": value for section, values in c["config"].items()
             if isinstance(values, dict) for key, value in values.items()} for c in stored]
    keys = sorted(k for k in set().union(*flat) if len({repr(f.get(k)) for f in flat}) > 1)
    return [", ".join(f"{k.split('.', 1)[1]}={f.get(k)}" for k in keys) or name
            for f, name in zip(flat, names)]


# ----- loading for use -----------------------------------------------------------------------
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

    @property
    def labels(self) -> list[str]:
        return list(self.meta.get("labels", []))


def load_run(path: Path, *, device: str = "auto", precision: str = "auto",
             expect_task: str | None = None) -> LoadedRun:
    """Rebuild the model from config.json and load best.pt (or last.pt) onto a device."""
    path = Path(path)
    stored = read_run_config(path)
    if expect_task is not None and stored["task"] != expect_task:
        raise CheckpointError(
            f"{path} is a {TASK_NAMES.get(stored['task'], stored['task'])} run, but this command "
            f"needs a {TASK_NAMES[expect_task]} run (train one with {TRAIN_HINT[expect_task]})")
    config = resolved_config(path, stored)
    meta = stored.get("meta", {})
    tokenizer = load_tokenizer(path / TOKENIZER_FILE)
    model = build_model(config, vocab_size=tokenizer.vocab_size,
                        num_classes=len(meta.get("labels", [])))
    weights = weights_file(path)
    load_weights(model, load_checkpoint(weights)[KEY_MODEL], weights)
    placement = place(device, precision)
    model.to(placement.device).eval()
    return LoadedRun(path, config, meta, tokenizer, model, placement)


def load_language_model(run: str, option: str = "--init-from") -> LoadedRun:
    """A language-model run another run starts from: its tokenizer and weights on the CPU,
    fp32 (they are copied, then dropped); one-line errors for anything else."""
    path = Path(run)
    if not path.is_dir():
        raise ConfigError(f"{option} {run}: no such run directory")
    loaded = load_run(path, device="cpu", precision="fp32")
    if loaded.task != "lm":
        raise ConfigError(f"{option} {run} is a {loaded.task} run; it needs a language-model "
                          "run (seqcli train --task lm)")
    return loaded


def load_weights(model: torch.nn.Module, state: dict[str, Any], path: Path) -> None:
    """Load a checkpoint's weights into a model built from the run's config, or explain why not."""
    check_finite(state, path)
    try:
        model.load_state_dict(state)
    except (RuntimeError, KeyError, TypeError, ValueError) as err:
        raise CheckpointError(f"weights in {path} do not match the run's config.json and "
                              f"tokenizer.json ({first_detail(err)})") from None


def first_detail(err: Exception) -> str:
    """torch's first specific mismatch from a multi-line load_state_dict error."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    return (" ".join(lines[1:2] or lines[:1]) or type(err).__name__)[:200]
