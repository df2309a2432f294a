"""seqcli/cli/failures.py: what a failing rank leaves for the launcher, in torch's own error-file
format, and how the launcher picks the one line to show.

A real rank failing on purpose under `--nproc 2` is in tests/cli/test_distributed_cli.py.
"""

import json
from unittest import mock

from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure
from typer.testing import CliRunner

from seqcli.cli import failures
from seqcli.cli.failures import Report, first_lost_peer, read_report, record, root_cause
from seqcli.cli.main import app


def worker_env(path, rank=1, **extra):
    return {"TORCHELASTIC_ERROR_FILE": str(path), "WORLD_SIZE": "2", "RANK": str(rank), **extra}


def test_a_rank_leaves_its_line_where_torch_and_the_launcher_read_it(tmp_path):
    path = tmp_path / "error.json"
    with mock.patch("time.time", return_value=1234.75):
        record("the disk is full", 1, environ=worker_env(path))
    failure = ProcessFailure(local_rank=1, pid=1, exitcode=1, error_file=str(path))
    assert failure.timestamp == 1234
    shown = ChildFailedError("seqcli", {1: failure}).format_msg()  # torchrun's own report
    assert "the disk is full" in shown
    report = read_report(1, failure.error_file_data)
    assert report == Report(1, "the disk is full", 1, False, 1234.75)


def test_a_rank_that_lost_its_peers_is_dated_after_any_cause_in_the_same_second(tmp_path):
    path = tmp_path / "error.json"
    with mock.patch("time.time", return_value=1234.25):
        record("RuntimeError: [gloo] closed", 1, lost_peer=True, environ=worker_env(path, 0))
    failure = ProcessFailure(local_rank=0, pid=1, exitcode=1, error_file=str(path))
    assert failure.timestamp == 1235  # torch picks its root cause by the earliest timestamp
    assert read_report(0, failure.error_file_data).lost_peer


def test_nothing_is_written_outside_a_launched_data_parallel_run(tmp_path):
    path = tmp_path / "error.json"
    record("x", 1, environ={"TORCHELASTIC_ERROR_FILE": str(path), "WORLD_SIZE": "1"})
    record("x", 1, environ={"WORLD_SIZE": "2", "RANK": "1"})
    assert not path.exists()
    assert failures.worker_rank({}) is None and failures.worker_rank({"WORLD_SIZE": "1"}) is None
    assert failures.worker_rank({"WORLD_SIZE": "4", "RANK": "3"}) == 3


def test_an_error_file_without_our_report_is_no_report():
    assert read_report(0, {"message": "<NONE>"}) is None
    assert read_report(0, {"message": {"message": "x", "extraInfo": {"timestamp": "1"}}}) is None


def test_root_cause_prefers_a_ranks_own_error_then_the_earliest():
    lost = Report(0, "RuntimeError: [gloo] closed", 1, True, 1.0)
    late, early = Report(2, "a bug", 1, False, 3.0), Report(1, "the disk is full", 1, False, 2.0)
    assert root_cause([lost, late, early], 4) == \
        ("rank 1: the disk is full (the other ranks were stopped)", 1)
    assert root_cause([lost], 2) is None
    assert first_lost_peer([lost]) == ("rank 0: RuntimeError: [gloo] closed (the other ranks "
                                       "were stopped)", 1)
    same = [Report(r, "--batch-size 7 cannot be shared", 2, False, r) for r in range(2)]
    assert root_cause(same, 2) == ("--batch-size 7 cannot be shared", 2)
    assert root_cause(same, 3)[0].startswith("rank 0: ")  # one rank did not meet it


def test_a_launched_worker_reports_its_error_instead_of_printing_it(tmp_path):
    """Under --nproc the launcher tells the error (once); the worker only leaves it."""
    path = tmp_path / "error.json"
    env = worker_env(path, rank=0, SEQCLI_LAUNCHED="1")
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tmp_path / "missing")], env=env)
    assert result.exit_code == 1 and result.stderr == ""
    report = read_report(0, json.loads(path.read_text()))
    assert "missing" in report.message and report.code == 1 and not report.lost_peer


def test_under_torchrun_rank_0_still_prints_its_error(tmp_path):
    path = tmp_path / "error.json"
    result = CliRunner().invoke(app, ["evaluate", "--model", str(tmp_path / "missing")],
                                env=worker_env(path, rank=0))
    assert result.exit_code == 1 and "missing" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert read_report(0, json.loads(path.read_text())).code == 1
