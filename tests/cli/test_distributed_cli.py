"""Data-parallel training through the real CLI: two tiny CPU ranks on gloo.

`seqcli train --nproc 2` (torch's elastic launcher) and `torchrun -m seqcli train`; one step of
two ranks equals one process with the same global batch; resume; Ctrl-C, SIGTERM, a killed
rank and a rank that fails on its own.
"""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import seqcli as seqcli_api
from seqcli.training.checkpoint import load_checkpoint

from tests.conftest import tiny_text, write_reviews

FP32 = ["--precision", "fp32", "--format", "json"]
LM = ["--hidden", "16", "--embedding", "8", "--layers", "2", "--batch-size", "8", "--seq-len",
      "16", "--dropout", "0", "--weight-drop", "0", *FP32]
CLF = ["--task", "classify", "--hidden", "8", "--embedding", "8", "--batch-size", "16",
       "--word-dropout", "0", "--dropout", "0", "--ema", "0", "--eval-every", "2", *FP32]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("ddp")
    (root / "text.txt").write_text(tiny_text(30))
    write_reviews(root / "reviews.csv", 10)
    return root


def seqcli(*args, nproc=None, env=None, **kw):
    command = [sys.executable, "-m", "seqcli", "train", *map(str, args)]
    if nproc:
        command += ["--nproc", str(nproc)]
    full_env = {**os.environ, "OMP_NUM_THREADS": "1", **(env or {})}
    return subprocess.run(command, capture_output=True, text=True, env=full_env, timeout=300,
                          **kw)


def weights(run_dir: Path) -> dict:
    return torch.load(run_dir / "last.pt", weights_only=True)


def assert_same_weights(a: Path, b: Path, atol=1e-6):
    wa, wb = weights(a)["model"], weights(b)["model"]
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.allclose(wa[key], wb[key], atol=atol), key


def train_losses(run_dir: Path) -> list[float]:
    return [json.loads(line)["loss"] for line in open(run_dir / "metrics.jsonl")
            if '"train"' in line]


@pytest.mark.parametrize("kind", ["lm", "classify"])
def test_two_ranks_step_like_one_process_with_the_same_global_batch(files, tmp_path, kind):
    # The classifier with a wide side: its n-gram table's dense gradients are averaged too.
    args = ["--corpus", files / "text.txt", *LM] if kind == "lm" else \
        ["--corpus", files / "reviews.csv", *CLF, "--wide", "64"]
    two = seqcli(*args, "--max-steps", 2, "--out", tmp_path / "two", nproc=2)
    one = seqcli(*args, "--max-steps", 2, "--out", tmp_path / "one")
    assert two.returncode == 0 and one.returncode == 0, two.stderr + one.stderr
    summary = json.loads(two.stdout)  # one document: rank 0 alone prints
    assert summary["steps"] == 2
    assert_same_weights(tmp_path / "two", tmp_path / "one")
    assert train_losses(tmp_path / "two") == pytest.approx(train_losses(tmp_path / "one"),
                                                           abs=1e-6)
    stored = json.loads((tmp_path / "two" / "config.json").read_text())
    assert stored["meta"]["world_size"] == 2
    if kind == "classify":  # the wide side took part in the steps
        assert stored["config"]["model"]["wide"] == 64
        assert weights(tmp_path / "two")["model"]["wide.weight"].count_nonzero() > 0
    if kind == "lm":  # the carried state of all 8 streams, as one process keeps it
        for a, b in zip(weights(tmp_path / "two")["carried_state"],
                        weights(tmp_path / "one")["carried_state"]):
            assert a.shape[1] == 8 and torch.allclose(a, b, atol=1e-6)


def test_torchrun_runs_the_same_ranks(files, tmp_path):
    """`torchrun -m seqcli train` joins the group the launcher sets up, like --nproc."""
    args = ["--corpus", files / "text.txt", *LM, "--max-steps", 4]
    ours = seqcli(*args, "--out", tmp_path / "ours", nproc=2)
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone",
                "--nproc-per-node", "2", "-m", "seqcli", "train", *map(str, args),
                "--out", str(tmp_path / "torchrun")]
    theirs = subprocess.run(torchrun, capture_output=True, text=True, timeout=300,
                            env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert ours.returncode == 0 and theirs.returncode == 0, ours.stderr + theirs.stderr
    assert json.loads(theirs.stdout)["steps"] == 4  # one document, from rank 0
    assert_same_weights(tmp_path / "ours", tmp_path / "torchrun")


def test_resume_under_another_world_size_continues_the_same_streams(files, tmp_path):
    """Two ranks for 3 steps, then one process to 5: the same weights and carried state of
    all 8 streams as one process that ran the 5 steps unbroken (dropout off, a constant
    rate, so nothing but the streams and positions it continues with could differ)."""
    args = ["--corpus", files / "text.txt", *LM, "--eval-every", 3, "--schedule", "constant",
            "--warmup-steps", 0]
    first = seqcli(*args, "--max-steps", 3, "--out", tmp_path / "run", nproc=2)
    assert first.returncode == 0, first.stderr
    alone = seqcli("--resume", tmp_path / "run", "--max-steps", 5, "--format", "json")
    straight = seqcli(*args, "--max-steps", 5, "--out", tmp_path / "straight")
    assert alone.returncode == 0 and straight.returncode == 0, alone.stderr + straight.stderr
    assert json.loads(alone.stdout)["steps"] == 5
    assert_same_weights(tmp_path / "run", tmp_path / "straight", atol=1e-5)
    resumed, unbroken = weights(tmp_path / "run"), weights(tmp_path / "straight")
    assert resumed["progress"]["batch"] == unbroken["progress"]["batch"] == 5
    for a, b in zip(resumed["carried_state"], unbroken["carried_state"]):
        assert a.shape[1] == 8 and torch.allclose(a, b, atol=1e-5)
    meta = json.loads((tmp_path / "run" / "config.json").read_text())["meta"]
    assert meta["world_size"] == 1  # what it last ran with


# A schedule that does not depend on the step budget, so an interrupted run resumed to N
# steps can be compared with a run of N steps.
STEADY = ["--schedule", "constant", "--warmup-steps", "0", "--eval-every", "5"]


def start_long(files, tmp_path, *extra):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "seqcli", "train", "--corpus", str(files / "text.txt"),
               *LM, *STEADY, "--max-steps", "100000", "--max-minutes", "0", "--nproc", "2",
               "--out", str(out), *extra]
    child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    deadline = time.monotonic() + 120
    while not (out / "last.pt").exists():  # a first checkpoint: training is under way
        assert child.poll() is None and time.monotonic() < deadline, child.communicate()
        time.sleep(0.1)
    return child, out


