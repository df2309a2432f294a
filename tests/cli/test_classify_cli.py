"""Tiny end-to-end runs of the real CLI: train -> classify (lines, --document, stdin, formats)
-> evaluate, plus the refusals (wrong run kind, malformed data, no run yet)."""

import csv
import io
import json
import random
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqcli.cli import classify as classify_cli
from seqcli.cli.main import app

POSITIVE = ["great", "wonderful", "moving", "funny", "brilliant", "lovely"]
NEGATIVE = ["awful", "boring", "dull", "tedious", "clumsy", "bland"]
FILLER = ["film", "story", "the", "a", "plot", "cast", "really", "quite"]
TINY = ["--hidden", "16", "--embedding", "16", "--batch-size", "8", "--eval-every", "10",
        "--format", "json"]


def make_rows(n: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        label = "positive" if i % 2 else "negative"
        words = rng.sample(FILLER, 3) + [rng.choice(POSITIVE if i % 2 else NEGATIVE)]
        rng.shuffle(words)
        rows.append((" ".join(words), label))
    return rows


def invoke(args, env, input=None):
    return CliRunner().invoke(app, [str(a) for a in args], env=env, input=input)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """One trained classifier shared by the tests of this module."""
    root = tmp_path_factory.mktemp("classify")
    data = root / "reviews.tsv"
    data.write_text("text\tlabel\n" + "".join(f"{t}\t{l}\n" for t, l in make_rows(80, 1)))
    env = {"SEQCLI_RUNS": str(root / "runs"), "SEQCLI_DATA": str(root / "none")}
    result = invoke(["train", "--task", "classify", "--corpus", data, "--max-steps", 20, *TINY],
                    env)
    assert result.exit_code == 0, result.output
    return root, env, json.loads(result.stdout), data


def test_train_summary(setup):
    _, _, summary, _ = setup
    assert {"run_dir", "steps", "val_accuracy", "val_macro_f1", "elapsed_seconds"} <= set(summary)
    assert summary["steps"] == 20 and summary["task"] == "classify"
    config = json.loads((Path(summary["run_dir"]) / "config.json").read_text())
    assert config["meta"]["labels"] == ["negative", "positive"]
    assert config["meta"]["validation"].startswith("stratified")


def test_classify_lines_table_and_stdin(setup):
    root, env, _, _ = setup
    texts = root / "texts.txt"
    texts.write_text("a great film\n\na dull plot\nreally lovely\n")
    result = invoke(["classify", texts], env)
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 3 and all(l.split()[0] in ("negative", "positive") for l in lines)
    assert "3 texts classified" in result.stderr
    piped = invoke(["classify", "-", "--format", "jsonl"], env, input="a great film\nok\n")
    records = [json.loads(l) for l in piped.stdout.splitlines()]
    assert [(r["source"], r["line"]) for r in records] == [("-", 1), ("-", 2)]


def test_classify_document_and_json(setup):
    root, env, summary, _ = setup
    (root / "a.txt").write_text("a great film\nwith a lovely cast\n")
    (root / "b.txt").write_text("dull\n")
    result = invoke(["classify", root / "a.txt", root / "b.txt", "--document", "--format",
                     "json", "--model", summary["run_dir"]], env)
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["n"] == 2 and sum(document["counts"].values()) == 2
    first = document["predictions"][0]
    assert first["line"] is None and first["text"] == "a great film\nwith a lovely cast"
    assert abs(sum(first["probabilities"].values()) - 1) < 1e-5
    assert first["probability"] == max(first["probabilities"].values())


def test_classify_csv_input_and_output(setup):
    root, env, _, _ = setup
    table = root / "in.csv"
    table.write_text('id,review\n1,"great, great film"\n2,boring\n')
    result = invoke(["classify", table, "--format", "csv"], env)
    assert result.exit_code == 0, result.output
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [r["text"] for r in rows] == ["great, great film", "boring"]
    assert {"p_negative", "p_positive", "label", "line"} <= set(rows[0])


def test_evaluate_json_and_tables(setup):
    root, env, summary, data = setup
    result = invoke(["evaluate", "--model", summary["run_dir"], "--format", "json"], env)
    assert result.exit_code == 0, result.output
    scores = json.loads(result.stdout)
    assert {"accuracy", "macro_f1", "n", "per_class", "confusion"} <= set(scores)
    assert scores["accuracy"] == pytest.approx(summary["val_accuracy"])
    assert scores["n"] == 8  # the run's own stratified validation split
    other = invoke(["evaluate", "--model", summary["run_dir"], "--corpus", data], env)
    assert other.exit_code == 0, other.output
    assert "confusion" in other.stdout and "per class" in other.stdout


def test_resume_continues_a_classifier(setup, tmp_path):
    root, env, _, data = setup
    out = tmp_path / "run"
    first = invoke(["train", "--task", "classify", "--corpus", data, "--max-steps", 6,
                    "--out", out, *TINY], env)
    assert first.exit_code == 0, first.output
    again = invoke(["train", "--resume", out, "--max-steps", 12, "--format", "json"], env)
    assert again.exit_code == 0, again.output
    assert json.loads(again.stdout)["steps"] == 12


def test_class_weights_and_pretrained_embeddings(setup, tmp_path):
    root, env, _, _ = setup
    skewed = tmp_path / "skewed.jsonl"
    both = make_rows(90, 2)
    rows = [r for r in both if r[1] == "negative"][:40] + [r for r in both if r[1] == "positive"][:5]
    skewed.write_text("".join(json.dumps({"text": t, "label": l}) + "\n" for t, l in rows))
    vectors = tmp_path / "vectors.txt"
    vectors.write_text("great 1 1 1 1\nawful -1 -1 -1 -1\n")
    result = invoke(["train", "--task", "classify", "--corpus", skewed, "--class-weights",
                     "auto", "--embeddings", vectors, "--max-steps", 4, *TINY,
                     "--embedding", 4], env)
    assert result.exit_code == 0, result.output
    meta = json.loads((Path(json.loads(result.stdout)["run_dir"]) / "config.json")
                      .read_text())["meta"]
    weights = meta["class_weights"]
    assert weights["positive"] > weights["negative"]


def test_refusals_are_one_line(setup, tmp_path):
    root, env, summary, _ = setup
    empty = {**env, "SEQCLI_RUNS": str(tmp_path / "no-runs")}
    (tmp_path / "t.txt").write_text("some text\n")
    result = invoke(["classify", tmp_path / "t.txt"], empty)
    assert result.exit_code == 1 and "no classifier run found" in result.stderr
    bad = tmp_path / "bad.tsv"
    bad.write_text("text\tlabel\ngood\tpositive\nbad\n")
    result = invoke(["train", "--task", "classify", "--corpus", bad, *TINY], empty)
    assert result.exit_code == 1 and "bad.tsv:3: ragged row" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "no-runs").exists()  # nothing half-made is left behind
    generate = invoke(["generate", "--model", summary["run_dir"]], env)
    assert generate.exit_code == 1 and "classifier run" in generate.stderr


