"""Micro-batches: requests to classify or score that arrive together run as one batch.

One worker thread per model takes the first waiting task, waits up to --batch-window-ms for
more of the same kind (up to --max-texts texts in all), and runs them in one call of the
library, which buckets the texts by length (classify's predict, lm/score.py). A classifier
masks padding and a language model never reads ahead, so a text's result does not depend on
its company. Work that does not batch (explain, inspect, beam search) runs one task at a time
on the same thread, so one model is never used by two of its tasks at once.

Tasks are `concurrent.futures.Future`s: a route awaits one with `asyncio.wrap_future`, and a
caller that goes away cancels it, so a task not yet started is skipped.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from seqcli.errors import SeqcliError
from seqcli.server.errors import STOPPING, ApiError, from_seqcli
from seqcli.server.limits import ServeLimits
from seqcli.server.metrics import Metrics

log = logging.getLogger("seqcli.server")

# kind -> function of a list of payloads -> a list of results (one per payload)
Handlers = dict[str, Callable[[list[Any]], list[Any]]]


@dataclass
class Task:
    kind: str
    payload: Any
    size: int  # texts it holds (what a batch counts)
    deadline: float
    future: Future = field(default_factory=Future)


class BatchWorker:
    """Runs one model's non-generation tasks (see the module docstring)."""

    def __init__(self, name: str, handlers: Handlers, batchable: set[str],
                 limits: ServeLimits, metrics: Metrics):
        self.name, self.handlers, self.batchable = name, handlers, batchable
        self.limits, self.metrics = limits, metrics
        self.cond = threading.Condition()
        self.waiting: deque[Task] = deque()
        self.stopping = False
        self.thread = threading.Thread(target=self._run, name=f"seqcli-batch-{name}",
                                       daemon=True)

    def start(self) -> None:
        self.thread.start()

    def submit(self, task: Task) -> Future:
        with self.cond:
            if self.stopping:
                raise ApiError(503, STOPPING)
            if len(self.waiting) >= self.limits.max_queue:
                raise ApiError(429, f"the queue is full ({self.limits.max_queue} requests wait "
                                    f"for {self.name}); try again shortly")
            self.waiting.append(task)
            self.metrics.queue.labels(self.name, "other").set(len(self.waiting))
            self.cond.notify()
        return task.future

    def stop(self) -> None:
        with self.cond:
            self.stopping = True
            for task in self.waiting:
                _settle(task, error=ApiError(503, STOPPING))
            self.waiting.clear()
            self.cond.notify()

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            live = [t for t in batch if t.future.set_running_or_notify_cancel()]
            now = time.monotonic()
            for task in [t for t in live if t.deadline < now]:
                _settle(task, error=ApiError(504, "the request waited longer than this "
                                                  "server's time limit (--timeout)"))
            live = [t for t in live if t.deadline >= now]
            if live:
                self._execute(live)

    def _next_batch(self) -> list[Task] | None:
        """The first waiting task and, if it batches, those of its kind that join it within
        the window; None once stopping."""
        window = self.limits.batch_window_ms / 1000
        with self.cond:
            while not self.stopping and not self.waiting:
                self.cond.wait()
            if self.stopping:
                return None
            first = self.waiting.popleft()
            batch, size = [first], first.size
            if first.kind in self.batchable:
                until = time.monotonic() + window
                while size < self.limits.max_texts:
                    same = next((t for t in self.waiting if t.kind == first.kind
                                 and size + t.size <= self.limits.max_texts), None)
                    if same is not None:
                        self.waiting.remove(same)
                        batch.append(same)
                        size += same.size
                    elif time.monotonic() >= until or not self.cond.wait(
                            max(0.0, until - time.monotonic())):
                        break
            self.metrics.queue.labels(self.name, "other").set(len(self.waiting))
            return batch

    def _execute(self, tasks: list[Task]) -> None:
        handler = self.handlers[tasks[0].kind]
        try:
            results = handler([t.payload for t in tasks])
        except Exception as err:
            if len(tasks) > 1:  # one bad task must not fail its company: each alone
                for task in tasks:
                    self._execute([task])
                return
            _settle(tasks[0], error=_as_api_error(err))
            return
        for task, result in zip(tasks, results):
            _settle(task, result=result)


def _as_api_error(err: Exception) -> ApiError:
    if isinstance(err, ApiError):
        return err
    if isinstance(err, SeqcliError):
        return from_seqcli(err)
    log.exception("a task failed")
    return ApiError(500, f"the request failed: {type(err).__name__}: {str(err)[:200]}",
                    "internal")


def _settle(task: Task, result: Any = None, error: ApiError | None = None) -> None:
    if task.future.done():
        return
    if error is not None:
        task.future.set_exception(error)
    else:
        task.future.set_result(result)
