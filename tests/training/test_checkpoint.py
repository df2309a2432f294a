import json
import os
import pickle

import pytest
import torch

from seqcli import runs
from seqcli.errors import CheckpointError
from seqcli.training import checkpoint as ckpt


def test_round_trip_plain_tensors(tmp_path):
    path = tmp_path / "x.pt"
    ckpt.save_checkpoint(path, {ckpt.KEY_MODEL: {"w": torch.arange(4.0)}, "progress": {"step": 3}})
    data = ckpt.load_checkpoint(path)
    assert torch.equal(data[ckpt.KEY_MODEL]["w"], torch.arange(4.0))
    assert data["progress"] == {"step": 3}
    assert data[ckpt.KEY_VERSION] == ckpt.FORMAT_VERSION
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temp left


class _Planted:
    """Unpickling this would create a file: loading must refuse it."""

    def __init__(self, target):
        self.target = target

    def __reduce__(self):
        return (open, (self.target, "w"))


def test_loading_never_executes_code(tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pt"
    with open(path, "wb") as handle:
        torch.save({ckpt.KEY_MODEL: {}, "x": _Planted(str(target))}, handle)
    assert not target.exists()
    with pytest.raises(CheckpointError, match="refusing"):
        ckpt.load_checkpoint(path)
    assert not target.exists()
    raw = tmp_path / "raw.pt"
    raw.write_bytes(pickle.dumps(_Planted(str(target))))
    with pytest.raises(CheckpointError):
        ckpt.load_checkpoint(raw)
    assert not target.exists()


def test_truncated_corrupt_and_newer_checkpoints(tmp_path):
    good = tmp_path / "good.pt"
    ckpt.save_checkpoint(good, {ckpt.KEY_MODEL: {"w": torch.randn(64, 64)}})
    data = good.read_bytes()
    (tmp_path / "trunc.pt").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.pt").write_bytes(os.urandom(300))
    (tmp_path / "empty.pt").write_bytes(b"")
    for name in ("trunc.pt", "junk.pt", "empty.pt", "missing.pt"):
        with pytest.raises(CheckpointError):
            ckpt.load_checkpoint(tmp_path / name)
    newer = tmp_path / "newer.pt"
    torch.save({ckpt.KEY_VERSION: ckpt.FORMAT_VERSION + 1, ckpt.KEY_MODEL: {}}, newer)
    with pytest.raises(CheckpointError, match="upgrade"):
        ckpt.load_checkpoint(newer)


def test_failed_write_keeps_previous_file(tmp_path):
    path = tmp_path / "last.pt"
    ckpt.save_checkpoint(path, {ckpt.KEY_MODEL: {"w": torch.ones(2)}})

    def explode(handle):
        handle.write(b"partial")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ckpt.write_bytes(path, explode)
    assert torch.equal(ckpt.load_checkpoint(path)[ckpt.KEY_MODEL]["w"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_run_config_checks(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        runs.read_run_config(tmp_path / "nope")
    with pytest.raises(CheckpointError, match="not a seqcli run"):
        runs.read_run_config(tmp_path)
    (tmp_path / runs.CONFIG_FILE).write_text("{broken")
    with pytest.raises(CheckpointError, match="corrupt"):
        runs.read_run_config(tmp_path)
    (tmp_path / runs.CONFIG_FILE).write_text(json.dumps(
        {"format_version": 99, "task": "lm", "config": {}}))
    with pytest.raises(CheckpointError, match="newer seqcli"):
        runs.read_run_config(tmp_path)


def test_out_dir_never_overwrites_a_run(tmp_path):
    (tmp_path / runs.CONFIG_FILE).write_text("{}")
    with pytest.raises(CheckpointError, match="already holds a run"):
        runs.prepare_out_dir(tmp_path)
    a = runs.new_run_dir(tmp_path / "runs", "lm")
    b = runs.new_run_dir(tmp_path / "runs", "lm")
    assert a != b and a.is_dir() and b.is_dir()
