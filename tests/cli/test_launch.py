"""seqcli/cli/launch.py piece by piece: the worker's rank from its environment, the workers'
command line, the batch check before any worker starts, and how a failed launch is reported.

Real multi-process launches through the CLI are in tests/cli/test_distributed_cli.py.
"""

import signal
from pathlib import Path
from unittest import mock

import pytest
from torch.distributed.elastic.multiprocessing.errors import ChildFailedError, ProcessFailure

from seqcli.cli import failures, launch
from seqcli.cli.launch import _failed, check_shareable, worker_argv, worker_spec
from seqcli.config import default_config, with_overrides
from seqcli.errors import SeqcliError, UsageError
from seqcli.training.distributed import Spec


# ----- worker_spec ------------------------------------------------------------------------
def test_worker_spec_without_a_launcher_is_one_process():
    assert worker_spec({}) == Spec(1, 0, 0)
    assert worker_spec({"PATH": "/usr/bin"}) == Spec(world_size=1, rank=0, local_rank=0)


def test_worker_spec_reads_the_launchers_variables():
    env = {"WORLD_SIZE": "4", "RANK": "2", "LOCAL_RANK": "1"}
    assert worker_spec(env) == Spec(world_size=4, rank=2, local_rank=1)
    assert worker_spec({"WORLD_SIZE": "2", "RANK": "1"}) == Spec(2, 1, 0)  # LOCAL_RANK default
    assert worker_spec({"WORLD_SIZE": " 3 ", "RANK": "0", "LOCAL_RANK": "0"}) == Spec(3, 0, 0)


@pytest.mark.parametrize("env", [
    {"WORLD_SIZE": "two"},
    {"WORLD_SIZE": "2", "RANK": "1.5"},
    {"WORLD_SIZE": "2", "RANK": "0", "LOCAL_RANK": "x"},
    {"WORLD_SIZE": ""},
])
def test_worker_spec_refuses_non_integers_as_a_usage_error(env):
    with pytest.raises(UsageError, match="WORLD_SIZE, RANK and LOCAL_RANK must be integers") \
            as info:
        worker_spec(env)
    assert info.value.exit_code == 2
    assert info.value.__cause__ is None and info.value.__suppress_context__  # one clean line


# ----- worker_argv ------------------------------------------------------------------------
@pytest.mark.parametrize("argv,expected", [
    (["train", "--nproc", "2", "--hidden", "8"], ["train", "--hidden", "8"]),
    (["--nproc", "2", "train", "--corpus", "a.txt"], ["train", "--corpus", "a.txt"]),
    (["train", "--corpus", "a.txt", "--nproc", "4"], ["train", "--corpus", "a.txt"]),
    (["train", "--nproc=3", "--seed", "3"], ["train", "--seed", "3"]),
    (["--nproc=2", "train"], ["train"]),
    (["train", "--seed", "2", "--nproc", "2", "--layers", "2", "--nproc=2"],
     ["train", "--seed", "2", "--layers", "2"]),
    (["train", "--hidden", "8"], ["train", "--hidden", "8"]),
    ([], []),
])
def test_worker_argv_drops_nproc_and_keeps_the_rest_in_order(argv, expected):
    before = list(argv)
    assert worker_argv(argv) == expected
    assert argv == before  # the caller's list is not touched


def test_worker_argv_takes_any_sequence_and_keeps_look_alikes():
    assert worker_argv(("train", "--nproc", "2")) == ["train"]
    # only --nproc itself is the launcher's; other options and values stay as they are
    assert worker_argv(["train", "--out", "nproc", "--run", "--nprocs=2"]) == \
        ["train", "--out", "nproc", "--run", "--nprocs=2"]


# ----- check_shareable --------------------------------------------------------------------
def test_check_shareable_accepts_an_lm_batch_the_ranks_divide():
    lm = default_config("lm")
    assert lm.data.batch_size == 16
    for nproc in (1, 2, 4, 8, 16):
        assert check_shareable(lm, nproc) is None
    six = with_overrides(lm, {("data", "batch_size"): 6})
    check_shareable(six, 3)
    check_shareable(six, 2)


