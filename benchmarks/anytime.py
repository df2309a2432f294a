"""Time to quality: held-out quality against wall-clock time, for recipes and their peers.

What a user feels is how good the model is after the minutes they gave it on their own machine,
not the quality after unbounded time. This benchmark runs `seqcli train` as a user would
(subprocess, `--format json`), reads each run's evaluations from its metrics.jsonl (every
record carries the wall seconds since the run started) and reports the *anytime curve*: at
each moment, the held-out quality of the model the run would hand over if stopped then.

    SEQCLI_DATA=../shared/corpora python benchmarks/anytime.py sst2 \
        --recipe default= --recipe old="--adversarial 0.05 --wide 0" --seeds 1234,1,2
    SEQCLI_DATA=../shared/corpora python benchmarks/anytime.py timemachine --recipe default=
    SEQCLI_DATA=../shared/corpora python benchmarks/anytime.py calibrate

Tasks and their budgets, in minutes of the *slow reference machine* (a 2-core AVX2 EPYC where
the issue-13 defaults trained at 135 texts/s and 6.3k tokens/s, fp32):

- ``sst2``: the classifier on SST-2, selection on a slice of train, the curve on GLUE dev (872
  sentences, scored at every evaluation with ``--trace-test``; never used for selection), 10 min.
  Peer: the NBSVM baseline (benchmarks/nbsvm.py) on the same train/dev, a flat line from the
  moment it finishes.
- ``timemachine`` (2.5 min) and ``shakespeare`` (5 min): character LMs, the curve in nats per
  character on the validation split. Peer: the plain PyTorch loop (benchmarks/reference_lm.py).

A faster machine reaches the slow machine's figures sooner. ``--scale R`` (R = this machine's
throughput / the slow machine's, from ``calibrate``) divides every budget by R, and the report
gives times both as measured and in slow-machine seconds (x R). Every run is fp32
(``--precision fp32``) unless a recipe says otherwise: the slow machine has no bf16.

Nothing else may run on the machine during a measurement (see benchmarks/RESULTS.md).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from _plan import DRY_RUN_HELP, corpus_option, local_corpus, print_plan, seqcli_command

HERE = Path(__file__).resolve().parent
SLOW_TEXTS_PER_SECOND = 135.0  # the issue-13 classifier default, fp32, slow AVX2 EPYC
SLOW_TOKENS_PER_SECOND = 6300.0  # the issue-13 LM default (2x256 LSTM, 16 x 64), same machine
# The issue-13 defaults, spelled out, so calibration measures the same work whatever today's
# defaults are.
OLD_CLASSIFIER = ["--task", "classify", "--hidden", "256", "--embedding", "256",
                  "--subwords", "16384", "--adversarial", "0.05", "--batch-size", "64"]
OLD_LM = ["--hidden", "256", "--layers", "2", "--embedding", "64", "--batch-size", "16",
          "--seq-len", "64"]


@dataclass(frozen=True)
class Task:
    kind: str  # "classify" or "lm"
    args: tuple[str, ...]  # what selects the task's corpus
    minutes: float  # the budget on the slow machine
    metric: str  # the curve's quantity in a metrics record
    better: str  # "max" or "min"
    checkpoints: tuple[float, ...] = field(default=())  # slow-machine minutes to report at


TASKS = {
    "sst2": Task("classify", ("--task", "classify"), 10.0, "test_accuracy", "max",
                 (1, 2, 3, 4, 6, 8, 10)),
    "timemachine": Task("lm", ("--corpus", "timemachine"), 2.5, "val_loss", "min",
                        (0.5, 1, 1.5, 2, 2.5)),
    "shakespeare": Task("lm", ("--corpus", "tinyshakespeare"), 5.0, "val_loss", "min",
                        (1, 2, 3, 4, 5)),
}


def machine() -> dict:
    """The CPU model and the flags that decide speed (AVX-512, bf16, AMX)."""
    model, flags = "unknown", set()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                elif line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ("avx2", "avx512f", "avx512_bf16", "amx_bf16", "amx_tile")
    return {"cpu": model, "cores": os.cpu_count(), "flags": [f for f in wanted if f in flags]}


def train_command(args: list[str], out: str) -> list[str]:
    return seqcli_command(["train", *args, "--out", out, "--format", "json"])


def train(args: list[str], env: dict[str, str], out: Path) -> tuple[dict, float]:
    """One `seqcli train ... --format json` in a subprocess: its summary and wall seconds."""
    command = train_command(args, str(out))
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {shlex.join(command)}")
    return json.loads(done.stdout), wall


def evaluations(run_dir: Path) -> list[dict]:
    with open(run_dir / "metrics.jsonl", encoding="utf-8") as handle:
        records = [json.loads(line) for line in handle if line.strip()]
    return [r for r in records if r.get("split") == "val"]


def anytime_curve(records: list[dict], task: Task) -> list[list[float]]:
    """[seconds, quality of the model handed over if the run stopped then].

    A classifier hands over the checkpoint its selection slice ranks best so far, so the
    curve at each evaluation is the *test* score of the best-by-validation checkpoint; a
    language model is selected on the quantity the curve shows.
    """
    curve, best_key, best_value = [], None, None
    select = "val_accuracy" if task.kind == "classify" else task.metric
    for record in records:
        if task.metric not in record or "seconds" not in record:
            continue
        key = record[select]
        improved = best_key is None or (key > best_key if task.kind == "classify"
                                        else key < best_key)
        if improved:
            best_key, best_value = key, record[task.metric]
        curve.append([round(record["seconds"], 1), round(best_value, 4)])
    return curve


def at(curve: list[list[float]], seconds: float) -> float | None:
    """The curve's value at a moment: the last point at or before it."""
    value = None
    for when, quality in curve:
        if when <= seconds + 1e-6:
            value = quality
    return value


