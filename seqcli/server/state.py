"""What one server holds while it runs: its models (loaded in the background, so /health can
say 503 until they are ready), its limits and metrics, and whether it is stopping."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from seqcli.errors import SeqcliError
from seqcli.server.errors import STOPPING, ApiError
from seqcli.server.limits import ServeLimits
from seqcli.server.metrics import Metrics
from seqcli.server.models import TASK_WORDS, ServedModel, load_models


class ServerState:
    """status: idle -> loading -> ready (or failed); stopping at the end."""

    def __init__(self, paths: Sequence[Path], device: str, precision: str,
                 limits: ServeLimits, loopback_only: bool):
        self.paths, self.device, self.precision = list(paths), device, precision
        self.limits, self.loopback_only = limits, loopback_only
        self.metrics = Metrics()
        self.models: list[ServedModel] = []
        self.status, self.error = "idle", None
        self.on_failure: Callable[[], None] | None = None  # the launcher stops the server
        self.lock = threading.Lock()

    def ensure_started(self) -> None:
        """Start loading the models (once), from the event loop: at start-up, or at the first
        request when the app is mounted in an application that skips its lifespan."""
        with self.lock:
            if self.status != "idle":
                return
            self.status = "loading"
        loop = asyncio.get_running_loop()

        def deliver(batch: list) -> None:
            loop.call_soon_threadsafe(_dispatch, batch)
        threading.Thread(target=self._load, args=(deliver,), name="seqcli-load",
                         daemon=True).start()

    def _load(self, deliver) -> None:
        try:
            models = load_models(self.paths, self.device, self.precision, self.limits,
                                 self.metrics)
        except Exception as err:  # noqa: BLE001 - on /health, and raised by the launcher
            self.error = str(err) if isinstance(err, SeqcliError) else \
                f"loading the models failed: {type(err).__name__}: {err}"
            self.status = "failed"
            if self.on_failure is not None:
                self.on_failure()
            return
        for model in models:
            model.start(deliver)
        with self.lock:
            self.models = models
            if self.status == "stopping":
                self._stop_models()
            else:
                self.status = "ready"

    def stop(self) -> None:
        """Refuse new requests (503) and end the ones in flight with a final event."""
        with self.lock:
            self.status = "failed" if self.status == "failed" else "stopping"
            self._stop_models()

    def _stop_models(self) -> None:
        for model in self.models:
            model.stop()

    def model(self, task: str, name: str | None) -> ServedModel:
        """The model a request asked for (by id), or the first of the task; 503 until ready."""
        if self.status != "ready":
            raise ApiError(503, {"stopping": STOPPING,
                                 "failed": f"the models failed to load: {self.error}"}.get(
                self.status, "the models are still loading; GET /health says when they are "
                             "ready"))
        if name is None:
            found = next((m for m in self.models if m.task == task), None)
            if found is None:
                raise ApiError(404, f"this server has no {TASK_WORDS[task]} (start it with "
                                    f"--model pointing at one)", "model_not_found")
            return found
        found = next((m for m in self.models if m.id == name), None)
        if found is None:
            raise ApiError(404, f"no model {name!r} is served here (served: "
                                f"{', '.join(m.id for m in self.models)})", "model_not_found")
        if found.task != task:
            raise ApiError(422, f"model {name!r} is a {TASK_WORDS[found.task]}; this route "
                                f"needs a {TASK_WORDS[task]}")
        return found


def _dispatch(batch: list) -> None:
    """On the event loop: a step's events into their jobs' queues."""
    for job, event in batch:
        if job.queue is not None:
            job.queue.put_nowait(event)