@pytest.mark.parametrize("batch,nproc", [(32, 3), (6, 4), (7, 2), (2, 4)])
def test_check_shareable_refuses_an_lm_batch_in_one_line(batch, nproc):
    config = with_overrides(default_config("lm"), {("data", "batch_size"): batch})
    with pytest.raises(UsageError) as info:
        check_shareable(config, nproc)
    assert str(info.value) == (f"--batch-size {batch} cannot be shared by {nproc} processes; "
                               f"use a multiple of {nproc}")
    assert "\n" not in str(info.value) and info.value.exit_code == 2


@pytest.mark.parametrize("batch,nproc", [(64, 3), (7, 2), (5, 4), (1, 2), (3, 8)])
def test_check_shareable_accepts_any_classifier_batch(batch, nproc):
    config = with_overrides(default_config("classify"), {("data", "batch_size"): batch})
    assert config.task == "classify"
    assert check_shareable(config, nproc) is None


# ----- _failed ----------------------------------------------------------------------------
def child_failed(codes: dict[int, int], reports: dict | None = None,
                 folder: Path | None = None) -> ChildFailedError:
    """What the elastic launcher raises when workers exit with these codes, each rank in
    `reports` having left (message, exit code, lost_peer, seconds later) in its error file."""
    files = {}
    for rank, (message, code, lost_peer, later) in (reports or {}).items():
        files[rank] = folder / f"error-{rank}.json"
        environ = {"TORCHELASTIC_ERROR_FILE": str(files[rank]), "WORLD_SIZE": "4",
                   "RANK": str(rank)}
        with mock.patch("time.time", return_value=1000.0 + later):
            failures.record(message, code, lost_peer=lost_peer, environ=environ)
    found = {rank: ProcessFailure(local_rank=rank, pid=1000 + rank, exitcode=code,
                                  error_file=str(files.get(rank, "/nonexistent")))
             for rank, code in codes.items()}
    return ChildFailedError("seqcli", found)


@pytest.mark.parametrize("codes,expected", [
    ({0: 130, 1: 130}, 130),
    ({0: 143, 1: 143}, 143),
    ({0: -signal.SIGINT, 1: -signal.SIGINT}, 130),
    ({0: -signal.SIGTERM, 1: -signal.SIGTERM}, 143),
    ({0: 130, 1: -signal.SIGINT}, 130),
    ({0: -signal.SIGTERM, 1: 143, 2: 143, 3: -signal.SIGTERM}, 143),
    ({1: 143}, 143),
])
def test_failed_returns_the_code_of_ranks_that_were_all_stopped(codes, expected):
    assert _failed(child_failed(codes), 4) == expected


@pytest.mark.parametrize("kind,code", [(SeqcliError, 1), (UsageError, 2)])
def test_an_error_every_rank_met_is_told_once_without_a_rank(tmp_path, kind, code):
    reports = {r: ("the corpus is empty", code, False, r * 0.01) for r in range(2)}
    with pytest.raises(SeqcliError) as info:
        _failed(child_failed({0: code, 1: code}, reports, tmp_path), 2)
    assert str(info.value) == "the corpus is empty"
    assert type(info.value) is kind and info.value.exit_code == code


@pytest.mark.parametrize("codes,reports", [
    ({0: 1, 1: 1}, {1: ("the disk is full", 1, False, 0.0), 0: ("gloo: closed", 1, True, 0.5)}),
    ({0: -signal.SIGTERM, 1: 2}, {1: ("the disk is full", 2, False, 0.0)}),
    ({0: 1, 1: 1}, {1: ("the disk is full", 1, False, 0.7), 0: ("gloo: closed", 1, True, 0.1)}),
    ({0: 1, 1: 1, 2: 1}, {2: ("the disk is full", 1, False, 0.2),
                          1: ("a bug", 1, False, 0.9), 0: ("gloo: closed", 1, True, 0.3)}),
])
def test_a_ranks_own_error_is_named_before_the_peers_it_took_down(tmp_path, codes, reports):
    rank = next(r for r, (_, _, lost, _) in sorted(reports.items(), key=lambda kv: kv[1][3])
                if not lost)
    with pytest.raises(SeqcliError) as info:
        _failed(child_failed(codes, reports, tmp_path), 4)
    assert str(info.value) == f"rank {rank}: {reports[rank][0]} (the other ranks were stopped)"
    assert info.value.exit_code == reports[rank][1]