@pytest.mark.parametrize("signum,code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_ctrl_c_or_sigterm_to_the_launcher_stops_every_rank_resumably(files, tmp_path, signum,
                                                                     code):
    child, out = start_long(files, tmp_path)
    child.send_signal(signum)
    stdout, stderr = child.communicate(timeout=90)
    assert child.returncode == code, stderr
    summary = json.loads(stdout)
    assert summary["stopped_by"] == "interrupted"
    assert torch.load(out / "last.pt", weights_only=True)["progress"]["step"] == summary["steps"]
    assert "Traceback" not in stderr
    if signum != signal.SIGINT:
        return
    total = summary["steps"] + 3  # resumed under the same world size: exactly as if never stopped
    resumed = seqcli("--resume", out, "--max-steps", total, "--format", "json", nproc=2)
    straight = seqcli("--corpus", files / "text.txt", *LM, *STEADY, "--max-steps", total,
                      "--max-minutes", "0", "--out", tmp_path / "straight", nproc=2)
    assert resumed.returncode == 0 and straight.returncode == 0, resumed.stderr + straight.stderr
    assert_same_weights(out, tmp_path / "straight")


def test_a_killed_rank_stops_the_others_with_one_line(files, tmp_path):
    child, out = start_long(files, tmp_path)
    workers = subprocess.run(["pgrep", "-P", str(child.pid)], capture_output=True, text=True)
    pids = [int(p) for p in workers.stdout.split()]
    assert len(pids) == 2
    os.kill(max(pids), signal.SIGKILL)  # the later-started worker
    started = time.monotonic()
    _, stderr = child.communicate(timeout=90)
    assert time.monotonic() - started < 60
    assert child.returncode == 1
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "worker rank" in lines[0] and "SIGKILL" in lines[0], stderr
    assert torch.load(out / "last.pt", weights_only=True)["progress"]["step"] >= 5


# Imported by every Python process started with this folder on PYTHONPATH: the worker of
# rank 1 (and only it) fails at its sixth step, after the checkpoint of step 5.
FAIL_ON_RANK_1 = """
import os
if os.environ.get("RANK") == "1" and os.environ.get("WORLD_SIZE") == "2":
    from seqcli.errors import DataError
    from seqcli.training import trainer
    real = trainer.Trainer.train_step
    def train_step(self, batch):
        if self.progress.step == 5:
            raise {error}
        return real(self, batch)
    trainer.Trainer.train_step = train_step
"""


@pytest.mark.parametrize("error,cause", [
    ("DataError('shard 7 is unreadable')", "rank 1: shard 7 is unreadable"),
    # an error that names gloo used to end its rank without a word (taken for a lost peer)
    ("RuntimeError('[gloo] simulated transport failure')",
     "rank 1: RuntimeError: [gloo] simulated transport failure"),
])
def test_a_failure_on_one_rank_is_one_line_naming_it_and_the_checkpoint_loads(files, tmp_path,
                                                                           error, cause):
    hook = tmp_path / "hook"
    hook.mkdir()
    (hook / "sitecustomize.py").write_text(FAIL_ON_RANK_1.format(error=error))
    out = tmp_path / "run"
    result = seqcli("--corpus", files / "text.txt", *LM, *STEADY, "--max-steps", 50,
                    "--out", out, nproc=2,
                    env={"PYTHONPATH": os.pathsep.join([str(hook), os.environ.get("PYTHONPATH", "")])})
    assert result.returncode == 1
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(f"error: {cause}"), result.stderr
    assert load_checkpoint(out / "last.pt")["progress"]["step"] == 5  # resumable from there
    assert seqcli_api.load(out).task == "lm"  # and best.pt serves


@pytest.mark.parametrize("args,message", [
    (["--nproc", "0"], "--nproc must be from 1"),
    (["--nproc", "2", "--batch-size", "7"], "--batch-size 7 cannot be shared by 2 processes"),
])
def test_bad_process_counts_are_one_line_usage_errors(files, args, message):
    result = seqcli("--corpus", files / "text.txt", *args)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [f"error: {message}"] or \
        message in result.stderr and len(result.stderr.strip().splitlines()) == 1
