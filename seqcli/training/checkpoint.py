"""The one checkpoint format: what the trainer writes into a run directory and reads back.

The trainer owns four files of a run directory (the rest is seqcli/runs.py's): ``best.pt``
(weights at the best validation score: what generate and classify use), ``last.pt`` (weights,
optimizer, progress, RNG and carried state: what --resume uses), ``metrics.jsonl`` (one JSON
object per logged step or evaluation) and ``summary.json`` (once training ends).

Checkpoints hold only tensors and primitives and are read with ``torch.load(weights_only=True)``,
so loading a run never executes code; they are written through seqcli/atomic.py, so a crash at
any moment leaves the previous good file.
"""

from __future__ import annotations

import json
import pickle
import re
import zipfile
from pathlib import Path
from typing import Any

import torch

from seqcli.atomic import write_bytes, write_failure
from seqcli.errors import CheckpointError

FORMAT_VERSION = 1
BEST_FILE, LAST_FILE = "best.pt", "last.pt"
METRICS_FILE, SUMMARY_FILE = "metrics.jsonl", "summary.json"

# Keys inside a checkpoint file.
KEY_VERSION, KEY_MODEL, KEY_OPTIMIZER = "format_version", "model", "optimizer"
KEY_PROGRESS, KEY_RNG, KEY_STATE, KEY_SCALER = "progress", "rng", "carried_state", "scaler"
KEY_AVERAGE = "weight_average"  # WeightAverage state when --ema is on


def save_checkpoint(path: Path, payload: dict[str, Any]) -> None:
    payload = {KEY_VERSION: FORMAT_VERSION, **payload}
    write_bytes(path, lambda handle: torch.save(payload, handle))


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


def append_jsonl(path: Path, record: dict[str, Any]) -> None:
    """Append one metrics line; a torn last line is tolerated by readers."""
    try:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(record) + "\n")
    except OSError as err:
        raise CheckpointError(write_failure(path, err)) from None
