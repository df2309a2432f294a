"""The run directory and its single checkpoint format.

A run directory describes itself::

    runs/lm-20261123-101500/
      config.json      format version, task, resolved RunConfig, model/data facts (labels...)
      tokenizer.json   the tokenizer (ours for char, the `tokenizers` library's for word/BPE)
      best.pt          weights at the best validation score        (what generate/classify use)
      last.pt          weights + optimizer + progress + RNG + carried state (what --resume uses)
      metrics.jsonl    one JSON object per logged training step or evaluation
      summary.json     the final summary, once training ends

Checkpoints hold only tensors and primitives and are read with ``torch.load(weights_only=True)``,
so loading a run never executes code. Every file is written to a temporary name, flushed,
fsynced and renamed over the old one: a crash at any moment leaves the previous good file.
"""

from __future__ import annotations

import errno
import json
import os
import pickle
import re
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from seqcli.atomic import atomic_file
from seqcli.errors import CheckpointError

FORMAT_VERSION = 1
CONFIG_FILE, TOKENIZER_FILE = "config.json", "tokenizer.json"
BEST_FILE, LAST_FILE = "best.pt", "last.pt"
METRICS_FILE, SUMMARY_FILE = "metrics.jsonl", "summary.json"

# Keys inside a checkpoint file.
KEY_VERSION, KEY_MODEL, KEY_OPTIMIZER = "format_version", "model", "optimizer"
KEY_PROGRESS, KEY_RNG, KEY_STATE, KEY_SCALER = "progress", "rng", "carried_state", "scaler"
KEY_AVERAGE = "weight_average"  # WeightAverage state when --ema is on


def atomic_write_bytes(path: Path, write) -> None:
    """Call `write(handle)` on a temp file beside `path`, fsync it, then rename it into place.

    Any failure (a full disk, an unwritable folder, Ctrl-C) deletes the temp file and leaves the
    previous `path` untouched; file-system errors become one CheckpointError naming the file.
    """
    path = Path(path)
    try:
        with atomic_file(path) as handle:
            write(handle)
    except OSError as err:
        raise CheckpointError(write_failure(path, err)) from None


def remove_stale_temps(run_dir: Path) -> list[Path]:
    """Delete temp files left by a process that was killed mid-write (its pid is gone)."""
    removed = []
    for tmp in Path(run_dir).glob(".*.tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if not pid.isdigit() or int(pid) == os.getpid() or _alive(int(pid)):
            continue
        try:
            tmp.unlink()
            removed.append(tmp)
        except OSError:
            pass
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists but is not ours (EPERM), or cannot tell: leave its file alone
        return True
    return True


def write_failure(path: Path, err: OSError) -> str:
    """'cannot write PATH: No space left on device; ...' for a failed write of a run file."""
    reason = err.strerror or str(err) or type(err).__name__
    kept = "the previous version is kept" if Path(path).exists() else "nothing was written"
    hint = "; free some disk space" if err.errno == errno.ENOSPC else ""
    return f"cannot write {path}: {reason} ({kept}{hint})"


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, lambda handle: handle.write(text.encode("utf-8")))


def atomic_write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    payload = {KEY_VERSION: FORMAT_VERSION, **payload}
    atomic_write_bytes(path, lambda handle: torch.save(payload, handle))


def load_checkpoint(path: Path) -> dict[str, Any]:
    """Read a checkpoint on the CPU without unpickling arbitrary objects."""
    if not path.is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    _check_archive(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        raise CheckpointError(f"refusing to load {path}: it holds objects other than tensors "
                              f"and plain values ({_unpickling_reason(err)})") from None
    except (RuntimeError, EOFError, zipfile.BadZipFile, ValueError, OSError) as err:
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt "
                              f"({str(err).splitlines()[0][:160] if str(err) else type(err).__name__})") from None
    if not isinstance(data, dict) or not isinstance(data.get(KEY_MODEL), dict):
        raise CheckpointError(f"{path} is not a seqcli checkpoint")
    version = data.get(KEY_VERSION)
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise CheckpointError(f"{path} has checkpoint format {version!r}; this seqcli reads "
                              f"format {FORMAT_VERSION} and older: upgrade seqcli")
    return data


