"""Launching `seqcli serve`: a port in use is one line; SIGTERM and SIGINT: the real `seqcli serve` stops accepting, ends the streams in flight
with a final event, and exits 0 within a few seconds."""

from __future__ import annotations

import json
import re
import signal
import socket
import subprocess
import sys
import time

import uvicorn
from typer.testing import CliRunner

from seqcli.cli.main import app
from starlette.applications import Starlette
from starlette.routing import Mount

import seqcli
from seqcli.server import launch
from seqcli.server.launch import SeqcliServer

from tests.server.live import LiveServer, call, open_stream


def _start(run) -> tuple[subprocess.Popen, str, int]:
    proc = subprocess.Popen([sys.executable, "-m", "seqcli", "serve", "--model", str(run),
                             "--port", "0", "--device", "cpu", "--max-tokens", "1000000"],
                            stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    found = re.search(r"http://127\.0\.0\.1:(\d+)", line)
    assert found, line
    port = int(found.group(1))
    base = f"http://127.0.0.1:{port}"
    until = time.monotonic() + 60
    while time.monotonic() < until:
        try:
            if call(base, "GET", "/health")[0] == 200:
                return proc, base, port
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise TimeoutError(line + proc.stderr.read())


def test_sigterm_ends_streams_with_a_final_event_and_exits_0(served_runs):
    proc, base, port = _start(served_runs["lm"])
    try:
        # fp32 without being asked: seeded texts do not depend on the batch (README)
        info = call(base, "GET", "/info")[1]
        assert {m["precision"] for m in info["models"]} == {"fp32"}
        connection, response = open_stream(port, {"prompt": "the", "max_tokens": 1_000_000})
        proc.send_signal(signal.SIGTERM)
        sent = time.monotonic()
        lines = [line.decode().strip() for line in response if line.strip()]
        assert lines[-1] == "data: [DONE]"
        assert json.loads(lines[-2][len("data: "):])["error"]["type"] == "unavailable"
        assert proc.wait(timeout=10) == 0
        assert time.monotonic() - sent < 8
        assert "Traceback" not in proc.stderr.read()
    finally:
        if proc.poll() is None:
            proc.kill()


def test_sigint_stops_the_server_without_raising_after_it():
    """uvicorn re-raises a caught signal once it has shut down (Ctrl-C would then end in
    KeyboardInterrupt, SIGTERM in death by signal): seqcli's server does not, so the
    command returns and exits 0. A second Ctrl-C forces the exit."""
    server = SeqcliServer(uvicorn.Config(None), None)
    with server.capture_signals():
        signal.raise_signal(signal.SIGINT)
        assert server.should_exit and not server.force_exit
        signal.raise_signal(signal.SIGINT)
        assert server.force_exit


def test_a_port_in_use_is_one_line(served_runs):
    taken = socket.socket()
    taken.bind(("127.0.0.1", 0))
    taken.listen()
    port = taken.getsockname()[1]
    result = CliRunner().invoke(app, ["serve", "--model", str(served_runs["lm"]),
                                      "--port", str(port)])
    taken.close()
    assert result.exit_code == 2 and f"cannot listen on 127.0.0.1:{port}" in result.output


def test_the_app_mounts_in_a_users_application(served_runs):
    """As the README says: Mount it, and pass its lifespan (or it loads at the first call)."""
    def outer(api):
        return Starlette(routes=[Mount("/seqcli", app=api)],
                         lifespan=api.router.lifespan_context)
    live = LiveServer([served_runs["clf"]], outer=outer, prefix="/seqcli")
    try:
        status, doc = call(live.base, "POST", "/v1/classify", {"input": "a lovely story"})
        assert status == 200 and doc["data"][0]["label"] in ("negative", "positive")
    finally:
        live.close()
    assert seqcli.serve is launch.serve


def test_a_run_that_fails_to_load_stops_the_server_with_one_line(served_runs, tmp_path):
    """The weights load after the server has bound (so /health can say 503 meanwhile); when
    they cannot, the command ends with the loader's one-line error and exit 1."""
    import shutil
    bad = tmp_path / "bad"
    shutil.copytree(served_runs["lm"], bad)
    for name in ("best.pt", "last.pt"):
        (bad / name).write_bytes(b"not a checkpoint")
    result = CliRunner().invoke(app, ["serve", "--model", str(bad), "--port", "0"])
    assert result.exit_code == 1 and "is truncated or corrupt" in result.output
    assert "Traceback" not in result.output