def test_a_failed_collective_alone_is_named_where_it_began(tmp_path):
    reports = {0: ("RuntimeError: [gloo] connection closed", 1, True, 0.4),
               1: ("RuntimeError: NCCL error: unhandled system error", 1, True, 0.1)}
    with pytest.raises(SeqcliError) as info:
        _failed(child_failed({0: 1, 1: 1}, reports, tmp_path), 2)
    assert str(info.value).startswith("rank 1: RuntimeError: NCCL error: unhandled")


def test_a_rank_that_left_without_a_report_is_named_by_its_exit_code(capsys):
    for codes in ({0: 1}, {0: 2, 1: 143}, {0: 1, 1: -signal.SIGTERM}):
        with pytest.raises(SeqcliError, match=r"^worker rank 0 exited with [12];"):
            _failed(child_failed(codes), 4)


@pytest.mark.parametrize("codes,rank", [
    ({1: -signal.SIGKILL}, 1),
    ({0: -signal.SIGTERM, 1: -signal.SIGKILL}, 1),
    ({0: 130, 1: 130, 2: -signal.SIGKILL, 3: -signal.SIGKILL}, 2),
    ({0: -signal.SIGKILL, 1: 143}, 0),
])
def test_failed_names_a_rank_killed_by_a_signal(codes, rank):
    with pytest.raises(SeqcliError) as info:
        _failed(child_failed(codes), 4)
    message = str(info.value)
    assert message.startswith(f"worker rank {rank} was killed by signal SIGKILL;")
    assert "last good checkpoint is kept" in message and "\n" not in message
    assert type(info.value) is SeqcliError and info.value.exit_code == 1


def test_failed_names_a_rank_that_exited_with_an_unexpected_code():
    with pytest.raises(SeqcliError, match=r"^worker rank 1 exited with 3;"):
        _failed(child_failed({0: 143, 1: 3}), 4)
    with pytest.raises(SeqcliError, match=r"^worker rank 1 exited with 1;"):
        _failed(child_failed({0: -signal.SIGTERM, 1: 1}), 4)  # rank 0 did not report it


@pytest.mark.parametrize("number", [99, 200])
def test_failed_with_an_unknown_signal_number_still_names_the_rank(number):
    with pytest.raises(SeqcliError) as info:
        _failed(child_failed({0: 143, 1: -number}), 4)
    assert str(info.value).startswith(f"worker rank 1 was killed by signal {number};")


def test_signal_names():
    assert launch._signal_name(signal.SIGKILL) == "SIGKILL"
    assert launch._signal_name(signal.SIGSEGV) == "SIGSEGV"
    assert launch._signal_name(99) == "99"


def test_stopped_codes_map_to_the_shell_convention():
    assert launch.STOPPED == {130: 130, 143: 143, -signal.SIGINT: 130, -signal.SIGTERM: 143}


def test_a_killed_rank_is_named_even_when_rank_0_left_quietly_with_1():
    # Rank 1 is SIGKILLed; rank 0's next collective fails and it leaves with exit 1 without a
    # message; the elastic agent then reports both failures.
    with pytest.raises(SeqcliError, match="worker rank 1 was killed by signal SIGKILL"):
        _failed(child_failed({0: 1, 1: -signal.SIGKILL}), 4)


def test_a_killed_rank_is_named_before_the_collective_that_failed_with_it(tmp_path):
    reports = {0: ("RuntimeError: [gloo] connection closed by peer", 1, True, 0.0)}
    with pytest.raises(SeqcliError, match="^worker rank 1 was killed by signal SIGKILL"):
        _failed(child_failed({0: 1, 1: -signal.SIGKILL}, reports, tmp_path), 2)
