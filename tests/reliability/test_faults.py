"""Faults: SIGKILL and Ctrl-C at random moments, a crash inside a checkpoint write, a NaN or
infinite loss, a full disk and an unwritable run directory. After each, whatever checkpoint
the run has must load with seqcli's own loader and `seqcli generate` must work from it.

The kill test forks training processes from one warm harness process (so that a dozen kills
do not pay a dozen interpreter and torch start-ups) and kills each child with SIGKILL (or
SIGINT) after a random delay, or makes it kill itself inside the atomic write, between the
finished temp file and its rename. The harness snapshots the run directory after every kill;
the checks run here, in the test process, on the snapshots. The kill moments are random but
seeded: set SEQCLI_KILL_SEED to try others.
"""

from __future__ import annotations

import errno
import json
import os
import random
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from seqcli import runs
from seqcli.cli.main import app
from seqcli.data.tokenizers import load_tokenizer
from seqcli.errors import CheckpointError
from seqcli.runs import load_run
from seqcli.training import checkpoint as ckpt

TINY = ["--hidden", "16", "--embedding", "8", "--layers", "1", "--seq-len", "8",
        "--batch-size", "4"]
SEED = int(os.environ.get("SEQCLI_KILL_SEED", "20261123"))



HARNESS = r'''
import json, os, shutil, signal, sys, time
from pathlib import Path
plans, corpus, work = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3]
import torch
from seqcli.cli.main import app
from seqcli.training import checkpoint as ckpt

tiny = json.loads(sys.argv[4])
torch.set_num_threads(1)  # before any torch work: no OpenMP pool exists when we fork
# Warm up once (lazy imports, kernels), so each forked child starts training at once.
try:
    app(["train", "--corpus", corpus, *tiny, "--max-steps", "1", "--out",
         os.path.join(work, "warm-up"), "--format", "json"], prog_name="seqcli")
except SystemExit as stop:
    assert stop.code == 0, stop.code
current = None
for k, plan in enumerate(plans):
    if current is not None and (current / "last.pt").exists():
        argv = ["train", "--resume", str(current), "--format", "json"]
    else:  # a fresh run; a folder killed before its config.json was written is reused
        if current is None or (current / "config.json").exists():
            current = Path(work) / f"run-{k}"
        argv = ["train", "--corpus", corpus, *tiny, "--max-steps", "100000", "--eval-every", "1",
                "--val-fraction", "0.03",
                "--out", str(current), "--format", "json"]
    log = os.path.join(work, f"log-{k}.txt")
    original, started = plan, time.time()
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid == 0:  # the training process
        code = 97
        # A second Ctrl-C may land after seqcli has returned, in this harness's own code: only
        # seqcli's handling of it is under test, so from then on the harness ignores SIGINT.
        inside = [True]
        def interrupt(signum, frame, inside=inside):
            if inside[0]:
                raise KeyboardInterrupt
        signal.signal(signal.SIGINT, interrupt)
        try:
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(fd, 1); os.dup2(fd, 2)
            if plan["mode"] == "replace":  # die inside the atomic write, before the rename
                real, calls = os.replace, [0]
                def dying(src, dst, real=real, calls=calls, n=plan["n"]):
                    calls[0] += 1
                    if calls[0] == n:
                        os.kill(os.getpid(), signal.SIGKILL)
                    return real(src, dst)
                os.replace = dying
            try:
                app(argv, prog_name="seqcli")
            finally:
                inside[0] = False
            code = 0
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
        except BaseException:
            inside[0] = False
            import traceback; traceback.print_exc()
            code = 98
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os._exit(code)
    if plan["mode"] == "step":  # let the run log `after` more evaluations, then a bit more
        metrics, deadline = current / "metrics.jsonl", time.time() + 60
        def evaluations():
            try:
                return metrics.read_text().count('"split": "val"')
            except OSError:
                return 0
        target = evaluations() + plan["after"]
        while evaluations() < target and time.time() < deadline and os.waitpid(pid, os.WNOHANG) == (0, 0):
            time.sleep(0.003)
        plan = {**plan, "mode": "time", "delay": plan["jitter"]}
    if plan["mode"] == "time":
        time.sleep(plan["delay"])
        try:
            os.kill(pid, getattr(signal, "SIG" + plan["signal"]))
            if plan.get("second") is not None:  # a second Ctrl-C: stop now
                time.sleep(plan["second"])
                os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    _, status = os.waitpid(pid, 0)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    snap = os.path.join(work, f"snap-{k}")
    if current.exists():
        shutil.copytree(current, snap)
    print("RECORD", json.dumps({"k": k, "plan": original, "code": code, "run": str(current),
                      "seconds": round(time.time() - started, 2),
                      "snapshot": snap if current.exists() else None, "argv": argv[:3]}),
          flush=True)
'''


