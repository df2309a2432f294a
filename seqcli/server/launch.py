"""`serve(...)`: the app under uvicorn, until SIGINT or SIGTERM (what `seqcli serve` runs).

The socket is bound here, before uvicorn starts, so a port in use or a bad host is one clear
line (and port 0 picks a free port, which the start-up line reports). On SIGINT/SIGTERM the
server stops accepting requests (503), ends every request in flight with a final event (a
stream gets an error event, then [DONE]), closes its connections and returns: the process
exits 0 within a few seconds. A second SIGINT forces the exit.
"""

from __future__ import annotations

import os
import signal
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

import uvicorn

from seqcli.errors import CheckpointError, UsageError
from seqcli.locations import from_environment
from seqcli.runs import newest_run, read_run_config
from seqcli.server.app import create_app
from seqcli.server.limits import ServeLimits
from seqcli.server.security import is_loopback
from seqcli.server.state import ServerState

GRACEFUL_SECONDS = 5  # how long stopping waits for connections before cutting them


def serve(models: Sequence[str | Path] | None = None, *, host: str = "127.0.0.1",
          port: int = 8000, api_key: str | None = None, cors_origins: Sequence[str] = (),
          limits: ServeLimits = ServeLimits(), device: str = "auto", precision: str = "fp32",
          runs: str | Path | None = None,
          announce: Callable[[str], None] | None = None) -> None:
    """Serve `models` (run directories; default: the newest language model and the newest
    classifier under `runs`) over HTTP until SIGINT or SIGTERM. Blocks, like `seqcli serve`.
    `announce` gets the start-up lines (default: stderr)."""
    say = announce or (lambda line: print(line, file=sys.stderr, flush=True))
    paths = resolve_models(models, runs)
    warning = exposure_warning(host, api_key)
    if warning:
        say(warning)
    app = create_app(paths, host=host, api_key=api_key, cors_origins=cors_origins,
                     limits=limits, device=device, precision=precision)
    sock = bind(host, port)
    state: ServerState = app.state.seqcli
    server = SeqcliServer(uvicorn.Config(app, log_level="warning", access_log=False,
                                    timeout_graceful_shutdown=GRACEFUL_SECONDS), state)
    state.on_failure = server.request_exit
    bound = sock.getsockname()
    say(f"seqcli serve: http://{_url_host(host)}:{bound[1]} serving "
        f"{', '.join(p.name for p in paths)} (loading; GET /health says when ready; "
        f"Ctrl-C to stop)")
    server.run(sockets=[sock])
    if state.error is not None:  # loading failed: the server stopped itself
        raise CheckpointError(state.error)


def resolve_models(models: Sequence[str | Path] | None, runs: str | Path | None) -> list[Path]:
    """The run directories to serve, each checked to be a run (one-line errors, before the
    server binds anything)."""
    if models:
        paths = [Path(m) for m in models]
    else:
        parent = from_environment(os.environ, runs=runs).runs
        paths = []
        for task in ("lm", "classify"):
            try:
                paths.append(newest_run(parent, task))
            except CheckpointError:
                pass
        if not paths:
            raise CheckpointError(f"no runs found in {parent} to serve; train one with "
                                  f"`seqcli train` or pass --model DIR")
    for path in paths:
        read_run_config(path)
    return paths


def exposure_warning(host: str, api_key: str | None) -> str | None:
    """The one-line warning for a server reachable from other machines without a key."""
    if is_loopback(host) or api_key:
        return None
    return (f"warning: --host {host} makes the server reachable from other machines and it "
            f"has no --api-key: anyone who can reach it can use it")


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or a one-line UsageError."""
    if not isinstance(port, int) or not 0 <= port <= 65535:
        raise UsageError(f"--port must be from 0 to 65535; got {port!r}")
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except (OSError, UnicodeError) as err:
        raise UsageError(f"cannot listen on {host}:{port}: "
                         f"{getattr(err, 'strerror', None) or err}") from None
    sock.set_inheritable(True)
    return sock


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


class SeqcliServer(uvicorn.Server):
    """uvicorn, stopping seqcli's work first and exiting 0 after SIGINT/SIGTERM (uvicorn
    itself re-raises the signal once it has shut down)."""

    def __init__(self, config: uvicorn.Config, state: ServerState):
        super().__init__(config)
        self.state = state

    def handle_exit(self, sig: int, frame) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        self.should_exit = True

    def request_exit(self) -> None:
        self.should_exit = True

    async def shutdown(self, sockets=None) -> None:
        self.state.stop()
        await super().shutdown(sockets)