def test_language_model_run_is_refused_by_classify(tmp_path):
    text = tmp_path / "story.txt"
    text.write_text("the time traveller spoke of time and space. " * 40)
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    lm = invoke(["train", "--corpus", text, "--hidden", 8, "--embedding", 8, "--layers", 1,
                 "--seq-len", 8, "--batch-size", 4, "--max-steps", 2, "--format", "json"], env)
    assert lm.exit_code == 0, lm.output
    result = invoke(["classify", "--model", json.loads(lm.stdout)["run_dir"], text], env)
    assert result.exit_code == 1 and "language-model run" in result.stderr
    sst = invoke(["train", "--task", "classify", "--corpus", text, *TINY], env)
    assert sst.exit_code == 1 and "cannot tell the format" in sst.stderr


def test_table_previews_long_texts_and_precision_is_a_choice(setup):
    root, env, _, _ = setup
    long = root / "long.txt"
    long.write_text("a great film " * 40 + "\n")
    result = invoke(["classify", long, "--precision", "fp32"], env)
    assert result.exit_code == 0, result.output
    preview = result.stdout.strip().split("  ", 2)[-1]
    assert preview.endswith("…") and len(preview) == classify_cli.PREVIEW_CHARS
    bad = invoke(["classify", long, "--precision", "fp64"], env)
    assert bad.exit_code == 2 and "'fp64' is not one of" in bad.stderr


def test_chinese_reviews_train_classify_and_evaluate_without_flags(chinese_reviews_csv,
                                                                    tmp_path):
    """`seqcli train --task classify --corpus reviews.csv` on Chinese: no column, tokenizer or
    case option (only a tiny model's sizes), then classify and evaluate read it alike."""
    env = {"SEQCLI_RUNS": str(tmp_path / "runs"), "SEQCLI_DATA": str(tmp_path / "none")}
    result = invoke(["train", "--task", "classify", "--corpus", chinese_reviews_csv,
                     "--max-steps", 6, *TINY], env)
    assert result.exit_code == 0, result.output
    run_dir = Path(json.loads(result.stdout)["run_dir"])
    config = json.loads((run_dir / "config.json").read_text())
    assert config["config"]["data"]["tokenizer"] == "word"
    assert config["meta"]["labels"] == ["0", "1"]
    vocab = json.loads((run_dir / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    assert {"味", "道", "差"} <= set(vocab) and not any(len(w) > 1 and "味" in w for w in vocab)
    texts = tmp_path / "new.txt"
    texts.write_text("味道很好，送得快\n太难吃了\n", encoding="utf-8")
    classified = invoke(["classify", texts, "--format", "jsonl"], env)
    assert classified.exit_code == 0, classified.output
    records = [json.loads(line) for line in classified.stdout.splitlines()]
    assert [r["text"] for r in records] == ["味道很好，送得快", "太难吃了"]
    assert all(r["label"] in ("0", "1") for r in records)
    scores = invoke(["evaluate", "--corpus", chinese_reviews_csv, "--format", "json"], env)
    assert scores.exit_code == 0, scores.output
    assert json.loads(scores.stdout)["n"] == 40


@pytest.mark.corpora
def test_waimai_reviews_train_through_the_cli_without_flags(waimai_csv, tmp_path):
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    result = invoke(["train", "--task", "classify", "--corpus", waimai_csv, "--max-steps", 3,
                     *TINY], env)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["steps"] == 3 and 0 <= summary["val_accuracy"] <= 1
