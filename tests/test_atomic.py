"""seqcli/atomic.py: a failed write leaves the previous file and no temp file behind."""

import errno
import json
import os
import stat
import subprocess
import sys

import pytest

from seqcli import atomic
from seqcli.atomic import (atomic_file, remove_stale_temps, replace_together, temp_path,
                           write_bytes, write_failure, write_json, write_text)
from seqcli.errors import CheckpointError

OLD = b"old contents \x00\xff\n"


@pytest.fixture
def target(tmp_path):
    path = tmp_path / "state.bin"
    path.write_bytes(OLD)
    return path


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if ".tmp-" in p.name)


def test_temp_path_is_hidden_beside_the_target_and_names_this_process(tmp_path):
    tmp = temp_path(tmp_path / "model.pt")
    assert tmp.parent == tmp_path
    assert tmp.name == f".model.pt.tmp-{os.getpid()}"


def test_clean_write_replaces_the_file_and_leaves_no_temp(target):
    write_bytes(target, lambda handle: handle.write(b"new"))
    assert target.read_bytes() == b"new"
    assert leftovers(target.parent) == []
    assert stat.S_IMODE(target.stat().st_mode) == 0o644


def test_atomic_file_creates_a_missing_file(tmp_path):
    dest = tmp_path / "fresh.bin"
    with atomic_file(dest) as handle:
        handle.write(b"abc")
        assert not dest.exists()  # nothing is visible before the clean exit
        assert temp_path(dest).exists()
    assert dest.read_bytes() == b"abc"
    assert leftovers(tmp_path) == []


class Boom(Exception):
    pass


def test_exception_mid_write_keeps_previous_file_and_removes_temp(target):
    def write(handle):
        handle.write(b"half of the new")
        handle.flush()
        raise Boom("writer failed")

    with pytest.raises(Boom):  # not an OSError: it propagates unchanged
        write_bytes(target, write)
    assert target.read_bytes() == OLD
    assert leftovers(target.parent) == []


def test_keyboard_interrupt_inside_atomic_file_keeps_previous_file(target):
    with pytest.raises(KeyboardInterrupt):
        with atomic_file(target) as handle:
            handle.write(b"partial")
            raise KeyboardInterrupt
    assert target.read_bytes() == OLD
    assert leftovers(target.parent) == []


def test_enospc_from_the_writer_becomes_one_line_checkpoint_error(target):
    def write(handle):
        handle.write(b"x" * 100)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    with pytest.raises(CheckpointError) as info:
        write_bytes(target, write)
    message = str(info.value)
    assert "\n" not in message
    assert str(target) in message
    assert os.strerror(errno.ENOSPC) in message
    assert "previous version is kept" in message and "free some disk space" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert target.read_bytes() == OLD
    assert leftovers(target.parent) == []


def test_write_text_and_json_fail_the_same_way_into_a_missing_folder(tmp_path):
    missing = tmp_path / "no" / "such" / "config.json"
    with pytest.raises(CheckpointError, match="nothing was written") as info:
        write_json(missing, {"a": 1})
    assert str(missing) in str(info.value) and "\n" not in str(info.value)
    assert not missing.parent.exists()


def test_write_text_and_write_json_contents(tmp_path):
    text = tmp_path / "notes.txt"
    write_text(text, "héllo\n")
    assert text.read_bytes() == "héllo\n".encode("utf-8")
    data = tmp_path / "data.json"
    write_json(data, {"name": "zoë", "values": [1, 2.5, None]})
    raw = data.read_text(encoding="utf-8")
    assert raw.endswith("}\n") and "zoë" in raw  # not ascii-escaped
    assert json.loads(raw) == {"name": "zoë", "values": [1, 2.5, None]}
    write_json(data, [1])  # replaces the earlier contents
    assert json.loads(data.read_text()) == [1]