def _plans() -> list[dict]:
    rng = random.Random(SEED)
    kill = lambda: {"mode": "step", "signal": "KILL", "after": rng.randint(1, 4),  # noqa: E731
                    "jitter": round(rng.uniform(0.0, 0.08), 3)}
    # SIGKILL early (start-up, reading and tokenizing the corpus, creating the run directory)...
    plans = [{"mode": "time", "signal": "KILL", "delay": round(rng.uniform(0.0, 0.08), 3)}
             for _ in range(3)]
    # ... then at random points of random steps (training, evaluating, writing checkpoints),
    plans += [kill() for _ in range(9)]
    # ... and between a fully written temp file and its rename (the 3rd replace of a fresh run
    # is its first best.pt; in a resumed run the 2nd and 5th are checkpoints too).
    plans[1:1] = [{"mode": "replace", "n": 3}]
    plans[6:6] = [{"mode": "replace", "n": 2}, {"mode": "replace", "n": 5}]
    # Ctrl-C at random moments, and twice in a row.
    plans += [{**kill(), "signal": "INT"} for _ in range(3)]
    plans.append({**kill(), "signal": "INT", "second": 0.01})
    return plans


def _check_snapshot(snap: Path) -> dict:
    """Everything the run directory holds loads; returns what was found."""
    found = {"files": sorted(p.name for p in snap.iterdir())}
    if (snap / runs.CONFIG_FILE).exists():
        runs.read_run_config(snap)
    if (snap / runs.TOKENIZER_FILE).exists():
        load_tokenizer(snap / runs.TOKENIZER_FILE)
    for name in (ckpt.BEST_FILE, ckpt.LAST_FILE):
        if (snap / name).exists():
            payload = ckpt.load_checkpoint(snap / name)
            found[name] = payload[ckpt.KEY_PROGRESS]["step"]
    if (snap / runs.CONFIG_FILE).exists() and (ckpt.BEST_FILE in found or ckpt.LAST_FILE in found):
        run = load_run(snap, device="cpu")
        assert run.model is not None
        result = CliRunner().invoke(app, ["generate", "--model", str(snap), "--length", "5",
                                          "--seed", "1", "--device", "cpu"])
        assert result.exit_code == 0, result.output
        assert "Traceback" not in result.output
        found["generated"] = True
    return found


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork (POSIX)")
def test_sigkill_and_ctrl_c_at_random_moments_never_lose_the_last_checkpoint(tiny_corpus,
                                                                             tmp_path, runs_dir):
    plans = _plans()
    work = tmp_path / "kills"
    work.mkdir()
    env = {**os.environ, "SEQCLI_RUNS": str(runs_dir), "SEQCLI_CACHE": str(tmp_path / "cache")}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", HARNESS, json.dumps(plans), str(tiny_corpus),
                           str(work), json.dumps(TINY)], env=env, capture_output=True, text=True,
                          timeout=240)
    assert proc.returncode == 0, proc.stderr[-3000:]
    harness_seconds = time.perf_counter() - started
    records = [json.loads(line.split(" ", 1)[1]) for line in proc.stdout.splitlines()
               if line.startswith("RECORD ")]
    assert len(records) == len(plans)
    last_step: dict[str, int] = {}
    table = []
    for record in records:
        plan, code = record["plan"], record["code"]
        log = (work / f"log-{record['k']}.txt").read_text(errors="replace")
        assert "Traceback" not in log, log
        if plan["mode"] in ("time", "step") and plan["signal"] == "KILL":
            assert code == -signal.SIGKILL, (record, log)
        elif plan["mode"] == "replace":
            assert code == -signal.SIGKILL, (record, log)
        else:  # Ctrl-C: one clean stop with the interrupted exit code
            assert code == 130, (record, log)
        found = _check_snapshot(Path(record["snapshot"])) if record["snapshot"] else {"files": []}
        step = found.get(ckpt.LAST_FILE)
        if step is not None:  # a resumed run never goes back in time
            assert step >= last_step.get(record["run"], 0), (record, found)
            last_step[record["run"]] = step
        moment = (f"+{plan['delay']}s" if plan["mode"] == "time" else
                  f"replace #{plan['n']}" if plan["mode"] == "replace" else
                  f"{plan['after']} evals +{plan['jitter']}s")
        table.append((record["k"], plan.get("signal", "KILL"), moment, record["argv"][1], code,
                      record["seconds"], found.get(ckpt.BEST_FILE),
                      step, any(".tmp-" in f for f in found["files"])))
    kills = [r for r in records if r["plan"].get("signal", "KILL") == "KILL"]
    assert len(kills) >= 10
    with_checkpoint = [t for t in table if t[7] is not None]
    assert len(with_checkpoint) >= 6, table  # most kills landed after a checkpoint existed
    assert any(t[3] == "--resume" for t in table)  # kills also hit resumed runs
    print("\nkill points (k, signal, moment, fresh/resume, exit, s, best step, last step, temp left):")
    for row in table:
        print("  ", row)
    print(f"harness {harness_seconds:.1f}s, checks {time.perf_counter() - started - harness_seconds:.1f}s")
    # The last run continues from its last checkpoint after all those crashes.
    final = Path(records[-1]["run"])
    step = ckpt.load_checkpoint(final / ckpt.LAST_FILE)[ckpt.KEY_PROGRESS]["step"]
    result = CliRunner().invoke(app, ["train", "--resume", str(final), "--max-steps",
                                      str(step + 2), "--format", "json"],
                                env={"SEQCLI_RUNS": str(runs_dir)})
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["steps"] == step + 2
    assert not list(final.glob(".*.tmp-*"))  # resume removed the dead writers' temp files


