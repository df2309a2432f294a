"""The CLI's one error boundary (seqcli/cli/main.py): a closed pipe, usage errors, --debug."""

import json
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


# The libraries that take seconds to import on a slow machine (`import torch` alone took 3.9 s
# on an idle 2-core one); only the commands that use them may load them.
HEAVY = ("torch", "numpy", "matplotlib", "captum", "tokenizers", "onnx", "onnxruntime",
         "onnxscript", "plotext", "scipy")
# argv, exit code, and whether the step may load the heavy libraries (the last one must: it
# proves the probe sees them)
STARTUP = [
    (["--help"], 0, False), (["--version"], 0, False),
    (["train", "--hidden", "-3"], 2, False), (["train", "--cell", "transformer"], 2, False),
    (["train", "--task", "classify", "--dropout", "1.5"], 2, False),
    (["generate", "--beam", "2", "--temperature", "0.5"], 2, False),
    (["explain", "a text", "--format", "xml"], 2, False),
    (["experiment", "memory", "--cells", "lstm,cnn"], 2, False),
    *[([*command, "--help"], 0, False) for command in (
        ["train"], ["generate"], ["classify"], ["evaluate"], ["inspect"], ["explain"],
        ["export"], ["corpus", "list"], ["runs", "plot"], ["bench", "train"],
        ["bench", "generate"], ["bench", "classify"], ["experiment", "memory"])],
    (["runs", "list", "--format", "json"], 0, True),
]
PROBE = """
import json, sys
from seqcli.cli.main import app
steps = json.loads(sys.argv[1])
for argv, _, _ in steps:
    try:
        app(argv, prog_name="seqcli")
    except SystemExit as stop:
        code = stop.code or 0
    heavy = sorted({m.split(".")[0] for m in sys.modules} & set(json.loads(sys.argv[2])))
    print("PROBE " + json.dumps({"argv": argv, "code": code, "heavy": heavy}), flush=True)
"""


def test_help_version_and_usage_errors_do_not_import_the_heavy_libraries(tmp_path):
    """`seqcli --help`, `--version` and a usage error answer at once: the command modules
    import torch, captum, matplotlib... inside the commands that run. Checked on the import
    graph (which modules are loaded after each step, in one fresh interpreter), not a clock."""
    env = {**os.environ, "SEQCLI_RUNS": str(tmp_path / "runs"), "COLUMNS": "100"}
    out = subprocess.run([sys.executable, "-c", PROBE, json.dumps(STARTUP), json.dumps(HEAVY)],
                         env=env, capture_output=True, text=True, timeout=120)
    found = [json.loads(line[6:]) for line in out.stdout.splitlines() if line.startswith("PROBE ")]
    assert len(found) == len(STARTUP), out.stderr
    for (argv, code, may_load), step in zip(STARTUP, found):
        assert step["code"] == code, (argv, out.stderr)
        if not may_load:
            assert step["heavy"] == [], f"seqcli {' '.join(argv)} imported {step['heavy']}"
    assert "torch" in found[-1]["heavy"]  # a command that works does load them