def test_write_failure_messages(tmp_path):
    existing = tmp_path / "kept.txt"
    existing.write_text("x")
    full = write_failure(existing, OSError(errno.ENOSPC, "No space left on device"))
    assert full == (f"cannot write {existing}: No space left on device "
                    f"(the previous version is kept; free some disk space)")
    denied = write_failure(tmp_path / "new.txt", OSError(errno.EACCES, "Permission denied"))
    assert denied == f"cannot write {tmp_path / 'new.txt'}: Permission denied (nothing was written)"
    bare = write_failure(existing, OSError())  # no strerror, no text: the type name
    assert bare == f"cannot write {existing}: OSError (the previous version is kept)"


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_remove_stale_temps_deletes_only_dead_writers_files(tmp_path):
    dead = tmp_path / f".model.pt.tmp-{dead_pid()}"
    mine = tmp_path / f".model.pt.tmp-{os.getpid()}"
    parent = tmp_path / f".log.json.tmp-{os.getppid()}"  # alive, and not this process
    not_a_pid = tmp_path / ".model.pt.tmp-abc"
    empty = tmp_path / ".model.pt.tmp-"
    unrelated = tmp_path / "model.pt"
    for path in (dead, mine, parent, not_a_pid, empty, unrelated):
        path.write_bytes(b"x")

    removed = remove_stale_temps(tmp_path)

    assert removed == [dead]
    assert not dead.exists()
    for kept in (mine, parent, not_a_pid, empty, unrelated):
        assert kept.exists(), kept.name


def test_remove_stale_temps_on_a_clean_folder(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    assert remove_stale_temps(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


@pytest.mark.parametrize("suffix", [str(2**31), str(2**64), "\u00b2"])
def test_remove_stale_temps_survives_digit_suffixes_that_are_no_pid(tmp_path, suffix):
    odd = tmp_path / f".model.pt.tmp-{suffix}"
    dead = tmp_path / f".model.pt.tmp-{dead_pid()}"
    odd.write_bytes(b"x")
    dead.write_bytes(b"x")
    removed = remove_stale_temps(tmp_path)
    assert dead in removed and not dead.exists()


def old_set(folder):
    """A set of three files read together, the last (the record) naming the generation."""
    names = ("model.bin", "tokenizer.json", "model.bin.json")
    for name in names:
        (folder / name).write_bytes(b"old " + name.encode())
    return [(folder / name, b"new " + name.encode()) for name in names]


def contents(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def test_replace_together_replaces_the_whole_set(tmp_path):
    files = old_set(tmp_path)
    replace_together(files)
    assert contents(tmp_path) == {path.name: data for path, data in files}
    assert stat.S_IMODE((tmp_path / "model.bin").stat().st_mode) == 0o644


def test_replace_together_a_failed_second_write_keeps_the_old_set(tmp_path, monkeypatch):
    """Every file is written (and synced) before any is replaced: a full disk on the second
    leaves the old set whole, and no temp file."""
    files = old_set(tmp_path)
    before = contents(tmp_path)
    real, calls = atomic._stage, []

    def second_fails(tmp, data):
        calls.append(tmp)
        if len(calls) == 2:
            tmp.write_bytes(data[:3])  # half written
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real(tmp, data)

    monkeypatch.setattr(atomic, "_stage", second_fails)
    with pytest.raises(CheckpointError, match=r"cannot write .*tokenizer.json: No space left"):
        replace_together(files)
    assert contents(tmp_path) == before


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_replace_together_a_crash_while_renaming_leaves_no_record_of_a_mix(
        tmp_path, monkeypatch, crash_at):
    """Between renames the old record is already gone: the folder holds files without a record
    (an unfinished set), never a record beside files of another generation."""
    files = old_set(tmp_path)
    real, calls = os.replace, []

    def crash(src, dst):
        calls.append(dst)
        if len(calls) == crash_at:
            raise Boom("killed")
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(Boom):
        replace_together(files)
    assert "model.bin.json" not in contents(tmp_path) and leftovers(tmp_path) == []
    monkeypatch.undo()
    replace_together(files)  # the next write completes the set
    assert contents(tmp_path) == {path.name: data for path, data in files}