# --- NaN / infinite loss through the CLI --------------------------------------------------


class _InfiniteGradient(torch.autograd.Function):
    """Identity forward (the loss stays finite), infinite gradient backward."""

    @staticmethod
    def forward(ctx, x):
        return x.clone()

    @staticmethod
    def backward(ctx, grad):
        return grad * float("inf")


@pytest.mark.parametrize("what", ["loss", "gradient"])
def test_non_finite_loss_stops_naming_the_step_and_keeps_the_checkpoint(what, tiny_corpus,
                                                                        tmp_path, runs_dir,
                                                                        monkeypatch):
    from seqcli.lm import task as tasks

    real = tasks.LMTask.train_loss
    calls, saved = [0], {}
    out = tmp_path / "run"

    def poisoned(self, model, batch, state, placement):
        calls[0] += 1
        loss, state, items = real(self, model, batch, state, placement)
        if calls[0] == 5:  # step 5; the evaluation at step 4 saved good checkpoints
            saved.update({n: (out / n).read_bytes() for n in (ckpt.BEST_FILE, ckpt.LAST_FILE)})
            loss = loss * float("nan") if what == "loss" else _InfiniteGradient.apply(loss)
        return loss, state, items

    monkeypatch.setattr(tasks.LMTask, "train_loss", poisoned)
    result = CliRunner().invoke(app, ["train", "--corpus", str(tiny_corpus), *TINY,
                                      "--max-steps", "20", "--eval-every", "4", "--out", str(out),
                                      "--format", "json"])
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    expected = "the loss became nan" if what == "loss" else "the gradient norm became (nan|inf)"
    assert re.search(f"{expected} at step 5;", lines[0]), lines[0]
    assert "last good checkpoint" in lines[0] and "--lr" in lines[0] and "--clip" in lines[0]
    for name, data in saved.items():
        assert (out / name).read_bytes() == data  # untouched
    assert ckpt.load_checkpoint(out / ckpt.LAST_FILE)[ckpt.KEY_PROGRESS]["step"] == 4
    monkeypatch.setattr(tasks.LMTask, "train_loss", real)
    assert CliRunner().invoke(app, ["generate", "--model", str(out), "--length", "5"]).exit_code == 0
    resumed = CliRunner().invoke(app, ["train", "--resume", str(out), "--max-steps", "6",
                                       "--format", "json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["steps"] == 6


# --- a full disk and an unwritable run directory -------------------------------------------

needs_dev_full = pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")


def _full(path: Path) -> None:
    """Make writes to `path` fail with a real ENOSPC from the kernel: point it at /dev/full."""
    path.unlink(missing_ok=True)
    path.symlink_to("/dev/full")


def _train(corpus, out, *extra):
    return CliRunner().invoke(app, ["train", "--corpus", str(corpus), *TINY, "--max-steps", "6",
                                    "--eval-every", "2", "--out", str(out), "--format", "json",
                                    *extra])


@needs_dev_full
@pytest.mark.parametrize("victim", [runs.TOKENIZER_FILE, runs.CONFIG_FILE, ckpt.BEST_FILE,
                                    ckpt.METRICS_FILE])
def test_full_disk_is_a_clear_error(victim, tiny_corpus, tmp_path, runs_dir):
    out = tmp_path / "run"
    out.mkdir()
    temp = out / (victim if victim == ckpt.METRICS_FILE else f".{victim}.tmp-{os.getpid()}")
    _full(temp)
    result = _train(tiny_corpus, out)
    assert result.exit_code == 1, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output, result.stderr
    assert f"cannot write {out / victim}: No space left on device" in lines[0]
    assert "free some disk space" in lines[0]
    if victim in (runs.TOKENIZER_FILE, runs.CONFIG_FILE):  # no half-made run is left behind
        assert "unfinished run directory was removed" in lines[0]
        assert not (out / runs.CONFIG_FILE).exists()
    else:
        assert not list(out.glob(".*.tmp-*"))


@needs_dev_full
def test_disk_filling_up_mid_run_keeps_the_previous_checkpoints(tiny_corpus, tmp_path,
                                                               runs_dir, monkeypatch):
    out = tmp_path / "run"
    real = ckpt.write_bytes
    writes, saved = [0], {}

    def filling_up(path, write):
        path = Path(path)
        if path.suffix == ".pt":
            writes[0] += 1
            if writes[0] == 3:  # the 2nd evaluation: the disk is now full
                saved.update({n: (out / n).read_bytes() for n in (ckpt.BEST_FILE, ckpt.LAST_FILE)})
                _full(path.with_name(f".{path.name}.tmp-{os.getpid()}"))
        return real(path, write)

    monkeypatch.setattr(ckpt, "write_bytes", filling_up)
    result = _train(tiny_corpus, out)
    assert result.exit_code == 1, result.output
    line = result.stderr.strip()
    assert "No space left on device (the previous version is kept; free some disk space)" in line
    for name, data in saved.items():
        assert (out / name).read_bytes() == data
        ckpt.load_checkpoint(out / name)
    assert not list(out.glob(".*.tmp-*"))
    monkeypatch.setattr(ckpt, "write_bytes", real)  # space freed: the run continues
    resumed = CliRunner().invoke(app, ["train", "--resume", str(out), "--format", "json"])
    assert resumed.exit_code == 0, resumed.output
    assert json.loads(resumed.stdout)["steps"] == 6


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="root ignores permission bits (the catalogue covers --out under a "
                           "regular file instead)")
def test_read_only_parent_is_a_clear_error(tiny_corpus, tmp_path, runs_dir):
    parent = tmp_path / "locked"
    parent.mkdir()
    parent.chmod(0o500)
    try:
        result = _train(tiny_corpus, parent / "run")
        assert result.exit_code == 1
        assert "cannot write to run directory" in result.stderr and "Permission denied" in result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    finally:
        parent.chmod(0o700)


def test_failed_atomic_write_names_the_file_and_removes_its_temp(tmp_path):
    target = tmp_path / "last.pt"
    ckpt.save_checkpoint(target, {ckpt.KEY_MODEL: {"w": torch.ones(3)}})

    def enospc(handle):
        handle.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(CheckpointError, match=r"cannot write .*last\.pt: No space left on device "
                                               r"\(the previous version is kept"):
        ckpt.write_bytes(target, enospc)
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]
    assert torch.equal(ckpt.load_checkpoint(target)[ckpt.KEY_MODEL]["w"], torch.ones(3))


def test_a_ctrl_c_outside_clicks_own_handling_is_one_line_and_exit_130(monkeypatch, capsys):
    """A second Ctrl-C can land after a stopped run has returned from its command, where click
    no longer turns it into Abort; it must still end as an interruption, not a traceback."""
    from typer.core import TyperGroup

    def interrupted(self, *args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(TyperGroup, "main", interrupted)
    with pytest.raises(SystemExit) as stop:
        app(["runs"], prog_name="seqcli")
    assert stop.value.code == 130
    assert capsys.readouterr().err.strip() == "interrupted"
