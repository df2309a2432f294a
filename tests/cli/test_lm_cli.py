"""Tiny end-to-end runs of the real CLI: train -> generate -> evaluate -> runs."""

import json
import os
import re
import signal
import subprocess
import sys
import time

import pytest
from typer.testing import CliRunner

import seqcli
from seqcli.cli.main import app
from seqcli.data.tokenizers import tokenizer_from_json
from tests.data.test_token_bytes import ZH

runner = CliRunner()
TINY = ["--hidden", "32", "--embedding", "16", "--layers", "1", "--seq-len", "16",
        "--batch-size", "8", "--max-steps", "30", "--eval-every", "10"]


def run(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def trained(tiny_corpus, runs_dir):
    result = run("train", "--corpus", tiny_corpus, *TINY, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout), tiny_corpus


def test_train_json_summary(trained):
    summary, _ = trained
    for key in ("run_dir", "steps", "val_loss", "val_perplexity", "tokens_per_second",
                "elapsed_seconds"):
        assert key in summary
    assert summary["steps"] == 30 and summary["val_loss"] > 0
    files = set(os.listdir(summary["run_dir"]))
    assert {"config.json", "tokenizer.json", "best.pt", "last.pt", "metrics.jsonl",
            "summary.json"} <= files


def test_generate_is_seeded_streams_and_starts_with_prime(trained):
    summary, _ = trained
    a = run("generate", "--prime", "the time", "--length", "30", "--seed", "3")
    b = run("generate", "--model", summary["run_dir"], "--prime", "the time", "--length", "30",
            "--seed", "3")
    assert a.exit_code == 0 and b.exit_code == 0
    assert a.stdout == b.stdout and a.stdout.startswith("the time")
    assert len(a.stdout.rstrip("\n")) == len("the time") + 30
    doc = json.loads(run("generate", "--prime", "he", "--num-samples", "2", "--length", "5",
                         "--seed", "1", "--format", "json").stdout)
    assert len(doc["samples"]) == 2 and all(s.startswith("he") for s in doc["samples"])


def test_generate_batches_beams_and_stops(trained):
    """--num-samples is one batch whose sample i is --seed + i alone; --beam 1 is --greedy;
    --stop cuts the text (kept with --keep-stop) and the terminal never shows past it."""
    def doc(*args):
        result = run("generate", "--prime", "the", "--length", "20", "--format", "json", *args)
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)

    batch = doc("--num-samples", "3", "--seed", "4")
    assert batch["stopped"] == [None] * 3 and batch["scores"] is None
    assert [doc("--seed", str(4 + i))["samples"][0] for i in range(3)] == batch["samples"]
    shown = run("generate", "--prime", "the", "--length", "20", "--num-samples", "2",
                "--seed", "4").stdout
    assert shown == "--- sample 1 ---\n{}\n--- sample 2 ---\n{}\n".format(*batch["samples"][:2])

    assert doc("--beam", "1")["samples"] == doc("--greedy")["samples"]
    beams = doc("--beam", "3", "--num-samples", "2")
    assert len(beams["samples"]) == 2 and beams["scores"][0] >= beams["scores"][1]
    assert beams["temperature"] is None  # beam search does not use it

    text = batch["samples"][0]
    stop = text[8:10]
    cut = text.index(stop, 3)
    stopped = doc("--seed", "4", "--stop", stop, "--stop", "zzz")
    assert stopped["samples"] == [text[:cut]] and stopped["stopped"] == [stop]
    assert doc("--seed", "4", "--stop", stop, "--keep-stop")["samples"] == [text[:cut + 2]]
    streamed = run("generate", "--prime", "the", "--length", "20", "--seed", "4", "--stop", stop)
    assert streamed.stdout == text[:cut] + "\n"


