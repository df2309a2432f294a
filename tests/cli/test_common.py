"""What every command shares: the environment read once, JSON on stdout, piped consoles."""

import json

import pytest

from seqcli.cli import common


def test_locations_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SEQCLI_RUNS", str(tmp_path / "r"))
    monkeypatch.setenv("SEQCLI_DATA", str(tmp_path / "d"))
    monkeypatch.setenv("SEQCLI_CACHE", str(tmp_path / "c"))
    where = common.locations()
    assert (where.runs, where.data, where.cache) == (tmp_path / "r", tmp_path / "d", tmp_path / "c")


def test_print_json_writes_one_document(capsys):
    common.print_json({"path": common.locations().runs, "n": 1})
    assert json.loads(capsys.readouterr().out)["n"] == 1


def test_a_closed_pipe_is_left_to_the_error_boundary():
    console = type(common.out_console)()  # a fresh one: a broken pipe silences it for good
    with pytest.raises(BrokenPipeError):
        console.on_broken_pipe()
    assert console.quiet
