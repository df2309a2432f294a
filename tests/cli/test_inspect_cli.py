"""`seqcli inspect` through the CLI: text, json, html, NO_COLOR, word models, right-to-left
models and the refusals."""

import html
import json
import re

import pytest
from rich.cells import cell_len
from typer.testing import CliRunner

import seqcli
from seqcli.lm import inspect as inspect_module
from seqcli.cli.main import app

TEXT = 'He said "come (quickly)" and left.'


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    root = tmp_path_factory.mktemp("inspect")
    (root / "text.txt").write_text((TEXT + "\n") * 40)
    env = {"SEQCLI_RUNS": str(root / "runs")}
    result = CliRunner().invoke(app, ["train", "--corpus", str(root / "text.txt"), "--hidden",
                                      "8", "--embedding", "8", "--layers", "2", "--max-steps",
                                      "3", "--format", "json"], env=env)
    assert result.exit_code == 0, result.output
    return root, env


def test_json_html_and_plain_text(lm):
    root, env = lm
    doc = json.loads(CliRunner().invoke(app, ["inspect", "--text", TEXT, "--signal", "forget",
                                              "--unit", "3", "--format", "json"], env=env).stdout)
    assert doc["tokens"] == list(TEXT) and list(doc["units"]) == ["3"]
    assert doc["signal"] == "forget" and set(doc["top"]) >= {"in_quotes", "in_brackets"}
    page = root / "page.html"
    wrote = CliRunner().invoke(app, ["inspect", str(root / "text.txt"), "--format", "html",
                                     "--out", str(page)], env=env)
    assert wrote.exit_code == 0 and page.read_text().startswith("<!DOCTYPE html>")
    plain = CliRunner().invoke(app, ["inspect", "--text", "He", "--unit", "1"],
                               env={**env, "NO_COLOR": "1"})
    assert plain.exit_code == 0
    assert re.search(r"'H'\s+[-+]\d\.\d{4}\n'e'\s+[-+]\d\.\d{4}", plain.stdout), plain.stdout


@pytest.mark.parametrize("args,message", [
    (["--text", ""], "empty"), (["--text", "ab", "--unit", "99"], "--unit must be from 0 to 7"),
    (["--text", "ab", "--signal", "reset"], "an LSTM has no such signal"),
    (["--text", "ab", "--layer", "0"], "--layer must be from 1 to 2"), ([], "give a text"),
])
def test_bad_requests_are_one_line(lm, args, message):
    result = CliRunner().invoke(app, ["inspect", *args], env=lm[1])
    assert result.exit_code == 2 and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_word_model_shows_the_text_with_its_spacing(tmp_path):
    (tmp_path / "text.txt").write_text("the time traveller looked at the machine\n" * 20)
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    trained = CliRunner().invoke(app, ["train", "--corpus", str(tmp_path / "text.txt"),
                                       "--tokenizer", "word", "--hidden", "8", "--embedding",
                                       "8", "--max-steps", "2", "--format", "json"], env=env)
    assert trained.exit_code == 0, trained.output
    shown = CliRunner().invoke(app, ["inspect", "--text", "the time traveller zyzzyva"],
                               env=env)
    assert shown.exit_code == 0 and "the time traveller zyzzyva" in shown.stdout
    assert "in_brackets" not in shown.stderr  # [UNK] is the word it stands for


def test_a_right_to_left_model_is_read_right_to_left_and_never_the_default(tmp_path):
    """--pretrain-minutes leaves the backward LM newest: inspect must neither pick it by
    default nor read it left to right."""
    settings = dict(corpus=str(tmp_path / "text.txt"), hidden_size=8, embedding_size=8,
                    num_layers=1, max_steps=2, runs=tmp_path / "runs")
    (tmp_path / "text.txt").write_text((TEXT + "\n") * 20)
    forward = seqcli.train(**settings)
    backward = seqcli.train(reverse=True, **settings)
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    bare = json.loads(CliRunner().invoke(app, ["inspect", "--text", TEXT, "--format", "json"],
                                         env=env).stdout)
    assert bare["run_dir"] == str(forward.path) and bare["direction"] == "left_to_right"
    named = CliRunner().invoke(app, ["inspect", "--text", TEXT, "--model", str(backward.path),
                                     "--unit", "2", "--format", "json"], env=env)
    assert json.loads(named.stdout)["direction"] == "right_to_left"
    assert json.loads(named.stdout)["units"]["2"] == backward.inspect(TEXT, units=[2]).units[2]
    text = CliRunner().invoke(app, ["inspect", "--text", TEXT, "--model", str(backward.path)],
                              env=env)
    assert text.exit_code == 0 and "reads right to left" in text.stdout


def test_a_failed_self_check_is_one_line_not_a_bug_report(lm, monkeypatch):
    own = inspect_module._replay_layer

    def off(*args):
        replayed = own(*args)
        return {**replayed, "hidden": replayed["hidden"] + 1e-2}

    monkeypatch.setattr(inspect_module, "_replay_layer", off)
    result = CliRunner().invoke(app, ["inspect", "--text", "He"], env=lm[1])
    assert result.exit_code == 1 and "differs from the model's own pass by 1" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "bug" not in result.stderr


CHINESE = "他说：“明天（也许）会下雨。”\n我们都笑了，然后回家。\n"


def test_chinese_text_aligns_in_columns_and_gets_a_chinese_page(tmp_path):
    (tmp_path / "zh.txt").write_text(CHINESE * 30, encoding="utf-8")
    env = {"SEQCLI_RUNS": str(tmp_path / "runs")}
    trained = CliRunner().invoke(app, ["train", "--corpus", str(tmp_path / "zh.txt"), "--hidden",
                                       "8", "--embedding", "8", "--max-steps", "2", "--format",
                                       "json"], env=env)
    assert trained.exit_code == 0, trained.output
    doc = json.loads(CliRunner().invoke(app, ["inspect", "--text", CHINESE, "--format", "json"],
                                        env=env).stdout)
    assert doc["tokens"] == list(CHINESE) and "word_start" in doc["top"]
    plain = CliRunner().invoke(app, ["inspect", "--text", "明天会下雨 ok", "--unit", "1"],
                               env={**env, "NO_COLOR": "1"})
    rows = [line for line in plain.stdout.splitlines() if line.startswith("'")]
    assert len(rows) == 8 and len({cell_len(r[:r.rindex(" ") + 1]) for r in rows}) == 1
    page = CliRunner().invoke(app, ["inspect", "--text", CHINESE, "--format", "html"], env=env)
    block = re.search(r'<div class="text mono" lang="zh">(.*?)</div>', page.stdout, re.S)
    assert html.unescape(re.sub(r"<[^>]+>", "", block.group(1))) == CHINESE


def test_out_replaces_a_file_only_with_force(lm):
    """The one overwrite rule: --out over an existing file is refused in one line before any
    work, the file untouched; --force replaces it."""
    root, env = lm
    page = root / "mine.html"
    page.write_text("my notes")
    argv = ["inspect", "--text", TEXT, "--format", "html", "--out", str(page)]
    refused = CliRunner().invoke(app, argv, env=env)
    assert refused.exit_code == 2 and page.read_text() == "my notes"
    assert refused.stderr.strip() == f"error: {page} already exists; add --force to replace it"
    forced = CliRunner().invoke(app, [*argv, "--force"], env=env)
    assert forced.exit_code == 0, forced.output
    assert page.read_text().startswith("<!DOCTYPE html>")
