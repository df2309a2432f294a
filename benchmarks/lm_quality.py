"""Held-out quality of language-model recipes under a wall-clock budget.

Runs the real CLI (as a user would) with SEQCLI_DATA pointing at a corpus mirror, and prints
one JSON line per run: the command, the machine, the held-out loss in nats per token and the
time it took, and the held-out curve (`[step, loss]` at each evaluation, so a report shows
whether the loss was still falling when the time ran out). Results are recorded by hand in
benchmarks/RESULTS.md.

    SEQCLI_DATA=../shared/corpora python benchmarks/lm_quality.py timemachine-default
    SEQCLI_DATA=../shared/corpora python benchmarks/lm_quality.py shakespeare-10min
    SEQCLI_DATA=../shared/corpora python benchmarks/lm_quality.py d2l-timemachine

``--dry-run`` prints each recipe's exact command and where its corpus would come from, and
trains nothing (the check that the recipes still match the CLI).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _plan import DRY_RUN_HELP, corpus_option, local_corpus, print_plan, seqcli_command

from seqcli.bench.timing import machine_info
from seqcli.training.curves import read_metrics, series

RECIPES = {
    # `seqcli train` with no options: the default char LSTM on The Time Machine.
    "timemachine-default": [],
    # The documented tiny Shakespeare recipe (README), 10 minutes.
    "shakespeare-10min": ["--corpus", "tinyshakespeare", "--max-minutes", "10", "--epochs", "100"],
    "shakespeare-30min": ["--corpus", "tinyshakespeare", "--max-minutes", "30", "--epochs", "300",
                          "--eval-every", "500"],
    # d2l's recipe for comparison: one layer of 256, no embedding to speak of, SGD lr 1.
    "d2l-timemachine": ["--layers", "1", "--hidden", "256", "--embedding", "28", "--dropout", "0",
                        "--optimizer", "sgd", "--lr", "1", "--seq-len", "35", "--batch-size", "32",
                        "--schedule", "constant", "--max-minutes", "5", "--epochs", "500",
                        "--partition", "random"],
}


def machine() -> dict:
    """seqcli bench's description of the machine (and "cores", as reports before it had)."""
    return {"cores": os.cpu_count(), **machine_info()}


def train_command(name: str, extra: list[str], out: str) -> list[str]:
    """The exact `seqcli train` of a recipe; `extra` comes after it, so its flags win."""
    return seqcli_command(["train", *RECIPES[name], *extra, "--out", out, "--format", "json"])


def shown_command(name: str, extra: list[str]) -> str:
    """The command as RESULTS.md records it: what a user types, without the temporary --out."""
    return shlex.join(["seqcli", "train", *RECIPES[name], *extra, "--format", "json"])


def run(name: str, extra: list[str]) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        command = train_command(name, extra, f"{tmp}/run")
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True)
        wall = time.perf_counter() - started
        if done.returncode != 0:
            return {"recipe": name, "error": done.stderr.strip().splitlines()[-1:]}
        summary = json.loads(done.stdout)
        curve = held_out_curve(Path(tmp) / "run")
    return {"recipe": name, "command": shown_command(name, extra), "val_loss": summary["val_loss"],
            "steps": summary["steps"], "wall_seconds": round(wall, 1),
            "tokens_per_second": round(summary["tokens_per_second"]),
            "device": summary.get("device"), "machine": machine(), "curve": curve}


def held_out_curve(run_dir: Path) -> list[list[float]]:
    """[step, held-out loss] of every evaluation, read before the temporary run is deleted, so a
    report says whether the loss was still falling when the time ran out."""
    steps, losses = series(read_metrics(run_dir / "metrics.jsonl"), "val", "val_loss")
    return [[step, round(loss, 4)] for step, loss in zip(steps, losses)]


def dry_run(names: list[str], extra: list[str]) -> None:
    """Each recipe's command and corpus, without training (a real run needs SEQCLI_DATA)."""
    runs = [{"recipe": name, "command": train_command(name, extra, "<temporary folder>/run"),
             "shown": shown_command(name, extra),
             "corpus": local_corpus(corpus_option(RECIPES[name] + extra), os.environ)}
            for name in names]
    print_plan({"benchmark": "lm-quality", "mirror": os.environ.get("SEQCLI_DATA"), "runs": runs})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("recipes", nargs="+", choices=sorted(RECIPES))
    parser.add_argument("--extra", default="", help="more seqcli train options, quoted")
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    args = parser.parse_args()
    extra = shlex.split(args.extra)
    if args.dry_run:
        return dry_run(args.recipes, extra)
    if not os.environ.get("SEQCLI_DATA"):
        sys.exit("set SEQCLI_DATA to a folder holding the corpora (see README)")
    for name in args.recipes:
        print(json.dumps(run(name, extra)), flush=True)


if __name__ == "__main__":
    main()
