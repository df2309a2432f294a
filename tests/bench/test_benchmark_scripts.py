"""Every script in benchmarks/ still starts against the current package.

The benchmarks are not run by the rest of the suite, so when the package changes under them
they break silently (train_step_ablation.py called a Trainer method renamed long before).
Each script runs here in its own process, as a user runs it: ``--help``, then its cheapest
real run: one tiny training round for the in-process benchmarks, ``--dry-run`` for those that
launch long ``seqcli train`` runs, whose printed commands are then parsed by the real CLI so
a recipe flag the CLI no longer has fails here. Timings are never checked.

Every run sees the mirror SEQCLI_DATA names, if any, and an empty cache: without a mirror the
in-process benchmarks make synthetic text and the dry runs report a corpus to download.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
import typer

from seqcli.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py") if not p.name.startswith("_"))
# The cheapest real run of each script; a new script must add one (see the first test).
DRY_RUNS = {
    "memory_100mb.py": ["--size-mb", "0.2", "--max-steps", "1", "--threads", "1",
                        "--whole-text", "--", "--hidden", "32"],
    "train_step_ablation.py": ["--threads", "1", "--rounds", "1", "--steps", "1"],
    "lm_quality.py": ["--dry-run", "timemachine-default", "shakespeare-10min",
                      "d2l-timemachine", "--extra", "--max-steps 1"],
    "mr_cv.py": ["--dry-run", "--only", "1,10", "--jobs", "2", "--", "--max-steps", "1"],
    "sst2.py": ["--dry-run", "--threads", "1", "--", "--max-steps", "1"],
    "reference_lm.py": ["--minutes", "0.005", "--corpus", str(ROOT / "README.md")],
    "export_speed.py": ["--quick"],
    "tokenizer_bpc.py": ["--dry-run", "--", "--max-steps", "1"],
    "waimai.py": ["--dry-run", "--max-minutes", "0.1", "--", "--max-steps", "1"],
    "nbsvm.py": None,  # a real run on a file of its own: tests/bench/test_nbsvm.py
    "serve_load.py": ["--quick", "--soak", "0.02"],
    "anytime.py": ["sst2", "--dry-run", "--seeds", "1,2", "--scale", "4",
                   "--recipe", "default=", "--recipe", "small=--hidden 8 --max-steps 1"],
}
SEQCLI = [sys.executable, "-m", "seqcli"]
MR_TEXTS = 10_662


def mirrored(name: str) -> bool:
    """Whether SEQCLI_DATA names a mirror holding `name` (a file or a corpus folder)."""
    value = os.environ.get("SEQCLI_DATA")
    return bool(value) and (Path(value) / name).exists()


def run_script(name: str, args: list[str], tmp_path: Path) -> str:
    """Run benchmarks/NAME ARGS with this checkout's seqcli; its stdout, after exit code 0."""
    env = dict(os.environ, SEQCLI_CACHE=str(tmp_path / "cache"),
               SEQCLI_RUNS=str(tmp_path / "runs"))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, str(BENCHMARKS / name), *args], env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, f"{name} {args} failed:\n{done.stderr[-3000:]}"
    return done.stdout


def report(name: str, tmp_path: Path) -> dict:
    return json.loads(run_script(name, DRY_RUNS[name], tmp_path))


def assert_cli_accepts(command: list[str]) -> None:
    """The real CLI parses the command's options (no training): a stale flag fails here."""
    assert command[:3] == SEQCLI
    name, *args = command[3:]
    typer.main.get_command(app).commands[name].make_context(name, args)


def assert_corpus(found: dict, name: str, folder: str) -> None:
    """Found in the mirror when it holds the corpus; else reported missing (the cache is
    empty), since a real run would download it."""
    assert found["name"] == name
    assert found["found"] == mirrored(folder)
    if found["found"]:
        assert found["origins"] == ["mirror"]


def test_every_script_has_a_dry_run():
    assert SCRIPTS == sorted(DRY_RUNS)


@pytest.mark.parametrize("name", SCRIPTS)
def test_help(name, tmp_path):
    assert "usage:" in run_script(name, ["--help"], tmp_path)


def test_train_step_ablation_runs_one_round(tmp_path):
    result = report("train_step_ablation.py", tmp_path)
    names = [r["name"] for r in result["results"]]
    assert names == ["trainer", "bare-item", "bare-no-item", "fused-adamw", "foreach-adamw",
                     "sgd"]
    assert all(r["tokens"] == 32 * 35 for r in result["results"])  # one step of d2l's batch
    assert "bare-item / trainer" in result["ratios"] and result["config"]["impl"] == "fused"
    assert result["config"]["corpus"] == ("timemachine" if mirrored("timemachine.txt")
                                          else "synthetic")


