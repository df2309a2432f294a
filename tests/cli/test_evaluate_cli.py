"""`seqcli evaluate`: the newest run of any task, the tables, device and precision choices."""

import json

from typer.testing import CliRunner

from seqcli.cli import evaluate as evaluate_cli
from seqcli.cli.main import app

TINY = ["--hidden", "8", "--embedding", "8", "--layers", "1", "--max-steps", "4", "--seq-len",
        "16", "--format", "json"]


def test_newest_run_of_any_task_in_fp32(tiny_corpus, runs_dir):
    trained = CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus), *TINY])
    assert trained.exit_code == 0, trained.output
    result = CliRunner().invoke(app, ["evaluate", "--precision", "fp32", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert all(row in result.stdout for row in evaluate_cli.LM_ROWS)
    scored = json.loads(CliRunner().invoke(app, ["evaluate", "--format", "json"]).stdout)
    assert scored["split"] == "validation" and scored["tokens"] > 0


def test_no_run_at_all(runs_dir):
    result = CliRunner().invoke(app, ["evaluate"])
    assert result.exit_code == 1 and "no run found" in result.stderr
