"""Stopping a run cleanly on Ctrl-C or SIGTERM: only between steps, so a checkpoint never holds
half-updated weights."""

from __future__ import annotations

import signal
import threading
import time
from types import FrameType

SIGNALS = (signal.SIGINT, signal.SIGTERM)
# A launcher (torchrun, `seqcli train --nproc`) passes the terminal's Ctrl-C on to workers that
# already received it: a second signal this soon after the first is the same request.
ECHO_SECONDS = 1.0


class StopFlag:
    """The first SIGINT or SIGTERM asks the loop to stop at the next step boundary; a second
    Ctrl-C (after `ECHO_SECONDS`) is immediate. `signal` says which one came first, so the
    CLI can exit 130 or 143."""

    def __init__(self) -> None:
        self.requested = False
        self.signal: int | None = None
        self._at = 0.0
        self._previous: dict[int, object] = {}

    def __enter__(self) -> "StopFlag":
        self._previous = {}
        if threading.current_thread() is threading.main_thread():
            self._previous = {s: signal.signal(s, self._handle) for s in SIGNALS}
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        now = time.monotonic()
        if self.requested and self.signal is not None:
            if now - self._at > ECHO_SECONDS and signum == signal.SIGINT:
                raise KeyboardInterrupt
            return
        self.requested, self.signal, self._at = True, signum, now

    def __exit__(self, *exc: object) -> bool:
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        return False
