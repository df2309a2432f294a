"""`seqcli export` and `Run.export`: a run's model as a verified ONNX or TorchScript file.

Order: resolve the target (format, path, opset) and check that it can be written, before any
work; copy the model to fp32 on the CPU in eval mode; build its export graph (wrappers.py);
write the file *to bytes*; load those bytes back and verify them against the copy
(verify.py); only then replace the three files as one set (atomic.replace_together): the model
file and tokenizer.json, then ``<file>.json`` (sidecar.py), the description, last; it names the
generation (the SHA-256 of the other two). A failure before the set is replaced (verification,
a full disk, Ctrl-C) leaves a previous export as it was; a crash while the files are renamed
leaves them without a description, an unfinished export that the next one replaces, never a
description beside a model it does not describe.

Where: by default ``RUN/export/model.onnx`` (or ``model.pt``). That folder belongs to the export
and is replaced freely; nothing else in the run directory is touched. An explicit path never
replaces an existing file unless ``overwrite`` (``--force``), and never lands at the top of a
run directory, whose files are the run's.
"""

from __future__ import annotations

import copy
import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from torch import nn

from seqcli.atomic import json_bytes, refuse_to_replace, remove_stale_temps, replace_together
from seqcli.choices import EXPORT_FORMATS
from seqcli.errors import ExportError, UsageError
from seqcli.export import onnx_file, torchscript_file
from seqcli.export.samples import classifier_texts
from seqcli.export.sidecar import describe, sidecar_path, tokenizer_path, tokenizer_text
from seqcli.export.verify import Runner, verify_classifier, verify_language_model
from seqcli.export.wrappers import GraphSpec, export_graph
from seqcli.runs import CONFIG_FILE, LoadedRun, read_json_or_none

EXPORT_DIR = "export"
DEFAULT_NAMES = {"onnx": "model.onnx", "torchscript": "model.pt"}
SUFFIXES = {".onnx": "onnx", ".pt": "torchscript", ".ts": "torchscript"}


@dataclass(frozen=True)
class Target:
    path: Path
    format: str
    opset: int | None  # ONNX only
    default: bool  # RUN/export/: the export's own folder, replaced freely


def resolve_target(run_dir: Path, path: Path | None, fmt: str | None,
                   opset: int | None) -> Target:
    """Format from `fmt` or the suffix, the default path from the format; checked options."""
    suffix_format = None if path is None else SUFFIXES.get(path.suffix.lower())
    fmt = fmt or suffix_format
    if fmt is None:
        raise UsageError("name the export format: --to onnx or --to torchscript "
                         "(or an --out ending in .onnx or .pt)")
    if fmt not in EXPORT_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; choose one of "
                         f"{', '.join(EXPORT_FORMATS)}")
    if suffix_format is not None and suffix_format != fmt:
        raise UsageError(f"--out {path} names a {suffix_format} file but --to is {fmt}")
    if fmt == "onnx":
        opset = onnx_file.check_opset(opset)
    elif opset is not None:
        raise UsageError("--opset applies to ONNX exports only")
    if path is None:
        return Target(run_dir / EXPORT_DIR / DEFAULT_NAMES[fmt], fmt, opset, True)
    if path.is_dir():  # an existing folder: the default name inside it
        path = path / DEFAULT_NAMES[fmt]
    return Target(path, fmt, opset, False)


def check_destination(target: Target, run_dir: Path, tokenizer: str, overwrite: bool) -> None:
    """Refuse what would corrupt a run or silently replace a user's file; make the folder."""
    folder = target.path.parent
    if not target.default and _is_run_dir(folder):
        raise UsageError(f"{target.path} would be written into the run directory {folder} "
                         f"itself; use {run_dir / EXPORT_DIR} (the default) or another folder")
    if target.path.is_dir():
        raise UsageError(f"--out {target.path} is a directory inside a folder: name the file")
    if not target.default:  # a tokenizer.json equal to the run's is shared, not replaced
        tok = tokenizer_path(target.path)
        replaced = [tok] if tok.exists() and _read_or_none(tok) != tokenizer else []
        refuse_to_replace([target.path, sidecar_path(target.path), *replaced], overwrite)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if target.default:
            remove_stale_temps(folder)  # left by an export killed mid-write
        probe = folder / f".export-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as err:
        raise ExportError(f"cannot write to {folder}: {err.strerror or err}") from None


def _is_run_dir(folder: Path) -> bool:
    """A seqcli run's folder: its config.json has the run's task and config."""
    stored = read_json_or_none(folder / CONFIG_FILE)
    return isinstance(stored, dict) and {"task", "config"} <= set(stored)


def _read_or_none(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


# format -> (graph to bytes, bytes to a runner)
WRITERS: dict[str, tuple[Callable[[nn.Module, GraphSpec, int | None], bytes],
                         Callable[[bytes, GraphSpec], Runner]]] = {
    "onnx": (onnx_file.onnx_bytes, onnx_file.onnx_runner),
    "torchscript": (lambda graph, spec, _: torchscript_file.torchscript_bytes(graph, spec),
                    torchscript_file.torchscript_runner),
}


def export_run(run: LoadedRun, path: Path | None = None, fmt: str | None = None,
               opset: int | None = None, overwrite: bool = False) -> dict[str, Any]:
    """Export, verify, write (see the module docstring); the report of what was written."""
    target = resolve_target(run.path, None if path is None else Path(path), fmt, opset)
    if target.format == "onnx":
        onnx_file.require_onnx()  # before any work: one line on how to install it
    tokenizer = tokenizer_text(run)
    check_destination(target, run.path, tokenizer, overwrite)
    reference = copy.deepcopy(run.model).float().cpu().eval()
    graph, spec = export_graph(reference)
    to_bytes, to_runner = WRITERS[target.format]
    data = to_bytes(graph.eval(), spec, target.opset)
    verification = verify(run, reference, to_runner(data, spec), spec)
    vocabulary = tokenizer.encode("utf-8")
    digests = {"model": hashlib.sha256(data).hexdigest(),
               "tokenizer": hashlib.sha256(vocabulary).hexdigest()}
    fields = format_fields(target) | {"bytes": len(data), "verified": verification,
                                      "sha256": digests}
    document = describe(run, spec, target.path, target.format, fields)
    replace_together([(target.path, data), (tokenizer_path(target.path), vocabulary),
                      (sidecar_path(target.path), json_bytes(document))])
    return {"path": str(target.path), "format": target.format, "bytes": len(data),
            "opset": target.opset, "task": run.task, "run": str(run.path),
            "metadata": str(sidecar_path(target.path)),
            "tokenizer": str(tokenizer_path(target.path)), "verified": verification}


def verify(run: LoadedRun, reference: nn.Module, runner: Runner, spec: GraphSpec) -> dict:
    """The task's verification of the bytes about to be written (verify.py)."""
    if run.task == "lm":
        return verify_language_model(reference, runner, run.tokenizer, spec.outputs)
    data = classifier_texts(run.tokenizer, run.config)
    return verify_classifier(reference, runner, data, spec.outputs)


def format_fields(target: Target) -> dict[str, Any]:
    """How the file was written and what ran it back."""
    if target.format == "onnx":
        return {"opset": target.opset, "exporter": onnx_file.EXPORTER,
                "verified_with": onnx_file.runtime_version()}
    return {"exporter": "torch.jit.trace", "verified_with": "torch.jit.load"}
