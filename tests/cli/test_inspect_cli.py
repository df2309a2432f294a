"""`seqcli inspect` through the CLI: text, json, html, NO_COLOR and the refusals."""

import json
import re

import pytest
from typer.testing import CliRunner

from seqcli.cli import inspect as inspect_cli
from seqcli.cli.main import app

TEXT = 'He said "come (quickly)" and left.'


@pytest.fixture(scope="module")
def lm(tmp_path_factory):
    root = tmp_path_factory.mktemp("inspect")
    (root / "text.txt").write_text((TEXT + "\n") * 40)
    env = {"SEQCLI_RUNS": str(root / "runs")}
    result = CliRunner().invoke(app, ["train", "--corpus", str(root / "text.txt"), "--hidden",
                                      "8", "--embedding", "8", "--max-steps", "3",
                                      "--format", "json"], env=env)
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
    assert inspect_cli.inspect.__doc__.startswith("Show what the units")
