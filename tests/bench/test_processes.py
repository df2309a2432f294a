"""`seqcli bench train --nproc N`: both candidates run the real CLI and are reported side by side."""

import pytest
from typer.testing import CliRunner

from seqcli.bench.processes import ProcessBenchSettings, bench_processes
from seqcli.cli.main import app
from seqcli.errors import SeqcliError

from tests.conftest import tiny_text


def test_one_process_against_two_interleaved():
    settings = ProcessBenchSettings(nproc=2, hidden_size=8, embedding_size=8, batch_size=4,
                                    seq_len=8, steps=20, rounds=1)
    report = bench_processes(settings, tiny_text(20), "tiny")
    names = [r["name"] for r in report["results"]]
    assert names == ["seqcli-train-1proc", "seqcli-train-2proc"]
    for result in report["results"]:
        assert result["tokens_per_second"] > 0 and len(result["round_rates"]) == 1
        assert result["tokens"] == 10 * 4 * 8  # the one window after the first is measured
    assert list(report["ratios"]) == ["seqcli-train-2proc / seqcli-train-1proc"]


def test_too_few_steps_to_measure():
    with pytest.raises(SeqcliError, match="at least 20"):
        bench_processes(ProcessBenchSettings(steps=10), "text", "tiny")


def test_the_cli_option_validates_the_count():
    result = CliRunner().invoke(app, ["bench", "train", "--nproc", "1"])
    assert result.exit_code == 2 and "--nproc" in result.stderr