def _check_archive(path: Path) -> None:
    """torch.save writes a zip archive: refuse anything else (never unpickle it), and check
    every member's CRC, which torch.load does not (a flipped bit would load as bad weights)."""
    if not zipfile.is_zipfile(path):
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt (not a torch "
                              f"checkpoint archive)")
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError,
            KeyError) as err:
        raise CheckpointError(f"checkpoint {path} is truncated or corrupt "
                              f"({type(err).__name__}: {str(err)[:120]})") from None
    if bad is not None:
        raise CheckpointError(f"checkpoint {path} is corrupt (checksum mismatch in {bad})")


def _unpickling_reason(err: Exception) -> str:
    """The informative part of torch's long weights_only message (which global was refused)."""
    text = str(err)
    found = re.search(r"GLOBAL ([\w.]+)", text)
    if found:
        return f"unsupported global {found.group(1)}"
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in lines:
        if "WeightsUnpickler error:" in line:
            return line.split("WeightsUnpickler error:", 1)[1].strip().split(". ")[0][:160]
    return lines[-1][:160] if lines else "unsafe content"


def check_finite(state: dict[str, Any], path: Path) -> None:
    """Refuse weights holding NaN or infinity: they can only produce garbage."""
    for name, value in state.items():
        if (isinstance(value, torch.Tensor) and value.is_floating_point()
                and not bool(torch.isfinite(value).all())):
            raise CheckpointError(f"{path}: weight {name!r} holds NaN or infinite values; the "
                                  f"checkpoint is corrupt")


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


def read_run_config(run_dir: Path) -> dict[str, Any]:
    """The run's config.json, checked for being a seqcli run this version can read."""
    run_dir = Path(run_dir)
    if not run_dir.exists():
        raise CheckpointError(f"run directory not found: {run_dir}")
    if not run_dir.is_dir():
        raise CheckpointError(f"{run_dir} is not a run directory (it is a file)")
    path = run_dir / CONFIG_FILE
    if not path.is_file():
        raise CheckpointError(f"{run_dir} is not a seqcli run (no {CONFIG_FILE})")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{path} is corrupt: {err}") from None
    if not isinstance(data, dict) or "config" not in data or "task" not in data:
        raise CheckpointError(f"{path} is not a seqcli run config")
    version = data.get(KEY_VERSION)
    if not isinstance(version, int) or isinstance(version, bool):
        raise CheckpointError(f"{path} is corrupt: format_version {version!r} is not a number")
    if version > FORMAT_VERSION:
        raise CheckpointError(f"{run_dir} was written by a newer seqcli (format {version!r}); "
                              f"upgrade seqcli to read it")
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
    return data


def weights_file(run_dir: Path) -> Path:
    """best.pt when present, else last.pt (a run interrupted before its first evaluation)."""
    for name in (BEST_FILE, LAST_FILE):
        if (run_dir / name).is_file():
            return run_dir / name
    raise CheckpointError(f"{run_dir} has no checkpoint yet ({BEST_FILE} or {LAST_FILE})")


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
        summary = read_json_or_none(child / SUMMARY_FILE)
        summary = summary if isinstance(summary, dict) else None
        found.append({"path": child, "config": config, "summary": summary,
                      "created": str(config["meta"].get("created", "")),
                      "mtime": (child / CONFIG_FILE).stat().st_mtime})
    found.sort(key=lambda r: (r["created"], r["mtime"]), reverse=True)
    return found


def resolved_config(run_dir: Path, stored: dict[str, Any] | None = None):
    """The run's RunConfig, rebuilt from config.json; an invalid one is a corrupt run."""
    from seqcli.config import RunConfig
    from seqcli.errors import ConfigError

    stored = read_run_config(run_dir) if stored is None else stored
    try:
        return RunConfig.from_dict(stored["config"])
    except (ConfigError, TypeError) as err:
        raise CheckpointError(f"{Path(run_dir) / CONFIG_FILE} is invalid: {err}") from None


def newest_run(parent: Path, task: str) -> Path:
    runs = list_runs(parent, task)
    if not runs:
        what = "language-model" if task == "lm" else "classifier"
        raise CheckpointError(f"no {what} run found in {parent}; train one with "
                              f"`seqcli train{'' if task == 'lm' else ' --task classify'}` "
                              f"or pass --model DIR")
    return runs[0]["path"]


def read_json_or_none(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one metrics line; a torn last line is tolerated by readers."""
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    except OSError as err:
        raise CheckpointError(write_failure(path, err)) from None