@pytest.mark.parametrize("args, message", [
    (["--beam", "2", "--temperature", "0.8"], "--beam scores with the model's own probabilities"),
    (["--beam", "2", "--temperature", "0.81"], "--beam scores with the model's own probabilities"),
    (["--greedy", "--num-samples", "3"], "--greedy gives one text"),
], ids=["beam-default-temperature", "beam-other-temperature", "greedy-several"])
def test_generate_refuses_options_that_would_change_nothing(trained, args, message):
    """A --temperature given with --beam is refused whatever its value (it was accepted when it
    equalled the default), and --greedy with several samples (they would be the same text)."""
    result = run("generate", "--prime", "the", "--length", "5", *args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1 and message in result.stderr


def test_generate_with_unseen_prime_characters_warns(trained):
    result = run("generate", "--prime", "时间 machine", "--length", "5", "--seed", "1")
    assert result.exit_code == 0
    assert result.stdout.startswith("时间 machine")
    assert "never seen" in result.stderr


def test_evaluate_matches_training_validation(trained):
    summary, corpus = trained
    result = run("evaluate", "--format", "json")
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert {"loss", "perplexity", "bits_per_token", "tokens"} <= set(doc)
    assert doc["loss"] == pytest.approx(summary["val_loss"], rel=1e-5)
    other = json.loads(run("evaluate", "--corpus", corpus, "--format", "json").stdout)
    assert other["split"] == "all" and other["tokens"] > doc["tokens"]
    table = run("evaluate")
    assert table.exit_code == 0 and "perplexity" in table.stdout


def test_runs_list_and_show(trained):
    summary, _ = trained
    listed = json.loads(run("runs", "list", "--format", "json").stdout)
    assert listed[0]["path"] == summary["run_dir"]
    shown = json.loads(run("runs", "show", summary["run_dir"], "--format", "json").stdout)
    assert shown["task"] == "lm" and shown["summary"]["steps"] == 30


@pytest.mark.parametrize("args", [
    ["--hidden", "0"], ["--lr", "-1"], ["--cell", "foo"], ["--dropout", "1.5"],
    ["--bidirectional"], ["--seq-len", "-3"], ["--device", "cuda"], ["--epochs", "0"],
    ["--tie-weights"],
])
def test_bad_training_options_are_one_line_usage_errors(args, tiny_corpus, runs_dir):
    if args == ["--device", "cuda"]:
        import torch

        if torch.cuda.is_available():
            pytest.skip("a GPU is present")
    result = run("train", "--corpus", tiny_corpus, *args)
    assert result.exit_code == 2, result.output
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert not runs_dir.exists() or not any(runs_dir.iterdir())


def test_resume_refuses_a_changed_architecture(trained):
    summary, _ = trained
    result = run("train", "--resume", summary["run_dir"], "--hidden", "64")
    assert result.exit_code == 2 and "hidden_size" in result.stderr


def test_generate_without_runs_is_a_clear_error(runs_dir):
    result = run("generate")
    assert result.exit_code == 1 and "no language-model run" in result.stderr


def _metrics_step(run_dir):
    path = run_dir / "metrics.jsonl"
    if not path.exists():
        return 0
    steps = [json.loads(l)["step"] for l in path.read_text().splitlines() if l.strip()]
    return max(steps, default=0)


def test_ctrl_c_saves_and_resume_matches_uninterrupted(tiny_corpus, tmp_path):
    env = {**os.environ, "SEQCLI_RUNS": str(tmp_path / "runs")}
    args = [sys.executable, "-m", "seqcli", "train", "--corpus", str(tiny_corpus),
            "--hidden", "32", "--embedding", "16", "--seq-len", "16", "--batch-size", "8",
            "--max-steps", "150", "--eval-every", "50", "--format", "json"]
    full = subprocess.run(args + ["--out", str(tmp_path / "full")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert full.returncode == 0, full.stderr
    run_dir = tmp_path / "part"
    proc = subprocess.Popen(args + ["--out", str(run_dir)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while _metrics_step(run_dir) < 20 and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "--resume" in err or json.loads(out)["stopped_by"] == "interrupted"
    resumed = subprocess.run([sys.executable, "-m", "seqcli", "train", "--resume", str(run_dir),
                              "--format", "json"], env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    a, b = json.loads(full.stdout), json.loads(resumed.stdout)
    assert b["steps"] == 150
    assert b["val_loss"] == a["val_loss"]


def test_chinese_bpe_generation_is_valid_text_and_python_gets_the_cli_details(tmp_path,
                                                                              runs_dir):
    """A byte-level BPE model on Chinese text: the CLI's samples (streamed and JSON) are
    valid text, and Run.generate(return_details=True) gives the JSON's per-sample details."""
    corpus = tmp_path / "zh.txt"
    corpus.write_text(ZH * 6, encoding="utf-8")
    trained = run("train", "--corpus", corpus, "--tokenizer", "bpe", "--vocab-size", "300",
                  *TINY[:-4], "--max-steps", "4", "--eval-every", "4", "--format", "json")
    assert trained.exit_code == 0, trained.output
    run_dir = json.loads(trained.stdout)["run_dir"]
    options = ["--prime", "记忆", "--length", "9", "--seed", "2"]
    streamed = run("generate", *options, "--temperature", "1.5")
    assert streamed.exit_code == 0 and "\ufffd" not in streamed.stdout
    for extra, settings in ((["--temperature", "1.5"], {"temperature": 1.5}),
                            (["--num-samples", "6", "--stop", "的"],
                             {"num_samples": 6, "stop": "的"}),
                            (["--beam", "3", "--num-samples", "2"],
                             {"beam": 3, "num_samples": 2})):
        result = run("generate", *options, *extra, "--format", "json")
        assert result.exit_code == 0, result.output
        doc = json.loads(result.stdout)
        python = seqcli.load(run_dir).generate("记忆", length=9, seed=2, **settings,
                                               return_details=True)
        python = python if isinstance(python, list) else [python]
        assert all(isinstance(s, seqcli.Sample) for s in python)
        assert doc["samples"] == [s.text for s in python]
        assert doc["stopped"] == [s.stopped for s in python]
        assert doc["new_tokens"] == [s.new_tokens for s in python]
        assert doc["scores"] == ([s.score for s in python] if "beam" in settings else None)
        assert not any("\ufffd" in text for text in doc["samples"])
    assert doc["scores"][0] >= doc["scores"][1]


ZH_NOTES = ("长短期记忆网络用三个门控制细胞状态。遗忘门决定上一个细胞状态有多少被保留，"
            "输入门决定写入多少新的信息，输出门决定隐藏状态。\n"
            "门控循环单元只有两个门：更新门和重置门。它比 LSTM 少一个门，训练更快。\n")


@pytest.mark.parametrize("kind", ["bpe-char", "word"])
def test_chinese_language_models_with_char_bpe_and_word_tokens(kind, tmp_path, runs_dir):
    corpus = tmp_path / "notes.txt"
    corpus.write_text(ZH_NOTES * 12, encoding="utf-8")
    result = run("train", "--corpus", corpus, "--tokenizer", kind, "--vocab-size", "120",
                 *TINY[:-4], "--max-steps", "4", "--eval-every", "2", "--format", "json")
    assert result.exit_code == 0, result.output
    run_dir = json.loads(result.stdout)["run_dir"]
    assert tokenizer_from_json(open(f"{run_dir}/tokenizer.json", encoding="utf-8").read()
                               ).kind == kind
    doc = run("generate", "--prime", "遗忘门", "--length", "40", "--seed", "2", "--format",
              "json")
    assert doc.exit_code == 0, doc.output
    text = json.loads(doc.stdout)["samples"][0]
    assert text.startswith("遗忘门")
    assert set(text) <= set(ZH_NOTES) | {" "}  # characters of the notes, never byte fragments
    if kind == "word":  # characters joined as written, not "遗 忘 门 决 定"
        assert not re.search("[\u4e00-\u9fff] [\u4e00-\u9fff]", text)
