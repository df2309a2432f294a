"""What the benchmark scripts that launch `seqcli` share: their command lines, and the
``--dry-run`` report of what a run would do.

A dry run goes through the same command-building code as a real run, then prints the commands
and where each corpus would come from (mirror, cache, or a download the real run would make)
instead of training for minutes. So a test can prove in seconds that a benchmark still starts
and that its commands still parse (tests/bench/test_benchmark_scripts.py).

Not a benchmark itself (hence the underscore); the scripts import it from their own folder.
It imports seqcli (and so torch) only when a dry run needs it: the launchers only wait on
their `seqcli` children, and their ``--help`` and real runs need not load torch.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

DRY_RUN_HELP = "print the exact commands and where the corpora come from, then exit"


def seqcli_command(args: Sequence[str]) -> list[str]:
    """The seqcli of this interpreter, so a benchmark runs the code it sits beside."""
    return [sys.executable, "-m", "seqcli", *args]


def corpus_option(args: Sequence[str], task: str = "lm") -> str:
    """The corpus `seqcli train --task TASK ARGS` would use: its last ``--corpus`` (later
    flags win), else the task's default."""
    chosen = default_corpus(task)
    for i, arg in enumerate(args):
        if arg == "--corpus" and i + 1 < len(args):
            chosen = args[i + 1]
        elif arg.startswith("--corpus="):
            chosen = arg.split("=", 1)[1]
    return chosen


def default_corpus(task: str) -> str:
    """The corpus `seqcli train --task TASK` trains on when given none."""
    from seqcli.config import CLASSIFY_DEFAULTS, DataConfig

    return CLASSIFY_DEFAULTS[("data", "corpus")] if task == "classify" else DataConfig.corpus


def local_corpus(name: str, env: Mapping[str, str]) -> dict[str, Any]:
    """Where corpus `name` is on this machine (as the CLI would look, never downloading).

    ``found`` is False when a real run would have to download it (or cannot find it).
    """
    from seqcli.data.registry import resolve_corpus
    from seqcli.errors import SeqcliError
    from seqcli.locations import from_environment

    locations = from_environment(env)
    try:
        resolved = resolve_corpus(name, data_dir=locations.data, cache_dir=locations.cache,
                                  allow_download=False)
    except SeqcliError as err:
        return {"name": name, "found": False, "why": str(err)}
    return {"name": name, "found": True, "origins": sorted(set(resolved.origins.values())),
            "paths": [str(p) for p in resolved.paths.values()]}


def print_plan(plan: Mapping[str, Any]) -> None:
    """One JSON document on stdout, like the scripts' real reports."""
    print(json.dumps({"dry_run": True, **plan}, indent=2))


def machine() -> dict[str, Any]:
    """seqcli bench's description of the machine (`machine_info`: CPU, torch, threads, load),
    with ``cores`` as reports always had, plus lscpu's model name and instruction-set flags:
    a quality report must say which machine class it was measured on."""
    import os
    import subprocess

    from seqcli.bench.timing import machine_info

    fields: dict[str, str] = {}
    try:
        listing = subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout
        fields = {k.strip(): v.strip() for k, _, v in
                  (line.partition(":") for line in listing.splitlines())}
    except (OSError, subprocess.SubprocessError):
        pass
    return {"cores": os.cpu_count(), **machine_info(), "lscpu_model": fields.get("Model name"),
            "flags": fields.get("Flags")}