def test_memory_100mb_trains_one_step_on_a_tiny_corpus(tmp_path):
    result = report("memory_100mb.py", tmp_path)
    assert result["exit_code"] == 0 and result["corpus_bytes"] >= 200_000
    assert result["train_tokens"] > 0 and result["val_tokens"] > 0
    assert result["command"].endswith("--hidden 32")
    assert result["within_limit"] == (result["peak_rss_mb"] <= result["limit_mb"])
    assert result["whole_text_preparation"]["exit_code"] == 0


def test_lm_quality_dry_run(tmp_path):
    result = report("lm_quality.py", tmp_path)
    assert [r["recipe"] for r in result["runs"]] == ["timemachine-default", "shakespeare-10min",
                                                     "d2l-timemachine"]
    for run, corpus in zip(result["runs"], ["timemachine", "tinyshakespeare", "timemachine"]):
        assert_corpus(run["corpus"], corpus, f"{corpus}.txt")
        assert run["command"][-6:-4] == ["--max-steps", "1"]  # after the recipe: it wins
        assert run["shown"].startswith("seqcli train") and "--out" not in run["shown"]
        assert_cli_accepts(run["command"])


@pytest.mark.skipif(not mirrored("timemachine.txt"), reason="needs SEQCLI_DATA with timemachine")
def test_lm_quality_reports_the_held_out_curve(tmp_path):
    """A real (tiny) run: the report carries every evaluation, read before the run is deleted."""
    extra = "--max-steps 6 --eval-every 2 --layers 1 --hidden 16 --embedding 8 --precision fp32"
    out = run_script("lm_quality.py", ["timemachine-default", "--extra", extra], tmp_path)
    result = json.loads(out.strip().splitlines()[-1])
    assert result["steps"] == 6
    steps = [step for step, _ in result["curve"]]
    assert steps[:3] == [2, 4, 6]
    best = min(loss for _, loss in result["curve"])  # the run reports its best checkpoint
    assert best == pytest.approx(result["val_loss"], abs=1e-3)


def test_sst2_dry_run(tmp_path):
    result = report("sst2.py", tmp_path)
    assert result["threads"] == "1" and result["runs"] == str(BENCHMARKS / "out" / "sst2")
    assert_corpus(result["corpus"], "sst2", "sst2")
    assert_corpus(result["dev_corpus"], "sst2", "sst2")
    train, evaluate = result["commands"]
    assert train[3:6] == ["train", "--task", "classify"] and train[-2:] == ["--max-steps", "1"]
    assert evaluate[3] == "evaluate"
    for command in result["commands"]:
        assert_cli_accepts(command)


def test_mr_cv_dry_run(tmp_path):
    """With MR at hand the folds are dealt and written as a real run would write them."""
    result = report("mr_cv.py", tmp_path)
    assert_corpus(result["corpus"], "rt-polarity", "rt-polarity")
    assert result["jobs"] == 2 and result["threads_per_job"] >= 1
    assert [f["fold"] for f in result["folds"]] == [1, 10]
    assert result["texts"] == (MR_TEXTS if result["corpus"]["found"] else None)
    for fold in result["folds"]:
        if result["corpus"]["found"]:
            assert fold["train_lines"] + fold["test_lines"] == MR_TEXTS
            assert 1_000 <= fold["test_lines"] <= 1_100  # a tenth, stratified
        assert fold["commands"][0][-2:] == ["--max-steps", "1"]
        for command in fold["commands"]:
            assert_cli_accepts(command)


def test_reference_lm_trains_and_prints_one_json_line(tmp_path):
    result = report("reference_lm.py", tmp_path)
    assert result["reference"] == "benchmarks/reference_lm.py"
    assert result["steps"] >= 1 and math.isfinite(result["val_loss"]) and result["seconds"] >= 0


def test_lm_quality_reports_the_machine():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import lm_quality
    finally:
        sys.path.remove(str(BENCHMARKS))
    machine = lm_quality.machine()
    assert {"cpu", "cores", "torch", "threads"} <= set(machine)  # what reports always had