def recipe_args(task: Task, extra: list[str], seed: int, scale: float) -> list[str]:
    """The `seqcli train` arguments of one recipe's run (the recipe's own flags win)."""
    args = [*task.args, "--precision", "fp32", "--seed", str(seed),
            "--max-minutes", f"{task.minutes / scale:.4g}", *extra]
    return [*args, "--trace-test"] if task.kind == "classify" else args


def run_recipe(task: Task, name: str, extra: list[str], seed: int, scale: float,
               env: dict[str, str]) -> dict:
    args = recipe_args(task, extra, seed, scale)
    with tempfile.TemporaryDirectory(prefix="anytime-") as tmp:
        summary, wall = train(args, env, Path(tmp) / "run")
        curve = anytime_curve(evaluations(Path(tmp) / "run"), task)
    final = summary.get("test_accuracy") if task.kind == "classify" else summary.get("val_loss")
    return {"recipe": name, "seed": seed, "command": shlex.join(["seqcli", "train", *args]),
            "final": final, "wall_seconds": round(wall, 1), "steps": summary.get("steps"),
            "stopped_by": summary.get("stopped_by"), "curve": curve,
            "items_per_second": summary.get("texts_per_second",
                                            summary.get("tokens_per_second"))}


def nbsvm_peer(env: dict[str, str]) -> dict:
    """The linear baseline on SST-2 train -> dev, timed from start to predictions."""
    command = [sys.executable, str(HERE / "nbsvm.py"), "--corpus", "sst2"]  # scored on dev
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {shlex.join(command)}")
    report = json.loads(done.stdout)
    return {"recipe": "nbsvm", "final": report["accuracy"], "wall_seconds": round(wall, 1),
            "curve": [[round(wall, 1), report["accuracy"]]], "command": shlex.join(command)}


def reference_peer(task: Task, scale: float, env: dict[str, str]) -> dict:
    """The plain PyTorch loop, evaluated at the task's checkpoints (its clock excludes them)."""
    corpus = "timemachine.txt" if "timemachine" in task.args else "tinyshakespeare.txt"
    marks = ",".join(f"{m * 60 / scale:.4g}" for m in task.checkpoints)
    command = [sys.executable, str(HERE / "reference_lm.py"), "--corpus", corpus,
               "--minutes", f"{task.minutes / scale:.4g}", "--eval-at", marks]
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, text=True)
    wall = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {shlex.join(command)}")
    report = json.loads(done.stdout)
    return {"recipe": "reference", "final": report["val_loss"], "wall_seconds": round(wall, 1),
            "curve": report.get("curve", []), "command": shlex.join(command)}


def table(task: Task, results: list[dict], scale: float) -> str:
    """Mean quality per recipe at each checkpoint (slow-machine minutes)."""
    names = list(dict.fromkeys(r["recipe"] for r in results))
    head = "| recipe | runs | " + " | ".join(f"{m:g} min" for m in task.checkpoints) + \
        " | final |"
    lines = [head, "|---|---:|" + "---:|" * (len(task.checkpoints) + 1)]
    for name in names:
        mine = [r for r in results if r["recipe"] == name]
        cells = []
        for m in task.checkpoints:
            values = [v for r in mine if (v := at(r["curve"], m * 60 / scale)) is not None]
            cells.append(_mean(values, len(mine)))
        finals = [r["final"] for r in mine if r.get("final") is not None]
        lines.append(f"| {name} | {len(mine)} | " + " | ".join(cells) +
                     f" | {_mean(finals, len(mine))} |")
    return "\n".join(lines)


