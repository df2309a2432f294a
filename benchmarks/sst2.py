"""SST-2 dev accuracy of `seqcli train --task classify`, run exactly as a user would.

    SEQCLI_DATA=/path/to/corpora python benchmarks/sst2.py [--threads 2] [-- EXTRA TRAIN ARGS]

It runs the CLI through subprocess (``seqcli train --task classify --format json``), then scores
the best checkpoint with ``seqcli evaluate --corpus sst2 --format json`` (the GLUE dev set, 872
sentences) and prints one JSON report: dev accuracy and macro-F1, wall-clock seconds, and the
exact commands. Anything after ``--`` is passed to `seqcli train` (e.g. ``-- --max-minutes 5``).
Run directories go to benchmarks/out/ (git-ignored) unless ``--runs`` says otherwise.
``--dry-run`` prints both commands and where the corpora would come from, and trains nothing.

Time it on a machine with nothing else running: with other work on the cores, OpenMP's
spinning barriers make two-thread training several times slower (see the speed section of
RESULTS.md). ``OMP_WAIT_POLICY=PASSIVE`` avoids that collapse on a loaded machine but costs
about a quarter of the speed on an idle one, so it is not set here.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

from _plan import DRY_RUN_HELP, corpus_option, local_corpus, print_plan, seqcli_command

HERE = Path(__file__).resolve().parent
DEV = "sst2"  # scored on its GLUE validation split, whatever the run trained on


def train_args(extra: list[str]) -> list[str]:
    return ["train", "--task", "classify", "--format", "json", *extra]


def eval_args(run_dir: str) -> list[str]:
    return ["evaluate", "--model", run_dir, "--corpus", DEV, "--format", "json"]


def seqcli(args: list[str], env: dict[str, str]) -> dict:
    """Run `python -m seqcli ARGS` and parse its one JSON document (stderr passes through)."""
    command = seqcli_command(args)
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {shlex.join(command)}")
    return json.loads(done.stdout)


def dry_run(extra: list[str], env: dict[str, str]) -> None:
    """Both commands (the run folder is only known after training) and the corpora."""
    trained_on = corpus_option(extra, "classify")
    print_plan({"benchmark": "sst2-dev", "runs": env["SEQCLI_RUNS"],
                "threads": env.get("OMP_NUM_THREADS"),
                "corpus": local_corpus(trained_on, env), "dev_corpus": local_corpus(DEV, env),
                "commands": [seqcli_command(train_args(extra)),
                             seqcli_command(eval_args("<run_dir from the summary>"))]})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=Path, default=HERE / "out" / "sst2",
                        help="parent folder for the run directory")
    parser.add_argument("--threads", type=int, default=None,
                        help="limit PyTorch/OpenMP threads (default: all cores)")
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    parser.add_argument("extra", nargs="*", help="extra `seqcli train` arguments (after --)")
    options = parser.parse_args()
    env = dict(os.environ, SEQCLI_RUNS=str(options.runs))
    if "SEQCLI_DATA" not in env:
        print("note: SEQCLI_DATA is not set; the corpus comes from the cache or a download",
              file=sys.stderr)
    if options.threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(options.threads)
    if options.dry_run:
        return dry_run(options.extra, env)
    training = train_args(options.extra)
    started = time.perf_counter()
    summary = seqcli(training, env)
    elapsed = time.perf_counter() - started
    scoring = eval_args(summary["run_dir"])
    scores = seqcli(scoring, env)
    report = {
        "benchmark": "sst2-dev", "dev_accuracy": scores["accuracy"],
        "dev_macro_f1": scores["macro_f1"], "n": scores["n"],
        "train_wall_seconds": round(elapsed, 1),
        "train_seconds": round(summary["train_seconds"], 1), "steps": summary["steps"],
        "best_step": summary["best_step"], "stopped_by": summary["stopped_by"],
        "device": summary.get("device"), "threads": options.threads or os.cpu_count(),
        "omp_wait_policy": env.get("OMP_WAIT_POLICY"),
        "run_dir": summary["run_dir"],
        "commands": [shlex.join(["seqcli", *training]), shlex.join(["seqcli", *scoring])],
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
