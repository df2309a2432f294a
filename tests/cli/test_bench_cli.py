"""`seqcli bench` options: device and precision are the same choices as everywhere."""

import json

from typer.testing import CliRunner

from seqcli.cli import bench as bench_cli
from seqcli.cli.main import app


def test_choices_and_a_tiny_generate_report():
    bad = CliRunner().invoke(app, ["bench", "generate", "--device", "tpu"])
    assert bad.exit_code == 2 and "'tpu' is not one of" in bad.stderr
    result = CliRunner().invoke(app, ["bench", "generate", "--hidden", "8", "--length", "4",
                                      "--rounds", "1", "--precision", "fp32", "--format",
                                      "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["config"]["precision"] == "fp32" and report["results"]
    assert bench_cli.app.info.help.startswith("Throughput benchmarks")