def _mean(values: list[float], expected: int) -> str:
    if not values:
        return "-"
    shown = f"{statistics.mean(values):.4f}"
    return shown if len(values) == expected else f"{shown} ({len(values)}/{expected})"


def calibrate(env: dict[str, str], seconds: float) -> dict:
    """This machine's throughput on the issue-13 defaults against the slow machine's."""
    minutes = f"{seconds / 60:.4g}"
    with tempfile.TemporaryDirectory(prefix="calibrate-") as tmp:
        clf, _ = train([*OLD_CLASSIFIER, "--precision", "fp32", "--max-minutes", minutes,
                        "--eval-every", "100000"], env, Path(tmp) / "clf")
        lm, _ = train([*OLD_LM, "--precision", "fp32", "--max-minutes", minutes,
                       "--eval-every", "100000"], env, Path(tmp) / "lm")
    texts, tokens = clf["texts_per_second"], lm["tokens_per_second"]
    return {"benchmark": "calibrate", "machine": machine(),
            "classifier_texts_per_second": round(texts, 1),
            "lm_tokens_per_second": round(tokens),
            "classifier_scale": round(texts / SLOW_TEXTS_PER_SECOND, 3),
            "lm_scale": round(tokens / SLOW_TOKENS_PER_SECOND, 3)}


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("task", choices=[*TASKS, "calibrate"])
    parser.add_argument("--recipe", action="append", default=[],
                        help="NAME=ARGS: a recipe (seqcli train options, quoted); repeatable")
    parser.add_argument("--seeds", default="1234")
    parser.add_argument("--scale", type=float, default=1.0,
                        help="this machine's speed over the slow machine's (see calibrate)")
    parser.add_argument("--no-peer", action="store_true", help="skip the NBSVM/reference peer")
    parser.add_argument("--seconds", type=float, default=90.0, help="calibrate: per model")
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    options = parser.parse_args()
    if options.scale <= 0:
        parser.error("--scale must be > 0")
    if not all(s.strip().lstrip("-").isdigit() for s in options.seeds.split(",")):
        parser.error("--seeds must be comma-separated integers")
    return options


def recipes(options: argparse.Namespace) -> list[tuple[str, list[str]]]:
    return [(name, shlex.split(extra)) for name, _, extra in
            (r.partition("=") for r in (options.recipe or ["default="]))]


def dry_run(options: argparse.Namespace, env: dict[str, str]) -> None:
    """The commands a real run would launch, and where its corpus would come from."""
    if options.task == "calibrate":
        minutes = f"{options.seconds / 60:.4g}"
        commands = [train_command([*OLD_CLASSIFIER, "--precision", "fp32", "--max-minutes",
                                   minutes, "--eval-every", "100000"], "<temporary folder>/clf"),
                    train_command([*OLD_LM, "--precision", "fp32", "--max-minutes", minutes,
                                   "--eval-every", "100000"], "<temporary folder>/lm")]
        return print_plan({"benchmark": "anytime-calibrate", "commands": commands})
    task = TASKS[options.task]
    runs = [{"recipe": name, "seed": seed,
             "command": train_command(recipe_args(task, extra, seed, options.scale),
                                      "<temporary folder>/run")}
            for seed in seeds(options) for name, extra in recipes(options)]
    corpus = corpus_option(runs[0]["command"], task.kind)
    print_plan({"benchmark": f"anytime-{options.task}", "scale": options.scale,
                "corpus": local_corpus(corpus, env), "runs": runs})


def seeds(options: argparse.Namespace) -> list[int]:
    return [int(s) for s in options.seeds.split(",")]


def main() -> None:
    options = parse()
    env = dict(os.environ)
    if options.dry_run:
        return dry_run(options, env)
    if not env.get("SEQCLI_DATA"):
        sys.exit("set SEQCLI_DATA to a folder holding the corpora (see README)")
    if options.task == "calibrate":
        print(json.dumps(calibrate(env, options.seconds), indent=2))
        return
    task = TASKS[options.task]
    results = []
    if not options.no_peer:
        peer = nbsvm_peer(env) if task.kind == "classify" else reference_peer(task, options.scale,
                                                                               env)
        print(json.dumps(peer), file=sys.stderr, flush=True)
        results.append(peer)
    for seed in seeds(options):
        for name, extra in recipes(options):
            result = run_recipe(task, name, extra, seed, options.scale, env)
            print(json.dumps(result), file=sys.stderr, flush=True)
            results.append(result)
    print(json.dumps({"benchmark": f"anytime-{options.task}", "machine": machine(),
                      "scale": options.scale, "budget_minutes_slow": task.minutes,
                      "table": table(task, results, options.scale), "runs": results}, indent=2))


if __name__ == "__main__":
    main()
