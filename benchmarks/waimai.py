"""Chinese reviews (waimai_10k): seqcli's default classifier against a char-bigram NBSVM.

    pip install scikit-learn          # for the baseline (benchmark-only)
    SEQCLI_DATA=/path/to/corpora python benchmarks/waimai.py [--max-minutes 5]
                                                             [-- EXTRA TRAIN ARGS]

Protocol (issue 25's target: the default classifier at least 1 point above the baseline):

1. ``$SEQCLI_DATA/waimai_10k/waimai_10k.csv`` (11,987 food-delivery reviews, ``label,review``)
   is read by seqcli's own reader, and a stratified fifth is held out as the test set with a
   fixed seed (`seqcli.data.labelled.stratified_split`, seed 0). The two parts are written to
   ``benchmarks/out/waimai/train.csv`` and ``test.csv`` (git-ignored; rewritten each run).
2. The default classifier, as a user runs it: ``seqcli train --task classify --corpus
   train.csv --max-minutes M --format json`` (no other flag; it selects its checkpoint on a
   slice of train.csv), then ``seqcli evaluate --corpus test.csv --format json``.
3. The baseline: `nbsvm.fit_predict` with character uni+bigrams on the same two parts (C
   tuned on a tenth of train.csv, see benchmarks/nbsvm.py).
4. The majority class' accuracy on the test fifth, for scale.

One JSON report (stdout, and ``benchmarks/out/waimai/report.json``) holds both scores, the
commands, and the machine (lscpu's model and flags): compare runs on the same machine class.
``--dry-run`` prints the split sizes and the commands, and writes and trains nothing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shlex
import subprocess
import time
from collections import Counter
from pathlib import Path

import nbsvm
from _plan import DRY_RUN_HELP, machine, print_plan, seqcli_command

from seqcli.data.labelled import LabelledData, read_labelled, stratified_split

CORPUS = Path("waimai_10k") / "waimai_10k.csv"
OUT = Path(__file__).resolve().parent / "out" / "waimai"
TEST_FRACTION, SEED = 0.2, 0


def corpus_path() -> Path | None:
    """The corpus in the SEQCLI_DATA mirror, or None."""
    value = os.environ.get("SEQCLI_DATA")
    path = Path(value or ".") / CORPUS
    return path if value and path.is_file() else None


def write_csv(path: Path, data: LabelledData) -> Path:
    """A ``label,review`` CSV, as the corpus itself is laid out."""
    with open(path, "w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["label", "review"])
        writer.writerows(zip(data.labels, data.texts))
    return path


def split(path: Path) -> tuple[LabelledData, LabelledData]:
    """The fixed train part and test fifth."""
    data = read_labelled(path)
    train_idx, test_idx = stratified_split(data.labels, TEST_FRACTION, SEED)
    return data.subset(train_idx), data.subset(test_idx)


def commands(train: Path | str, test: Path | str, run: Path | str, minutes: float,
             extra: list[str]) -> list[list[str]]:
    return [seqcli_command(["train", "--task", "classify", "--corpus", str(train),
                            "--max-minutes", f"{minutes:g}", "--out", str(run),
                            "--format", "json", *extra]),
            seqcli_command(["evaluate", "--model", str(run), "--corpus", str(test),
                            "--format", "json"])]


def seqcli(command: list[str]) -> dict:
    done = subprocess.run(command, stdout=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"failed ({done.returncode}): {shlex.join(command)}")
    return json.loads(done.stdout)


def classifier(train: Path, test: Path, minutes: float, extra: list[str], out: Path) -> dict:
    """The default classifier trained through the CLI and scored on the test fifth."""
    run = out / time.strftime("run-%Y%m%d-%H%M%S")
    train_command, evaluate_command = commands(train, test, run, minutes, extra)
    started = time.perf_counter()
    summary = seqcli(train_command)
    wall = time.perf_counter() - started
    scores = seqcli(evaluate_command)
    return {"accuracy": scores["accuracy"], "macro_f1": scores["macro_f1"], "n": scores["n"],
            "val_accuracy": summary.get("val_accuracy"), "steps": summary["steps"],
            "stopped_by": summary.get("stopped_by"), "train_wall_seconds": round(wall, 1),
            "run_dir": str(run),
            "command": shlex.join(["seqcli", "train", "--task", "classify", "--corpus",
                                   "train.csv", "--max-minutes", f"{minutes:g}", *extra])}


def baseline(train: LabelledData, test: LabelledData) -> dict:
    return {"model": "NBSVM (NB-LR), character uni+bigrams",
            **nbsvm.scored(train, test, "char", (1, 2))}


def parse_options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-minutes", type=float, default=5.0,
                        help="the classifier's training budget (default 5)")
    parser.add_argument("--out", type=Path, default=OUT, help=f"default {OUT}")
    parser.add_argument("--dry-run", action="store_true", help=DRY_RUN_HELP)
    parser.add_argument("extra", nargs="*", help="extra `seqcli train` arguments (after --)")
    options = parser.parse_args()
    if options.max_minutes <= 0:
        parser.error("--max-minutes must be > 0")
    return options


def dry_run(options: argparse.Namespace, path: Path | None) -> None:
    """The split (when the corpus is at hand: its files are written) and the commands."""
    plan: dict = {"benchmark": "waimai", "corpus": str(path) if path else None}
    if path is not None:
        train, test = split(path)
        plan.update(train_texts=len(train), test_texts=len(test))
    plan["commands"] = commands(options.out / "train.csv", options.out / "test.csv",
                                options.out / "<run>", options.max_minutes, options.extra)
    print_plan(plan)


def main() -> None:
    options = parse_options()
    path = corpus_path()
    if options.dry_run:
        return dry_run(options, path)
    if path is None:
        raise SystemExit(f"set SEQCLI_DATA to a folder holding {CORPUS} (see the README)")
    nbsvm.need_sklearn()  # before minutes of training, not after
    train, test = split(path)
    options.out.mkdir(parents=True, exist_ok=True)
    train_csv = write_csv(options.out / "train.csv", train)
    test_csv = write_csv(options.out / "test.csv", test)
    sizes = {"train_texts": len(train), "test_texts": len(test),
             "test_labels": dict(sorted(Counter(test.labels).items()))}
    majority = Counter(test.labels).most_common(1)[0][1] / len(test)
    report = {"benchmark": "waimai", "split": f"stratified {TEST_FRACTION:g} test (seed {SEED})",
              **sizes, "majority_accuracy": majority,
              "seqcli": classifier(train_csv, test_csv, options.max_minutes, options.extra,
                                   options.out),
              "nbsvm": baseline(train, test), "machine": machine()}
    report["margin_points"] = round(100 * (report["seqcli"]["accuracy"]
                                           - report["nbsvm"]["accuracy"]), 2)
    text = json.dumps(report, indent=2, ensure_ascii=False)
    (options.out / "report.json").write_text(text + "\n", encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
