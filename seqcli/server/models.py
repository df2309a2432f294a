"""The models a server serves: each run loaded once, named, described, and given its threads.

A language model gets a generation engine (continuous batching) and a worker for score,
inspect and beam search; a classifier gets a worker for classify and explain. Those run the
Python API's own calls (`Run.classify`, `.score`, `.explain`, `.inspect`), the ones the CLI
runs, so a route answers what the command prints. The models are
chosen when the server starts: a request picks among them by id (the run directory's name),
never by a path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from seqcli.api import Run, load
from seqcli.choices import CELL_SIGNALS
from seqcli.lm.generate import generate_samples
from seqcli.server.batcher import BatchWorker
from seqcli.server.engine import GenerationEngine
from seqcli.server.errors import ApiError
from seqcli.server.limits import ServeLimits
from seqcli.server.metrics import Metrics

TASK_WORDS = {"lm": "language model", "classify": "classifier"}


class ServedModel:
    """One loaded run with its threads (see the module docstring)."""

    def __init__(self, run: Run, name: str, limits: ServeLimits, metrics: Metrics):
        self.run, self.id, self.task = run, name, run.task
        self.engine = GenerationEngine(run, name, limits, metrics) if run.task == "lm" else None
        handlers: dict[str, Callable[[list[Any]], list[Any]]]
        if run.task == "lm":
            handlers = {"score": self._score, "inspect": self._inspect, "beam": self._beam}
        else:
            handlers = {"classify": self._classify, "explain": self._explain}
        self.worker = BatchWorker(name, handlers, {"score", "classify"}, limits, metrics)

    def start(self, deliver) -> None:
        if self.engine is not None:
            self.engine.start(deliver)
        self.worker.start()

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()
        self.worker.stop()

    def info(self) -> dict[str, Any]:
        """What /info says of the model (never its path)."""
        run, m = self.run, self.run.config.model
        described = {"id": self.id, "task": self.task, "cell": m.cell, "layers": m.num_layers,
                     "hidden_size": m.hidden_size, "embedding_size": m.embedding_size,
                     "bidirectional": m.bidirectional, "impl": m.impl,
                     "tokenizer": run.tokenizer.kind, "vocab_size": run.tokenizer.vocab_size,
                     "parameters": sum(p.numel() for p in run.model.parameters()),
                     "device": run.placement.device.type, "precision": run.placement.precision}
        if self.task == "lm":
            described["signals"] = list(CELL_SIGNALS[m.cell])
        else:
            described["labels"] = run.labels
        return described

    # The worker's handlers: a list of payloads in, a list of results out.
    def _classify(self, payloads: list[list[str]]) -> list[list[Any]]:
        return _split(self.run.classify([t for texts in payloads for t in texts]), payloads)

    def _score(self, payloads: list[list[str]]) -> list[list[Any]]:
        return _split(self.run.score([t for texts in payloads for t in texts]), payloads)

    def _explain(self, payloads: list[dict]) -> list[Any]:
        """Text by text, so a request past its deadline stops taking the model from others."""
        results = []
        for p in payloads:
            explained = []
            for text in p["texts"]:
                if time.monotonic() > p["deadline"]:
                    raise ApiError(504, "the request took longer than this server's time "
                                        "limit (--timeout)")
                explained += self.run.explain(text, label=p["label"], steps=p["steps"])
            results.append(explained)
        return results

    def _inspect(self, payloads: list[dict]) -> list[Any]:
        return [self.run.inspect(p["text"], layer=p["layer"], signal=p["signal"],
                                 units=p["units"], top=p["top"]) for p in payloads]

    def _beam(self, payloads: list[dict]) -> list[Any]:
        run = self.run
        return [generate_samples(run.model, run.tokenizer, p["prompt"], p["options"],
                                 run.placement) for p in payloads]


def _split(flat: list[Any], payloads: list[list[str]]) -> list[list[Any]]:
    out, at = [], 0
    for texts in payloads:
        out.append(flat[at:at + len(texts)])
        at += len(texts)
    return out


def load_models(paths: list[Path], device: str, precision: str, limits: ServeLimits,
                metrics: Metrics) -> list[ServedModel]:
    """Each run loaded (one-line CheckpointErrors otherwise), named by its folder, the names
    made unique."""
    served: list[ServedModel] = []
    for path in paths:
        run = load(path, device=device, precision=precision)
        name, taken = Path(path).resolve().name, {m.id for m in served}
        unique = next(f"{name}-{k}" if k else name for k in range(len(served) + 1)
                      if (f"{name}-{k}" if k else name) not in taken)
        served.append(ServedModel(run, unique, limits, metrics))
    return served