def test_export_speed_quick_run(tmp_path):
    pytest.importorskip("onnxruntime")
    result = report("export_speed.py", tmp_path)
    for task, unit in (("lm", "ms_per_token"), ("classify", "texts_per_second")):
        assert set(result[task]["export"]) == {"onnx", "torchscript"}
        assert all(e["bytes"] > 0 and e["max_abs_error"] < 1e-4
                   for e in result[task]["export"].values())
        assert set(result[task][unit]) == {"pytorch", "onnxruntime", "torchscript"}
        assert all(v > 0 for v in result[task][unit].values())
        assert set(result[task]["speedup"]) == {"onnxruntime / pytorch", "torchscript / pytorch"}


def test_tokenizer_bpc_dry_run(tmp_path):
    result = report("tokenizer_bpc.py", tmp_path)
    runs = result["runs"]
    assert [r["command"][r["command"].index("--tokenizer") + 1] for r in runs] == \
        ["bpe", "bpe-char"] * 2
    assert_corpus(runs[2]["corpus"], "timemachine", "timemachine.txt")
    assert runs[0]["corpus"]["found"] == mirrored("zh-rnn-notes.txt")
    for run in runs:
        assert run["command"][-2:] == ["--max-steps", "1"]
        assert_cli_accepts(run["command"])


def test_tokenizer_bpc_scores_bits_per_character_of_a_tiny_run(tmp_path):
    """A real (tiny) run on a text of our own: per character, not per token."""
    corpus = tmp_path / "notes.txt"
    corpus.write_text("门控循环单元有两个门。It has two gates.\n" * 60, encoding="utf-8")
    out = run_script("tokenizer_bpc.py", [
        "--corpus", str(corpus), "--tokenizers", "bpe-char", "--vocab-size", "60", "--",
        "--max-steps", "2", "--hidden", "8", "--embedding", "8", "--layers", "1",
        "--seq-len", "16", "--batch-size", "4", "--precision", "fp32"], tmp_path)
    (run,) = json.loads(out)["runs"]
    assert run["tokenizer"] == "bpe-char" and run["unknown_tokens"] == 0
    text = corpus.read_text(encoding="utf-8")
    validation = len(text) - int(len(text) * 0.9)  # the last tenth, as training splits it
    assert validation - 10 <= run["validation_chars"] < validation  # less the first token
    assert run["chars_per_token"] > 1  # merges: fewer tokens than characters
    # Two steps from random weights: about uniform over the vocabulary, per character
    uniform = math.log2(run["vocab_size"]) / run["chars_per_token"]
    assert 0.5 * uniform < run["bpc"] < 1.5 * uniform


def test_anytime_dry_run(tmp_path):
    """Every recipe for every seed, at the slow machine's budget over the scale, fp32, the
    curve traced on the test split; a recipe's own flags come last so they win."""
    result = report("anytime.py", tmp_path)
    runs = result["runs"]
    assert [(r["recipe"], r["seed"]) for r in runs] == \
        [("default", 1), ("small", 1), ("default", 2), ("small", 2)]
    for run in runs:
        command = run["command"]
        assert command[command.index("--max-minutes") + 1] == "2.5"  # 10 slow minutes / 4
        assert command[command.index("--precision") + 1] == "fp32"
        assert "--trace-test" in command
        assert_cli_accepts(command)
    small = runs[1]["command"]
    assert small.index("--max-steps") > small.index("--max-minutes")
    assert_corpus(result["corpus"], "sst2", "sst2")


def test_waimai_dry_run(tmp_path):
    result = report("waimai.py", tmp_path)
    train, evaluate = result["commands"]
    assert train[3:6] == ["train", "--task", "classify"] and train[-2:] == ["--max-steps", "1"]
    assert train[train.index("--max-minutes") + 1] == "0.1"
    assert evaluate[3] == "evaluate" and evaluate[-3].endswith("test.csv")
    for command in result["commands"]:
        assert_cli_accepts(command)
    if mirrored("waimai_10k"):
        assert (result["train_texts"], result["test_texts"]) == (9590, 2397)
    else:
        assert result["corpus"] is None


def test_serve_load_quick_run(tmp_path):
    """The load benchmark starts a real server, drives it, soaks it and stops it (exit 0)."""
    result = report("serve_load.py", tmp_path)
    assert [r["clients"] for r in result["generation"]] == [1, 4]
    assert all(r["tokens_per_s"] > 0 and r["ttft_ms"]["p50"] is not None
               for r in result["generation"])
    assert result["classification"]["texts_per_s"] > 0 and "ratio_to_cli" in \
        result["classification"]
    assert result["soak"]["errors_5xx"] == 0 and result["soak"]["rss_kb_end"] > 0
    assert result["server_exit_code"] == 0
