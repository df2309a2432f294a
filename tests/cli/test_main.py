"""The CLI's one error boundary (seqcli/cli/main.py): a closed pipe, usage errors, --debug."""

import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from seqcli.cli.main import BROKEN_PIPE, app

TINY = ["--hidden", "8", "--embedding", "8", "--layers", "1", "--max-steps", "3",
        "--format", "json"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("pipes")
    rows = [f"a wonderful film {i},positive" if i % 2 else f"an awful mess {i},negative"
            for i in range(40)]
    (root / "reviews.csv").write_text("text,label\n" + "\n".join(rows) + "\n")
    (root / "lines.txt").write_text("".join(f"a film worth seeing, take {i}\n"
                                            for i in range(30_000)))
    (root / "text.txt").write_text("the time traveller spoke of the machine.\n" * 200)
    env = {**os.environ, "SEQCLI_RUNS": str(root / "runs")}
    for args in (["--corpus", root / "text.txt"],
                 ["--task", "classify", "--corpus", root / "reviews.csv"]):
        result = CliRunner().invoke(app, ["train", *map(str, args), *TINY], env=env)
        assert result.exit_code == 0, result.output
    return root, env


@pytest.mark.parametrize("args", [
    ["classify", "{lines}", "--format", "jsonl"],
    ["classify", "{lines}", "--format", "csv"],
    ["classify", "{lines}"],  # the table goes through rich
    ["generate", "--length", "100000", "--prime", "the"],
], ids=["jsonl", "csv", "table", "generate"])
def test_a_closed_pipe_ends_quietly(runs, args):
    """`seqcli classify big.txt --format jsonl | head -1`: no BrokenPipeError, no noise."""
    root, env = runs
    argv = [a.replace("{lines}", str(root / "lines.txt")) for a in args]
    child = subprocess.Popen([sys.executable, "-m", "seqcli", *argv], env=env,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    first = child.stdout.read(64)
    child.stdout.close()  # the reader is done, as `head` would be
    _, stderr = child.communicate(timeout=120)
    assert first
    assert child.returncode in (0, BROKEN_PIPE), stderr
    noise = stderr.decode()
    assert "BrokenPipe" not in noise and "Exception ignored" not in noise
    assert "Traceback" not in noise and "error" not in noise


def test_usage_errors_are_one_line_and_exit_2(runs):
    root, env = runs
    result = CliRunner().invoke(app, ["train", "--cell", "transformer"], env=env)
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Invalid value for '--cell'" in lines[0]


def test_debug_shows_the_traceback(runs):
    root, env = runs
    result = CliRunner().invoke(app, ["--debug", "generate", "--model", str(root / "nope")],
                                env=env)
    assert result.exit_code != 0 and result.exception is not None
    quiet = CliRunner().invoke(app, ["generate", "--model", str(root / "nope")], env=env)
    assert quiet.exit_code == 1 and "run directory not found" in quiet.stderr
    assert len(quiet.stderr.strip().splitlines()) == 1 and quiet.exception is None or \
        isinstance(quiet.exception, SystemExit)
