"""`seqcli explain` through the CLI: texts, a file, json, NO_COLOR and the refusals."""

import json
import re

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

import seqcli
from seqcli.cli.main import app
from tests.conftest import write_reviews


@pytest.fixture(scope="module")
def classifier(tmp_path_factory):
    root = tmp_path_factory.mktemp("explain-cli")
    write_reviews(root / "reviews.csv")
    env = {"SEQCLI_RUNS": str(root / "runs")}
    result = CliRunner().invoke(app, ["train", "--task", "classify", "--corpus",
                                      str(root / "reviews.csv"), "--hidden", "8", "--embedding",
                                      "8", "--max-steps", "4", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    return root, env


def test_texts_files_and_json(classifier):
    root, env = classifier
    (root / "lines.txt").write_text("a wonderful film\n\nan awful mess\n")
    doc = json.loads(CliRunner().invoke(app, ["explain", str(root / "lines.txt"), "--format",
                                              "json"], env=env).stdout)
    texts = [e["text"] for e in doc["explanations"]]
    assert texts == ["a wonderful film", "an awful mess"]
    first = doc["explanations"][0]
    assert set(first) == {"text", "label", "probability", "target", "tokens", "delta"}
    assert [t["token"] for t in first["tokens"]] == ["a", "wonderful", "film"]
    shown = CliRunner().invoke(app, ["explain", "a wonderful film", "an awful mess"], env=env)
    assert shown.exit_code == 0 and shown.stdout.count("scores toward") == 2
    plain = CliRunner().invoke(app, ["explain", "a wonderful film"],
                               env={**env, "NO_COLOR": "1"})
    assert re.search(r"'wonderful'\s+[-+]\d\.\d{4}", plain.stdout), plain.stdout


def test_refusals_are_one_line(classifier, tiny_corpus, tmp_path):
    root, env = classifier
    bad = CliRunner().invoke(app, ["explain", "x", "--label", "meh"], env=env)
    assert bad.exit_code == 2 and "not one of the run's labels" in bad.stderr
    lm_env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus), "--hidden", "8",
                             "--max-steps", "2", "--format", "json"], env=lm_env)
    wrong = CliRunner().invoke(app, ["explain", "x", "--model",
                                     str(next((tmp_path / "runs").iterdir()))], env=env)
    assert wrong.exit_code == 2 and "needs a classifier run" in wrong.stderr
    assert len(wrong.stderr.strip().splitlines()) == 1


def written_run(root):
    return next((root / "runs").iterdir())


def test_the_text_view_keeps_the_text_as_written(classifier):
    root, env = classifier
    shown = CliRunner().invoke(app, ["explain", "A  Wonderful film"], env=env)
    assert shown.exit_code == 0 and "A  Wonderful film" in shown.stdout  # case, spacing kept
    run = seqcli.load(written_run(root), device="cpu", precision="fp32")
    assert shown.stdout.startswith(run.classify("A  Wonderful film")[0].label + " ")


def test_html_page_is_self_contained_with_scores_on_hover(classifier, tmp_path):
    root, env = classifier
    page_file = tmp_path / "why.html"
    result = CliRunner().invoke(app, ["explain", "a wonderful <film>", "an awful mess",
                                      "--format", "html", "--out", str(page_file)], env=env)
    assert result.exit_code == 0, result.output
    page = page_file.read_text()
    assert page.startswith("<!DOCTYPE html>") and page.count("<h2>") == 2
    assert not re.search(r"(src|href)=", page)  # no external assets
    assert "&lt;" in page and "<film>" not in page  # the text is escaped
    assert re.search(r'title="wonderful: [-+]\d\.\d{4}"', page)
    doc = CliRunner().invoke(app, ["explain", "a wonderful film", "--format", "json", "--out",
                                   str(tmp_path / "why.json")], env=env)
    assert doc.exit_code == 0
    written = json.loads((tmp_path / "why.json").read_text())["explanations"][0]
    run = seqcli.load(written_run(root), device="cpu", precision="fp32")
    assert written["label"] == run.classify("a wonderful film")[0].label
    assert [t["token"] for t in written["tokens"]] == ["a", "wonderful", "film"]
    text_out = CliRunner().invoke(app, ["explain", "x", "--out", str(tmp_path / "t")], env=env)
    assert text_out.exit_code == 2 and "add --format json or html" in text_out.stderr


def test_chinese_reviews_are_explained_character_by_character(tmp_path):
    rows = [("这家店很好吃，下次还来", "positive"), ("太难吃了，再也不来", "negative"),
            ("送餐很快，味道不错", "positive"), ("送得太慢，菜都凉了", "negative")] * 12
    (tmp_path / "zh.csv").write_text("text,label\n" + "".join(f"{t},{l}\n" for t, l in rows),
                                     encoding="utf-8")
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    trained = CliRunner().invoke(app, ["train", "--task", "classify", "--corpus",
                                       str(tmp_path / "zh.csv"), "--tokenizer", "char",
                                       "--hidden", "8", "--embedding", "8", "--max-steps", "4",
                                       "--format", "json"], env=env)
    assert trained.exit_code == 0, trained.output
    text = "味道很好，送餐很快"
    doc = json.loads(CliRunner().invoke(app, ["explain", text, "--format", "json"],
                                        env=env).stdout)["explanations"][0]
    assert [t["token"] for t in doc["tokens"]] == list(text)
    plain = CliRunner().invoke(app, ["explain", text], env={**env, "NO_COLOR": "1"})
    rows = plain.stdout.splitlines()[1:]
    assert len(rows) == len(text) and len({cell_len(r[:r.rindex(" ") + 1]) for r in rows}) == 1
    page = CliRunner().invoke(app, ["explain", text, "--format", "html"], env=env).stdout
    assert page.count('lang="zh"') == 1 and page.count("<span") == len(text)


def test_out_replaces_a_file_only_with_force(classifier, tmp_path):
    """The one overwrite rule: --out over an existing file is refused in one line before any
    work, the file untouched; --force replaces it."""
    _, env = classifier
    document = tmp_path / "why.json"
    document.write_text("my notes")
    argv = ["explain", "a wonderful film", "--format", "json", "--out", str(document)]
    refused = CliRunner().invoke(app, argv, env=env)
    assert refused.exit_code == 2 and document.read_text() == "my notes"
    assert refused.stderr.strip() == f"error: {document} already exists; add --force to " \
                                     "replace it"
    forced = CliRunner().invoke(app, [*argv, "--force"], env=env)
    assert forced.exit_code == 0, forced.output
    assert json.loads(document.read_text())["explanations"][0]["text"] == "a wonderful film"
