"""`seqcli serve` on the command line: help without the heavy imports, one-line errors."""

from __future__ import annotations

import subprocess
import sys

from typer.testing import CliRunner

from seqcli.cli.main import app


def test_help_shows_every_limit_with_its_default():
    result = CliRunner().invoke(app, ["serve", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag, default in [("--max-rows", "64"), ("--max-queue", "256"),
                          ("--max-prompt-tokens", "8192"), ("--max-tokens", "2048"),
                          ("--max-n", "16"), ("--max-stops", "4"), ("--max-texts", "256"),
                          ("--max-body-bytes", "1000000"), ("--timeout", "120.0"),
                          ("--host", "127.0.0.1"), ("--port", "8000")]:
        assert flag in result.output and default in result.output, flag


def test_the_serve_command_module_imports_no_web_stack():
    code = ("import sys, seqcli.cli.serve; "
            "print(sorted(m for m in ('starlette', 'uvicorn', 'prometheus_client') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def test_serve_errors_are_one_line(runs_dir, tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["serve"])
    assert result.exit_code == 1 and "no runs found" in result.output
    result = runner.invoke(app, ["serve", "--model", str(tmp_path)])
    assert result.exit_code == 1 and "is not a seqcli run" in result.output
    result = runner.invoke(app, ["serve", "--model", str(tmp_path), "--max-rows", "0"])
    assert result.exit_code != 0 and "Traceback" not in result.output
