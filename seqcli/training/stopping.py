"""Stopping a run cleanly on Ctrl-C: only between steps, so a checkpoint never holds
half-updated weights."""

from __future__ import annotations

import signal
import threading


class StopFlag:
    """First Ctrl-C asks the loop to stop at the next step boundary; a second one is immediate.

    Stopping only between steps means a checkpoint never holds half-updated weights.
    """

    def __init__(self):
        self.requested = False
        self._previous = None

    def __enter__(self):
        self._previous = None
        if threading.current_thread() is threading.main_thread():
            self._previous = signal.signal(signal.SIGINT, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)
        return False
